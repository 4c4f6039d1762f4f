"""One SMTP transaction written by mailbot itself (outbound/transaction.py), against a real
aiosmtpd server: what sendmail did, in fewer steps."""

import asyncio
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP

from mailbot.outbound import transaction
from tests.helpers import Sink

RAW = b"From: a@example.org\r\nMessage-ID: <t@example.org>\r\n\r\nBonjour\r\n"


class SizeSink(Sink):
    """Also keeps the MAIL FROM options it was given."""

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        self.options = list(options)
        return await super().handle_MAIL(server, session, envelope, address, options)


async def connected(sink: Sink) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False,
                             local_hostname="lists.example.org", timeout=5)
    await client.connect()
    return client


async def test_a_transaction_greets_once_and_carries_size_and_every_recipient() -> None:
    sink = SizeSink()
    await sink.start()
    try:
        client = await connected(sink)
        refused = await transaction.send(client, "b@example.org", ["x@example.net",
                                                                     "y@example.net"], RAW)
        assert refused == {}
        await transaction.send(client, "b@example.org", ["z@example.net"], RAW)
        assert sink.connections == 1  # one EHLO for both
        assert [r.rcpt_tos for r in sink.received] == [["x@example.net", "y@example.net"],
                                                       ["z@example.net"]]
        assert sink.received[0].raw == RAW
        assert sink.options == [f"SIZE={len(RAW)}"]
        await client.quit()
    finally:
        await sink.stop()


async def test_refusals_are_told_as_sendmail_tells_them_and_the_connection_goes_on() -> None:
    sink = Sink()
    sink.dead = {"gone@example.net"}
    sink.refuse_senders = {"refused@": "550 5.7.1 not you"}
    await sink.start()
    try:
        client = await connected(sink)
        refused = await transaction.send(client, "b@example.org",
                                         ["gone@example.net", "ok@example.net"], RAW)
        assert list(refused) == ["gone@example.net"] and refused["gone@example.net"].code == 550
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as every:
            await transaction.send(client, "b@example.org", ["gone@example.net"], RAW)
        assert [r.code for r in every.value.recipients] == [550]
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as sender:
            await transaction.send(client, "refused@example.org", ["ok@example.net"], RAW)
        assert sender.value.code == 550
        # after each refusal the envelope was reset: the same connection carries the next
        await transaction.send(client, "b@example.org", ["ok@example.net"], RAW)
        assert [r.rcpt_tos for r in sink.received] == [["ok@example.net"], ["ok@example.net"]]
        await client.quit()
    finally:
        await sink.stop()


@pytest.mark.parametrize("utf8", [True, False])
async def test_a_non_ascii_address_goes_with_smtputf8_or_is_refused_without_it(
        utf8: bool) -> None:
    sink = Sink()
    loop = asyncio.get_running_loop()
    sink.server = await loop.create_server(
        lambda: SMTP(sink, decode_data=False, enable_SMTPUTF8=utf8), "127.0.0.1", 0)
    sink.port = sink.server.sockets[0].getsockname()[1]
    try:
        client = await connected(sink)
        if utf8:
            await transaction.send(client, "b@example.org", ["élodie@exemple.fr"], RAW)
            assert sink.received[0].rcpt_tos == ["élodie@exemple.fr"]
        else:
            with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
                await transaction.send(client, "b@example.org", ["élodie@exemple.fr"], RAW)
            assert refused.value.code == 553 and sink.received == []
        await client.quit()
    finally:
        await sink.stop()


def test_size_counts_bare_line_ends_as_crlf() -> None:
    assert transaction._size(b"a\r\nb\r\n") == 6
    assert transaction._size(b"a\nb\n") == 6
    assert transaction._size(b"a\rb\r\n") == 6
