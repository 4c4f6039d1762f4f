"""Received messages kept in a file of their own beside an SQLite database (`<db>.arrivals`)
until a worker moves them into it.

SQLite has one writer. The worker (a thread of `serve`, or a process of its own with
`server.workers`) handles a post in one transaction that holds the writer some 10 ms; the
listener's commit, and so its 250, waited for it. Here the listener commits what it
receives to this small file instead (durably: WAL, `synchronous=FULL`), which only it
writes, but for a worker's short DELETE of what it has moved. A worker moves rows into
`inbound_message` in one transaction, then deletes them here: a kill -9 between the two
moves them again, and the database's unique (recipient, message key) keeps them once.
"""

import sqlite3
import threading
from datetime import datetime
from typing import Any

from mailbot.storage.db import WriterTurns

_COLUMNS = ("received_at", "mail_from", "rcpt", "list_name", "role", "token", "message_key",
            "raw", "size")
_SCHEMA = """CREATE TABLE IF NOT EXISTS arrival (
    id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, mail_from TEXT NOT NULL,
    rcpt TEXT NOT NULL, list_name TEXT NOT NULL, role TEXT NOT NULL, token TEXT,
    message_key TEXT NOT NULL, raw BLOB NOT NULL, size INTEGER NOT NULL)"""


def arrivals_path(database: str) -> str:
    return f"{database}.arrivals"


class Arrivals:
    """The file of received messages not yet in the database (one connection, shared by
    this process's threads in turn; other processes take turns through `WriterTurns`)."""

    def __init__(self, path: str, *, first: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._turns = WriterTurns(path, first=first)
        self._connection = sqlite3.connect(path, timeout=30, isolation_level=None,
                                           check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            self._connection.execute(f"PRAGMA {pragma}")
        self._connection.execute(_SCHEMA)

    def put(self, rows: list[dict[str, Any]]) -> None:
        """Keep these `inbound_message` rows; returns once they are committed."""
        values = [tuple(_stored(row[c]) for c in _COLUMNS) for row in rows]
        with self._turns, self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                self._connection.executemany(
                    f"INSERT INTO arrival ({', '.join(_COLUMNS)}) VALUES "
                    f"({', '.join('?' * len(_COLUMNS))})", values)
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise

    def oldest(self, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """The id of the last of the `limit` oldest rows (0: none), and those rows as
        `inbound_message` rows, status "new"."""
        with self._lock:
            found = self._connection.execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM arrival ORDER BY id LIMIT ?",
                (limit,)).fetchall()
        rows = [{**dict(zip(_COLUMNS, values[1:], strict=True)), "status": "new"}
                for values in found]
        for row in rows:
            row["received_at"] = datetime.fromisoformat(row["received_at"])
        return (found[-1][0] if found else 0), rows

    def forget(self, up_to: int) -> None:
        """Delete the rows moved into the database (ids up to `up_to`)."""
        with self._turns, self._lock:
            self._connection.execute("DELETE FROM arrival WHERE id <= ?", (up_to,))

    def count(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT count(*) FROM arrival").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._connection.close()
        self._turns.close()


def _stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
