"""The database edge: on SQLite, our own threads take turns at the single writer lock."""

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from mailbot.storage import db
from mailbot.storage.models import Member
from tests.helpers import add_member

THREADS, WRITES = 4, 40


def impatient(database: db.Database) -> None:
    """SQLite gives up at once on a locked file (no busy handler): any wait at SQLite's
    own lock shows up as "database is locked" instead of a silent sleep-and-poll."""
    def no_busy_wait(connection: sqlite3.Connection, _record: Any) -> None:
        connection.execute("PRAGMA busy_timeout=0")

    event.listen(database.engine, "connect", no_busy_wait)


def test_threads_of_one_process_never_wait_at_sqlites_lock(tmp_path: Path) -> None:
    """Without Database._turns, concurrent writers would meet SQLite's lock (and in
    production sleep in its busy handler, up to 100 ms a turn); with it they queue in
    Python, and none fails here even with SQLite told not to wait."""
    database = db.Database(f"sqlite:///{tmp_path / 'turns.db'}", threads=THREADS)
    try:
        db.upgrade(database.engine)
        database.engine.dispose()  # later connections get the impatient setting
        impatient(database)
        errors: list[BaseException] = []
        start = threading.Barrier(THREADS)

        def writer(n: int) -> None:
            start.wait()
            for i in range(WRITES):
                try:
                    database.transaction(add_member, "sel", f"m{n}-{i}@example.org", "",
                                         datetime.now(UTC))
                except Exception as exc:  # collected for the assert below
                    errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        count = database.transaction(lambda s: s.scalar(select(func.count(Member.id))))
        assert count == THREADS * WRITES
    finally:
        database.close()
