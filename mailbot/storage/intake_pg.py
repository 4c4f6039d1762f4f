"""The listener's INSERTs of received messages on PostgreSQL, on the event loop.

Every other write goes through a database thread (`Database.run`). For the intake that
thread was most of the listener's cost: a commit of five or six messages, taken from the
event loop to the thread and back, while the loop serves twenty SMTP sessions, is two
hand-overs of the interpreter's lock and a wake-up each way, besides the session's own
work. With psycopg's asynchronous connection the statement and its commit are sent from
the loop itself and awaited like any socket (bench/intake.py, workers stopped: the
listener's CPU a post 0.55-0.59 ms through the thread, 0.25-0.40 ms here).

The statement is SQLAlchemy's own INSERT … ON CONFLICT DO NOTHING for the model,
compiled once, and each value goes through its column type's bind processing: the rows
are the same as `Messages.store_new` writes. A 250 is still said only after the commit.
"""

from typing import Any

import psycopg
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from mailbot.storage.models import InboundMessage

_TABLE = InboundMessage.__table__


class PostgresIntake:
    """One connection of its own, opened at the first write and again after a failure;
    a write on a connection kept from before that fails as a broken connection (the
    server restarted meanwhile) is done once more on a new one. Doing it twice is safe:
    a (recipient, message key) already stored is skipped."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        # what the engine itself connects with (host, user, options such as a search_path)
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        self.connect_args: dict[str, Any] = {
            key: value for key, value in kwargs.items() if key != "context"}
        assert not args, args
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._statements: dict[tuple[str, ...], str] = {}
        self._processors: dict[str, Any] = {
            column.key: column.type.bind_processor(self.dialect) for column in _TABLE.columns}

    async def store(self, rows: list[dict[str, Any]]) -> None:
        """INSERT the rows in one transaction; returns once it is committed."""
        if not rows:
            return
        keys = tuple(rows[0])
        statement = self._statement(keys)
        values = [{key: self._bound(key, row[key]) for key in keys} for row in rows]
        kept = self._connection is not None and not self._connection.closed
        try:
            await self._write(statement, values)
        except psycopg.OperationalError:
            if not kept:
                raise
            await self._write(statement, values)  # on a new connection

    def backend_pid(self) -> int | None:
        """The server process of the connection kept open, if one is."""
        connection = self._connection
        return None if connection is None or connection.closed else connection.info.backend_pid

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def _write(self, statement: str, values: list[dict[str, Any]]) -> None:
        connection = self._connection
        if connection is None or connection.closed:
            connection = self._connection = await psycopg.AsyncConnection.connect(
                **self.connect_args)
        try:
            async with connection.cursor() as cursor:
                await cursor.executemany(statement, values)
            await connection.commit()
        except BaseException:  # a failed or cut write: the next one starts afresh
            self._connection = None
            await connection.close()
            raise

    def _statement(self, keys: tuple[str, ...]) -> str:
        statement = self._statements.get(keys)
        if statement is None:
            insert = postgresql.insert(InboundMessage).on_conflict_do_nothing(
                index_elements=["rcpt", "message_key"])
            statement = self._statements[keys] = str(
                insert.compile(dialect=self.dialect, column_keys=list(keys),
                               for_executemany=True))
        return statement

    def _bound(self, key: str, value: Any) -> Any:
        process = self._processors[key]
        return value if process is None else process(value)
