"""`server.max_recipients`: past the cap, RCPT gets 452 4.5.3 (RFC 5321 §4.5.3.1.10) and
the client sends the rest in another transaction; nothing accepted is lost, over SMTP and
LMTP, with the real listener on loopback."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import select

from mailbot.config import load_config
from mailbot.core.clock import FakeClock
from mailbot.core.errors import ConfigError
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.models import InboundMessage
from tests.helpers import Sink, add_member, make_message, write_config

TOO_MANY = (452, "4.5.3 Too many recipients")


def capped_config(tmp_path: Path, database_url: str, sink: Sink, cap: int | None, *,
                  lmtp: bool = False) -> Path:
    """write_config's file, with `max_recipients = cap` under [server] (None: not set)."""
    return write_config(tmp_path, database_url, sink_port=sink.port,
                        listen="" if lmtp else "127.0.0.1:0",
                        lmtp_listen="127.0.0.1:0" if lmtp else "",
                        server_extra="" if cap is None else f"max_recipients = {cap}")


@pytest.fixture
def cap() -> int | None:
    """Override with parametrize: the configured cap (None: the default)."""
    return 2


@pytest.fixture
async def listener(tmp_path: Path, database_url: str, sink: Sink, clock: FakeClock,
                   cap: int | None) -> AsyncIterator[tuple[Service, int]]:
    """A service with Marie and Bob as members, listening on SMTP: (service, port)."""
    service = Service(load_config(capped_config(tmp_path, database_url, sink, cap)),
                      clock=clock)
    db.upgrade(service.db.engine)
    for email, name in (("marie@example.com", "Marie"), ("bob@example.net", "Bob")):
        await service.db.run(add_member, "sel", email, name, clock.now())
    try:
        async with service.listening() as ports:
            yield service, ports["smtp"]
    finally:
        service.close()


async def connected(port: int) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False)
    await client.connect()
    await client.ehlo()
    return client


async def rcpt(client: aiosmtplib.SMTP, address: str) -> tuple[int, str]:
    try:
        response = await client.rcpt(address)
        return response.code, response.message
    except aiosmtplib.SMTPRecipientRefused as exc:
        return exc.code, exc.message


async def stored_rcpts(service: Service) -> list[str]:
    rows = await service.db.run(lambda s: s.scalars(
        select(InboundMessage.rcpt).order_by(InboundMessage.id)).all())
    return list(rows)


@pytest.mark.parametrize("cap", [None])
async def test_the_default_cap_is_50_and_the_51st_rcpt_gets_452(
        listener: tuple[Service, int]) -> None:
    service, port = listener
    assert service.config.server.max_recipients == 50
    addresses = [f"sel-bounces+t{i}@example.org" for i in range(51)]  # 51 valid addresses
    client = await connected(port)
    try:
        await client.mail("marie@example.com")
        codes = [await rcpt(client, a) for a in addresses]
        assert [c for c, _ in codes[:50]] == [250] * 50
        assert codes[50] == TOO_MANY
        response = await client.data(make_message(subject="bounce-ish"))
        assert response.code == 250
    finally:
        await client.quit()
    assert sorted(await stored_rcpts(service)) == sorted(addresses[:50])


async def test_past_the_cap_452_then_the_rest_goes_in_a_second_transaction(
        listener: tuple[Service, int], sink: Sink) -> None:
    service, port = listener
    raw = make_message(message_id="<cap-1@example.com>", subject="Trois adresses")
    client = await connected(port)
    try:
        await client.mail("marie@example.com")
        assert (await rcpt(client, "sel@example.org"))[0] == 250
        assert (await rcpt(client, "sel-owner@example.org"))[0] == 250
        assert await rcpt(client, "sel-request@example.org") == TOO_MANY
        assert (await client.data(raw)).code == 250  # the accepted two go through
        # what a sending MTA does with a 452: the rest in a new transaction
        await client.mail("marie@example.com")
        assert (await rcpt(client, "sel-request@example.org"))[0] == 250
        assert (await client.data(raw)).code == 250
    finally:
        await client.quit()

    assert sorted(await stored_rcpts(service)) == ["sel-owner@example.org",
                                                   "sel-request@example.org",
                                                   "sel@example.org"]
    await service.drain()
    posts = [r for r in sink.to("bob@example.net") if r.message["List-Id"]]
    assert len(posts) == 1  # the post reached the list once
    assert sink.to("alice@example.org")  # the owner copy reached the moderator


