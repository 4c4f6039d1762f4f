"""The hosted-mailbox reader against a real Dovecot started by the tests."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient
from sqlalchemy import func, select

from mailbot.config import load_config
from mailbot.config.addresses import resolve
from mailbot.core.clock import FakeClock
from mailbot.inbound.imap import ImapReader
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.models import InboundMessage
from tests.dovecot import (  # noqa: F401  (registers `dovecot` and `dovecot_tls`)
    Dovecot,
    dovecot_fixture,
    dovecot_tls_fixture,
)
from tests.helpers import Sink, add_member, balance, make_message, write_config


def imap_config(tmp_path: Path, database_url: str, sink: Sink, dovecot: Dovecot,
                password: str = "secret") -> Path:
    tls = "tls" if dovecot.tls else "none"
    path = write_config(tmp_path, database_url, sink_port=sink.port, listen="",
                        separator="+")
    path.write_text(path.read_text() + f"""
[imap]
host = "{dovecot.host}"
port = {dovecot.port}
tls = "{tls}"
user = "{dovecot.user}"
password = "{password}"
poll_interval = 30
""")
    return path


@pytest.fixture
async def hosted(tmp_path: Path, database_url: str, sink: Sink, dovecot: Dovecot,
                 clock: FakeClock) -> AsyncIterator[Service]:
    async for service in _hosted(tmp_path, database_url, sink, dovecot, clock):
        yield service


@pytest.fixture
async def hosted_tls(tmp_path: Path, database_url: str, sink: Sink, dovecot_tls: Dovecot,
                     clock: FakeClock, monkeypatch: pytest.MonkeyPatch
                     ) -> AsyncIterator[Service]:
    """Over implicit TLS, as at a host's port 993, trusting the test's own certificate."""
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.cert_file))
    async for service in _hosted(tmp_path, database_url, sink, dovecot_tls, clock):
        yield service


async def _hosted(tmp_path: Path, database_url: str, sink: Sink, dovecot: Dovecot,
                  clock: FakeClock) -> AsyncIterator[Service]:
    service = Service(load_config(imap_config(tmp_path, database_url, sink, dovecot)),
                      clock=clock)
    db.upgrade(service.db.engine)
    for email, name in (("marie@example.com", "Marie"), ("bob@example.net", "Bob")):
        await service.db.run(add_member, "sel", email, name, clock.now())
    yield service
    service.close()


async def stored(service: Service) -> int:
    count: int = await service.db.run(
        lambda s: s.scalar(select(func.count(InboundMessage.id))))
    return count


async def test_messages_are_stored_once_and_moved(hosted: Service, dovecot: Dovecot,
                                                  sink: Sink) -> None:
    await asyncio.to_thread(dovecot.append, make_message(message_id="<a@example.com>"))
    await asyncio.to_thread(dovecot.append, make_message(message_id="<b@example.com>"))
    assert await hosted.read_mailbox_once() == 2
    await hosted.drain()
    assert len(sink.to("bob@example.net")) == 2
    assert await asyncio.to_thread(dovecot.uids, "INBOX") == []
    assert len(await asyncio.to_thread(dovecot.uids, "Processed")) == 2
    assert await hosted.read_mailbox_once() == 0  # a re-poll finds nothing more
    await hosted.drain()
    assert len(sink.to("bob@example.net")) == 2


async def test_duplicates_and_a_crash_before_the_move_are_handled_once(
        hosted: Service, dovecot: Dovecot, sink: Sink) -> None:
    raw = make_message(message_id="<twice@example.com>")
    # a previous run stored this one, then died before moving it
    recipient = resolve("sel@example.org", hosted.config.lists, "+")
    assert recipient is not None
    await hosted.accept(raw, "marie@example.com", [("sel@example.org", recipient)])
    await asyncio.to_thread(dovecot.append, raw)
    await asyncio.to_thread(dovecot.append, raw)  # and the host delivered it twice
    await hosted.read_mailbox_once()
    await hosted.drain()
    assert len(sink.to("bob@example.net")) == 1
    assert await stored(hosted) == 1
    assert await asyncio.to_thread(dovecot.uids, "INBOX") == []


async def test_the_role_comes_from_delivered_to_with_plus_addressing(
        hosted: Service, dovecot: Dovecot, sink: Sink) -> None:
    raw = b"Delivered-To: sel+request@example.org\r\n" + make_message(
        sender="bob@example.net", to="sel@example.org", body="aide")
    await asyncio.to_thread(dovecot.append, raw)
    await hosted.read_mailbox_once()
    await hosted.drain()
    [reply] = sink.to("bob@example.net")
    assert "sel+request@example.org" in reply.text()  # the guide, with "+" addresses
    assert reply.message["List-Id"] is None


@contextlib.asynccontextmanager
async def reading(service: Service) -> AsyncIterator[None]:
    """The reader runs (IDLE, reconnecting) for the duration of the block."""
    stop = asyncio.Event()
    task = asyncio.create_task(ImapReader(service.config, service.accept).run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def wait_stored(service: Service, count: int, timeout: float) -> float:
    start = time.monotonic()
    while await stored(service) < count:
        if time.monotonic() - start > timeout:
            pytest.fail(f"not stored within {timeout}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_idle_wakes_the_reader_within_a_second(hosted: Service,
                                                     dovecot: Dovecot) -> None:
    async with reading(hosted):
        await asyncio.to_thread(dovecot.append, make_message(message_id="<first@x.org>"))
        await wait_stored(hosted, 1, 10)  # connected and idling now
        await asyncio.sleep(0.5)
        await asyncio.to_thread(dovecot.append, make_message(message_id="<second@x.org>"))
        assert await wait_stored(hosted, 2, 5) < 1.0


async def test_mail_arriving_while_the_reader_searches_is_not_left_for_the_next_poll(
        hosted: Service, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race CI once hit: a message that lands during the SEARCH is reported with the
    search's answer (EXISTS), not again in the IDLE that follows (poll_interval is 30 s)."""
    store_all = ImapReader._store_all
    arrived = []

    def store_then_one_arrives(reader: ImapReader, client: Any, loop: Any) -> int:
        stored = store_all(reader, client, loop)
        if not arrived:  # once: a message lands while we search again
            arrived.append(True)
            dovecot.append(make_message(message_id="<during@x.org>"))
            client.search(["ALL"])
        return stored

    monkeypatch.setattr(ImapReader, "_store_all", store_then_one_arrives)
    async with reading(hosted):
        await wait_stored(hosted, 1, 5)


