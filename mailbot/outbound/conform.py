"""The last step before the queue: every message the bot sends is one receivers accept.

RFC 5322 §3.6: exactly one From and one Date (and we always give a Message-ID); §2.1.1
and §2.3: lines of at most 998 octets, CR and LF only together, no NUL. A post keeps its
author's header fields and body bytes, and the author's mail client may have broken any
of these rules: a receiver would refuse the copy with a 5xx, which would then count as a
bounce against the member. So whatever reaches the outbox is mended here, minimally.
"""

import re
from datetime import datetime
from email.utils import format_datetime, make_msgid

MAX_LINE = 998  # octets, without the CRLF (RFC 5322 §2.1.1)
_CUT = 990  # where a longer line is broken
_FIELD_NAME = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")  # RFC 5322 §3.6.8 ftext
# In a header field: every control but TAB (folding CRLFs are put back by the split)
_HEADER_CONTROLS = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_ONCE = ("from", "date", "message-id")


def conform(raw: bytes, *, sender: str, now: datetime, hostname: str) -> bytes:
    """`raw` with one From (`sender` when it had none), one Date, one Message-ID, no
    control character in its header, and no bare CR, NUL or over-long line anywhere."""
    head, body = _split(raw)
    fields = _fields(head)
    seen: set[str] = set()
    kept = []
    for name, field in fields:
        if name in _ONCE and name in seen:
            continue  # a second From or Date: the first one stands
        seen.add(name)
        kept.append(field)
    added = {"from": f"From: {sender}", "date": f"Date: {format_datetime(now)}",
             "message-id": f"Message-ID: {make_msgid(domain=hostname)}"}
    kept += [added[name].encode() for name in _ONCE if name not in seen]
    lines = [piece for field in kept for line in field.split(b"\r\n")
             for piece in _short(line, b" ")]
    return b"\r\n".join(lines) + b"\r\n\r\n" + _mend_body(body)


def _split(raw: bytes) -> tuple[bytes, bytes]:
    """The header section and the body, at the first empty line (CRLF or bare LF)."""
    match = re.search(rb"\r?\n\r?\n", raw)
    if match is None:
        return raw, b""
    return raw[:match.start()], raw[match.end():]


def _fields(head: bytes) -> list[tuple[str, bytes]]:
    """(lowercased name, field with its folding lines joined by CRLF); lines that are no
    header field (no name, no colon) are dropped."""
    fields: list[tuple[str, bytes]] = []
    for line in re.split(rb"\r\n|\r|\n", head):
        if line[:1] in (b" ", b"\t") and fields:
            name, field = fields[-1]
            fields[-1] = (name, field + b"\r\n" + _clean(line))
        elif _FIELD_NAME.match(line):
            name = line.split(b":", 1)[0].strip().decode("ascii").lower()
            fields.append((name, _clean(line)))
    return fields


def _clean(line: bytes) -> bytes:
    return _HEADER_CONTROLS.sub(b"", line)


def _short(line: bytes, continuation: bytes) -> list[bytes]:
    """A line cut into pieces of at most `_CUT` octets; in a header each piece after the
    first starts with a space (a folded line, RFC 5322 §2.2.3)."""
    if len(line) <= MAX_LINE:
        return [line]
    pieces = [line[:_CUT]]
    rest = line[_CUT:]
    step = _CUT - len(continuation)
    while rest:
        pieces.append(continuation + rest[:step])
        rest = rest[step:]
    return pieces


def _mend_body(body: bytes) -> bytes:
    """CRLF line ends, no NUL, no line over 998 octets. A well-formed body comes back
    unchanged."""
    lines = re.split(rb"\r\n|\r|\n", body.replace(b"\x00", b""))
    return b"\r\n".join(piece for line in lines for piece in _short(line, b""))
