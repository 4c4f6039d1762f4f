"""Faults under load, with real `mailbot serve` processes and a real SMTP sink.

kill -9 at random moments of a fan-out, a smarthost that says 4xx for a while, the
database server restarted under the daemon's feet, a full disk under SQLite: nothing
accepted may be lost, and a copy may be sent twice only when the smarthost had accepted it
and the daemon died before recording so (the daemon records each result as soon as the
smarthost answers: see Service._deliver_and_record).
"""

import asyncio
import contextlib
import errno
import random
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from mailbot.storage import db
from mailbot.storage.models import Delivery, OutboundMessage
from tests.helpers import Sink, add_member, make_message, smtp_send, write_config
from tests.pgcluster import pg_cluster, unavailable
from tests.test_daemon import Daemon, daemons, free_port, ok, wait_for

pytestmark = pytest.mark.slow

MAX_CONNECTIONS = 4  # outbound.max_connections in write_config
RECORD_BATCH = 3  # outbound.record_batch set by seed: unrecorded transactions a connection
IN_FLIGHT = MAX_CONNECTIONS * RECORD_BATCH  # may have: what a kill -9 may make go out twice
SETTLE = 1.5  # seconds to keep watching for a duplicate once everything has arrived
POSTER = "marie@example.com"

Pair = tuple[str, str]  # (Message-ID, envelope recipient) of one copy


def roster(size: int) -> list[str]:
    """The poster and `size - 1` others."""
    return [POSTER, *(f"m{i:02d}@example.net" for i in range(size - 1))]


def seed(tmp_path: Path, database_url: str, sink_port: int,
         members: list[str], record_batch: int = RECORD_BATCH) -> tuple[Path, int]:
    """A config (SMTP on a free port) and a list with these members, seeded in-process."""
    port = free_port()
    config = write_config(tmp_path, database_url, sink_port=sink_port,
                          listen=f"127.0.0.1:{port}")
    text = config.read_text()
    assert f"max_connections = {MAX_CONNECTIONS}\n" in text
    config.write_text(text.replace(f"max_connections = {MAX_CONNECTIONS}\n",
                                   f"max_connections = {MAX_CONNECTIONS}\n"
                                   f"record_batch = {record_batch}\n"))
    database = db.Database(database_url)
    try:
        db.upgrade(database.engine)
        now = datetime.now(UTC)
        for email in members:
            database.transaction(add_member, "sel", email, "", now)
    finally:
        database.close()
    return config, port


class FaultSink(Sink):
    """The smarthost: `delay` seconds at DATA (so a fan-out lasts long enough to be hit),
    and `refuse(rcpt)` says which recipients get `refuse_with` at RCPT (all by default)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.refuse: Callable[[str], bool] = lambda rcpt: True
        self.pairs: list[Pair] = []  # parsed once: the waits below poll them often

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        if self.refuse_with and self.refuse(address):
            self.refusals += 1
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)  # a hang-up meanwhile cancels this: not received
        answer = await super().handle_DATA(server, session, envelope)
        mid = str(self.received[-1].message["Message-ID"])
        self.pairs.extend((mid, rcpt) for rcpt in envelope.rcpt_tos)
        return answer

    def counts(self) -> Counter[Pair]:
        return Counter(self.pairs)


SinkT = TypeVar("SinkT", bound=FaultSink)


@contextlib.asynccontextmanager
async def running(sink: SinkT) -> AsyncIterator[SinkT]:
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()


def expected(mids: list[str], members: list[str]) -> set[Pair]:
    return {(mid, email) for mid in mids for email in members}


def deliveries(database_url: str) -> list[tuple[Pair, str]]:
    """((Message-ID, rcpt), status) of every delivery in the database."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            raws = dict(conn.execute(select(OutboundMessage.id, OutboundMessage.raw)).all())
            rows = conn.execute(select(Delivery.outbound_id, Delivery.rcpt,
                                       Delivery.status)).all()
    finally:
        engine.dispose()
    mids = {oid: _message_id(raw) for oid, raw in raws.items()}
    return [((mids[oid], rcpt), status) for oid, rcpt, status in rows]


