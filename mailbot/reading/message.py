"""Reading a received message: safe parsing, the sender, its readable text, its identity.

Pure functions over bytes. Nothing here raises on bad input: malformed MIME, unknown
charsets and HTML-only mail all yield the best text that can be read.
"""

import functools
import hashlib
import re
from email import message_from_bytes, policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

from mailbot.reading.text import html_to_text


class RememberingHeaders(HeaderRegistry):
    """The standard header classes, but a header value already parsed is not parsed again:
    `policy.default` parses a header each time it is read (Content-Type alone dozens of
    times per message), the worker's largest cost. Header objects are immutable. Nor is
    the class for a header name made anew (with `type()`) each time a header is read or
    set, as the standard registry does."""

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str):
            return self._parsed(name, value)
        return super().__call__(name, value)  # an Address, a date: not kept

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one instance, for the process)
    def _parsed(self, name: str, value: str) -> BaseHeader:
        return super().__call__(name, value)

    @functools.lru_cache(maxsize=256)  # noqa: B019
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)


READING = policy.default.clone(header_factory=RememberingHeaders())


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=READING)
    assert isinstance(msg, EmailMessage)
    return msg


def parse_headers(raw: bytes) -> EmailMessage:
    """The header section only (the body is left unparsed): cheaper, for a Message-ID."""
    msg = BytesParser(policy=READING).parsebytes(raw, headersonly=True)
    assert isinstance(msg, EmailMessage)
    return msg


def header(msg: Message, name: str, *, body_charset: bool = True) -> str:
    """A header's decoded value ('' if absent or unreadable), on one line, without control
    characters. Raw 8-bit bytes (no RFC 2047 encoding) are read as UTF-8, else in the
    charset the body declares (unless `body_charset` is False), else as Windows-1252:
    never replaced by U+FFFD."""
    try:
        wanted = name.lower()
        found = next(((k, v) for k, v in msg.raw_items() if k.lower() == wanted), None)
        if found is None:
            return ""
        raw = _raw_value(msg, found[1], body_charset)
        # as `msg.get` reads the first one; its 8-bit bytes decoded as said above
        value = msg.policy.header_fetch_parse(*found) if raw is None else \
            _policy.header_factory(name, raw)
    except Exception:  # a header so broken the parser gives up: treat as absent
        return ""
    return without_controls(" ".join(str(value).split())) if value is not None else ""


_policy = READING
# A Message-ID as nearly every client writes it, "<dot-atom@dot-atom>" and nothing else:
# the email package's parser would say so too, at 50 µs a header (`has_message_id`).
# Narrower than `_PLAIN_ID` (a key as written), some of whose values the parser fails on.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_PLAIN_MESSAGE_ID = re.compile(rf"[ \t]*<{_ATOM}@{_ATOM}>[ \t]*")


def has_message_id(msg: Message) -> bool:
    """Whether `header(msg, "Message-ID")` is not empty: the usual "<id@host>" is seen
    without parsing it; anything else is read as `header` reads it."""
    found = next((v for k, v in msg.raw_items() if k.lower() == "message-id"), None)
    if found is None:
        return False
    return (isinstance(found, str) and _PLAIN_MESSAGE_ID.fullmatch(found) is not None) or \
        bool(header(msg, "Message-ID"))


# C0 controls but TAB, DEL and C1 controls: never in a header the bot writes
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def without_controls(text: str) -> str:
    return _CONTROLS.sub("", text)


_RAW_BYTES = re.compile("[\udc80-\udcff]")  # how the parser keeps undecodable bytes


def _raw_value(msg: Message, found: Any, body_charset: bool = True) -> str | None:
    """The decoded text of a header value that came with raw 8-bit bytes; None when it
    did not (the parser keeps such bytes as surrogates, and would show them as U+FFFD)."""
    if not isinstance(found, str) or not _RAW_BYTES.search(found):
        return None
    data = found.encode("ascii", "surrogateescape")
    for charset in ("utf-8", _declared_charset(msg) if body_charset else "", "windows-1252"):
        try:
            if charset:
                return data.decode(charset)
        except (LookupError, ValueError):  # ValueError: a NUL in a charset name, or undecodable
            continue
    return data.decode("latin-1")  # windows-1252 leaves five bytes undefined


