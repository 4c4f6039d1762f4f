"""The text of a report as its reader sees it: its text parts decoded (HTML made text) and its
delivery-status fields, in order, without the returned message; and the returned message's
headers, when it came back attached (RFC 3462/6522 multipart/report: text, delivery-status,
then message/rfc822 or text/rfc822-headers).

A multipart report whose boundary never matches (a server's broken RFC 2046 §5.1.1 framing)
is read as the raw text of its body, cut where the returned message starts.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from mailbot.reading.message import header
from mailbot.reading.text import html_to_text

_RETURNED_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
_LEAF_TYPES = (*_RETURNED_TYPES, "message/delivery-status")  # the stdlib splits these too
# Where a returned message starts in raw text (a broken multipart, or a text-only report).
_RETURNED_LINE = re.compile(
    r"^content-type:\s*(?:message/rfc822|text/rfc822-headers)\b.*$", re.IGNORECASE | re.M)


@dataclass(frozen=True)
class Report:
    text: str  # what the report says, line by line, without the returned message
    returned: Message | None  # the returned message's headers, when attached
    fields: str = ""  # the text of its message/delivery-status parts, when it has some

    def returned_header(self, name: str) -> str:
        return header(self.returned, name) if self.returned is not None else ""


def read(msg: Message) -> Report:
    """The report's text and its returned message."""
    if not msg.is_multipart():  # a text report, or a multipart whose boundary never came
        return _from_raw(_text_of(msg))
    texts: list[str] = []
    fields: list[str] = []
    returned: Message | None = None
    has_plain = any(_is_plain(p.get_content_type()) for p in _leaves(msg))
    for part in _leaves(msg):
        kind = part.get_content_type()
        if kind in _RETURNED_TYPES:
            returned = returned or _headers_of(part)
        elif kind == "message/delivery-status":
            fields.append(_fields_of(part))
            texts.append(fields[-1])
        elif _is_plain(kind) or (kind == "text/html" and not has_plain):
            texts.append(_text_of(part))
    return Report("\n".join(texts), returned, "\n".join(fields))


def _is_plain(kind: str) -> bool:
    """text/plain, and the text types servers mangle ("text/plain   charset=...", "text")."""
    return kind.startswith("text/") and "html" not in kind and kind not in _RETURNED_TYPES


def _leaves(msg: Message) -> Iterator[Message]:
    """The parts that hold content, in order, not entering a returned message."""
    payload = msg.get_payload()
    if msg.get_content_type() in _LEAF_TYPES or not msg.is_multipart():
        yield msg
        return
    if isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _leaves(part)


def _from_raw(text: str) -> Report:
    """A report read as one text: the returned message starts after the MIME headers of the
    part that holds it (a blank line ends them), if there is such a part."""
    found = _RETURNED_LINE.search(text)
    if found is None:
        return Report(text, None)
    after = text[found.end():].replace("\r\n", "\n")
    _, blank, message = after.partition("\n\n")
    returned = HeaderParser().parsestr(message if blank else after.lstrip("\n"), headersonly=True)
    return Report(text[:found.start()], returned)


def _headers_of(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return HeaderParser().parsestr(_text_of(part), headersonly=True)


def _fields_of(part: Message) -> str:
    """A message/delivery-status part as text: the stdlib parses each of its blocks (RFC 3464
    §2.1) as a header block; a part it could not split is its decoded text."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _text_of(part)
    blocks = ["\n".join(f"{name}: {header(b, name)}" for name in b)
              for b in payload if isinstance(b, Message)]
    return "\n\n".join(blocks) + "\n"


def _text_of(part: Message) -> str:
    """A part's text, decoded from its transfer encoding and charset; HTML made text."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    text = _decoded(payload, part.get_content_charset() or "us-ascii")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return html_to_text(text) if part.get_content_type() == "text/html" else text


def _decoded(payload: bytes, charset: str) -> str:
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, ValueError):  # also a NUL in the charset name
            continue
    return payload.decode("latin-1")