def _message_id(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = re.search(rb"^message-id:\s*(<[^>\r\n]*>)", head, re.IGNORECASE | re.MULTILINE)
    return found.group(1).decode() if found else ""


def recorded_sent(database_url: str) -> set[Pair]:
    return {pair for pair, status in deliveries(database_url) if status == "sent"}


async def post_until_accepted(port: int, raw: bytes, timeout: float = 15) -> list[int]:
    """What a sending MTA does: try again after a 4xx (or a refused connection) until 250;
    return every code seen. A 5xx fails the test."""
    codes: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            code, text = await smtp_send(port, raw)
        except (OSError, TimeoutError) as exc:  # no daemon listening right now
            code, text = 0, str(exc)
        codes.append(code)
        if code == 250:
            return codes
        assert code < 500, f"refused for good: {code} {text}"
        await asyncio.sleep(0.2)
    pytest.fail(f"not accepted after {timeout}s: {codes}")


def unrecorded(sink: FaultSink, database_url: str) -> set[tuple[Pair, int]]:
    """What the smarthost accepted and the database does not say was sent, each with the
    number of copies the sink has of it: a later daemon sends these again."""
    sent = recorded_sent(database_url)
    return {(pair, n) for pair, n in sink.counts().items() if pair not in sent}


async def wait_all_sent(database_url: str, timeout: float) -> None:
    """Until the database records every delivery as sent (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = Counter(s for _, s in await asyncio.to_thread(deliveries, database_url))
        if set(statuses) == {"sent"}:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout}s the deliveries are {dict(statuses)}")
        await asyncio.sleep(0.1)


async def assert_all_arrive(sink: FaultSink, want: set[Pair], daemon: Daemon,
                            timeout: float, *, recorded_in: str | None = None
                            ) -> Counter[Pair]:
    """Wait (bounded) until the sink has every wanted copy (and, with `recorded_in`, the
    database says every delivery was sent: nothing more will go out), watch for late
    duplicates, and return the final counts; nothing unwanted may have arrived."""
    await wait_for(lambda: want <= set(sink.counts()), timeout,
                   f"{len(want)} copies (the daemon log is {daemon.log})")
    if recorded_in is not None:
        await wait_all_sent(recorded_in, timeout)
    await asyncio.sleep(SETTLE)
    counts = sink.counts()
    assert set(counts) == want, set(counts) ^ want
    return counts


def duplicates(counts: Counter[Pair]) -> int:
    return sum(n - 1 for n in counts.values())


# --- 1. kill -9 at random moments of a fan-out ------------------------------------------

KILL_SEED = 20261123
KILLS = 3


async def test_kill_9_at_random_moments_of_a_fan_out_loses_nothing(
        tmp_path: Path, database_url: str) -> None:
    """40 members, 5 posts (200 copies), the daemon killed -9 three times at seeded random
    moments (the first maybe before the fan-out is even queued), restarted each time; the
    last one finishes. Every copy arrives, and each duplicate is a copy that the sink had
    accepted and the database had not recorded when a kill came."""
    rng = random.Random(KILL_SEED)
    members = roster(40)
    mids = [f"<fanout-{i}@example.com>" for i in range(5)]
    want = expected(mids, members)
    async with running(FaultSink(delay=0.02)) as sink:
        config, port = seed(tmp_path, database_url, sink.port, members)
        in_flight: list[int] = []  # accepted by the sink, unrecorded, at each kill
        events: set[tuple[Pair, int]] = set()
        async with daemons(config, port, tmp_path / "serve.log") as new:
            for round_ in range(KILLS):
                daemon = await new().start()
                before = len(sink.received)
                if round_ == 0:
                    for i, mid in enumerate(mids):
                        code, text = await smtp_send(port, make_message(
                            message_id=mid, subject=f"Annonce {i}"))
                        assert code == 250, text
                    await asyncio.sleep(rng.uniform(0.0, 0.5))  # the fan-out, or deliveries
                else:
                    await wait_for(lambda: len(sink.received) > before  # noqa: B023
                                   or want <= set(sink.counts()), 15, f"round {round_}")
                    await asyncio.sleep(rng.uniform(0.0, 0.3))
                daemon.signal(signal.SIGKILL)
                assert await daemon.wait(5) == -signal.SIGKILL
                await asyncio.sleep(0.2)  # let the sink see the hang-ups
                lost_answers = await asyncio.to_thread(unrecorded, sink, database_url)
                in_flight.append(len(lost_answers - events))
                events |= lost_answers

            final = await new().start()
            counts = await assert_all_arrive(sink, want, final, 20, recorded_in=database_url)
        dups = duplicates(counts)
        print(f"\n[{database_url.split('+')[0].split(':')[0]}] {KILLS} kill -9: {dups} "
              f"duplicate(s) among {sum(counts.values())} copies; accepted but unrecorded "
              f"at each kill: {in_flight} (max_connections = {MAX_CONNECTIONS}, "
              f"record_batch = {RECORD_BATCH})")
        assert dups == len(events)  # each duplicate is an answer lost in a kill, no other
        # a connection goes on only while fewer than record_batch of its are unrecorded
        assert max(in_flight) <= IN_FLIGHT


class GatedSink(FaultSink):
    """Holds every delivery at DATA until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release, self.waiting = asyncio.Event(), 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.waiting += 1
        try:
            await self.release.wait()
        finally:
            self.waiting -= 1
        return await super().handle_DATA(server, session, envelope)


@contextlib.contextmanager
def database_stalled(database_url: str) -> Iterator[None]:
    """Hold what `queue.record` needs: the SQLite write lock, or the delivery rows on
    PostgreSQL. Reads and the SMTP side go on; recording a result waits."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("SELECT 1")  # the engine's begin hook: BEGIN IMMEDIATE
            else:
                conn.execute(select(Delivery.id).with_for_update())
            try:
                yield
            finally:
                conn.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("record_batch", [1, RECORD_BATCH])
async def test_a_kill_while_recording_is_slow_resends_at_most_one_record_batch_a_connection(
        tmp_path: Path, database_url: str, record_batch: int) -> None:
    """A batch of 40 at DATA; the database made slow for writers (a lock held by the test)
    before the smarthost answers; it accepts what is in flight, and each connection goes
    on until `record_batch` of its transactions wait to be recorded, then waits; kill -9.
    Only those (max_connections × record_batch) go out twice."""
    members = roster(40)
    mid = "<stalled@example.com>"
    bound = MAX_CONNECTIONS * record_batch
    async with running(GatedSink()) as sink:
        config, port = seed(tmp_path, database_url, sink.port, members, record_batch)
        async with daemons(config, port, tmp_path / "serve.log") as new:
            first = await new().start()
            code, text = await smtp_send(port, make_message(message_id=mid))
            assert code == 250, text
            await wait_for(lambda: sink.waiting == MAX_CONNECTIONS, 15,
                           "a claimed batch at DATA")
            with database_stalled(database_url):
                sink.release.set()
                await wait_for(lambda: len(sink.received) == bound, 15,
                               "the transactions sent before the connections wait")
                await asyncio.sleep(1.0)  # nothing more goes out while results wait
                assert len(sink.received) == bound
                first.signal(signal.SIGKILL)
                assert await first.wait(5) == -signal.SIGKILL
            lost_answers = await asyncio.to_thread(unrecorded, sink, database_url)

            second = await new().start()
            counts = await assert_all_arrive(sink, expected([mid], members), second, 15)
        dups = duplicates(counts)
        print(f"\n[{database_url.split('+')[0].split(':')[0]}] record_batch = {record_batch}: "
              f"one kill -9 while recording waited: {dups} duplicate(s), "
              f"{len(lost_answers)} accepted but unrecorded")
        assert dups == len(lost_answers) == bound


# --- 2. the smarthost says 4xx for a while ----------------------------------------------

def queue_state(database_url: str) -> list[tuple[str, int, bool]]:
    """(status, attempts, leased) of every delivery."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Delivery.status, Delivery.attempts,
                                       Delivery.lease_owner)).all()
    finally:
        engine.dispose()
    return [(status, attempts, owner is not None) for status, attempts, owner in rows]