async def test_a_dropped_connection_is_survived(hosted: Service, dovecot: Dovecot) -> None:
    async with reading(hosted):
        await asyncio.to_thread(dovecot.append, make_message(message_id="<one@x.org>"))
        await wait_stored(hosted, 1, 10)
        await asyncio.to_thread(dovecot.kick)
        await asyncio.to_thread(dovecot.append, make_message(message_id="<two@x.org>"))
        await wait_stored(hosted, 2, 10)


async def test_wrong_credentials_give_one_clear_line_and_no_busy_loop(
        tmp_path: Path, database_url: str, sink: Sink, dovecot: Dovecot, clock: FakeClock,
        caplog: pytest.LogCaptureFixture) -> None:
    path = imap_config(tmp_path, database_url, sink, dovecot, password="wrong")
    service = Service(load_config(path), clock=clock)
    try:
        stop = asyncio.Event()
        with caplog.at_level(logging.ERROR, logger="mailbot.inbound.imap"):
            task = asyncio.create_task(ImapReader(service.config, service.accept).run(stop))
            await asyncio.sleep(2)
            stop.set()
            await asyncio.wait_for(task, 10)
        refusals = [r for r in caplog.records if "IMAP login refused" in r.getMessage()]
        assert len(refusals) == 1
        assert "check [imap] user and password" in refusals[0].getMessage()
    finally:
        service.close()


