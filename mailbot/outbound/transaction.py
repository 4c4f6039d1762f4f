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
"""

import contextlib
from collections.abc import Sequence

import aiosmtplib
from aiosmtplib import SMTPResponse

_NOT_UTF8 = "553 5.6.7 non-ASCII address and the server does not offer SMTPUTF8"


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
    try:
        said = await client.execute_command(
            b"MAIL", b"FROM:<" + sender.encode(encoding) + b">", *options)
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
