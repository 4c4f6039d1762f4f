"""`server.workers`: the real `mailbot serve` listens in one process and handles, sends
and keeps the timers in worker processes of its own.

Each test starts the daemon with `python -m mailbot.cli`, posts over real SMTP and watches
a real SMTP sink; the worker processes are found as the daemon's children in /proc.
"""

import asyncio
import contextlib
import fcntl
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.config import ConfigError, load_config
from mailbot.core.children import SETTLED
from mailbot.storage import db
from mailbot.storage.models import Daemon as DaemonRow
from tests.helpers import Sink, make_message, write_config
from tests.test_daemon import (
    WHERE,
    Daemon,
    assert_delivered_once,
    post,
    seeded_list,
    wait_for,
)
from tests.test_daemon import daemons as listeners

pytestmark = pytest.mark.slow

GONE_TIMEOUT = 10.0


def with_workers(tmp_path: Path, database_url: str, sink_port: int,
                 count: int = 1) -> tuple[Path, int]:
    config, port = seeded_list(tmp_path, database_url, sink_port)
    config.write_text(config.read_text().replace("[server]\n",
                                                 f"[server]\nworkers = {count}\n", 1))
    return config, port


@contextlib.asynccontextmanager
async def daemons(config: Path, port: int, log: Path) -> AsyncIterator[Callable[[], Daemon]]:
    """test_daemon's `daemons`, and at the end their workers are gone too (one still
    writing would deadlock the dropping of a PostgreSQL schema)."""
    started: list[Daemon] = []
    workers: set[int] = set()
    async with listeners(config, port, log) as new:
        def tracked() -> Daemon:
            started.append(new())
            return started[-1]

        try:
            yield tracked
        finally:
            for daemon in started:
                if daemon.proc is not None:
                    workers |= children(daemon.proc.pid)
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    await wait_for(lambda: not any(alive(pid) for pid in workers), GONE_TIMEOUT,
                   "the workers' end")


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid`."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def registered_pids(database_url: str) -> set[int]:
    database = db.Database(database_url)
    try:
        return set(database.transaction(lambda s: s.scalars(select(DaemonRow.pid)).all()))
    finally:
        database.close()


async def workers_of(daemon: Daemon, count: int = 1) -> set[int]:
    assert daemon.proc is not None
    pid = daemon.proc.pid
    await wait_for(lambda: len(children(pid)) == count, GONE_TIMEOUT, f"{count} worker(s)")
    return children(pid)


async def test_posts_are_handled_and_sent_by_the_worker_process_once(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = with_workers(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        daemon = await new().start()
        (worker,) = await workers_of(daemon)
        mids = [f"<w-{i}@example.com>" for i in range(3)]
        for mid in mids:
            code, text = await post(port, make_message(message_id=mid))
            assert code == 250, text
        await assert_delivered_once(sink, mids, daemon)
        assert daemon.proc is not None
        assert registered_pids(database_url) == {daemon.proc.pid, worker}
        ps = Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")
        assert b"--wake-fd" in ps
        # on PostgreSQL the listener's 250s come first; on SQLite the worker keeps its
        # priority (the listener waits for its turn at the one writer)
        nicer = os.getpriority(os.PRIO_PROCESS, worker) - os.getpriority(
            os.PRIO_PROCESS, daemon.proc.pid)
        assert nicer == (0 if database_url.startswith("sqlite") else 10)

        daemon.signal(signal.SIGTERM)
        assert await daemon.wait(GONE_TIMEOUT) == 0, daemon.text()
        assert not alive(worker)
        assert "Traceback" not in daemon.text()
        assert registered_pids(database_url) == set()  # both left cleanly


async def test_sigusr1_to_the_listener_is_passed_on_to_its_workers(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = with_workers(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        daemon = await new().start()
        (worker,) = await workers_of(daemon)
        assert daemon.proc is not None
        await wait_for(lambda: worker in registered_pids(database_url), GONE_TIMEOUT,
                       "the worker to be up")
        await asyncio.sleep(SETTLED)  # a worker still starting is not sent it
        daemon.signal(signal.SIGUSR1)
        await wait_for(lambda: daemon.text().count(WHERE) == 2, GONE_TIMEOUT,
                       "both processes to say where they are")
        told = daemon.text()
        assert f"{WHERE}, pid {daemon.proc.pid}:" in told
        assert f"{WHERE}, pid {worker}:" in told
        assert "in _worker_loop" in told.split(f"pid {worker}:", 1)[1]  # the worker's
        assert alive(worker) and daemon.proc.returncode is None


async def test_a_worker_killed_is_started_again_and_the_next_post_goes_out(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = with_workers(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        daemon = await new().start()
        (worker,) = await workers_of(daemon)
        os.kill(worker, signal.SIGKILL)
        await wait_for(lambda: worker not in children(daemon.proc.pid)  # type: ignore[union-attr]
                       and len(children(daemon.proc.pid)) == 1,  # type: ignore[union-attr]
                       GONE_TIMEOUT, "a new worker process")
        mid = "<after-restart@example.com>"
        code, text = await post(port, make_message(message_id=mid))
        assert code == 250, text
        await assert_delivered_once(sink, [mid], daemon)
        assert f"(pid {worker}) exited -9: started again" in daemon.text()


async def test_two_workers_take_a_share_each_and_every_post_goes_out_once(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    """Each worker is told its number (on SQLite it claims the messages of its share and
    reads them ahead while the other holds the writer; PostgreSQL's claim them as they
    come): either way every post is handled and sent once."""
    config, port = with_workers(tmp_path, database_url, sink.port, count=2)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        daemon = await new().start()
        workers = await workers_of(daemon, 2)
        shares = set()
        for pid in workers:
            line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            shares.add(line[line.index(b"--worker") + 1])
        assert shares == {b"0/2", b"1/2"}
        mids = [f"<share-{i}@example.com>" for i in range(7)]
        for mid in mids:
            code, text = await post(port, make_message(message_id=mid))
            assert code == 250, text
        await assert_delivered_once(sink, mids, daemon)
        assert "Traceback" not in daemon.text()


async def test_kill_9_of_the_listener_stops_its_workers_and_a_restart_delivers_once(
        tmp_path: Path, database_url: str, sink: Sink) -> None:
    config, port = with_workers(tmp_path, database_url, sink.port)
    async with daemons(config, port, tmp_path / "serve.log") as new:
        first = await new().start()
        (worker,) = await workers_of(first)
        mid = "<listener-killed@example.com>"
        code, text = await post(port, make_message(message_id=mid),
                                on_250=lambda: first.signal(signal.SIGKILL))
        assert code == 250, text
        assert await first.wait(5) == -signal.SIGKILL
        # the worker sees the end of its pipe and stops: no orphan sends on its own
        await wait_for(lambda: not alive(worker), GONE_TIMEOUT, "the orphaned worker's end")

        second = await new().start()
        await assert_delivered_once(sink, [mid], second)


async def test_a_new_daemon_on_sqlite_waits_for_the_workers_of_a_killed_one(
        tmp_path: Path, sink: Sink) -> None:
    """The lock that keeps one `serve` per SQLite file dies with the listener; its worker
    may still be finishing a turn. The new daemon starts only once that worker is gone."""
    database_url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    config, port = with_workers(tmp_path, database_url, sink.port)
    path = tmp_path / "mailbot.db.workers-lock"
    async with daemons(config, port, tmp_path / "serve.log") as new:
        first = await new().start()
        await workers_of(first)
        held = os.open(path, os.O_RDONLY)  # stands for a worker still finishing its turn
        try:
            fcntl.flock(held, fcntl.LOCK_SH)
            first.signal(signal.SIGKILL)
            assert await first.wait(5) == -signal.SIGKILL
            second = new()
            starting = asyncio.create_task(second.start())
            await asyncio.sleep(1.5)
            assert not starting.done()  # not listening while a worker may still send
            started = time.monotonic()
        finally:
            os.close(held)
        await starting
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("value", ["-1", "17", '"2"'])
def test_a_bad_number_of_workers_is_refused_naming_the_key(tmp_path: Path, value: str) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", maildir=tmp_path / "out",
                        server_extra=f"workers = {value}")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "server.workers" in str(error.value)


def test_no_workers_unless_asked(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite:///x.db", maildir=tmp_path / "out")
    assert load_config(path).server.workers == 0
    path = write_config(tmp_path, "sqlite:///x.db", maildir=tmp_path / "out",
                        server_extra="workers = 2")
    assert load_config(path).server.workers == 2


async def test_a_worker_is_woken_by_each_byte_and_stops_at_the_pipes_end() -> None:
    from mailbot.core.children import on_wake

    read_fd, write_fd = os.pipe()
    work, send, orphaned = asyncio.Event(), asyncio.Event(), asyncio.Event()
    try:
        on_wake(read_fd, {b"w": work.set, b"s": send.set}, orphaned=orphaned.set)
        os.write(write_fd, b"w")
        await asyncio.wait_for(work.wait(), 5)
        assert not send.is_set()
        os.write(write_fd, b"sww")  # several wake-ups read at once count as one each kind
        await asyncio.wait_for(send.wait(), 5)
        assert not orphaned.is_set()
    finally:
        os.close(write_fd)  # the listener is gone
    await asyncio.wait_for(orphaned.wait(), 5)
    os.close(read_fd)


async def test_a_dead_workers_pipe_is_not_written_while_it_is_started_again(
        tmp_path: Path) -> None:
    """Between a worker's death and its new start, its pipe's number is closed and may be
    given to any file the daemon opens: a wake-up must not write into that file."""
    import sys

    from mailbot.core import children as module

    workers = module.Children(lambda fd, n: [sys.executable, "-c", "pass"], 1)
    workers.start()
    (pid,) = workers.pids()
    watching = asyncio.create_task(workers.watch())
    try:
        await wait_for(lambda: workers._children[0].wake_fd < 0, GONE_TIMEOUT,
                       "the dead worker's pipe closed")
        with (tmp_path / "other").open("wb"):  # may take the pipe's old number
            workers.wake(b"w")
        assert (tmp_path / "other").read_bytes() == b""
        await wait_for(lambda: workers.pids() != [pid], GONE_TIMEOUT, "a new start")
    finally:
        await workers.stop()
        watching.cancel()


async def test_a_signal_is_passed_on_only_to_workers_past_their_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker still importing does not handle SIGUSR1 yet: its default action would
    stop it. Such a worker is skipped; one past SETTLED gets it."""
    import sys

    from mailbot.core import children as module

    workers = module.Children(lambda fd, n: [sys.executable, "-c",
                                          "import time; time.sleep(30)"], 1)
    workers.start()
    process = workers._children[0].process
    try:
        workers.pass_on(signal.SIGUSR1)  # just started: skipped
        await asyncio.sleep(0.5)
        assert process.poll() is None
        monkeypatch.setattr(module, "SETTLED", 0.0)
        workers.pass_on(signal.SIGUSR1)  # this one has no handler: SIGUSR1 stops it
        await wait_for(lambda: process.poll() is not None, GONE_TIMEOUT, "the signal")
        assert process.returncode == -signal.SIGUSR1
    finally:
        await workers.stop()