async def test_serve_with_only_imap_and_outbound_runs_the_list(
        tmp_path: Path, database_url: str, sink: Sink, dovecot: Dovecot) -> None:
    """The real `mailbot serve` process, no SMTP listener: mail appended to the hosted
    mailbox reaches the members through the smarthost."""
    import signal
    import sys

    from tests.test_daemon import cli_env

    path = imap_config(tmp_path, database_url, sink, dovecot)
    setup = Service(load_config(path))
    try:
        db.upgrade(setup.db.engine)
        for email in ("marie@example.com", "bob@example.net"):
            await setup.db.run(add_member, "sel", email, "", FakeClock().now())
    finally:
        setup.close()
    log = (tmp_path / "serve.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mailbot.cli", "-c", str(path), "serve", env=cli_env(),
        stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT)
    try:
        await asyncio.to_thread(dovecot.append, make_message(subject="Par la boîte"))
        deadline = time.monotonic() + 20
        while len(sink.to("bob@example.net")) < 1:
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            await asyncio.sleep(0.1)
        assert sink.to("bob@example.net")[0].message["Subject"] == "[sel] Par la boîte"
        assert await asyncio.to_thread(dovecot.uids, "INBOX") == []
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


async def test_mail_arriving_just_before_idle_wakes_the_reader(
        hosted: Service, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race full CI runs kept hitting: a message that lands just before IDLE. Dovecot
    reports it in the same packet as its "+ idling", so imaplib has it in its read buffer,
    where a poll() on the socket cannot see it; without a look there the reader waits for
    poll_interval (30 s)."""
    idle = IMAPClient.idle
    idles = []

    def one_arrives_then_idle(client: IMAPClient) -> None:
        idles.append(True)
        if len(idles) <= 2:
            dovecot.append(make_message(message_id=f"<before-idle-{len(idles)}@x.org>"))
        idle(client)

    monkeypatch.setattr(IMAPClient, "idle", one_arrives_then_idle)
    async with reading(hosted):
        await wait_stored(hosted, 2, 5)


async def test_over_tls_idle_wakes_the_reader_on_one_kept_connection(
        hosted_tls: Service, dovecot_tls: Dovecot, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Implicit TLS (port 993 at a host): a message that lands just before IDLE, then one
    while idling, each wake the reader at once, and the connection is never dropped (a
    look at the read buffer that finds nothing is not an error over TLS either)."""
    idle = IMAPClient.idle
    idles = []

    def one_arrives_then_idle(client: IMAPClient) -> None:
        idles.append(True)
        if len(idles) == 1:
            dovecot_tls.append(make_message(message_id="<before-idle@x.org>"))
        idle(client)

    monkeypatch.setattr(IMAPClient, "idle", one_arrives_then_idle)
    with caplog.at_level(logging.WARNING, logger="mailbot.inbound.imap"):
        async with reading(hosted_tls):
            await wait_stored(hosted_tls, 1, 5)
            await asyncio.sleep(1.0)  # idling, a few checks of the socket
            await asyncio.to_thread(dovecot_tls.append, make_message(message_id="<tls@x.org>"))
            assert await wait_stored(hosted_tls, 2, 5) < 1.0
    assert [r.getMessage() for r in caplog.records] == []


async def test_the_hosts_topmost_verdict_alone_is_kept(
        tmp_path: Path, database_url: str, sink: Sink, dovecot: Dovecot,
        clock: FakeClock) -> None:
    """On a hosted mailbox the host's MTA is ours (issue 21): its topmost
    Authentication-Results is kept and believed, a forged one below it is removed."""
    path = imap_config(tmp_path, database_url, sink, dovecot)
    path.write_text(path.read_text().replace("[server]\n",
                                             '[server]\nauthserv_id = "mx.host.example"\n'))
    service = Service(load_config(path), clock=clock)
    db.upgrade(service.db.engine)
    try:
        for email, name in (("marie@example.com", "Marie"), ("bob@example.net", "Bob")):
            await service.db.run(add_member, "sel", email, name, clock.now())
        raw = (b"Delivered-To: sel+request@example.org\r\n"
               b"Authentication-Results: mx.host.example; dkim=pass header.d=example.com\r\n"
               b"Authentication-Results: mx.host.example; dkim=fail\r\n") + make_message(
            to="sel+request@example.org", body="payer Bob 30")
        await asyncio.to_thread(dovecot.append, raw)
        await service.read_mailbox_once()
        await service.drain()
        kept: bytes = await service.db.run(lambda s: s.scalars(select(InboundMessage.raw)).one())
        assert kept.count(b"mx.host.example") == 1 and b"dkim=fail" not in kept
        assert await service.db.run(balance, "sel", "bob@example.net") == 30  # proven
    finally:
        service.close()
