"""The list's archive: every distributed post, numbered per list (1, 2, 3…), kept in
the database as it arrived. Members reach it by mail (`index`, `get N`), operators by
`mailbot archive export` (an mbox). What leaves the archive is the post without the
trace of its delivery to us (Received, Return-Path, Bcc…)."""

import mailbox
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mailbot.reading.message import author, header, parse
from mailbot.reading.text import one_line

# Delivery traces and what the list replaces: not part of the post as members read it.
_TRACES = {b"received", b"return-path", b"delivered-to", b"x-original-to", b"bcc",
           b"authentication-results", b"arc-seal", b"arc-message-signature",
           b"arc-authentication-results", b"received-spf", b"x-spam-status"}


@dataclass(frozen=True)
class Entry:
    """One line of the index."""

    number: int
    date: datetime
    author: str  # the author's name, else their address
    subject: str


def entry_of(number: int, raw: bytes, mail_from: str, when: datetime) -> Entry:
    msg = parse(raw)
    address, name = author(msg, mail_from)
    return Entry(number, when, one_line(name or address, 60),
                 one_line(header(msg, "Subject"), 100) or "-")


def public_copy(raw: bytes) -> bytes:
    """The post without its delivery traces; the rest of its bytes untouched."""
    cut = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0),
              default=len(raw))
    head, body = raw[:cut], raw[cut:]
    kept: list[bytes] = []
    skipping = False
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() in _TRACES
        if not skipping:
            kept.append(line)
    newline = b"\r\n" if b"\r\n" in head else b"\n"
    return newline.join(kept) + body


@dataclass(frozen=True)
class Archived:
    number: int
    raw: bytes
    mail_from: str
    when: datetime


def write_mbox(posts: Iterable[Archived], out: Path) -> int:
    """Write the posts, in order, as a new mbox at `out` (replacing it whole, never half
    written); return how many."""
    out = out.resolve()
    handle, temporary = tempfile.mkstemp(prefix=".mailbot-", suffix=".mbox", dir=out.parent)
    os.close(handle)
    count = 0
    try:
        box = mailbox.mbox(temporary, create=True)
        box.lock()
        for post in posts:
            message = mailbox.mboxMessage(public_copy(post.raw).replace(b"\r\n", b"\n"))
            message.set_from(post.mail_from or "MAILER-DAEMON",
                             post.when.utctimetuple())
            message["X-Archive-Number"] = str(post.number)
            box.add(message)
            count += 1
        box.flush()
        box.unlock()
        box.close()
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
