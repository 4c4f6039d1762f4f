"""A post read ahead of its turn at the writer (handling/ahead.py): the bytes it was read
from, the message parsed from them, and what the request reader made of it. Its turn uses
the message only for the same bytes, and the reading only for the same post as said then
(`read_requests`); otherwise it parses and reads again."""

from dataclasses import dataclass
from email.message import EmailMessage

from mailbot.reading.message import parse
from mailbot.reading.requests import Reading


@dataclass(frozen=True)
class PostAhead:
    raw: bytes
    msg: EmailMessage
    reading: Reading | None


def parsed(raw: bytes, ahead: PostAhead | None) -> EmailMessage:
    """The message of `raw`: the one parsed ahead if it was parsed from the same bytes."""
    return ahead.msg if ahead is not None and ahead.raw == raw else parse(raw)