def _declared_charset(msg: Message) -> str:
    for part in msg.walk():
        charset = part.get_content_charset()
        if charset:
            return charset
    return ""


def author(msg: Message, envelope_from: str) -> tuple[str, str]:
    """(lowercased address, display name) of the From header, else of the envelope."""
    found = usable_from(msg)
    if found is None:
        return envelope_from.strip().lower(), ""
    return found[0], found[1]


def usable_from(msg: Message) -> tuple[str, str] | None:
    """(lowercased address, display name) of the one author the From header names; None
    when there is no From, several, or one no address can be read from (RFC 5322 §3.6.2)."""
    if sum(1 for name, _ in msg.raw_items() if name.lower() == "from") != 1:
        return None
    value = header(msg, "From")
    return _remembered_author(value) if len(value) <= 998 else _one_author(value)


def _one_author(value: str) -> tuple[str, str] | None:
    if len(getaddresses([value])) != 1:
        return None
    name, address = parseaddr(value)
    local, at, domain = address.strip().partition("@")
    if not local or not at or not domain or not _ADDRESS.fullmatch(address.strip()):
        return None
    return address.strip().lower(), name.strip()


# Asked several times a message, and the same few values come again and again (the email
# package's address parser is slow); a value longer than a header line may be is not kept.
_remembered_author = functools.lru_cache(maxsize=1024)(_one_author)
_ADDRESS = re.compile(r"[^\s@<>()\[\]\\,;:\"]+@[^\s@<>()\[\]\\,;:\"]+")


def envelope_sender(msg: Message) -> str:
    """For a message read from a file or a mailbox: its Return-Path (`<>`, a bounce, stays
    empty), else the address in its From. An empty sender would make it look like a bounce."""
    return_path = header(msg, "Return-Path")
    if return_path:
        return parseaddr(return_path)[1]
    return author(msg, "")[0]


def message_key(msg: Message, raw: bytes) -> str:
    """What makes two copies of one message the same: its Message-ID, or a hash of it.
    A Message-ID that is `<…>` in printable ASCII is taken as written: the email
    package's parser drops part of some (`<a@b@c>` read `<a@b>`) and fails on others
    (`<[x@y>`), and intake reads it so without parsing (`received_key`)."""
    written = next((v for k, v in msg.raw_items() if k.lower() == "message-id"), None)
    if isinstance(written, str) and (plain := _plain_id(written.strip())):
        return plain
    # raw 8-bit bytes read whatever the body declares: intake reads the header alone
    message_id = header(msg, "Message-ID", body_charset=False).strip()
    if message_id:
        return message_id[:255]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _plain_id(value: str) -> str | None:
    """A Message-ID `<…>` in printable ASCII, no encoded word: its key as written (the one
    rule of `message_key` and `received_key`)."""
    return value[:255] if _PLAIN_ID.fullmatch(value) and "=?" not in value else None


_PLAIN_ID = re.compile(r"<[!-~]+>")
# A header section of well-formed fields (a name, a colon; continuation lines) up to its
# Message-ID field, when that field is `<…>` in printable ASCII on one line.
_FIELDS_TO_MESSAGE_ID = re.compile(
    rb"(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)*?"
    rb"message-id:[ \t]*(<[!-~]+>)[ \t]*\r?\n(?![ \t])", re.IGNORECASE)


def received_key(raw: bytes) -> str:
    """`message_key` of a message as received, read without parsing its header when its
    Message-ID is in the usual form (what intake does for every message, before its 250);
    the parser reads any other."""
    found = _FIELDS_TO_MESSAGE_ID.match(raw)
    if found is not None and (plain := _plain_id(found[1].decode("ascii"))):
        return plain
    return message_key(parse_headers(raw), raw)


def recipients(msg: Message) -> list[str]:
    """Addresses named in To and Cc, lowercased."""
    found = getaddresses([header(msg, "To"), header(msg, "Cc")])
    return [addr.lower() for _, addr in found if "@" in addr]


