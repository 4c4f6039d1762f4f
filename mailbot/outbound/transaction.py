"""One SMTP transaction (MAIL, RCPT…, DATA) on an aiosmtplib connection, for our own mail.

aiosmtplib's `sendmail` parses every address twice with `email.utils` and rewrites the
line endings of the whole message twice (once only to count its SIZE): with one
transaction per member (VERP) that was a third of the sender's CPU. Our envelopes are
ours (a list's bounces address, a member's stored address, both checked before they were
stored) and our messages leave `outbound/` with CRLF line endings, so here the commands are
written as they are, through aiosmtplib's own `execute_command` and `data`, and the
outcomes are the ones `sendmail` gives: the same exceptions, a dict of refused recipients,
RSET after a refusal. A non-ASCII address goes with SMTPUTF8 when the server offers it;
otherwise it is refused here, as the server would (553).

When the server offers PIPELINING (RFC 2920; Postfix and Exim do), MAIL, every RCPT and
DATA go in one write and their replies are read together, then the message: two round
trips a transaction instead of three plus one per recipient (`pipelining.py`).
"""

import contextlib
import re
from collections.abc import Sequence

import aiosmtplib
from aiosmtplib import SMTPResponse

from mailbot.outbound import pipelining

_NOT_UTF8 = "553 5.6.7 non-ASCII address and the server does not offer SMTPUTF8"
_LINE_START_DOT = re.compile(rb"(?m)^\.")
_LINE_END = re.compile(rb"\r\n|\n|\r(?!\n)")


async def send(client: aiosmtplib.SMTP, sender: str, recipients: Sequence[str],
               raw: bytes) -> dict[str, SMTPResponse]:
    """The recipients refused (by address); raise as `sendmail` would when the sender,
    every recipient or the message is refused."""
    if client.is_ehlo_or_helo_needed:
        await _greet(client)
    options = [b"SIZE=%d" % _size(raw)] if client.supports_extension("size") else []
    wide = not (sender.isascii() and all(r.isascii() for r in recipients))
    if wide:
        if not client.supports_extension("smtputf8"):
            raise aiosmtplib.SMTPSenderRefused(553, _NOT_UTF8[4:], sender)
        options.append(b"SMTPUTF8")
    encoding = "utf-8" if wide else "ascii"
    mail = b" ".join([b"MAIL FROM:<" + sender.encode(encoding) + b">", *options])
    if client.supports_extension("pipelining"):
        rcpts = [b"RCPT TO:<" + r.encode(encoding) + b">" for r in recipients]
        return await _pipelined(client, sender, (mail, rcpts), recipients, raw)
    try:
        said = await client.execute_command(mail)
        if said.code != 250:
            raise aiosmtplib.SMTPSenderRefused(said.code, said.message, sender)
        refused = await _recipients(client, recipients, encoding)
        await client.data(raw)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        await _reset(client)
        raise
    return refused


async def _recipients(client: aiosmtplib.SMTP, recipients: Sequence[str],
                      encoding: str) -> dict[str, SMTPResponse]:
    errors: list[aiosmtplib.SMTPRecipientRefused] = []
    for rcpt in recipients:
        said = await client.execute_command(b"RCPT", b"TO:<" + rcpt.encode(encoding) + b">")
        if said.code not in (250, 251):
            errors.append(aiosmtplib.SMTPRecipientRefused(said.code, said.message, rcpt))
    if len(errors) == len(recipients):
        raise aiosmtplib.SMTPRecipientsRefused(errors)
    return {e.recipient: SMTPResponse(e.code, e.message) for e in errors}


async def _pipelined(client: aiosmtplib.SMTP, sender: str,
                     commands: tuple[bytes, list[bytes]], recipients: Sequence[str],
                     raw: bytes) -> dict[str, SMTPResponse]:
    """MAIL, the RCPTs and DATA in one group, then the message: the outcomes of `send`."""
    mail, rcpts = commands
    if any(b"\r" in c or b"\n" in c for c in (mail, *rcpts)):
        raise ValueError("Command arg contains a prohibited control character")
    group = b"\r\n".join([mail, *rcpts, b"DATA"]) + b"\r\n"
    content = _LINE_START_DOT.sub(b"..", _LINE_END.sub(b"\r\n", raw))
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    try:
        async with pipelining.exchange(client) as replies:
            said = await replies.send(group, len(rcpts) + 2)
            refused = _refusals(said[1:-1], recipients)
            started = said[-1]
            if started.code != 354:
                _raise_for(sender, said[0], refused, recipients, started)
            if len(refused) == len(recipients):  # a 354 nonetheless: an empty message
                await replies.send(b".\r\n", 1)
                _raise_for(sender, said[0], refused, recipients, started)
            [done] = await replies.send(content + b".\r\n", 1)
            if done.code != 250:
                raise aiosmtplib.SMTPDataError(done.code, done.message)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        await _reset(client)
        raise
    return refused


def _refusals(said: Sequence[SMTPResponse],
              recipients: Sequence[str]) -> dict[str, SMTPResponse]:
    return {rcpt: reply for rcpt, reply in zip(recipients, said, strict=True)
            if reply.code not in (250, 251)}


def _raise_for(sender: str, mail: SMTPResponse, refused: dict[str, SMTPResponse],
               recipients: Sequence[str], data: SMTPResponse) -> None:
    """The exception `send` raises when the server would not take the message, by the
    first step it refused: the sender, every recipient, then DATA itself."""
    if mail.code != 250:
        raise aiosmtplib.SMTPSenderRefused(mail.code, mail.message, sender)
    if len(refused) == len(recipients):
        raise aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(r.code, r.message, a) for a, r in refused.items()])
    raise aiosmtplib.SMTPDataError(data.code, data.message)


def _size(raw: bytes) -> int:
    """The octets DATA will carry (RFC 1870), bare line ends counted as CRLF."""
    return len(raw) + raw.count(b"\n") - 2 * raw.count(b"\r\n") + raw.count(b"\r")


async def _greet(client: aiosmtplib.SMTP) -> None:
    """EHLO, else HELO, once per connection (what `sendmail` does first)."""
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        if not client.is_connected:
            raise
        await client.helo()


async def _reset(client: aiosmtplib.SMTP) -> None:
    """RSET, so that the connection can carry the next transaction (as `sendmail` does)."""
    with contextlib.suppress(ConnectionError, aiosmtplib.SMTPException):
        await client.rset()
