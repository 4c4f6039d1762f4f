"""Complaints: a recipient's "this is spam" sent back by a feedback loop. RFC 5965 §2 (ARF: a
multipart/report of report-type feedback-report, or its message/feedback-report part), and
the non-standard loops sisimai documents (Microsoft's and Amazon SES's forwarded complaints,
Apple's unsubscribe reports). A complaint is never a delivery failure.
"""

from collections.abc import Iterator
from email.message import Message
from email.utils import parseaddr

from mailbot.reading.message import header

# Feedback loops that send a complaint as a plain multipart/mixed (sisimai ARF.is_arf).
_LOOPS = ("staff@hotmail.com", "complaints@email-abuse.amazonses.com")


def is_complaint(msg: Message) -> bool:
    if str(msg.get_param("report-type", "")).lower() == "feedback-report":
        return True
    if any(p.get_content_type() == "message/feedback-report" for p in _parts(msg)):
        return True
    if header(msg, "X-Apple-Unsubscribe").lower() == "true":
        return True
    sender = parseaddr(header(msg, "From"))[1].lower()
    return (msg.get_content_type() == "multipart/mixed" and sender in _LOOPS
            and "complaint about message from " in header(msg, "Subject").lower())


def _parts(msg: Message) -> Iterator[Message]:
    """The message and its MIME parts, not entering attached messages (a returned message
    may itself be a report, which is not what this one says)."""
    yield msg
    if msg.get_content_type() == "message/rfc822":
        return
    payload = msg.get_payload()
    if msg.is_multipart() and isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _parts(part)
