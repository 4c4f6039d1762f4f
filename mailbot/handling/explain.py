"""`mailbot explain`: what mailbot reads in a message and what it would do, changing nothing.

It calls the same readers as the handlers (reading/), so what it says is what the daemon
does: the bounce report the bounce handler counts, the reply's own text and stance the
decisions read, the commands the request handler carries out.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailbot.config import Config
from mailbot.config.addresses import Recipient, resolve
from mailbot.reading.bounces import BounceReport, read_returned
from mailbot.reading.commands import parse_commands
from mailbot.reading.message import (
    automatic_kind,
    envelope_sender,
    header,
    parse,
    readable_text,
    recipients,
)
from mailbot.reading.replies import Reply, read_reply
from mailbot.reading.text import html_to_text


@dataclass(frozen=True)
class Explanation:
    file: str
    error: str | None = None
    recipient: Recipient | None = None
    address: str = ""
    automatic: str | None = None
    bounce: BounceReport | None = None
    reply: Reply | None = None
    requests: list[dict[str, Any]] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "error": self.error}
        if self.bounce is not None:
            out["bounce"] = {"report": self.bounce.kind,
                             "permanent": sorted(self.bounce.permanent),
                             "temporary": sorted(self.bounce.temporary)}
        if self.reply is not None:
            out["reply"] = {"input": self.reply.input, "text": self.reply.text,
                            "first_line": self.reply.first_line, "stance": self.reply.stance}
        if self.requests is not None:
            out["requests"] = self.requests
        return out


def explain_file(path: Path, config: Config | None, *, to: str | None = None,
                 body: bool = False) -> Explanation:
    """Never raises: a file that cannot be read is an Explanation with `error` set."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Explanation(str(path), error=f"cannot read: {exc.strerror or exc}")
    try:
        if body:
            return explain_body(str(path), raw, html=path.suffix.lower() in (".html", ".htm"))
        return explain_message(str(path), raw, config, to=to)
    except Exception as exc:  # a reader's bug must not hide the other files
        return Explanation(str(path), error=f"{type(exc).__name__}: {exc}".splitlines()[0])


def explain_body(name: str, raw: bytes, *, html: bool) -> Explanation:
    """A bare message body: plain text, or HTML made text as the daemon would."""
    text = raw.decode("utf-8", "replace")
    return Explanation(name, reply=read_reply(html_to_text(text) if html else text))


def explain_message(name: str, raw: bytes, config: Config | None, *,
                    to: str | None) -> Explanation:
    msg = parse(raw)
    mail_from = envelope_sender(msg)
    recipient, address = _recipient(msg, config, to)
    list_id = recipient.mlist.list_id if recipient else ""
    automatic = automatic_kind(msg, mail_from, list_id)
    text = readable_text(msg)
    requests = None
    if config is not None:
        reading = parse_commands(header(msg, "Subject"), text)
        requests = [{"action": c.verb, "args": list(c.args)} for c in reading.commands]
    return Explanation(name, recipient=recipient, address=address, automatic=automatic,
                       bounce=read_returned(raw, automatic), reply=read_reply(text),
                       requests=requests)


def _recipient(msg: Any, config: Config | None,
               to: str | None) -> tuple[Recipient | None, str]:
    candidates = [to] if to else [*recipients(msg), header(msg, "Delivered-To")]
    if config is None:
        return None, candidates[0] if candidates else ""
    for address in candidates:
        found = resolve(address, config.lists, config.server.separator) if address else None
        if found is not None:
            return found, address
    return None, to or ""


def describe(explanation: Explanation) -> list[str]:
    """The same, for a person: the operator's answer to "why was my reply not counted as
    an objection?" or "why was this member suspended?"."""
    e = explanation
    lines = [e.file]
    if e.error:
        return [*lines, f"  could not be read: {e.error}"]
    if e.recipient is not None:
        lines.append(f"  sent to {e.address}: the {e.recipient.role} address of list "
                     f"{e.recipient.mlist.name}")
    elif e.address:
        lines.append(f"  sent to {e.address} (not a list address of this config)")
    if e.automatic:
        lines.append(f"  written by a program: {e.automatic}")
    if e.bounce is not None:
        lines += _describe_bounce(e.bounce)
    if e.reply is not None:
        lines += _describe_reply(e.reply)
    if e.requests is not None:
        said = "; ".join(" ".join([r["action"], *r.get("args", [])]) for r in e.requests)
        lines.append(f"  commands it would carry out (to the request address): {said or 'none'}")
    return lines


def _describe_bounce(report: BounceReport) -> list[str]:
    if report.kind == "unknown":
        return ["  bounce report: none recognised"]
    lines = [f"  bounce report: {report.kind}"]
    if report.permanent:
        lines.append("    failed for good (counts towards suspension): "
                     + ", ".join(sorted(report.permanent)))
    if report.temporary:
        lines.append("    delayed or failed for now (never counts): "
                     + ", ".join(sorted(report.temporary)))
    if report.kind in ("complaint", "auto-reply", "success"):
        lines.append("    not a failure: never counts against a member")
    return lines


def _describe_reply(reply: Reply) -> list[str]:
    own = reply.text.splitlines()
    lines = [f"  the writer's own text ({len(own)} lines, quotes and signature removed):"]
    lines += [f"    | {line}" for line in own[:12]]
    if len(own) > 12:
        lines.append(f"    | … {len(own) - 12} more lines")
    lines.append(f"  first line: {reply.first_line!r}")
    lines.append(f"  stance, in a proposal's thread: {reply.stance}")
    return lines
