"""`mailbot explain`: what mailbot reads in a message and what it would do, changing nothing.

It calls the same readers as the handlers (reading/), so what it says is what the daemon
does: the bounce report the bounce handler counts, the reply's own text and stance the
decisions read, the requests read in members' words with their names and numbers resolved
against the list's database, which it opens read-only (and never creates).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

from mailbot.config import Config, ListConfig
from mailbot.config.addresses import Recipient, resolve
from mailbot.handling.known import known_for_long, nothing_known, said_of, thread_proposal
from mailbot.reading.bounces import BounceReport, read_returned
from mailbot.reading.message import (
    automatic_kind,
    envelope_sender,
    header,
    parse,
    readable_text,
    recipients,
)
from mailbot.reading.replies import Reply, read_reply
from mailbot.reading.requests import Known, read_requests
from mailbot.reading.text import html_to_text
from mailbot.storage.db import Database, check_schema
from mailbot.storage.stores import Stores

_READ_ROLES = ("request", "post", "confirm")  # where members' requests are read
T = TypeVar("T")


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


@dataclass
class ListStates:
    """What each list knows, read once from the config's database in a session that is
    never committed; a database that is missing or unreadable resolves against nothing."""

    config: Config
    problem: str | None = None
    _database: Database | None = None
    _opened: bool = False
    _known: dict[str, Known] = field(default_factory=dict)

    def _db(self) -> Database | None:
        if not self._opened:
            self._opened = True
            try:
                self._database = Database.reading(self.config.server.database_url)
                if self._database is not None:
                    check_schema(self._database.engine)
            except Exception as exc:  # explain reads what it can; it says why it could not
                self.problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
                self.close()
        return self._database

    def known(self, mlist: ListConfig) -> Known:
        separator = self.config.server.separator
        if mlist.name not in self._known:
            database = self._db()
            found = None
            if database is not None:
                found = self._read(database,
                                   lambda s: known_for_long(Stores.of(s), mlist, separator))
            self._known[mlist.name] = found or nothing_known(mlist, separator)
        return self._known[mlist.name]

    def thread(self, mlist: ListConfig, msg: Message) -> int | None:
        database = self._db()
        if database is None:
            return None
        return self._read(database, lambda s: thread_proposal(Stores.of(s), mlist, msg))

    def _read(self, database: Database, work: Callable[[Any], T]) -> T | None:
        try:
            return database.peek(work)
        except Exception as exc:  # a database half there: say so, resolve against nothing
            self.problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
            return None

    def close(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None


def explain_file(path: Path, config: Config | None, *, to: str | None = None,
                 body: bool = False, states: ListStates | None = None) -> Explanation:
    """Never raises: a file that cannot be read is an Explanation with `error` set.
    `states` keeps what the lists know from one file to the next."""
    own_states = states is None and config is not None and not body
    if own_states and config is not None:
        states = ListStates(config)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Explanation(str(path), error=f"cannot read: {exc.strerror or exc}")
    try:
        if body:
            return explain_body(str(path), raw, html=path.suffix.lower() in (".html", ".htm"))
        return explain_message(str(path), raw, config, to=to, states=states)
    except Exception as exc:  # a reader's bug must not hide the other files
        return Explanation(str(path), error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    finally:
        if own_states and states is not None:
            states.close()


def explain_body(name: str, raw: bytes, *, html: bool) -> Explanation:
    """A bare message body: plain text, or HTML made text as the daemon would."""
    text = raw.decode("utf-8", "replace")
    return Explanation(name, reply=read_reply(html_to_text(text) if html else text))


def explain_message(name: str, raw: bytes, config: Config | None, *,
                    to: str | None, states: ListStates | None = None) -> Explanation:
    msg = parse(raw)
    mail_from = envelope_sender(msg)
    recipient, address = _recipient(msg, config, to)
    list_id = recipient.mlist.list_id if recipient else ""
    automatic = automatic_kind(msg, mail_from, list_id)
    text = readable_text(msg)
    requests = None
    if config is not None:
        states = states or ListStates(config)
        requests = _requests(msg, config, recipient, automatic, mail_from, states)
    return Explanation(name, recipient=recipient, address=address, automatic=automatic,
                       bounce=read_returned(raw, automatic), reply=read_reply(text),
                       requests=requests)


def _requests(msg: Message, config: Config, recipient: Recipient | None,
              automatic: str | None, mail_from: str,
              states: ListStates) -> list[dict[str, Any]]:
    """What the handler of the address would read: nothing in automatic mail, nothing at
    the owner or bounce addresses; at an address of no list, read as commands."""
    role = recipient.role if recipient is not None else "request"
    mlist = recipient.mlist if recipient is not None else (
        config.lists[0] if config.lists else None)
    if automatic is not None or role not in _READ_ROLES or mlist is None:
        return []
    said = said_of(msg, role, mlist, mail_from, states.thread(mlist, msg))
    return [r.as_json() for r in read_requests(said, states.known(mlist))]


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
        said = "; ".join(_describe_request(r) for r in e.requests)
        lines.append(f"  requests it reads (resolved against the list): {said or 'none'}")
    return lines


def _describe_request(request: dict[str, Any]) -> str:
    """"help", "pay Marie 1h (who=marie@…, points=60)", "unclear: Which Marie?"."""
    head = " ".join([request["action"], *request.get("args", [])])
    named = {k: v for k, v in request.items() if k not in ("action", "args", "ask")}
    if named:
        head += " (" + ", ".join(f"{k}={v}" for k, v in named.items()) + ")"
    return f"{head}: {request['ask']}" if request.get("ask") else head


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
