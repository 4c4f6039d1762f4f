"""The real `mailbot serve` as a separate process: crashes, SIGTERM, the example config.

Every test here starts the daemon with `python -m mailbot.cli`, talks to it over real SMTP
and watches what reaches a real SMTP sink (or the Maildir). Every wait is bounded and every
process is killed when the test ends, whatever happened.
"""

import asyncio
import contextlib
import os
import re
import signal
import smtplib
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import select

from mailbot.storage import db
from mailbot.storage.arrivals import Arrivals, arrivals_path
from mailbot.storage.models import InboundMessage
from tests.helpers import (
    ROOT,
    Sink,
    add_member,
    free_port,
    make_message,
    smtp_send,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.slow

MEMBERS = [("marie@example.com", "Marie"), ("bob@example.net", "Bob"),
           ("chloe@example.fr", "Chloé")]
READY_TIMEOUT = 15.0
DELIVERY_TIMEOUT = 15.0
SETTLE = 1.5  # how long to keep watching for a duplicate once everything has arrived
WHERE = "where this process is (SIGUSR1)"


def cli_env() -> dict[str, str]:
    """The environment for `python -m mailbot.cli`: this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


async def mailbot(config: Path, *args: str, timeout: float = 30) -> tuple[int, str, str]:
    """Run one `mailbot -c CONFIG ARGS…` to completion: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mailbot.cli", "-c", str(config), *args, env=cli_env(),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def ok(config: Path, *args: str) -> str:
    code, out, err = await mailbot(config, *args)
    assert code == 0, f"mailbot {' '.join(args)} exited {code}: {err}"
    return out


class Daemon:
    """One `mailbot serve` process, its log in a file (a pipe nobody reads could fill up)."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.port, self.log = config, port, log
        self.proc: asyncio.subprocess.Process | None = None
        self._listened = 0

    async def start(self) -> "Daemon":
        self._listened = self.text().count(self._listening)  # the daemons before, one log
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "mailbot.cli", "-c", str(self.config), "serve",
                env=cli_env(), stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=asyncio.subprocess.STDOUT)
        await self._wait_ready()
        return self

    @property
    def _listening(self) -> str:
        return f" listening on 127.0.0.1:{self.port}"

    async def _wait_ready(self) -> None:
        """Poll a TCP connect to the daemon's port (bounded), once the daemon said it
        listens there: a port found free may be taken by another test's server meanwhile
        (tests run in parallel), and a connect alone would then be answered by it."""
        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                pytest.fail(f"mailbot serve exited {self.proc.returncode}:\n{self.text()}")
            if self.text().count(self._listening) <= self._listened:
                await asyncio.sleep(0.05)
                continue
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.port), 1)
            except (OSError, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        pytest.fail(f"mailbot serve not listening on {self.port} after {READY_TIMEOUT}s:\n"
                    f"{self.text()}")

    def signal(self, signum: int) -> None:
        assert self.proc is not None and self.proc.returncode is None
        self.proc.send_signal(signum)

    async def wait(self, timeout: float) -> int:
        """Its exit code; one still running `timeout` seconds later is asked where it
        waits (SIGUSR1), and the test fails with its log."""
        assert self.proc is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self.proc.wait()), timeout)
        except TimeoutError:
            if self.proc.returncode is None:
                await self.tell_where()
            pytest.fail(f"mailbot serve still running {timeout}s later (exit code now "
                        f"{self.proc.returncode}); its log, with where each task and thread "
                        f"waits:\n{self.text()}")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def tell_where(self, timeout: float = 3.0) -> None:
        """SIGUSR1: the daemon writes where each of its tasks and threads is to its log."""
        told = self.text().count(WHERE)
        self.signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while self.text().count(WHERE) == told and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float,
                         what: str) -> None:
        """`wait_for`, but a daemon that never gets there is asked where it is first, and
        its log (with that) is in the failure."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                if self.proc is not None and self.proc.returncode is None:
                    await self.tell_where()
                pytest.fail(f"timed out after {timeout}s waiting for {what}; the daemon's "
                            f"log:\n{self.text()}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def daemons(config: Path, port: int, log: Path) -> AsyncIterator[Callable[[], Daemon]]:
    """Hands out daemons on one config (one log); kills whatever still runs at the end."""
    started: list[Daemon] = []

    def new() -> Daemon:
        daemon = Daemon(config, port, log)
        started.append(daemon)
        return daemon

    try:
        yield new
    finally:
        for daemon in started:
            await daemon.kill()


async def post(port: int, raw: bytes, *, on_250: Callable[[], None] | None = None,
               rcpt: str = "sel@example.org") -> tuple[int, str]:
    """One SMTP transaction; `on_250` runs the instant the final reply is read, before QUIT."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False)
    await client.connect()
    try:
        _, response = await client.sendmail("marie@example.com", [rcpt], raw)
    except aiosmtplib.SMTPResponseException as exc:
        client.close()
        return exc.code, exc.message
    # sendmail returns only once the server said 250 to DATA: the message is accepted
    if on_250 is not None:
        on_250()
    try:
        return 250, response
    finally:
        client.close()


def pairs(sink: Sink) -> list[tuple[str, str]]:
    """(Message-ID, envelope recipient) of everything the sink got, one per recipient."""
    return sorted((str(r.message["Message-ID"]), rcpt) for r in sink.received
                  for rcpt in r.rcpt_tos)


def expected(message_ids: list[str]) -> list[tuple[str, str]]:
    return sorted((mid, email) for mid in message_ids for email, _ in MEMBERS)


async def assert_delivered_once(sink: Sink, message_ids: list[str], log: Daemon, *,
                                timeout: float = DELIVERY_TIMEOUT) -> None:
    """Every member got each message: wait (bounded) for all, then watch for duplicates."""
    want = expected(message_ids)
    deadline = time.monotonic() + timeout
    while len(pairs(sink)) < len(want):
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout}s the sink has {pairs(sink)}, want {want}"
                        f"\n--- daemon log:\n{log.text()}")
        await asyncio.sleep(0.05)
    await asyncio.sleep(SETTLE)  # a duplicate would show up now
    assert pairs(sink) == want


async def cli_list(tmp_path: Path, database_url: str, sink: Sink) -> tuple[Path, int]:
    """A list with three members, set up with the real `db upgrade` and `members add`."""
    port = free_port()
    config = write_config(tmp_path, database_url, sink_port=sink.port,
                          listen=f"127.0.0.1:{port}")
    await ok(config, "db", "upgrade")
    outputs = await asyncio.gather(*(ok(config, "members", "add", "--list", "sel", email, name)
                                     for email, name in MEMBERS))
    assert [out.strip() for out in outputs] == [f"{email}: added" for email, _ in MEMBERS]
    return config, port


def seeded_list(tmp_path: Path, database_url: str, sink_port: int, *, rules: str = "",
                seed: bool = True) -> tuple[Path, int]:
    """The same list, seeded in-process: each `mailbot` start costs over a second.
    `seed=False` writes only the config (a second daemon on an already seeded database)."""
    port = free_port()
    config = write_config(tmp_path, database_url, sink_port=sink_port,
                          listen=f"127.0.0.1:{port}", rules=rules)
    if seed:
        database = db.Database(database_url)
        try:
            db.upgrade(database.engine)
            for email, name in MEMBERS:
                database.transaction(add_member, "sel", email, name, datetime.now(UTC))
        finally:
            database.close()
    return config, port


def stored_count(database_url: str) -> int:
    """Messages stored: in the database, or (SQLite) still in `<db>.arrivals`. The file
    is read first: a row leaves it only once committed in the database."""
    database = db.Database(database_url)
    path = database.engine.url.database
    kept: set[tuple[str, str]] = set()
    if database.single_writer and path and os.path.exists(arrivals_path(path)):
        arrivals = Arrivals(arrivals_path(path))
        try:
            kept = {(r["rcpt"], r["message_key"]) for r in arrivals.oldest(10_000)[1]}
        finally:
            arrivals.close()
    try:
        stored = database.transaction(lambda s: {(rcpt, key) for rcpt, key in s.execute(
            select(InboundMessage.rcpt, InboundMessage.message_key))})
    finally:
        database.close()
    return len(kept | stored)


class GateSink(Sink):
    """A smarthost that keeps chosen deliveries waiting at DATA until `release` is set; a
    conversation the client hangs up on meanwhile records nothing (it was not delivered)."""

    def __init__(self, hold: Callable[[list[str]], bool] = lambda rcpts: True) -> None:
        super().__init__()
        self.hold, self.release, self.waiting = hold, asyncio.Event(), 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold(list(envelope.rcpt_tos)) and not self.release.is_set():
            self.waiting += 1
            try:
                await self.release.wait()
            finally:
                self.waiting -= 1
        return await super().handle_DATA(server, session, envelope)


@contextlib.asynccontextmanager
async def serving(sink: GateSink) -> AsyncIterator[GateSink]:
    await sink.start()
    try:
        yield sink
    finally:
        sink.release.set()  # hung-up conversations are cancelled; nothing else may wait
        await sink.stop()



def sent_to(database_url: str, rcpt: str) -> bool:
    from mailbot.storage.models import Delivery

    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            status = conn.execute(select(Delivery.status).where(Delivery.rcpt == rcpt)).scalar()
        return status == "sent"
    finally:
        engine.dispose()


# --- 1. kill -9 right after 250 --------------------------------------------------------

async def test_kill_9_right_after_250_then_restart_delivers_exactly_once(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = await cli_list(tmp_path, database_url, sink)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        first = await new().start()
        mid = "<crash-1@example.com>"
        code, text = await post(port, make_message(message_id=mid),
                                on_250=lambda: first.signal(signal.SIGKILL))
        assert code == 250, text
        assert await first.wait(5) == -signal.SIGKILL

        second = await new().start()
        await assert_delivered_once(sink, [mid], second)


async def test_kill_9_after_five_posts_with_deliveries_in_flight_delivers_each_once(
        tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> None:
    """Five posts in a row, the first one's deliveries still talking to the smarthost (held
    at DATA), kill -9 after the last 250: a restart delivers the 5 × 3 copies, once each."""
    async with serving(GateSink()) as gate:
        config, port = seeded_list(tmp_path, database_url, gate.port)
        async with daemons(config, port, tmp_path / "serve.log") as new:
            first = await new().start()
            mids = [f"<burst-{i}@example.com>" for i in range(5)]
            for i, mid in enumerate(mids[:-1]):
                code, text = await smtp_send(port, make_message(message_id=mid,
                                                                subject=f"Annonce {i}"))
                assert code == 250, text
            await first.wait_until(lambda: gate.waiting > 0, DELIVERY_TIMEOUT,
                                   "a delivery at DATA")
            code, text = await post(port, make_message(message_id=mids[-1],
                                                       subject="Annonce 4"),
                                    on_250=lambda: first.signal(signal.SIGKILL))
            assert code == 250, text
            assert await first.wait(5) == -signal.SIGKILL
            assert gate.received == []

            gate.release.set()
            second = await new().start()
            await assert_delivered_once(gate, mids, second, timeout=8)


async def test_kill_9_mid_batch_does_not_resend_what_the_smarthost_accepted(
        tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> None:
    # Marie's copy is accepted at once; Bob's and Chloé's wait at DATA when the kill comes.
    async with serving(GateSink(hold=lambda rcpts: "marie@example.com" not in rcpts)) as gate:
        config, port = seeded_list(tmp_path, database_url, gate.port)
        async with daemons(config, port, tmp_path / "serve.log") as new:
            first = await new().start()
            mid = "<mid-batch@example.com>"
            code, text = await smtp_send(port, make_message(message_id=mid))
            assert code == 250, text
            await first.wait_until(lambda: len(gate.received) == 1 and gate.waiting == 2,
                                   DELIVERY_TIMEOUT, "one copy accepted, two at DATA")
            # SMTP cannot close the instant between the smarthost's 250 and our record of
            # it; what must hold is that the accepted copy is recorded while the rest of
            # the batch is still in flight, so the kill that follows resends only the rest.
            await wait_for(lambda: sent_to(database_url, "marie@example.com"),
                           DELIVERY_TIMEOUT, "Marie's copy recorded as sent mid-batch")
            first.signal(signal.SIGKILL)
            assert await first.wait(5) == -signal.SIGKILL

            gate.release.set()
            second = await new().start()
            await assert_delivered_once(gate, [mid], second, timeout=8)


# --- 2. SIGTERM --------------------------------------------------------------------------

async def test_sigterm_stops_serve_cleanly_and_loses_nothing(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = seeded_list(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        first = await new().start()
        mid = "<term-1@example.com>"
        code, text = await post(port, make_message(message_id=mid),
                                on_250=lambda: first.signal(signal.SIGTERM))
        assert code == 250, text
        # the worker is woken for this message as the stop begins (see tests/test_waits.py)
        assert await first.wait(5) == 0, first.text()
        assert "Traceback" not in first.text()
        with pytest.raises(OSError):  # the listener is closed
            socket.create_connection(("127.0.0.1", port), timeout=1).close()

        second = await new().start()  # whatever was not delivered yet goes out now
        await assert_delivered_once(sink, [mid], second)


async def test_sigterm_on_an_idle_daemon_exits_0_quickly(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = seeded_list(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        daemon = await new().start()
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait(5) == 0, daemon.text()
        assert time.monotonic() - started < 3
        assert "stopping" in daemon.text()
        # how long each phase of the stop took: a slow one says where it waited
        assert re.search(r"stopped the daemon in [\d.]+ s \(tasks [\d.]+, listeners [\d.]+, "
                         r"leaving [\d.]+\)", daemon.text()), daemon.text()
        assert "Traceback" not in daemon.text()


def smtp_timeout(config: Path, seconds: int) -> None:
    text = config.read_text()
    assert "timeout = 10\n" in text
    config.write_text(text.replace("timeout = 10\n", f"timeout = {seconds}\n"))


async def test_sigterm_during_a_delivery_hands_it_to_the_next_daemon_at_once(
        tmp_path: Path, database_url: str) -> None:
    async with serving(GateSink()) as gate:
        config, port = seeded_list(tmp_path, database_url, gate.port)
        async with daemons(config, port, tmp_path / "serve.log") as new:
            first = await new().start()
            mid = "<term-busy@example.com>"
            code, text = await smtp_send(port, make_message(message_id=mid))
            assert code == 250, text
            await first.wait_until(lambda: gate.waiting == len(MEMBERS), DELIVERY_TIMEOUT,
                                   "the deliveries to be waiting at DATA")
            first.signal(signal.SIGTERM)  # not waiting for the smarthost's answers (10 s)
            assert await first.wait(5) == 0, first.text()
            assert gate.received == []  # nothing was delivered: the conversations were cut

            gate.release.set()
            second = await new().start()
            # the leases were handed back: no waiting for them to run out
            await assert_delivered_once(gate, [mid], second, timeout=8)


async def test_sigterm_during_a_delivery_exits_within_seconds(
        tmp_path: Path, database_url: str) -> None:
    async with serving(GateSink()) as gate:
        config, port = seeded_list(tmp_path, database_url, gate.port)
        smtp_timeout(config, 30)
        async with daemons(config, port, tmp_path / "serve.log") as new:
            daemon = await new().start()
            code, text = await smtp_send(port, make_message(message_id="<term-slow@x.org>"))
            assert code == 250, text
            await daemon.wait_until(lambda: gate.waiting > 0, DELIVERY_TIMEOUT,
                                    "a delivery at DATA")
            daemon.signal(signal.SIGTERM)
            assert await daemon.wait(5) == 0, daemon.text()


async def test_sigusr1_writes_where_each_task_and_thread_waits_and_the_daemon_goes_on(
        tmp_path: Path, database_url: str) -> None:
    """For a daemon that seems stuck: `kill -USR1` puts what each task is waiting for in
    its log (the worker, by the coroutines it is in), and changes nothing else."""
    async with serving(GateSink()) as gate:
        config, port = seeded_list(tmp_path, database_url, gate.port)
        async with daemons(config, port, tmp_path / "serve.log") as new:
            daemon = await new().start()
            code, text = await smtp_send(port, make_message(message_id="<where@x.org>"))
            assert code == 250, text
            await daemon.wait_until(lambda: gate.waiting == len(MEMBERS), DELIVERY_TIMEOUT,
                                    "the deliveries to be waiting at DATA")
            await daemon.tell_where()
            told = daemon.text().split(WHERE, 1)[1]
            for seen in ("- task worker", "in _worker_loop", "- task sender",
                         "in deliver_due", "- thread MainThread", "    on <Future pending"):
                assert seen in told, f"{seen!r} not in:\n{told}"
            gate.release.set()  # and it goes on: the copies held at DATA are delivered
            await daemon.wait_until(lambda: len(gate.received) == len(MEMBERS),
                                    DELIVERY_TIMEOUT, "the copies")
            daemon.signal(signal.SIGTERM)
            assert await daemon.wait(15) == 0, daemon.text()


# --- 3. the repository's own example config ---------------------------------------------

async def test_serve_with_the_example_config_writes_the_post_to_the_maildir(
        tmp_path: Path) -> None:
    port = free_port()
    text = (ROOT / "config.example.toml").read_text()
    assert text.count('listen = "127.0.0.1:8025"') == 1
    config = tmp_path / "config.toml"
    config.write_text(text.replace('listen = "127.0.0.1:8025"', f'listen = "127.0.0.1:{port}"'))
    (tmp_path / "rules").mkdir()
    for rules in (ROOT / "rules").glob("*.toml"):
        (tmp_path / "rules" / rules.name).write_bytes(rules.read_bytes())

    await ok(config, "db", "upgrade")
    assert (tmp_path / "var" / "mailbot.db").exists()  # relative to the config, not the cwd
    await ok(config, "members", "add", "--list", "sel", "marie@example.com", "Marie")

    outbox = tmp_path / "var" / "outbox" / "new"
    async with daemons(config, port, tmp_path / "serve.log") as new:
        daemon = await new().start()
        raw = make_message(subject="Bourse aux plants samedi", message_id="<ex-1@example.com>")

        def send() -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.sendmail("marie@example.com", ["sel@example.org"], raw)

        await asyncio.to_thread(send)
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while not (outbox.is_dir() and any(outbox.iterdir())):
            if time.monotonic() > deadline:
                pytest.fail(f"nothing in {outbox}\n--- daemon log:\n{daemon.text()}")
            await asyncio.sleep(0.05)
        files = list(outbox.iterdir())
        assert len(files) == 1
        copy = message_from_bytes(files[0].read_bytes(), policy=policy.default)
        assert copy["Subject"] == "[sel] Bourse aux plants samedi"
        assert copy["Delivered-To"] == "marie@example.com"
        assert copy["List-Id"] == "SEL de Saint-Martin <sel.example.org>"


# --- 4. unknown recipients --------------------------------------------------------------

async def test_unknown_recipient_refused_at_rcpt_with_550_and_nothing_stored(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = seeded_list(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        await new().start()

        def send(rcpt: str, mid: str) -> None:
            raw = make_message(to=rcpt, message_id=mid)
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.sendmail("marie@example.com", [rcpt], raw)

        unknown = ["nobody@example.org", "sel-nosuch@example.org", "sel-confirm@example.org",
                   "sel@elsewhere.example", "victim@gmail.com"]
        for i, rcpt in enumerate(unknown):
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                await asyncio.to_thread(send, rcpt, f"<unknown-{i}@example.com>")
            code, _ = refused.value.recipients[rcpt]
            assert code == 550, refused.value.recipients

        assert await asyncio.to_thread(stored_count, database_url) == 0
        # the count is a real one: a message for the list is stored, and goes out
        await asyncio.to_thread(send, "sel@example.org", "<known@example.com>")
        assert await asyncio.to_thread(stored_count, database_url) == 1
        await wait_for(lambda: len(sink.received) >= len(MEMBERS), DELIVERY_TIMEOUT,
                       "the list post")
        assert {str(r.message["Message-ID"]) for r in sink.received} == {"<known@example.com>"}
