"""Every message the bot writes comes from a template in `templates/`, per language.

A template's first line is `Subject: …`, then a blank line, then the body. Templates are
plain text: no autoescaping, undefined variables are errors, and user text is only ever
passed in as a value, never rendered as a template itself.

The operator may override any template, for every list (`templates/member/welcome.fr.txt`
in the folder `server.templates_dir` names) or for one list
(`templates/<list>/member/welcome.fr.txt`); the rest come from the shipped templates.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
)

from mailbot.config import Config
from mailbot.config.shipped import templates_dir
from mailbot.reading.message import RememberingHeaders
from mailbot.reading.text import one_line

DEFAULT_TEMPLATES = templates_dir()
# policy.default, but the header fields every message repeats (From, To, Content-Type…) are
# parsed once, not for each message.
WRITING = policy.default.clone(header_factory=RememberingHeaders())
_WORD_JOINER = "\u2060"


def as_written(text: str) -> str:
    """Header text shown as it is: the email package decodes any `=?…?=` in a value it
    is given, so a subject quoting a broken encoded word ("=?\\0tf-8?b?w6ljb2xl?=") was
    decoded again, in an unknown charset, and the notice could not be written at all
    (folding mixed it with the template's "à"). An invisible word joiner after each "="
    that starts one leaves the text to be read as it is."""
    return text.replace("=?", "=" + _WORD_JOINER + "?")


@dataclass(frozen=True)
class Sender:
    """Who a bot message is from, and where a reply to it goes."""

    name: str
    address: str
    reply_to: str | None = None


class Composer:
    def __init__(self, templates_dir: Path = DEFAULT_TEMPLATES,
                 overrides: Path | None = None) -> None:
        self.shipped = templates_dir
        self.overrides = overrides if overrides and overrides.resolve() != templates_dir.resolve() \
            else None
        loaders: list[BaseLoader] = [FileSystemLoader(str(templates_dir))]
        if self.overrides is not None:
            loaders.insert(0, FileSystemLoader(str(self.overrides)))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=False,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    @classmethod
    def of(cls, config: Config) -> "Composer":
        """The shipped templates, under the operator's overrides."""
        return cls(overrides=config.server.templates_dir)

    def template(self, name: str, language: str, context: dict[str, Any]) -> Template:
        """`<name>.<language>.txt`: the list's own override first, when it has one."""
        file = f"{name}.{language}.txt"
        list_name = (context.get("list") or {}).get("name") if self.overrides else None
        if list_name:
            return self.env.select_template([f"{list_name}/{file}", file])
        return self.env.get_template(file)

    def render(self, name: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
        """(subject, body) of `templates/<name>.<language>.txt`."""
        text = self.template(name, language, context).render(**context)
        first, _, body = text.partition("\n")
        if not first.startswith("Subject:"):
            raise ValueError(f"template {name}.{language}.txt must start with 'Subject:'")
        return one_line(first.removeprefix("Subject:"), 900), body.lstrip("\n")

    def render_fragment(self, name: str, language: str, context: dict[str, Any]) -> str:
        """A piece of text (no subject) to put inside another message."""
        return self.template(name, language, context).render(**context)

    def compose(self, name: str, language: str, context: dict[str, Any], *, to: str,
                sender: Sender, now: Any, in_reply_to: str = "", auto: str = "auto-replied",
                hostname: str = "localhost",
                attachments: Sequence[tuple[str, str]] = ()) -> EmailMessage:
        """A complete plain-text message, marked automatic (RFC 3834 §5) so no bot answers it."""
        subject, body = self.render(name, language, context)
        msg = EmailMessage(policy=WRITING)
        msg["From"] = Address(display_name=one_line(sender.name), addr_spec=sender.address)
        msg["To"] = to
        msg["Subject"] = as_written(subject)
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = make_msgid(domain=hostname)
        if in_reply_to:
            msg["In-Reply-To"] = in_reply_to
            msg["References"] = in_reply_to
        if sender.reply_to:
            msg["Reply-To"] = sender.reply_to
        msg["Auto-Submitted"] = auto
        msg["Content-Language"] = language
        cte = "7bit" if body.isascii() else "quoted-printable"
        msg.set_content(body, charset="utf-8", cte=cte)
        for filename, text in attachments:
            msg.add_attachment(text, subtype="plain", charset="utf-8", filename=filename,
                               cte="7bit" if text.isascii() else "quoted-printable")
        return msg
