"""The outbound queue against a real SMTP sink: retries, permanent failures, reuse."""

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope
from sqlalchemy import select

from mailbot import service as service_module
from mailbot.config import load_config
from mailbot.config.addresses import resolve
from mailbot.core.clock import FakeClock
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.models import Delivery
from tests.e2e import Driver
from tests.helpers import Sink, add_member, make_message, write_config

MEMBERS = [f"m{i}@example.net" for i in range(20)]


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [(email, "") for email in MEMBERS[:3]]


async def deliveries(service: Service) -> list[Delivery]:
    return list(await service.db.run(
        lambda s: s.scalars(select(Delivery).order_by(Delivery.id)).all()))


async def test_temporary_refusals_are_retried_with_backoff_until_accepted(bot: Driver) -> None:
    bot.sink.refuse_with = "451 4.3.0 Try again later"
    await bot.send(make_message(sender="m0@example.net"), mail_from="m0@example.net")
    assert bot.sink.refusals == 3 and bot.sink.received == []
    rows = await deliveries(bot.service)
    assert {r.status for r in rows} == {"queued"} and {r.attempts for r in rows} == {1}
    assert all("451" in (r.last_error or "") for r in rows)

    bot.clock.advance(timedelta(seconds=30))  # not due yet: nothing is tried
    await bot.service.drain()
    assert bot.sink.refusals == 3

    bot.clock.advance(timedelta(seconds=31))  # one minute after the first failure
    await bot.service.drain()
    assert bot.sink.refusals == 6
    bot.clock.advance(timedelta(minutes=1))  # the second delay is two minutes
    await bot.service.drain()
    assert bot.sink.refusals == 6

    bot.sink.refuse_with = None
    bot.clock.advance(timedelta(minutes=1))
    await bot.service.drain()
    assert sorted(r.rcpt_tos[0] for r in bot.sink.received) == MEMBERS[:3]
    assert {r.status for r in await deliveries(bot.service)} == {"sent"}
    bot.clock.advance(timedelta(hours=2))
    await bot.service.drain()
    assert len(bot.sink.received) == 3  # exactly once


async def test_permanent_refusal_is_recorded_and_not_retried(bot: Driver) -> None:
    bot.sink.refuse_with = "550 5.1.1 No such user"
    await bot.send(make_message(sender="m0@example.net"), mail_from="m0@example.net")
    rows = await deliveries(bot.service)
    assert {r.status for r in rows} == {"failed"}
    assert all((r.last_error or "").startswith("550") for r in rows)
    bot.clock.advance(timedelta(days=1))
    await bot.service.drain()
    assert bot.sink.refusals == 3


async def test_smarthost_down_for_an_hour_loses_nothing(bot: Driver, sink: Sink) -> None:
    port = sink.port
    await sink.stop()
    await bot.send(make_message(sender="m0@example.net"), mail_from="m0@example.net")
    for _ in range(12):  # an hour and more of failed tries, five minutes apart
        bot.clock.advance(timedelta(minutes=6))
        await bot.service.drain()
    rows = await deliveries(bot.service)
    assert {r.status for r in rows} == {"queued"}
    assert all("unreachable" in (r.last_error or "") for r in rows)
    await sink.start(port)
    bot.clock.advance(timedelta(hours=1))
    await bot.service.drain()
    assert sorted(r.rcpt_tos[0] for r in sink.received) == MEMBERS[:3]


async def test_gives_up_after_the_configured_time(bot: Driver) -> None:
    bot.sink.refuse_with = "421 4.7.0 Busy"
    await bot.send(make_message(sender="m0@example.net"), mail_from="m0@example.net")
    for _ in range(6 * 24):  # five days and more, an hour at a time
        bot.clock.advance(timedelta(hours=1))
        await bot.service.drain()
    assert {r.status for r in await deliveries(bot.service)} == {"failed"}


