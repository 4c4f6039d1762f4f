"""The LMTP listener (RFC 2033) and the "+" separator, over real sockets."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailbot.config import load_config
from mailbot.core.clock import FakeClock
from mailbot.service import Service
from mailbot.storage import db
from tests.helpers import Sink, add_member, make_message, write_config


@pytest.fixture
async def lmtp_service(tmp_path: Path, database_url: str, sink: Sink,
                       clock: FakeClock) -> AsyncIterator[Service]:
    path = write_config(tmp_path, database_url, sink_port=sink.port, listen="",
                        lmtp_listen="127.0.0.1:0", separator="+")
    service = Service(load_config(path), clock=clock)
    db.upgrade(service.db.engine)
    await service.db.run(add_member, "sel", "bob@example.net", "Bob", clock.now())
    yield service
    service.close()


async def lmtp_conversation(port: int, rcpts: list[str], raw: bytes) -> list[str]:
    """Speak LMTP by hand and return every reply line after the final dot."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def say(line: str) -> str:
        writer.write(line.encode() + b"\r\n")
        await writer.drain()
        return await read_reply(reader)

    await read_reply(reader)  # greeting
    assert (await say("LHLO client.example")).startswith("250")
    assert (await say("MAIL FROM:<bob@example.net>")).startswith("250")
    codes = [await say(f"RCPT TO:<{rcpt}>") for rcpt in rcpts]
    assert (await say("DATA")).startswith("354")
    writer.write(raw.replace(b"\r\n.", b"\r\n..") + b".\r\n")
    await writer.drain()
    accepted = sum(code.startswith("250") for code in codes)
    replies = [await read_reply(reader) for _ in range(accepted)]
    writer.write(b"QUIT\r\n")
    writer.close()
    return codes + replies


async def read_reply(reader: asyncio.StreamReader) -> str:
    lines = []
    while True:
        line = (await asyncio.wait_for(reader.readline(), 5)).decode()
        lines.append(line.strip())
        if len(line) < 4 or line[3] != "-":
            return "\n".join(lines)


async def test_lmtp_answers_each_recipient_and_plus_addresses_work(
        lmtp_service: Service, sink: Sink) -> None:
    async with lmtp_service.listening() as ports:
        assert "smtp" not in ports
        raw = make_message(sender="bob@example.net", to="sel@example.org",
                           body="Par LMTP.\r\n.une ligne qui commence par un point\r\n")
        replies = await lmtp_conversation(
            ports["lmtp"], ["sel@example.org", "sel+request@example.org", "nobody@example.org"],
            raw)
    assert replies[0].startswith("250") and replies[1].startswith("250")
    assert replies[2].startswith("550")
    assert len(replies) == 5 and all(r.startswith("250") for r in replies[3:])
    await lmtp_service.drain()
    post = [r for r in sink.received if r.message["List-Id"]]
    assert len(post) == 1 and post[0].rcpt_tos == ["bob@example.net"]
    assert ".une ligne qui commence par un point" in post[0].text()
    assert post[0].mail_from.startswith("sel+bounces-")
    assert post[0].message["List-Help"] == "<mailto:sel+request@example.org?subject=help>"
    # the same message also went to sel+request@: a command reply (no command found)
    assert len(sink.to("bob@example.net")) == 2



@pytest.mark.parametrize("rules", ["[posting]\nmax_kb = 1\n"])
async def test_a_refusal_in_two_languages_is_still_one_reply_per_recipient(
        tmp_path: Path, database_url: str, sink: Sink, clock: FakeClock, rules: str) -> None:
    """RFC 2033 §4.2: after DATA, one (here two-line) reply for each accepted recipient."""
    path = write_config(tmp_path, database_url, sink_port=sink.port, listen="",
                        lmtp_listen="127.0.0.1:0", rules=rules)
    service = Service(load_config(path), clock=clock)
    db.upgrade(service.db.engine)
    try:
        async with service.listening() as ports:
            replies = await lmtp_conversation(
                ports["lmtp"], ["sel@example.org", "sel-request@example.org"],
                make_message(body="x" * 3000))
    finally:
        service.close()
    assert [r.splitlines()[0][:4] for r in replies] == ["250 ", "250 ", "552-", "552-"]
    assert all("trop gros" in r and "too large" in r for r in replies[2:])