async def wait_recorded(database_url: str, count: int, attempts: int, timeout: float,
                        what: str) -> None:
    """Until `count` deliveries exist, none is leased, each tried at least `attempts` times
    or sent: every answer of the round is recorded."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await asyncio.to_thread(queue_state, database_url)
        if len(rows) == count and all(not leased and (n >= attempts or status == "sent")
                                      for status, n, leased in rows):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}: {Counter(rows)}")
        await asyncio.sleep(0.1)


async def test_4xx_for_a_while_then_accepted_delivers_each_copy_exactly_once(
        tmp_path: Path, database_url: str) -> None:
    """10 members, 3 posts. Round 1: every RCPT gets 451. Round 2 (`mailbot queue retry`):
    half the recipients get 452, the other half are accepted. Round 3 (`queue retry`): all
    accepted. Every copy arrives once: what was accepted in round 2 is not sent again."""
    members = roster(10)
    mids = [f"<busy-{i}@example.com>" for i in range(3)]
    want = expected(mids, members)
    async with running(FaultSink()) as sink:
        config, port = seed(tmp_path, database_url, sink.port, members)
        sink.refuse_with = "451 4.3.0 Try again later"
        async with daemons(config, port, tmp_path / "serve.log") as new:
            daemon = await new().start()
            for mid in mids:
                code, text = await smtp_send(port, make_message(message_id=mid))
                assert code == 250, text
            await wait_recorded(database_url, len(want), 1, 15, "round 1 recorded")
            assert sink.received == [] and sink.refusals == len(want)

            half = set(members[::2])
            sink.refuse_with = "452 4.2.2 Mailbox full, try later"
            sink.refuse = lambda rcpt: rcpt not in half
            assert "deliveries due now" in await ok(config, "queue", "retry")
            await wait_recorded(database_url, len(want), 2, 15, "round 2 recorded")
            assert set(sink.counts()) == {(m, r) for m, r in want if r in half}
            assert sink.refusals == len(want) + len(want) // 2

            sink.refuse_with = None
            assert "deliveries due now" in await ok(config, "queue", "retry")
            counts = await assert_all_arrive(sink, want, daemon, 15, recorded_in=database_url)
            assert daemon.proc is not None and daemon.proc.returncode is None
        assert duplicates(counts) == 0
        rows = await asyncio.to_thread(queue_state, database_url)
        assert {status for status, _, _ in rows} == {"sent"}
        assert Counter(n for _, n, _ in rows) == {2: len(want) // 2, 3: len(want) // 2}


# --- 3. PostgreSQL restarted under load --------------------------------------------------

needs_private_pg = pytest.mark.skipif(unavailable() is not None,
                                      reason=f"no private PostgreSQL: {unavailable()}")


def stuck(database_url: str) -> int:
    """Deliveries the smarthost may well have taken but the database still shows leased."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Delivery.id).where(
                Delivery.status == "queued", Delivery.lease_owner.is_not(None))).all()
    finally:
        engine.dispose()
    return len(rows)


