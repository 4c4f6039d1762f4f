"""One SMTP transaction written by mailbot itself (outbound/transaction.py), against a real
aiosmtpd server: what sendmail did, in fewer steps. Each test runs twice: with a server that
offers PIPELINING (commands go as one group, RFC 2920) and with one that does not."""

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


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def pipelining(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def connected(sink: Sink, timeout: float = 5) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False,
                             local_hostname="lists.example.org", timeout=timeout)
    await client.connect()
    return client


async def test_a_transaction_greets_once_and_carries_size_and_every_recipient(
        pipelining: bool) -> None:
    sink = SizeSink(pipelining=pipelining)
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


async def test_refusals_are_told_as_sendmail_tells_them_and_the_connection_goes_on(
        pipelining: bool) -> None:
    sink = Sink(pipelining=pipelining)
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
        utf8: bool, pipelining: bool) -> None:
    sink = Sink(pipelining=pipelining)
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


class GroupSink(Sink):
    """Notes, at MAIL FROM, whether the RCPTs and DATA were already written behind it."""

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        await asyncio.sleep(0.05)  # what the client wrote with MAIL has arrived by now
        self.behind = bytes(server._reader._buffer)
        return await super().handle_MAIL(server, session, envelope, address, options)


async def test_with_pipelining_the_envelope_goes_as_one_group(pipelining: bool) -> None:
    sink = GroupSink(pipelining=pipelining)
    await sink.start()
    try:
        client = await connected(sink)
        await transaction.send(client, "b@example.org", ["x@example.net", "y@example.net"], RAW)
        grouped = b"RCPT TO:<x@example.net>\r\nRCPT TO:<y@example.net>\r\nDATA\r\n"
        assert (sink.behind == grouped) is pipelining, sink.behind
        assert sink.received[0].raw == RAW
        await client.quit()
    finally:
        await sink.stop()


async def test_each_reply_is_matched_to_its_recipient_among_many(pipelining: bool) -> None:
    sink = Sink(pipelining=pipelining)
    rcpts = [f"m{i}@example.net" for i in range(300)]
    sink.dead = set(rcpts[1::7])
    await sink.start()
    try:
        client = await connected(sink)
        refused = await transaction.send(client, "b@example.org", rcpts, RAW)
        assert set(refused) == sink.dead
        assert sink.received[0].rcpt_tos == [r for r in rcpts if r not in sink.dead]
        await client.quit()
    finally:
        await sink.stop()


async def test_a_message_refused_at_its_end_resets_and_the_next_goes(pipelining: bool) -> None:
    sink = Sink(pipelining=pipelining)
    sink.refuse_content = (b"spam", "554 5.7.1 looks like spam")
    await sink.start()
    try:
        client = await connected(sink)
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await transaction.send(client, "b@example.org", ["x@example.net"],
                                   RAW + b"spam\r\n.dot first\r\n")
        assert refused.value.code == 554
        await transaction.send(client, "b@example.org", ["x@example.net"],
                               RAW + b".dot first\r\n")
        assert sink.received[0].raw == RAW + b".dot first\r\n"  # dot-stuffed, unstuffed
        await client.quit()
    finally:
        await sink.stop()


class Hangup(Sink):
    """Closes the connection at the first RCPT, or (slow) never answers the message."""

    slow = False

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        if not self.slow:
            server.transport.close()
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(5)
        return "250 OK"


@pytest.mark.parametrize("slow", [False, True], ids=["closed", "silent"])
async def test_a_server_gone_or_silent_mid_transaction_is_an_error_not_a_hang(
        pipelining: bool, slow: bool) -> None:
    sink = Hangup(pipelining=pipelining)
    sink.slow = slow
    await sink.start()
    try:
        client = await connected(sink, timeout=0.5)
        expected = aiosmtplib.SMTPTimeoutError if slow else aiosmtplib.SMTPServerDisconnected
        async with asyncio.timeout(3):
            with pytest.raises(expected):
                await transaction.send(client, "b@example.org", ["x@example.net"], RAW)
        if not slow:
            await asyncio.sleep(0.05)
            assert not client.is_connected
        client.close()
    finally:
        await sink.stop()


def test_size_counts_bare_line_ends_as_crlf() -> None:
    assert transaction._size(b"a\r\nb\r\n") == 6
    assert transaction._size(b"a\nb\n") == 6
    assert transaction._size(b"a\rb\r\n") == 6


async def test_a_server_that_says_354_after_refusing_every_rcpt_gets_an_empty_message() -> None:
    """RFC 2920 §3.1: a pipelining client must end DATA at once when no RCPT was accepted
    and the server said 354 all the same; the refusals are told as usual, then RSET.
    (aiosmtpd refuses DATA itself then: this server is written for the case.)"""
    seen: list[bytes] = []

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 odd.example ESMTP\r\n")
        replies = {b"EHLO": b"250-odd.example\r\n250 PIPELINING\r\n", b"MAIL": b"250 OK\r\n",
                   b"RCPT": b"550 5.1.1 no such user\r\n", b"DATA": b"354 go on\r\n",
                   b"RSET": b"250 OK\r\n", b"QUIT": b"221 bye\r\n"}
        while line := await reader.readline():
            seen.append(line)
            if line.startswith(b"DATA"):
                writer.write(replies[b"DATA"])
                seen.append(await reader.readuntil(b".\r\n"))
                writer.write(b"554 5.5.1 no valid recipients\r\n")
                continue
            writer.write(replies[line[:4].upper()])
            if line.startswith(b"QUIT"):
                break
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    sink = Sink(port=server.sockets[0].getsockname()[1])
    try:
        client = await connected(sink)
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await transaction.send(client, "b@example.org", ["x@example.net"], RAW)
        assert [r.code for r in refused.value.recipients] == [550]
        assert seen[-3:] == [b"DATA\r\n", b".\r\n", b"RSET\r\n"]  # no message went
        await client.quit()
    finally:
        server.close()