async def test_refused_recipients_do_not_count_and_the_cap_is_per_transaction(
        listener: tuple[Service, int]) -> None:
    service, port = listener
    client = await connected(port)
    try:
        await client.mail("marie@example.com")
        assert (await rcpt(client, "nobody@example.org"))[0] == 550
        assert (await rcpt(client, "sel@example.org"))[0] == 250
        assert (await rcpt(client, "victim@gmail.com"))[0] == 550
        assert (await rcpt(client, "sel-owner@example.org"))[0] == 250
        assert await rcpt(client, "sel-request@example.org") == TOO_MANY
        assert await rcpt(client, "nobody@example.org") == TOO_MANY  # the cap speaks first
        await client.rset()  # a new transaction starts with a fresh count
        await client.mail("marie@example.com")
        assert (await rcpt(client, "sel-request@example.org"))[0] == 250
        assert (await rcpt(client, "sel-bounces@example.org"))[0] == 250
        assert await rcpt(client, "sel@example.org") == TOO_MANY
        assert (await client.data(make_message(message_id="<cap-2@example.com>"))).code == 250
    finally:
        await client.quit()
    assert sorted(await stored_rcpts(service)) == ["sel-bounces@example.org",
                                                   "sel-request@example.org"]


@pytest.mark.parametrize("cap", [1])
async def test_smtplib_sendmail_reports_the_refused_recipient(
        listener: tuple[Service, int]) -> None:
    """A stock client sees the 452 per recipient; the accepted one is stored."""
    import smtplib

    service, port = listener

    def send() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            return client.sendmail("marie@example.com",
                                   ["sel@example.org", "sel-owner@example.org"],
                                   make_message(message_id="<cap-3@example.com>"))

    refused = await asyncio.to_thread(send)
    assert refused == {"sel-owner@example.org": (452, b"4.5.3 Too many recipients")}
    assert await stored_rcpts(service) == ["sel@example.org"]


async def test_lmtp_is_capped_too_and_answers_once_per_accepted_recipient(
        tmp_path: Path, database_url: str, sink: Sink, clock: FakeClock) -> None:
    service = Service(load_config(capped_config(tmp_path, database_url, sink, 2, lmtp=True)),
                      clock=clock)
    db.upgrade(service.db.engine)
    try:
        async with service.listening() as ports:
            reader, writer = await asyncio.open_connection("127.0.0.1", ports["lmtp"])

            async def reply() -> str:
                lines = []
                while True:
                    line = (await asyncio.wait_for(reader.readline(), 10)).decode()
                    lines.append(line.rstrip("\r\n"))
                    if line[3:4] != "-":
                        return "\n".join(lines)

            async def say(line: str) -> str:
                writer.write(line.encode() + b"\r\n")
                await writer.drain()
                return await reply()

            await reply()  # greeting
            assert (await say("LHLO client.example")).startswith("250")
            assert (await say("MAIL FROM:<marie@example.com>")).startswith("250")
            assert (await say("RCPT TO:<sel@example.org>")).startswith("250")
            assert (await say("RCPT TO:<sel-owner@example.org>")).startswith("250")
            assert await say("RCPT TO:<sel-request@example.org>") == \
                "452 4.5.3 Too many recipients"
            assert (await say("DATA")).startswith("354")
            writer.write(make_message(message_id="<cap-4@example.com>") + b".\r\n")
            await writer.drain()
            finals = [await reply(), await reply()]  # RFC 2033: one per accepted RCPT
            assert all(f.startswith("250") for f in finals), finals
            await say("QUIT")
            writer.close()
        assert sorted(await stored_rcpts(service)) == ["sel-owner@example.org",
                                                       "sel@example.org"]
    finally:
        service.close()


@pytest.mark.parametrize("value", ["0", "-3", "true", '"50"'])
def test_a_bad_cap_is_refused_at_load_naming_the_key(tmp_path: Path, value: str) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", maildir=tmp_path / "out",
                        server_extra=f"max_recipients = {value}")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "server.max_recipients" in str(error.value)


def test_the_example_config_documents_the_cap() -> None:
    from tests.helpers import ROOT

    assert load_config(ROOT / "config.example.toml").server.max_recipients == 50