@needs_private_pg
@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_postgresql_restarted_mid_fan_out_loses_nothing(
        tmp_path: Path, mode: str) -> None:
    """A private cluster; 40 members, 5 posts; `pg_ctl restart -m MODE` while the copies
    go out, and a sixth post sent during the restart (retried after 4xx, as an MTA does).
    The daemon survives and every copy arrives; duplicates are bounded as for a kill. (What
    it leaves behind in the queue is pinned down by the next test.)"""
    members = roster(40)
    mids = [f"<pgr-{i}@example.com>" for i in range(6)]
    want = expected(mids, members)
    with pg_cluster(free_port()) as pg:
        async with running(FaultSink(delay=0.02)) as sink:
            config, port = seed(tmp_path, pg.url, sink.port, members)
            async with daemons(config, port, tmp_path / "serve.log") as new:
                daemon = await new().start()
                for mid in mids[:5]:
                    code, text = await smtp_send(port, make_message(message_id=mid))
                    assert code == 250, text
                await wait_for(lambda: len(sink.received) >= 40, 15, "deliveries going out")
                restart = asyncio.create_task(asyncio.to_thread(pg.restart, mode))
                await asyncio.sleep(0.05)
                codes = await post_until_accepted(port, make_message(message_id=mids[5]))
                await restart
                counts = await assert_all_arrive(sink, want, daemon, 20)
                assert daemon.proc is not None and daemon.proc.returncode is None, \
                    daemon.text()
                deadline = time.monotonic() + 8
                while (left := await asyncio.to_thread(stuck, pg.url)) and \
                        time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                print(f"\n[pg restart -m {mode}] the post sent meanwhile got {codes}; "
                      f"{duplicates(counts)} duplicate(s); {left} copies delivered but left "
                      f"leased in the queue; {daemon.text().count('will try again')} "
                      "'will try again' log lines")
                assert all(code == 250 or 400 <= code < 500 for code in codes)
                assert duplicates(counts) <= IN_FLIGHT
                assert left == 0  # every result recorded once the database was back