def note_turns(service: Service, monkeypatch: pytest.MonkeyPatch, slice_: float) -> list[int]:
    """Turns of the worker of at most `slice_` seconds; the messages each one handled."""
    monkeypatch.setattr(service, "worker_slice", slice_)
    turns: list[int] = []
    handle_some = service._process_some

    def noting(session: Any, up_to: int) -> tuple[int, int]:
        done = handle_some(session, up_to)
        turns.append(done[0])
        return done

    monkeypatch.setattr(service, "_process_some", noting)
    return turns


async def posts(service: Service, count: int, headers: dict[str, str] | None = None) -> None:
    """`count` posts by m0 stored, as intake stores them."""
    recipient = resolve("sel@example.org", service.config.lists, "-")
    assert recipient is not None
    for number in range(count):
        await service.accept(make_message(sender="m0@example.net", subject=f"Post {number}",
                                          headers=headers), "m0@example.net",
                             [("sel@example.org", recipient)])


async def test_the_sender_is_woken_by_each_turn_of_the_worker_not_once_all_are_handled(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Posts arriving one after another keep the worker busy: what the first queued must
    not wait for the last to be handled. (A turn is one transaction: here one post.)"""
    service, woken = bot.service, list[int]()
    turns = note_turns(service, monkeypatch, 0.0)

    class Noting(asyncio.Event):
        def set(self) -> None:
            woken.append(sum(turns))
            super().set()

    service._send_ready = Noting()
    await posts(service, 3)
    assert await service.process_pending() == 3
    assert woken == [1, 2, 3]
    # an auto-reply is kept and ignored: nothing queued, the sender sleeps on
    await posts(service, 1, headers={"Auto-Submitted": "auto-replied"})
    assert await service.process_pending() == 1
    assert woken == [1, 2, 3]


async def test_a_turn_of_the_worker_handles_several_messages_in_one_transaction(
        bot: Driver, monkeypatch: pytest.MonkeyPatch, members: list[tuple[str, str]]) -> None:
    turns = note_turns(bot.service, monkeypatch, 60.0)
    await posts(bot.service, 4)
    assert await bot.service.process_pending() == 4
    assert turns == [4]  # its claim came back short: no turn more to find none left
    assert len(await deliveries(bot.service)) == 4 * len(members)


async def test_a_worker_process_measures_its_turns_in_its_own_cpu_time_not_in_waiting(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine (the database, the listener, other workers) makes each message
    take longer on the wall clock, not in a worker process's own CPU time: its turns stay
    as long in work, and their claims, reads and commits are not paid more often."""
    read, write = os.pipe()
    stop = asyncio.Event()
    stop.set()  # started, then stopped at once: what it set up stays
    try:
        await bot.service.serve_as_worker(stop, read)
    finally:
        asyncio.get_running_loop().remove_reader(read)  # before its number is reused
        os.close(read)
        os.close(write)
    assert bot.service.turn_clock is time.thread_time
    assert bot.service.worker_slice == (  # longer turns, but not as SQLite's one writer
        service_module.WORKER_SLICE if bot.service.db.single_writer
        else service_module.WORKER_PROCESS_SLICE)
    turns = note_turns(bot.service, monkeypatch, 1.0)
    handle = service_module.process_quickly

    def waiting(ctx: Any, row: Any) -> Any:
        time.sleep(0.4)  # the CPU taken by someone else: wall time, none of ours
        return handle(ctx, row)

    monkeypatch.setattr(service_module, "process_quickly", waiting)
    await posts(bot.service, 4)
    assert await bot.service.process_pending() == 4
    assert turns[0] == 4, turns  # on the wall clock: 3 then 1 (1.2 s past 1.0)


async def test_the_one_process_daemon_measures_its_turns_on_the_wall_clock(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The listener shares the process: a turn lets it have the interpreter again after
    its slice on the wall clock, however little of it was the worker's own CPU."""
    assert bot.service.turn_clock is time.perf_counter
    assert bot.service.worker_slice == service_module.WORKER_SLICE
    turns = note_turns(bot.service, monkeypatch, 1.0)
    handle = service_module.process_quickly

    def waiting(ctx: Any, row: Any) -> Any:
        time.sleep(0.4)
        return handle(ctx, row)

    monkeypatch.setattr(service_module, "process_quickly", waiting)
    await posts(bot.service, 4)
    assert await bot.service.process_pending() == 4
    assert turns[:2] == [3, 1], turns


async def test_on_sqlite_a_turn_of_the_worker_ends_when_received_mail_waits_to_be_stored(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite has one writer: the intake's commit (and its 250) goes before the next post
    is handled. PostgreSQL writes both at once: the turn goes on."""
    turns = note_turns(bot.service, monkeypatch, 60.0)
    await posts(bot.service, 3)
    monkeypatch.setattr(bot.service.intake, "pending", lambda: True)
    assert await bot.service.process_pending() == 3
    one_writer = bot.service.db.single_writer
    assert turns[:3] == ([1, 1, 1] if one_writer else [3]), turns


async def test_connections_are_reused_and_bounded(bot: Driver) -> None:
    for email in MEMBERS[3:]:
        await bot.add(email)
    await bot.send(make_message(sender="m0@example.net"), mail_from="m0@example.net")
    assert len(bot.sink.received) == 20
    assert 1 <= bot.sink.connections <= 4  # outbound.max_connections = 4


class QuittingSink(Sink):
    """Says 421 to the third MAIL on a connection, as Exim does past its own limit."""

    async def handle_MAIL(self, server: Any, session: Any, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        session.transactions = getattr(session, "transactions", 0) + 1
        if session.transactions > 2:
            self.refusals += 1
            return "421 4.7.0 Too many messages for this connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"

    quits: int = 0


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
async def test_connections_are_kept_from_batch_to_batch_then_closed(
        tmp_path: Path, database_url: str, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch, pipelining: bool) -> None:
    from mailbot import service

    sink = QuittingSink(pipelining=pipelining)
    await sink.start()
    sender = Service(load_config(write_config(tmp_path, database_url, sink_port=sink.port)),
                     clock=clock)
    try:
        db.upgrade(sender.db.engine)
        for email in MEMBERS:
            await sender.db.run(add_member, "sel", email, "", clock.now())
        recipient = resolve("sel@example.org", sender.config.lists, "-")
        assert recipient is not None
        await sender.accept(make_message(sender="m0@example.net"), "m0@example.net",
                            [("sel@example.org", recipient)])
        await sender.process_pending()
        monkeypatch.setattr(service, "BATCH", 4)  # five claims of four for 20 deliveries
        assert await sender.deliver_due() == 20
        assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(MEMBERS)
        assert {r.status for r in await deliveries(sender)} == {"sent"}  # none to retry
        # a new connection per claim would make 5 x 4: here each one carries two
        # transactions, is told 421 at the third and replaced at once, or ends with QUIT
        # once the sender has no more work
        assert sink.connections <= 12, (sink.connections, sink.refusals, sink.quits)
        assert sink.connections == sink.refusals + sink.quits and sink.quits == 4
    finally:
        sender.close()
        await sink.stop()


async def test_a_dead_daemons_leases_are_taken_over(bot: Driver) -> None:
    from mailbot.storage import daemons, deliveries

    bot.sink.refuse_with = "451 later"  # keep the deliveries queued
    await bot.send(make_message(sender="m0@example.net"), mail_from="m0@example.net")
    db = bot.service.db
    bot.clock.advance(timedelta(minutes=2))
    now = bot.clock.now()
    await db.run(daemons.register, "crashed", now)
    await db.run(daemons.register, "alive", now)
    assert len(await db.run(deliveries.claim_due, now, 10, "crashed")) == 3
    assert await db.run(deliveries.claim_due, now, 10, "alive") == []  # the owner still beats

    bot.clock.advance(daemons.STALE + timedelta(seconds=1))
    later = bot.clock.now()
    await db.run(daemons.beat, "alive", later)  # "crashed" never beats again
    assert len(await db.run(deliveries.claim_due, later, 10, "alive")) == 3

    await db.run(daemons.leave, "alive")  # a clean stop hands its leases back at once
    await db.run(daemons.register, "next", later)
    assert len(await db.run(deliveries.claim_due, later, 10, "next")) == 3



async def test_the_hourly_cap_holds_the_rest_in_the_queue(
        tmp_path: Path, database_url: str, sink: Sink, clock: FakeClock) -> None:
    path = write_config(tmp_path, database_url, sink_port=sink.port)
    path.write_text(path.read_text().replace("max_connections = 4",
                                             "max_connections = 4\nmax_per_hour = 2"))
    capped = Service(load_config(path), clock=clock)
    try:
        db.upgrade(capped.db.engine)
        for email in MEMBERS[:3]:
            await capped.db.run(add_member, "sel", email, "", clock.now())
        recipient = resolve("sel@example.org", capped.config.lists, "-")
        assert recipient is not None
        raw = make_message(sender="m0@example.net")
        await capped.accept(raw, "m0@example.net", [("sel@example.org", recipient)])
        await capped.process_pending()
        assert await capped.deliver_due() == 2
        assert len(sink.received) == 2 and capped.capped
        assert await capped.deliver_due() == 0  # the third waits for the next hour
        clock.advance(timedelta(minutes=61))
        assert await capped.deliver_due() == 1
        assert len(sink.received) == 3
    finally:
        capped.close()


def test_a_round_of_results_is_recorded_each_as_it_went(database_url: str) -> None:
    """Sent ones in one statement, failures one by one: each row ends as its result says,
    with its lease released and its attempt counted."""
    from datetime import UTC, datetime

    from mailbot.storage import deliveries

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    database = db.Database(database_url)
    try:
        db.upgrade(database.engine)
        rcpts = ["sent@x.org", "again@x.org", "later@x.org", "gone@x.org"]
        database.transaction(lambda s: deliveries.enqueue(
            s, list_name="sel", purpose="post", raw=b"Subject: x\r\n\r\nx\r\n",
            recipients=[(r, "sel-bounces@example.org") for r in rcpts], now=now))
        jobs = database.transaction(deliveries.claim_due, now, 10, "me")
        ids = {job.rcpt: job.delivery_id for job in jobs}
        database.transaction(deliveries.record, [deliveries.Result(ids["again@x.org"], False,
                                                         error="451 busy")],
                             now, timedelta(days=5))  # it failed once before
        # a daemon that came after "me" (never alive) takes them over once due
        jobs = database.transaction(deliveries.claim_due, now + timedelta(minutes=1), 10,
                                    "after-me")
        assert {job.rcpt for job in jobs} == set(rcpts)
        results = [deliveries.Result(ids["sent@x.org"], True),
                   deliveries.Result(ids["again@x.org"], True),
                   deliveries.Result(ids["later@x.org"], False, error="452 full"),
                   deliveries.Result(ids["gone@x.org"], False, permanent=True, error="550 no")]
        later = now + timedelta(minutes=1)
        failed = database.transaction(deliveries.record, results, later, timedelta(days=5))
        assert [row.rcpt for row in failed] == ["gone@x.org"]
        rows = {row.rcpt: row for row in database.transaction(
            lambda s: s.scalars(select(Delivery)).all())}
        assert {r: (row.status, row.attempts, row.last_error) for r, row in rows.items()} == {
            "sent@x.org": ("sent", 1, None), "again@x.org": ("sent", 2, None),
            "later@x.org": ("queued", 1, "452 full"), "gone@x.org": ("failed", 1, "550 no")}
        assert rows["sent@x.org"].done_at == later == rows["again@x.org"].done_at
        assert rows["later@x.org"].next_attempt_at == later + timedelta(minutes=1)
        assert all(row.lease_owner is None and row.lease_until is None
                   for row in rows.values())
    finally:
        database.close()


def test_a_claim_leases_its_deliveries_to_its_daemon_only(database_url: str) -> None:
    from datetime import UTC, datetime

    from mailbot.storage import daemons, deliveries

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    database = db.Database(database_url)
    try:
        db.upgrade(database.engine)
        for name in ("first", "second"):
            database.transaction(daemons.register, name, now)
        database.transaction(lambda s: deliveries.enqueue(
            s, list_name="sel", purpose="post", raw=b"Subject: x\r\n\r\nx\r\n",
            recipients=[(f"m{i}@x.org", "sel-bounces@example.org") for i in range(5)],
            now=now))
        first = database.transaction(deliveries.claim_due, now, 3, "first")
        assert [job.rcpt for job in first] == ["m0@x.org", "m1@x.org", "m2@x.org"]
        assert {job.raw for job in first} == {b"Subject: x\r\n\r\nx\r\n"}
        second = database.transaction(deliveries.claim_due, now, 10, "second")
        assert [job.rcpt for job in second] == ["m3@x.org", "m4@x.org"]  # not the leased
        assert database.transaction(deliveries.claim_due, now, 10, "second") == []
        rows = database.transaction(lambda s: s.scalars(select(Delivery)).all())
        assert {(row.rcpt, row.lease_owner, row.lease_until) for row in rows} == {
            (f"m{i}@x.org", "first" if i < 3 else "second", now + deliveries.LEASE)
            for i in range(5)}
        later = now + deliveries.LEASE + timedelta(seconds=1)  # an expired lease is free again
        database.transaction(daemons.beat, "second", later)
        again = database.transaction(deliveries.claim_due, later, 10, "second")
        assert len(again) == 5
    finally:
        database.close()


def test_a_daemon_never_claims_back_its_own_leases(database_url: str) -> None:
    """The sender claims its next batch while the last one goes out: the deliveries it
    holds are not handed to it twice, even when its heartbeat looks old; another daemon
    takes them over once their owner looks dead."""
    from datetime import UTC, datetime

    from mailbot.storage import deliveries

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    database = db.Database(database_url)
    try:
        db.upgrade(database.engine)
        database.transaction(lambda s: deliveries.enqueue(
            s, list_name="sel", purpose="post", raw=b"Subject: x\r\n\r\nx\r\n",
            recipients=[(r, "sel-bounces@example.org") for r in ("a@x.org", "b@x.org")],
            now=now))
        first = database.transaction(deliveries.claim_due, now, 10, "me")
        assert len(first) == 2
        assert database.transaction(deliveries.claim_due, now, 10, "me") == []
        taken = database.transaction(deliveries.claim_due, now, 10, "someone-else")
        assert {job.delivery_id for job in taken} == {job.delivery_id for job in first}
    finally:
        database.close()


def test_a_large_fan_out_is_queued_whole_with_each_recipients_envelope(
        database_url: str) -> None:
    """2,500 deliveries (three chunks; arrays on PostgreSQL, rows on SQLite): each one
    queued once, with its own envelope sender, due now, never tried."""
    from datetime import UTC, datetime

    from mailbot.storage import deliveries

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    pairs = [(f"m{i}@x.org", f"sel-bounces+{i}@example.org") for i in range(2500)]
    database = db.Database(database_url)
    try:
        db.upgrade(database.engine)
        message_id = database.transaction(lambda s: deliveries.enqueue(
            s, list_name="sel", purpose="post", raw=b"Subject: x\r\n\r\nx\r\n",
            recipients=iter(pairs), now=now, inbound_id=None))
        rows = database.transaction(lambda s: [
            (r.outbound_id, r.rcpt, r.envelope_from, r.status, r.attempts, r.created_at,
             r.next_attempt_at, r.lease_owner) for r in s.scalars(select(Delivery))])
        assert sorted(rows) == sorted(
            (message_id, rcpt, sender, "queued", 0, now, now, None) for rcpt, sender in pairs)
        jobs = database.transaction(deliveries.claim_due, now, 3000, "me")
        assert len(jobs) == 2500 and {j.raw for j in jobs} == {b"Subject: x\r\n\r\nx\r\n"}
    finally:
        database.close()
