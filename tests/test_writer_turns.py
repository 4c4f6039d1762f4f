"""SQLite's one writer shared by processes: a writer that waits gets its turn the moment
the other's ends (a flock beside the file), not at SQLite's next poll."""

import contextlib
import fcntl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import text

from mailbot.storage import db

HOLD = 0.45  # seconds the other process keeps its write transaction open

OTHER = """
import sys, time
from sqlalchemy import text
from mailbot.storage import db
database = db.Database(sys.argv[1])
def hold(session):
    session.execute(text("INSERT INTO turn (who, at) VALUES ('other', 0)"))
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    print(repr(time.time()), flush=True)
database.transaction(hold)
database.close()
"""


@contextlib.contextmanager
def turn_held(url: str) -> Iterator[IO[str]]:
    """The table `turn`, then another process that holds the writer's turn for HOLD
    seconds (its stdout: "holding" already read, then the time it let go)."""
    database = db.Database(url)
    try:
        database.transaction(lambda s: s.execute(text("CREATE TABLE turn (who TEXT, at REAL)")))
    finally:
        database.close()
    with subprocess.Popen([sys.executable, "-c", OTHER, url, str(HOLD)],
                          stdout=subprocess.PIPE, text=True) as other:
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "holding"
        yield other.stdout
        other.wait(10)


def written(database: db.Database) -> list[str]:
    return list(database.transaction(lambda s: s.execute(text(
        "SELECT who FROM turn ORDER BY rowid")).scalars().all()))


def test_a_writer_of_another_process_waits_for_the_turn_and_gets_it_at_once(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    database = db.Database(url)
    try:
        with turn_held(url) as other:
            with (tmp_path / "mailbot.db.turns").open("rb") as turns, \
                    pytest.raises(BlockingIOError):  # the other process holds the turn
                fcntl.flock(turns, fcntl.LOCK_EX | fcntl.LOCK_NB)
            asked = time.time()
            database.transaction(lambda s: s.execute(text(
                "INSERT INTO turn (who, at) VALUES ('us', :at)"), {"at": time.time()}))
            ours = time.time()
            released = float(other.readline())
        assert ours - asked >= HOLD * 0.8  # we did wait for the other process
        # SQLite's own busy wait would sleep up to 100 ms between looks; the flock wakes
        # us as the other process lets go (its commit, then ours)
        assert ours - released < 0.08, ours - released
        assert written(database) == ["other", "us"]
    finally:
        database.close()


def test_threads_of_one_process_take_turns_and_a_turn_may_nest(tmp_path: Path) -> None:
    database = db.Database(f"sqlite:///{tmp_path / 'mailbot.db'}")
    try:
        database.transaction(lambda s: s.execute(text("CREATE TABLE n (x INTEGER)")))
        inside: list[int] = []
        most = [0]
        lock = threading.Lock()

        def write(session: object, i: int) -> None:
            with lock:
                inside.append(i)
                most[0] = max(most[0], len(inside))
            time.sleep(0.01)
            with lock:
                inside.remove(i)

        threads = [threading.Thread(target=database.transaction, args=(write, i))
                   for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert most[0] == 1  # one writer at a time
        turns = database._turns
        assert turns is not None
        with turns, turns:  # the thread that holds the turn may take it again
            pass
    finally:
        database.close()


def test_the_listeners_writes_go_before_those_of_a_worker_that_asked_later(
        tmp_path: Path) -> None:
    """Process A holds the turn; the listener (writes first) asks, then worker B asks.
    When A lets go the listener writes, then B: a received message waits for at most the
    transaction under way, not for whoever asks again quicker."""
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    database = db.Database(url, writes_first=True)
    try:
        with turn_held(url):
            ours = threading.Thread(target=database.transaction, args=(lambda s: s.execute(
                text("INSERT INTO turn (who, at) VALUES ('listener', 0)")),))
            ours.start()
            time.sleep(0.05)
            with (tmp_path / "mailbot.db.turns-first").open("rb") as gate, \
                    pytest.raises(BlockingIOError):  # we wait at the gate's far side
                fcntl.flock(gate, fcntl.LOCK_SH | fcntl.LOCK_NB)
            with subprocess.Popen([sys.executable, "-c", LATER, url],
                                  stdout=subprocess.PIPE, text=True) as later:
                assert later.stdout is not None
                assert later.stdout.readline().strip() == "asking"
                ours.join(10)
                later.wait(10)
        assert written(database) == ["other", "listener", "worker"]
    finally:
        database.close()


LATER = """
import sys
from sqlalchemy import text
from mailbot.storage import db
database = db.Database(sys.argv[1])
print("asking", flush=True)
database.transaction(lambda s: s.execute(text("INSERT INTO turn (who, at) VALUES ('worker', 0)")))
database.close()
"""