@needs_private_pg
async def test_a_database_outage_while_results_come_back_sends_nothing_twice(
        tmp_path: Path) -> None:
    """A batch of 40 in flight (held at DATA), the database stopped, the smarthost
    accepts what is in flight, and no connection goes on once record_batch of its results
    wait to be recorded; the database started again: the daemon records them and sends the rest,
    and neither it nor a successor sends anything twice."""
    members = roster(40)
    mid = "<outage@example.com>"
    with pg_cluster(free_port()) as pg:
        async with running(GatedSink()) as sink:
            config, port = seed(tmp_path, pg.url, sink.port, members)
            async with daemons(config, port, tmp_path / "serve.log") as new:
                first = await new().start()
                code, text = await smtp_send(port, make_message(message_id=mid))
                assert code == 250, text
                await wait_for(lambda: sink.waiting == MAX_CONNECTIONS, 15,
                               "a claimed batch at DATA")
                await asyncio.to_thread(pg.stop, "fast")
                sink.release.set()
                await wait_for(lambda: len(sink.received) == IN_FLIGHT, 15,
                               "the transactions sent before the connections wait")
                await asyncio.sleep(1.0)  # the connections wait for their results
                assert len(sink.received) == IN_FLIGHT
                await asyncio.to_thread(pg.start)
                await wait_for(lambda: len(sink.received) == len(members), 20,
                               "the rest of the batch once the database is back")
                deadline = time.monotonic() + 8  # a sender loop retries every 5 s at most
                while (left := await asyncio.to_thread(stuck, pg.url)) and \
                        time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                assert first.proc is not None and first.proc.returncode is None

                first.signal(signal.SIGTERM)  # a clean stop, then the next daemon
                assert await first.wait(10) == 0
                second = await new().start()
                await asyncio.sleep(SETTLE + 1)
                counts = sink.counts()
                assert set(counts) == expected([mid], members)
                print(f"\n[pg outage] 8 s after the database came back {left} copies were "
                      f"still leased, unrecorded; after a clean restart: "
                      f"{duplicates(counts)} duplicate(s)\n--- daemon log: {second.log}")
                assert left == 0
                assert duplicates(counts) == 0


# --- 4. disk full under SQLite -----------------------------------------------------------

@contextlib.contextmanager
def small_tmpfs(size_mb: int) -> Iterator[Path]:
    """A tmpfs of its own (we are root), unmounted and removed on the way out."""
    where = Path(tempfile.mkdtemp(prefix="mailbot-full-"))
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs",
                               str(where)], capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        done = subprocess.CompletedProcess([], 1, "", str(exc))
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True, timeout=10,
                          check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=10,
                           check=False)
        shutil.rmtree(where, ignore_errors=True)


def fill(path: Path) -> int:
    """Write `path` until the filesystem is full; return the bytes written."""
    chunk, written = b"\0" * 65536, 0
    with path.open("wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
                written += len(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return written


async def test_disk_full_answers_4xx_and_the_retry_is_delivered_once_space_is_back(
        tmp_path: Path) -> None:
    members = roster(3)
    with small_tmpfs(24) as disk:
        database_url = f"sqlite:///{disk / 'mailbot.db'}"
        async with running(FaultSink()) as sink:
            config, port = seed(tmp_path, database_url, sink.port, members)
            async with daemons(config, port, tmp_path / "serve.log") as new:
                daemon = await new().start()
                code, text = await smtp_send(port, make_message(message_id="<before@x.org>"))
                assert code == 250, text
                await wait_for(lambda: len(sink.received) == len(members), 15,
                               "the first post")
                await wait_all_sent(database_url, 15)

                filler = disk / "filler"
                await asyncio.to_thread(fill, filler)
                big = make_message(message_id="<big@example.com>",
                                   body=textwrap.fill("Compte rendu. " * 150_000) + "\n")
                assert len(big) > 2_000_000  # more than the WAL has room for: it must grow
                code, text = await smtp_send(port, big)
                log = daemon.text()
                print(f"\n[disk full] the client was told: {code} {text}")
                assert 400 <= code < 500, (code, text, log)
                assert "database or disk is full" in log
                assert log.count("could not store a message from marie@example.com") == 1
                await asyncio.sleep(1)
                assert daemon.proc is not None and daemon.proc.returncode is None, log

                filler.unlink()  # space is back: the sender's retry goes through
                assert await post_until_accepted(port, big) == [250]
                want = expected(["<before@x.org>", "<big@example.com>"], members)
                counts = await assert_all_arrive(sink, want, daemon, 15)
                assert duplicates(counts) == 0
                assert daemon.proc.returncode is None
                await wait_all_sent(database_url, 15)
