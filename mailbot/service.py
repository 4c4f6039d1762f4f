"""The composition root: builds everything from the config and runs it, in order.

`serve` starts the listeners, the worker (stored messages → actions) and the sender
(queue → smarthost). Tests and `mailbot inject` use `drain()` instead: a burst that handles
everything stored and delivers everything due, then returns.
"""

import asyncio
import contextlib
import fcntl
import functools
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from mailbot.bounces import tracking as bounces
from mailbot.config import Config
from mailbot.config.addresses import Recipient
from mailbot.core.children import Children, on_wake
from mailbot.core.clock import Clock, SystemClock
from mailbot.core.errors import MailbotError
from mailbot.core.tokens import new_token
from mailbot.digests import delivery as digest_delivery
from mailbot.handling import unsubscribe
from mailbot.handling.ahead import PostsAhead
from mailbot.handling.dispatch import (
    HandledLine,
    HandlingFailed,
    ask_senders,
    log_handled,
    look_ahead,
    process,
    process_quickly,
    write_handled,
)
from mailbot.inbound.imap import ImapReader
from mailbot.inbound.intake import Arrival, arrival_rows, store_arrivals
from mailbot.inbound.smtp import protocol_factory
from mailbot.outbound.compose import Composer
from mailbot.outbound.context import Context
from mailbot.outbound.recorder import Recorder
from mailbot.outbound.sender import Transport, make_transport
from mailbot.outbound.signing import with_signing
from mailbot.outbound.unsubscribe import personalize
from mailbot.pipeline.dmarc import policies_for
from mailbot.storage import daemons, deliveries
from mailbot.storage.arrivals import Arrivals, arrivals_path
from mailbot.storage.db import Database, is_transient
from mailbot.storage.grouping import GroupCommit
from mailbot.storage.intake_pg import PostgresIntake
from mailbot.storage.messages import Messages
from mailbot.storage.moderation import Holds
from mailbot.storage.stores import Stores
from mailbot.timers import due

if TYPE_CHECKING:  # aiohttp is loaded only when [http] is set (about 25 MB less otherwise)
    from mailbot.inbound import web

log = logging.getLogger(__name__)

BATCH = 1000  # deliveries claimed at a time (enough for every connection, even 50 RCPTs each)
# New messages claimed by one statement at first (what a turn does not reach waits). Then
# as many as the last turn that ran to its slice handled, and CLAIM_MARGIN more, within
# CLAIM_LIMITS: a second claim in a turn costs its statement, its authors' read and a
# write more (as much as 7 posts fewer a turn save), a message claimed and not reached
# only its row read (measured in instructions, `bench/worker.py --instructions`).
CLAIM_BATCH = 10
CLAIM_MARGIN = 2
CLAIM_LIMITS = (4, 40)
LOOK_AHEAD = 50  # new messages whose posts' DMARC policies are asked before handling them
# Seconds of handling messages in one transaction, at most (one more). In a worker
# process (`server.workers`) they are the worker thread's own CPU time: waiting for the
# database, or for a core while the listener and the other workers have them, does not
# shorten a turn (on the wall clock a turn held 6 posts on average in a loaded daemon
# instead of 10, each turn paying its claim, its reads and its commit). In the
# one-process daemon they stay on the wall clock: the listener shares the process, and
# its 250s wait for the turn's thread to let go of the interpreter (longer turns put
# p99 up from 61 to 72-97 ms on PostgreSQL). Also in a worker process on SQLite: the
# listener keeps what it receives in `<db>.arrivals`, so only its heartbeat and
# one-click unsubscriptions wait for the end of a turn.
WORKER_SLICE = 0.02
# A worker process's turns on PostgreSQL are longer: each turn's claim, reads, writes and
# commit are shared by twice the posts (14 instead of 7 on this machine: 2.9 % fewer
# instructions a post), and nothing waits on them but the posts' copies (20 ms more at
# most). Not on SQLite: there a turn holds the one writer's lock, and two worker
# processes wait for each other's (the worker's backlog after the intake bench was longer
# in four alternated rounds of four: 2.0-2.4 s against 1.7-2.2 s).
WORKER_PROCESS_SLICE = 0.04
# The thread that reads posts ahead (a worker with a share, on SQLite) runs at a lower CPU
# priority (man 2 setpriority: a thread's own on Linux): while mail pours in, the
# listener's 250s and the other worker's turn at the writer go first.
READ_AHEAD_NICENESS = 10
WORKERS_GONE_TIMEOUT = 60.0  # seconds a new daemon waits for the workers of a dead one
MOVE_BATCH = 200  # received messages moved from `<db>.arrivals` into the database at a time
INTAKE_SETTLE = 10.0  # seconds a stop waits for received messages being committed
WAKE_WORK, WAKE_SEND = b"w", b"s"  # a worker process is told: mail stored, letters queued
IDLE_POLL = 1.0  # seconds between looks at the database when nothing woke us
CAPPED_WAIT = 30.0  # seconds between looks when the sending cap of the hour is reached
RECORD_LINGER = 0.05  # seconds delivery results wait for others to share their commit
TIMER_POLL = 30.0  # at most this long between looks for deadlines (new ones come by posts)


