"""Scale-out: several `mailbot serve` processes on one PostgreSQL share the work.

Posts come in through every daemon's own listener; any daemon may handle a stored message
and deliver its copies (`FOR UPDATE SKIP LOCKED` claims). One daemon is killed with -9 in
the middle (of a stream of posts, then of a fan-out it is sending): the others take its
stored messages and its leased deliveries over. Every member gets every post; a copy
arrives twice only when the killed daemon had it accepted by the smarthost and died before
recording so (SMTP leaves no way to ask), and then only one of the transactions it had sent
and not recorded: at most `outbound.record_batch` per connection, so
max_connections × record_batch for the daemon killed.
"""

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope
from sqlalchemy import select

from mailbot.storage import db
from mailbot.storage.models import Daemon as DaemonRow
from mailbot.storage.models import Delivery, OutboundMessage
from tests.helpers import Sink, add_member, make_message, write_config
from tests.test_daemon import MEMBERS, SETTLE, Daemon, daemons, expected, free_port, post
from tests.test_faults import wait_all_sent

pytestmark = pytest.mark.slow
POSTS = 24
MAX_CONNECTIONS = 4  # outbound.max_connections in write_config
RECORD_BATCH = 3  # outbound.record_batch set by `setups`: transactions a connection may have
IN_FLIGHT = MAX_CONNECTIONS * RECORD_BATCH  # sent and unrecorded, what a kill may resend
Pair = tuple[str, str]  # (Message-ID, envelope recipient) of one copy


class NamingSink(Sink):
    """Remembers the EHLO name of each connection: each daemon gives its own."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.copies: list[tuple[str, str, str]] = []  # (Message-ID, rcpt, sender's EHLO name)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        self.names.append(hostname)
        return await super().handle_EHLO(server, session, envelope, hostname, responses)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        mid = str(self.received[-1].message["Message-ID"])
        self.copies.extend((mid, rcpt, session.host_name) for rcpt in envelope.rcpt_tos)
        return answer

    def counts(self) -> Counter[Pair]:
        return Counter((mid, rcpt) for mid, rcpt, _ in self.copies)

    def senders(self, pair: Pair) -> list[str]:
        """The EHLO names of the daemons that sent this copy, in order."""
        return [name for mid, rcpt, name in self.copies if (mid, rcpt) == pair]


class KillingSink(NamingSink):
    """A smarthost slow at DATA (so that a fan-out lasts), which calls `kill(EHLO name)`
    while it holds the `at`-th copy, before answering it: the daemon sending it dies
    mid-fan-out with that copy accepted and unrecorded."""

    def __init__(self, delay: float, at: int, kill: Callable[[str], None]) -> None:
        super().__init__()
        self.delay, self.at, self.kill = delay, at, kill
        self.killed = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        await asyncio.sleep(self.delay)  # a hang-up meanwhile cancels this: not received
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.copies) >= self.at and not self.killed.is_set():
            self.kill(session.host_name)
            self.killed.set()
        return answer


@contextlib.asynccontextmanager
async def started(sink: NamingSink) -> AsyncIterator[NamingSink]:
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()


def setups(tmp_path: Path, database_url: str, sink_port: int, count: int,
           members: list[str]) -> list[tuple[Path, int]]:
    """`count` configs on one database, each its own port and hostname (d0.example.org …)
    and a small record_batch; the list's members seeded once, in-process."""
    result = []
    for i in range(count):
        folder = tmp_path / f"d{i}"
        folder.mkdir()
        port = free_port()
        config = write_config(folder, database_url, sink_port=sink_port,
                              listen=f"127.0.0.1:{port}",
                              outbound_extra=f"record_batch = {RECORD_BATCH}")
        text = config.read_text()
        assert f"max_connections = {MAX_CONNECTIONS}\n" in text
        config.write_text(text.replace('hostname = "lists.example.org"',
                                       f'hostname = "d{i}.example.org"'))
        result.append((config, port))
    database = db.Database(database_url)
    try:
        db.upgrade(database.engine)
        for email in members:
            database.transaction(add_member, "sel", email, "", datetime.now(UTC))
    finally:
        database.close()
    return result


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, configs: list[tuple[Path, int]]) -> AsyncIterator[list[Daemon]]:
    """One daemon per config (log: dN.log), killed at the end. They start one after the
    other: three Python start-ups at once on a busy machine can take longer than the
    15 s each may take to listen."""
    async with contextlib.AsyncExitStack() as stack:
        running = []
        for i, (config, port) in enumerate(configs):
            new = await stack.enter_async_context(daemons(config, port, tmp_path / f"d{i}.log"))
            running.append(await new().start())
        yield running


def daemon_ids(database_url: str) -> dict[int, str]:
    """pid → the id under which that daemon leases deliveries."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {pid: id_ for id_, pid in conn.execute(select(DaemonRow.id, DaemonRow.pid))}
    finally:
        engine.dispose()


def leased_to(database_url: str, owner: str) -> set[Pair]:
    """The copies leased to `owner` and not sent yet: its work in hand."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(OutboundMessage.raw, Delivery.rcpt)
                .join(OutboundMessage, OutboundMessage.id == Delivery.outbound_id)
                .where(Delivery.lease_owner == owner, Delivery.status == "queued")).all()
    finally:
        engine.dispose()
    parser = BytesHeaderParser()
    return {(str(parser.parsebytes(raw)["Message-ID"]), rcpt) for raw, rcpt in rows}


