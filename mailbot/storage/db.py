"""The database edge: engine, sessions, schema upgrades, and a thread for blocking calls.

SQLite runs in WAL mode with `BEGIN IMMEDIATE`, so a writer waits for the lock instead of
failing on a read-to-write upgrade; PostgreSQL is used as is. The event loop never runs a
query itself: `Database.run` hands the work to a small pool of threads.
"""

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from mailbot.core.errors import SchemaError

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def read_only_engine(url: str) -> Engine | None:
    """An engine that cannot write, for readers that must change nothing (`mailbot
    explain`); None when an SQLite database file does not exist (nothing is created).
    SQLite opens the file read-only (immutable when even that is refused, e.g. a WAL file
    in a folder we cannot write); PostgreSQL sessions are read-only transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":  # every transaction is READ ONLY
        return create_engine(url, poolclass=NullPool).execution_options(
            postgresql_readonly=True)
    if not parsed.database or parsed.database == ":memory:" or \
            not Path(parsed.database).is_file():
        return None
    path = Path(parsed.database).resolve().as_posix()

    def connect() -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True,
                                         check_same_thread=False)
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            connection = sqlite3.connect(f"file:{quote(path)}?immutable=1", uri=True,
                                         check_same_thread=False)
        return connection

    return create_engine("sqlite://", creator=connect, poolclass=NullPool)


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                   "busy_timeout=30000"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://"))).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (before, after)."""
    before = current_revision(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # two daemons starting together upgrade once
            conn.execute(text("SELECT pg_advisory_xact_lock(7031981)"))
            command.upgrade(_alembic_config_with(conn), "head")
    else:
        command.upgrade(_alembic_config(engine), "head")
    return before, head_revision()


def _alembic_config_with(conn: Any) -> AlembicConfig:
    cfg = _alembic_config(conn.engine)
    cfg.attributes["connection"] = conn
    return cfg


def check_schema(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaError(
            f"database schema is at {current or 'nothing'}, this mailbot needs {head}: "
            "run `mailbot db upgrade`"
        )


# PostgreSQL's "deadlock detected" and "could not serialize access": nothing is wrong with
# what the transaction did, another one was in the way; done again, it goes through.
_TRANSIENT = ("40P01", "40001")


def is_transient(exc: BaseException | None) -> bool:
    """Whether `exc` (or what it was raised from) says the transaction may simply be run
    again."""
    while exc is not None:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) in _TRANSIENT:
            return True
        exc = exc.__cause__
    return False


class Database:
    """An engine, a session factory, and a bounded thread pool for the event loop."""

    def __init__(self, url: str, *, threads: int = 4, engine: Engine | None = None,
                 writes_first: bool = False) -> None:
        self.engine = engine if engine is not None else make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")
        # SQLite has one writer at a time, and a writer that finds the file locked sleeps
        # and polls (up to 100 ms a turn): in one process, our threads take turns at once.
        self.single_writer = self.engine.dialect.name == "sqlite"
        # writes_first: on SQLite, this process's writes go before other processes' (the
        # listener's, beside its workers: see WriterTurns)
        self._turns = WriterTurns(self.engine.url.database, first=writes_first) \
            if self.single_writer else None
        # Between rounds of a long job (digests for thousands), long enough for a writer
        # in another process (the daemon, while `mailbot digest send` runs) to get a turn.
        self.pause_between_rounds = 0.1 if self.single_writer else 0.0

    @classmethod
    def reading(cls, url: str) -> "Database | None":
        """A database only to read (see `read_only_engine`); None when there is none."""
        engine = read_only_engine(url)
        return None if engine is None else cls(url, threads=1, engine=engine)

    def peek(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(session, *args)` and roll back whatever it did: nothing is written."""
        session: Session
        with self.sessions() as session:
            try:
                return work(session, *args)
            finally:
                session.rollback()

    def transaction(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work(session, *args)` in one transaction: all of it is committed, or none."""
        with self._turns or contextlib.nullcontext(), self.sessions() as session, \
                session.begin():
            return work(session, *args)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`transaction` on a database thread, so the event loop never waits on a query."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.transaction, work, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.engine.dispose()
        if self._turns is not None:
            self._turns.close()


class WriterTurns:
    """SQLite's one writer, taken in turns by this process's threads and by the other
    processes on the same file (`server.workers`, a CLI command while the daemon runs).

    SQLite's own wait sleeps and polls (1, 2, 5 … up to 100 ms a time): a received message
    would wait that long for its commit behind another process's transaction. A blocked
    `flock` on a file beside the database wakes as soon as the turn is free. Threads take
    turns on a lock of their own first (a flock is held by the process, not the thread).

    `first` (the listener of a daemon with workers): its writes go before the others'. It
    holds a second lock, the gate, while it waits for the turn and writes; the others pass
    the gate (a shared lock taken and let go) before they ask for the turn, so a received
    message waits for at most the one transaction under way, not for whoever is quicker to
    ask again. An in-memory database, or a folder where the files cannot be made, has
    threads' turns only (SQLite's busy wait still keeps other processes right)."""

    def __init__(self, database: str | None, *, first: bool = False) -> None:
        self._threads = threading.RLock()
        self._depth = 0  # nested turns of the thread that holds it
        self._first = first
        self._turn: int | None = None
        self._gate: int | None = None
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                self._turn = os.open(f"{database}.turns", os.O_RDWR | os.O_CREAT, 0o600)
                self._gate = os.open(f"{database}.turns-first", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                self.close()
                log.warning("SQLite writers of other processes wait by polling: %s", exc)

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._depth == 0 and self._turn is not None and self._gate is not None:
            try:
                if self._first:
                    fcntl.flock(self._gate, fcntl.LOCK_EX)
                else:  # wait while a first writer waits or writes
                    fcntl.flock(self._gate, fcntl.LOCK_SH)
                    fcntl.flock(self._gate, fcntl.LOCK_UN)
                fcntl.flock(self._turn, fcntl.LOCK_EX)
            except BaseException:
                self._let_go()
                self._threads.release()
                raise
        self._depth += 1

    def __exit__(self, *_exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._let_go()
        self._threads.release()

    def _let_go(self) -> None:
        if self._turn is not None:
            fcntl.flock(self._turn, fcntl.LOCK_UN)
        if self._first and self._gate is not None:
            fcntl.flock(self._gate, fcntl.LOCK_UN)

    def close(self) -> None:
        for fd in (self._turn, self._gate):
            if fd is not None:
                os.close(fd)
        self._turn = self._gate = None