def readable_text(msg: Message) -> str:
    """The message's text: the first text/plain part, else its HTML turned into text."""
    plain = html = None
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = _decode(part)
        elif kind == "text/html" and html is None:
            html = _decode(part)
    if plain is not None and plain.strip():
        return plain
    if html:
        return html_to_text(html)
    if plain is None and msg.get_content_maintype() == "multipart" and not msg.is_multipart():
        return _decode_text(str(msg.get_payload()))  # its boundary never came: read it raw
    return plain or ""


def attachments(msg: Message) -> list[str]:
    """The names of the files a message carries (attachments, and inline images and
    documents): what a reader of its text alone would miss. A file without a name is
    named by its type ("image/jpeg")."""
    found = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        disposition = part.get_content_disposition()
        is_body = part.get_content_maintype() == "text" and disposition != "attachment"
        if is_body or part.get_content_type() in _NOT_FILES:
            continue
        try:
            name = part.get_filename()
        except Exception:  # a broken RFC 2231 parameter: the type still says enough
            name = None
        found.append(" ".join((name or part.get_content_type()).split())[:100])
    return found


# Parts that are not files a person attached (signatures, calendar invitations' twins).
_NOT_FILES = {"application/pgp-signature", "application/pkcs7-signature",
              "application/x-pkcs7-signature", "text/calendar"}


def _decode_text(payload: str) -> str:
    return payload.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    for candidate in (charset, "utf-8", "windows-1252"):
        try:
            return payload.decode(candidate)
        except (LookupError, ValueError):  # ValueError: a NUL in a charset name, or undecodable
            continue
    return payload.decode("latin-1")


_PRECEDENCE_AUTO = {"bulk", "junk", "list", "auto_reply"}
# Subjects that only auto-responders write ("Absence à la réunion" is a person's post).
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|auto:|autoreply|out of (the )?office|"
    r"r[ée]ponse automatique|absen(ce|t|te) (du|de mon) bureau|message d'absence|"
    r"abwesenheitsnotiz|on vacation\b|vacation (auto[ -]?)?reply|away from (my|the) "
    r"(desk|office))",
    re.IGNORECASE,
)
_DAEMONS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply")


def automatic_kind(msg: Message, envelope_from: str, list_id: str) -> str | None:
    """'loop', 'bounce', 'auto-reply' or 'bulk' when no person wrote this; else None.

    RFC 3834 §5 (Auto-Submitted), the de facto Precedence and X-Autoreply headers, our own
    List-Id (a copy of our own mail coming back: a loop), and null or daemon senders.
    """
    if list_id and (list_id in header(msg, "List-Id") or list_id in header(msg, "X-Loop")):
        return "loop"
    sender = envelope_from.strip("<>").lower()
    if not sender or sender.split("@")[0] in ("mailer-daemon",):
        return "bounce"
    if msg.get_content_type() == "multipart/report":
        return "bounce"
    # RFC 3834 §5: "no" may carry a comment, e.g. "no (sent by a person)"
    submitted = header(msg, "Auto-Submitted").lower().split("(")[0].split(";")[0].strip()
    if submitted and submitted != "no":
        return "auto-reply"
    if header(msg, "X-Autoreply") or header(msg, "X-Autorespond"):
        return "auto-reply"
    precedence = {header(msg, "Precedence").lower(), header(msg, "X-Precedence").lower()}
    if precedence & _PRECEDENCE_AUTO:
        return "bulk" if precedence & {"bulk", "list"} else "auto-reply"
    if _AUTO_SUBJECT.match(header(msg, "Subject")):
        return "auto-reply"
    if header(msg, "List-Id") or header(msg, "List-Unsubscribe"):
        return "bulk"
    local = parseaddr(header(msg, "From"))[1].split("@")[0].lower() or sender.split("@")[0]
    if local in _DAEMONS or sender.split("@")[0] in _DAEMONS:
        return "bounce" if "daemon" in local else "auto-reply"
    return None