def assert_duplicates_from(sink: NamingSink, killed: str) -> set[Pair]:
    """Each copy that arrived twice came first from the daemon killed, then from a survivor,
    and there are at most max_connections × record_batch of them; return them."""
    counts = sink.counts()
    twice = {pair for pair, n in counts.items() if n > 1}
    print(f"\n{len(twice)} copy(ies) sent twice after the kill -9, of {sum(counts.values())} "
          f"(bound: {MAX_CONNECTIONS} connections × record_batch {RECORD_BATCH} = {IN_FLIGHT})")
    assert all(counts[pair] == 2 for pair in twice), counts
    senders = {pair: sink.senders(pair) for pair in twice}
    assert all(names[0] == killed != names[1] for names in senders.values()), senders
    assert len(twice) <= IN_FLIGHT
    return twice


def skip_on_sqlite(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several daemons share a PostgreSQL database; SQLite allows one serve")


async def test_three_daemons_share_the_work_and_survive_a_kill_9(
        tmp_path: Path, database_url: str) -> None:
    skip_on_sqlite(database_url)
    async with started(NamingSink()) as sink:
        configs = setups(tmp_path, database_url, sink.port, 3, [e for e, _ in MEMBERS])
        async with serving(tmp_path, configs) as running:
            ids = [f"<scale-{n}@example.com>" for n in range(POSTS)]
            for n, mid in enumerate(ids):
                port = configs[n % 3][1] if n < POSTS // 2 else configs[1 + n % 2][1]
                code, text = await post(port, make_message(message_id=mid, subject=f"n°{n}"))
                assert code == 250, text
                if n == POSTS // 2 - 1:
                    running[0].signal(signal.SIGKILL)  # mid-stream: the others carry on
            want = set(expected(ids))
            deadline = time.monotonic() + 15
            while not want <= set(sink.counts()):
                if time.monotonic() > deadline:
                    pytest.fail(f"missing after 15s: {want - set(sink.counts())}\n--- daemon "
                                f"logs: {[str(tmp_path / f'd{i}.log') for i in range(3)]}")
                await asyncio.sleep(0.05)
            await asyncio.sleep(SETTLE)  # a duplicate would show up now
            assert all(d.proc is not None and d.proc.returncode is None for d in running[1:])
            # survivors delivered; not necessarily both: a claim takes every copy queued,
            # and a daemon already sending claims again at once (seen under heavy load)
            assert set(sink.names) - {"d0.example.org"}, "the survivors delivered"
    assert set(sink.counts()) == want
    assert_duplicates_from(sink, "d0.example.org")


async def test_a_daemon_killed_mid_fan_out_leaves_its_deliveries_to_the_others(
        tmp_path: Path, database_url: str) -> None:
    """Three daemons, a list of 41 members, three posts (123 copies) through a smarthost
    that takes 50 ms at DATA. When the sink holds the 15th copy, the daemon sending it is
    killed with -9: the deliveries it had leased and not sent go out from the others."""
    skip_on_sqlite(database_url)
    members = ["marie@example.com", *(f"m{i:02d}@example.net" for i in range(40))]
    mids = [f"<fan-{n}@example.com>" for n in range(3)]
    want = {(mid, email) for mid in mids for email in members}
    victim: list[Daemon] = []

    def kill(name: str) -> None:  # in the sink's handler: the daemon dies before the 250
        victim.append(running[int(name.removeprefix("d").split(".")[0])])
        victim[0].signal(signal.SIGKILL)

    async with started(KillingSink(delay=0.05, at=15, kill=kill)) as sink:
        assert isinstance(sink, KillingSink)
        configs = setups(tmp_path, database_url, sink.port, 3, members)
        async with serving(tmp_path, configs) as running:
            owners = await asyncio.to_thread(daemon_ids, database_url)
            for n, mid in enumerate(mids):
                code, text = await post(configs[n][1], make_message(message_id=mid))
                assert code == 250, text
            await asyncio.wait_for(sink.killed.wait(), 15)
            assert victim[0].proc is not None
            orphans = await asyncio.to_thread(leased_to, database_url,
                                              owners[victim[0].proc.pid])
            received_at_kill = len(sink.copies)
            assert 0 < received_at_kill < len(want), "killed mid-fan-out"
            assert orphans, "the daemon killed had deliveries in hand"
            await wait_all_arrived(sink, want, database_url, tmp_path)
            assert all(d.proc is not None and d.proc.returncode is None
                       for d in running if d is not victim[0])
    killed = f"d{running.index(victim[0])}.example.org"
    assert set(sink.counts()) == want
    print(f"\nkilled {killed} at copy {received_at_kill} of {len(want)}, with "
          f"{len(orphans)} copies leased and unsent")
    assert all(set(sink.senders(pair)) - {killed} for pair in orphans), "survivors sent them"
    assert_duplicates_from(sink, killed)


async def wait_all_arrived(sink: NamingSink, want: set[Pair], database_url: str,
                           tmp_path: Path) -> None:
    """Every copy at the sink and every delivery recorded as sent (bounded: the others take
    a dead daemon's leases over at their next heartbeat, every 5 s), then a while more."""
    deadline = time.monotonic() + 30
    while not want <= set(sink.counts()):
        if time.monotonic() > deadline:
            pytest.fail(f"{len(want - set(sink.counts()))} copies missing after 30s; daemon "
                        f"logs in {tmp_path}")
        await asyncio.sleep(0.05)
    await wait_all_sent(database_url, 15)
    await asyncio.sleep(SETTLE)  # a duplicate would show up now