class Service:
    def __init__(self, config: Config, *, clock: Clock | None = None,
                 database: Database | None = None, transport: Transport | None = None,
                 composer: Composer | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.db = database or Database(config.server.database_url)
        self.transport = with_signing(
            transport or make_transport(config.outbound, config.server.hostname), config.lists)
        self.composer = composer or Composer.of(config)
        self._work_ready = asyncio.Event()
        self._send_ready = asyncio.Event()
        self._timers_changed = asyncio.Event()  # a message may open or extend a proposal
        self.instance = new_token()
        self.capped = False  # outbound.max_per_hour reached: the rest waits
        self.running_since: datetime | None = None  # set by serve: what passed before was missed
        self._registered = False
        # with room for several unrecorded transactions per connection, results wait a
        # moment to share a commit; with none (record_batch = 1) every wait is a delay
        self.recorder = Recorder(self._record, linger=(
            RECORD_LINGER if config.outbound.record_batch > 1 else 0.0))
        self.intake: GroupCommit[Arrival] = GroupCommit(self._store)
        # where stored mail and queued letters are announced: this process's loops, or
        # (serve with workers) the worker processes
        self.wake_worker: Callable[[], None] = self._work_ready.set
        self.wake_sender: Callable[[], None] = self._send_ready.set
        self._wake_due = False  # a wake-up of the worker is scheduled (`accept`)
        self.worker_slice = WORKER_SLICE
        self.turn_clock: Callable[[], float] = time.perf_counter  # see WORKER_SLICE
        self.claim_size = CLAIM_BATCH  # see CLAIM_BATCH
        # the messages up to this id are handled each in a savepoint (`process`): one of
        # them failed in a turn without (`process_quickly`), which was rolled back
        self._careful_through = 0
        # SQLite: what `serve` received, not yet in the database (whoever handles
        # messages moves what it finds there: a worker, a daemon restarted, `drain`)
        path = self._sqlite_path()
        self.arrivals: Arrivals | None = None
        self._arrivals_path = arrivals_path(path) if path else None
        self._keep_in_arrivals = False  # set by serve on SQLite
        # PostgreSQL: what `serve` receives is written from the event loop (intake_pg.py)
        self.intake_on_the_loop: PostgresIntake | None = None
        # a worker process on SQLite (`take_share`): its share, its posts read ahead
        self.share: tuple[int, int] | None = None
        self._ahead: PostsAhead | None = None
        self._reader: Database | None = None
        self._reading_thread: ThreadPoolExecutor | None = None
        self._ahead_failing = False  # reading ahead failed last time (said once)

    def take_share(self, number: int, count: int) -> None:
        """The worker process `number` of `count` on SQLite: it claims only the messages
        whose id is `number` modulo `count`, and reads its next posts ahead while another
        holds the one writer (handling/ahead.py)."""
        self.share = (number, count)
        self._ahead = PostsAhead(self.config, self.share)
        self._reader = Database.reading(self.config.server.database_url)
        self._reading_thread = ThreadPoolExecutor(1, "read-ahead", initializer=_nicer)

    # --- intake -------------------------------------------------------------------------
    async def accept(self, raw: bytes, mail_from: str,
                     recipients: Sequence[tuple[str, Recipient]]) -> None:
        """Store a received message durably; returns only once it is committed."""
        await self.intake.submit((raw, mail_from, recipients, self.clock.now()))
        if not self._wake_due:  # the others committed with it wake the worker once
            self._wake_due = True
            asyncio.get_running_loop().call_soon(self._wake_worker_once)

    def _wake_worker_once(self) -> None:
        """One wake-up for the messages of a group commit, not one each: a wake-up is a
        write to each worker process's pipe, and the worker's event loop taking the
        interpreter's lock from its turn to read it."""
        self._wake_due = False
        self.wake_worker()

    async def _store(self, arrivals: list[Arrival]) -> None:
        if self._keep_in_arrivals and self.arrivals is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, self.arrivals.put, arrival_rows(arrivals))
        elif self.intake_on_the_loop is not None:
            await self.intake_on_the_loop.store(arrival_rows(arrivals))
        else:
            await self.db.run(store_arrivals, arrivals)

    def _open_arrivals(self, *, first: bool = False) -> Arrivals | None:
        """`<db>.arrivals`, opened when it exists or `first` (the listener) makes it."""
        path = self._arrivals_path
        if self.arrivals is None and path is not None and (first or os.path.exists(path)):
            self.arrivals = Arrivals(path, first=first)
        return self.arrivals

    async def move_arrivals(self) -> int:
        """Move what a listener kept in `<db>.arrivals` into the database, batch by batch
        (each committed, then deleted there); how many rows."""
        arrivals = self._open_arrivals()
        if arrivals is None:
            return 0
        loop, moved = asyncio.get_running_loop(), 0
        while True:
            last, rows = await loop.run_in_executor(None, arrivals.oldest, MOVE_BATCH)
            if not rows:
                return moved
            await self.db.run(_store_rows, rows)
            await loop.run_in_executor(None, arrivals.forget, last)
            moved += len(rows)

    # --- processing ---------------------------------------------------------------------
    async def process_pending(self) -> int:
        """Handle every stored new message; return how many. The sender is woken after
        each one (what it queued goes out while the next posts are handled, not once the
        worker has caught up with a stream of them)."""
        count = 0
        while True:
            await self.move_arrivals()
            up_to = await self._look_ahead()
            if up_to is None:
                break
            handled = 0
            while True:
                await self._read_ahead(up_to)
                done, queued, drained = await self._turn(up_to)
                handled += done
                if queued:  # deliveries were queued
                    self._send_ready.set()
                if drained:  # no turn more only to find none left
                    break
            if not handled:  # what is left is another daemon's, under way
                break
            count += handled
        if count:
            self._timers_changed.set()
        return count

    async def _read_ahead(self, up_to: int) -> int:
        """A worker with a share: its next posts read, outside the writer's turn."""
        ahead, reader = self._ahead, self._reader
        if ahead is None or reader is None:
            return 0
        try:
            read = await asyncio.get_running_loop().run_in_executor(
                self._reading_thread, reader.peek,
                lambda session: ahead.read(Stores.of(session), up_to))
        except Exception as exc:  # only a head start: the turn reads what it lacks
            # said once while it lasts (it would be said every turn, many a second)
            log.log(logging.DEBUG if self._ahead_failing else logging.WARNING,
                    "worker: reading ahead failed, the turns read the posts: %s: %s",
                    type(exc).__name__, str(exc).strip()[:200])
            self._ahead_failing = True
            return 0
        self._ahead_failing = False
        return read

    async def _turn(self, up_to: int) -> tuple[int, int, bool]:
        """One turn of the worker (`_process_some`); its lines logged once committed. A
        turn where a message failed is rolled back whole, and its messages handled again
        each in a savepoint (the failed one quarantined, see `process`). A turn that met
        a deadlock (PostgreSQL, another transaction in the way) is done again as it was,
        after a pause that grows with each one in a row (at most a second)."""
        in_the_way = 0  # turns met another transaction in the way, one after the other
        while True:
            try:
                handled, queued, lines, drained = await self.db.run(self._process_some, up_to)
            except Exception as exc:
                if not is_transient(exc):
                    if not isinstance(exc, HandlingFailed):
                        raise
                    cause = exc.__cause__
                    log.warning("%s (%s: %s): the turn is handled again, a message at a time",
                                exc, type(cause).__name__, str(cause).strip()[:200])
                    self._careful_through = max(self._careful_through, exc.message_id)
                    continue
                in_the_way += 1
                log.warning("worker: the turn met another transaction in the way (%s); "
                            "it is done again", str(exc.__cause__ or exc).strip()[:200])
                await asyncio.sleep(min(0.01 * in_the_way, 1.0))
                continue
            for line in lines:
                log_handled(*line)
            return handled, queued, drained

    def _process_some(self, session: Session,
                      up_to: int) -> tuple[int, int, list[HandledLine], bool]:
        """New messages handled in one transaction until WORKER_SLICE has passed: one
        commit and one turn at the database for several posts of a stream, claimed
        `claim_size` at a time. On SQLite (one writer) the turn also ends as soon as
        received messages wait to be stored: their 250 comes first. (Messages handled,
        deliveries queued, the lines to log for them, and whether it found no more up to
        `up_to`: a claim came back short, so another would find none, but those another
        daemon held and let go meanwhile, which the next look ahead finds.)"""
        ctx, started, handled = self._context(session), self.turn_clock(), 0
        lines: list[HandledLine] = []
        limit = self.claim_size
        claimed = ctx.stores.messages.claim(up_to, limit, self.share)
        while claimed:
            if self._ahead is not None:
                self._ahead.forget_before(claimed[0].id)
            ask_senders(ctx, claimed)
            for row in claimed:
                if row.id <= self._careful_through:
                    process(ctx, row)
                else:
                    lines.append(process_quickly(ctx, row))
                if self._ahead is not None:
                    self._ahead.posts.pop(row.id, None)
                handled += 1
                sliced = self.turn_clock() - started >= self.worker_slice
                if sliced or (self.db.single_writer and self.intake.pending()):
                    write_handled(ctx, row.id, last=True)
                    if sliced:  # what a turn holds
                        self.claim_size = min(max(handled + CLAIM_MARGIN, CLAIM_LIMITS[0]),
                                              CLAIM_LIMITS[1])
                    return handled, ctx.outbox.queued, lines, False
            following = [] if len(claimed) < limit else ctx.stores.messages.claim(
                up_to, limit, self.share, after=claimed[-1].id)
            write_handled(ctx, claimed[-1].id, last=not following)
            claimed = following
        return handled, ctx.outbox.queued, lines, True

    def _context(self, session: Session) -> Context:
        return Context.open(session, self.config, self.composer, self.clock.now(),
                            self._ahead.posts if self._ahead is not None else None)

    async def _look_ahead(self) -> int | None:
        """The last id of the next batch of new messages (None: none), once the DNS was
        asked for the DMARC policies of their posts' authors, outside any transaction:
        the pipeline then reads the answers from the cache."""
        last, authors = await self.db.run(
            lambda s: look_ahead(Messages(s), Holds(s), LOOK_AHEAD, self.share))
        if authors and any(m.rules.posting.from_rewrite == "auto" for m in self.config.lists):
            policies = policies_for(self.config.dns)  # a thread only for what is not known
            await asyncio.gather(*(asyncio.to_thread(policies.needs_rewrite, a)
                                   for a in sorted(authors) if not policies.answered(a)))
        return last

    # --- delivery -----------------------------------------------------------------------
    async def read_mailbox_once(self) -> int:
        """Burst mode for the hosted mailbox: store what is in its folder now."""
        return await ImapReader(self.config, self.accept).read_once()

    async def deliver_due(self) -> int:
        """Deliver every delivery due now, batch by batch; return how many were tried.
        The next batch is claimed while the last one goes out.

        With `outbound.max_per_hour`, what is over the cap waits in the queue."""
        await self._register()
        tried = 0
        try:
            jobs = await self._claim()
            while jobs:
                sending = asyncio.create_task(self._deliver_and_record(jobs))
                try:
                    following = [] if self.config.outbound.max_per_hour else await self._claim()
                except asyncio.CancelledError:
                    sending.cancel()
                    raise
                except Exception:
                    await sending
                    raise
                await sending
                tried += len(jobs)
                if self.config.outbound.max_per_hour:  # what was sent counts once recorded
                    await self.transport.release()
                jobs = following or await self._claim()
            return tried
        finally:  # connections are kept from batch to batch while there is work
            await self.transport.release()

    async def _claim(self) -> list[deliveries.Job]:
        """The next batch of due deliveries, leased to this daemon (none when capped)."""
        now = self.clock.now()
        room = await self._room_this_hour(now)
        self.capped = room <= 0
        if self.capped:
            return []
        jobs = await self.db.run(deliveries.claim_due, now, min(BATCH, room), self.instance)
        return personalize(self.config, jobs)

    # --- timers -------------------------------------------------------------------------
    async def tick(self) -> int:
        """Settle the proposals whose deadline has come, send due reminders and digests."""
        done: int = await self.db.run(self._tick)  # first: digests show what it settled
        done += await self._send_digests()
        if done:
            self._send_ready.set()
        return done

    def _tick(self, session: Session) -> int:
        daemons.timers_ran(session, self.instance, self.clock.now())
        return due.run_due(self._context(session), self.running_since)

    async def send_digests_now(self, list_name: str | None = None) -> int:
        """Every digest that has something new, as if its time had come (`digest send`)."""
        return await self._send_digests(everything_until=self.clock.now(), list_name=list_name)

    async def _send_digests(self, everything_until: datetime | None = None,
                            list_name: str | None = None) -> int:
        """Due digests, a transaction per round of readers; how many were queued."""
        posts: digest_delivery.Posts = {}  # parsed once for all the rounds

        def round_(session: Session) -> digest_delivery.Round:
            return due.send_digests(self._context(session), posts,
                                    everything_until=everything_until, list_name=list_name)

        queued = 0
        while (done := await self.db.run(round_)).readers:
            queued += done.queued
            await asyncio.sleep(self.db.pause_between_rounds)
        return queued

    async def _seconds_to_next_timer(self) -> float:
        now = self.clock.now()
        moment: datetime | None = await self.db.run(
            lambda s: due.next_due(Stores.of(s), self.config, now))
        if moment is None:
            return TIMER_POLL
        return max(0.05, min((moment - now).total_seconds(), TIMER_POLL))

    async def _room_this_hour(self, now: datetime) -> int:
        cap = self.config.outbound.max_per_hour
        if not cap:
            return BATCH
        sent: int = await self.db.run(deliveries.sent_since, now - timedelta(hours=1))
        return cap - sent

    async def _deliver_and_record(self, jobs: list[deliveries.Job]) -> None:
        """Hand jobs to the transport; each transaction's results are recorded before its
        connection goes on, so a crash resends at most one transaction per connection."""
        await self.transport.deliver(jobs, self.recorder.record)

    async def _record(self, results: list[deliveries.Result]) -> None:
        await self.db.run(self._record_results, results)

    def _record_results(self, session: Session, results: list[deliveries.Result]) -> None:
        """Results, and (in the same transaction) a bounce for each delivery that failed."""
        now = self.clock.now()
        refusals, results = deliveries.take_refusals(session, results, now)
        failed = deliveries.record(session, results, now, self.config.outbound.give_up_after)
        if refusals:
            bounces.on_refused_messages(
                Context.open(session, self.config, self.composer, now), refusals)
        if failed:
            ctx = Context.open(session, self.config, self.composer, now)
            bounces.on_failed_deliveries(ctx, [bounces.FailedDelivery(
                d.id, d.envelope_from, d.rcpt, d.last_error or "") for d in failed])

    async def drain(self) -> None:
        """Burst mode: handle, settle and deliver until nothing is left that is due now."""
        while (await self.process_pending() or await self.tick()
               or await self.deliver_due()):
            pass

    async def _register(self) -> None:
        if not self._registered:
            await self.db.run(daemons.register, self.instance, self.clock.now())
            self._registered = True

    # --- the daemon ---------------------------------------------------------------------
    async def serve(self, stop: asyncio.Event, *, workers: Children | None = None) -> None:
        """The daemon, until `stop`. With `workers` (`server.workers`), this process only
        listens and stores what it receives (SMTP, LMTP, the mailbox, one-click
        unsubscribe) and wakes them; they handle, send and keep the timers."""
        async with self._single_sqlite_daemon(), self._intake_written_on_the_loop():
            await self._start_up(forget=self.db.engine.dialect.name == "sqlite")
            async with self.listening():
                reader_stop = asyncio.Event()
                # SQLite: what arrives is kept in `<db>.arrivals`, not behind a post the
                # worker is handling with the database's one writer
                self._keep_in_arrivals = self._open_arrivals(first=True) is not None
                if workers is None:
                    tasks = self._working_tasks()
                else:
                    self.wake_worker = functools.partial(workers.wake, WAKE_WORK)
                    self.wake_sender = functools.partial(workers.wake, WAKE_SEND)
                    workers.start()
                    tasks = [asyncio.create_task(workers.watch(), name="workers"),
                             asyncio.create_task(self._heartbeat_loop(), name="heartbeat")]
                if self.config.imap is not None:
                    reader = ImapReader(self.config, self.accept)
                    tasks.append(asyncio.create_task(reader.run(reader_stop), name="imap"))
                log.info("mailbot is serving %d list(s)", len(self.config.lists))
                await stop.wait()
                log.info("stopping")
                took = _Phases()
                reader_stop.set()
                await _cancel(tasks)
                took("tasks")
            took("listeners")
            if workers is not None:  # after the listeners: what was stored is theirs
                await workers.stop()
                took("workers")
            await self.db.run(daemons.leave, self.instance)
            took("leaving")
            log.info("stopped the daemon in %s", took)

    async def serve_as_worker(self, stop: asyncio.Event, wake_fd: int) -> None:
        """A worker process of a daemon (`server.workers`): handle what its listener
        stored, send, keep the timers; woken through `wake_fd`, and stopped when the
        listener is gone (the pipe's end) as well as by `stop`."""
        self.turn_clock = time.thread_time  # nothing else waits on this process's turns
        if not self.db.single_writer:
            self.worker_slice = WORKER_PROCESS_SLICE
        path = self._sqlite_path()
        with open(f"{path}.workers-lock", "w") if path else contextlib.nullcontext() as alive:
            if alive is not None:  # held while we run: a new listener waits for our end
                await _flock(alive, fcntl.LOCK_SH, f"another `mailbot serve` uses {path}")
            await self._start_up(forget=False)  # the listener forgot the others before us
            on_wake(wake_fd, {WAKE_WORK: self._work_ready.set,
                              WAKE_SEND: self._send_ready.set}, orphaned=stop.set)
            tasks = self._working_tasks()
            await stop.wait()
            await _cancel(tasks)
            await self.db.run(daemons.leave, self.instance)

    async def _start_up(self, *, forget: bool) -> None:
        self.running_since = self.clock.now()
        await self._register()
        if forget:  # SQLite: we hold the lock, so the others are dead
            await self.db.run(daemons.forget_others, self.instance)
        else:
            await self.db.run(daemons.forget_dead_here, self.instance)

    def _working_tasks(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self._worker_loop(), name="worker"),
                asyncio.create_task(self._sender_loop(), name="sender"),
                asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
                asyncio.create_task(self._timer_loop(), name="timers")]

    @contextlib.asynccontextmanager
    async def _single_sqlite_daemon(self) -> AsyncIterator[None]:
        """One `serve` per SQLite file: a second one would fight over the same leases. The
        worker processes of one that died (kill -9) stop once they see it is gone; we wait
        for them, so that no two processes ever send the same deliveries."""
        path = self._sqlite_path()
        if path is None:
            yield
            return
        with open(f"{path}.serve-lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise MailbotError(f"another `mailbot serve` is already using {path}") from None
            with open(f"{path}.workers-lock", "w") as workers:
                await _flock(workers, fcntl.LOCK_EX, f"the worker processes of an earlier "
                             f"`mailbot serve` on {path} are still running")
            yield

    @contextlib.asynccontextmanager
    async def _intake_written_on_the_loop(self) -> AsyncIterator[None]:
        """PostgreSQL: while serving, received messages are written from the event loop;
        its connection is closed once the last of them is committed."""
        if self.db.engine.dialect.name != "postgresql":
            yield
            return
        self.intake_on_the_loop = PostgresIntake(self.db.engine)
        try:
            yield
        finally:
            with contextlib.suppress(TimeoutError):  # a database that no longer answers
                async with asyncio.timeout(INTAKE_SETTLE):  # not wait_for: see `_wait`
                    await self.intake.settled()
            intake, self.intake_on_the_loop = self.intake_on_the_loop, None
            await intake.close()

    def _sqlite_path(self) -> str | None:
        path = self.db.engine.url.database
        if self.db.engine.dialect.name != "sqlite" or not path or path == ":memory:":
            return None
        return path

    async def _timer_loop(self) -> None:
        """Deadlines and reminders; the first round settles what passed while we were down."""
        while True:
            try:
                done = await self.tick()  # settled up to a batch: more may be due now
                wait = 0.0 if done else await self._seconds_to_next_timer()
            except Exception:
                log.exception("timers: will try again")
                wait = TIMER_POLL
            await _wait(self._timers_changed, wait)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(daemons.HEARTBEAT.total_seconds())
            try:
                await self.db.run(daemons.beat, self.instance, self.clock.now())
                await self.db.run(daemons.forget_dead_here, self.instance)
            except Exception:
                log.exception("heartbeat: will try again")

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[dict[str, int]]:
        """Open the SMTP/LMTP listeners; yields the ports they got ({"smtp": 8025, …})."""
        loop = asyncio.get_running_loop()
        ports: dict[str, int] = {}
        servers = []
        server_cfg = self.config.server
        for where, lmtp in ((server_cfg.listen, False), (server_cfg.lmtp_listen, True)):
            if where is None:
                continue
            factory = protocol_factory(self.config, self.accept, lmtp=lmtp)
            server = await loop.create_server(factory, where.host, where.port)
            servers.append(server)
            ports["lmtp" if lmtp else "smtp"] = server.sockets[0].getsockname()[1]
            log.info("%s listening on %s", "LMTP" if lmtp else "SMTP", where)
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self.config.http is not None:
                    from mailbot.inbound import web

                    ports["http"] = await stack.enter_async_context(
                        web.serving(self._endpoint(), self.config.http.listen))
                yield ports
        finally:
            for server in servers:
                server.close()
            for server in servers:
                await server.wait_closed()

    def _endpoint(self) -> "web.Endpoint":
        """One-click unsubscribe: each request a transaction of its own."""
        from mailbot.inbound import web

        async def answer(action: Callable[[Context, str], unsubscribe.Page],
                         token: str) -> "web.Answer":
            page = await self.db.run(lambda s: action(self._context(s), token))
            self.wake_sender()  # a goodbye may be queued
            return web.Answer(page.status, page.language, page.title, page.text, page.button)

        return web.Endpoint(show=lambda t: answer(unsubscribe.show, t),
                            unsubscribe=lambda t: answer(unsubscribe.one_click, t))

    async def _worker_loop(self) -> None:
        while True:
            try:
                await self.process_pending()
            except Exception:  # the database went away: say so and try again shortly
                log.exception("worker: will try again")
            await _wait(self._work_ready, IDLE_POLL)

    async def _sender_loop(self) -> None:
        while True:
            try:
                await self.deliver_due()
                wait = CAPPED_WAIT if self.capped else await self._seconds_to_next_due()
            except Exception:
                log.exception("sender: will try again")
                wait = IDLE_POLL * 5
            await _wait(self._send_ready, wait)

    async def _seconds_to_next_due(self) -> float:
        due: datetime | None = await self.db.run(deliveries.next_due)
        if due is None:
            return IDLE_POLL * 5
        return max(0.05, min((due - self.clock.now()).total_seconds(), IDLE_POLL * 5))

    def close(self) -> None:
        self.db.close()
        if self._reader is not None:
            self._reader.close()
        if self._reading_thread is not None:
            self._reading_thread.shutdown(wait=True)
        if self.arrivals is not None:
            self.arrivals.close()


def _nicer() -> None:
    """The calling thread at READ_AHEAD_NICENESS (a sandbox that forbids it: unchanged)."""
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread,
                       os.getpriority(os.PRIO_PROCESS, thread) + READ_AHEAD_NICENESS)
    except OSError as exc:
        log.warning("worker: the reading ahead keeps its priority: %s", exc)


def _store_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    Messages(session).store_new(rows)


async def _flock(handle: IO[str], how: int, busy: str) -> None:
    """Take a lock on an open file, waiting up to WORKERS_GONE_TIMEOUT (then `busy`)."""
    deadline = time.monotonic() + WORKERS_GONE_TIMEOUT
    while True:
        try:
            fcntl.flock(handle, how | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise MailbotError(busy) from None
            await asyncio.sleep(0.05)


class _Phases:
    """How long each phase of a stop took, for the log: a slow stop says where it waited."""

    def __init__(self) -> None:
        self.started = self._last = time.monotonic()
        self.took: list[tuple[str, float]] = []

    def __call__(self, phase: str) -> None:
        now = time.monotonic()
        self.took.append((phase, now - self._last))
        self._last = now

    def __str__(self) -> str:
        phases = ", ".join(f"{phase} {seconds:.2f}" for phase, seconds in self.took)
        return f"{self._last - self.started:.2f} s ({phases})"


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Until `event` is set or `timeout` has passed. Not `asyncio.wait_for`: on Python
    3.11 a cancel that comes as the event is set is lost in it (the inner wait is done, so
    it returns its result), and a daemon stopped just as mail arrived never stopped."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()
    event.clear()
