"""On PostgreSQL, what `mailbot serve` receives is written from the event loop
(storage/intake_pg.py), not on a database thread: the same rows as `Messages.store_new`,
a message already stored skipped, a connection the server dropped replaced, and the
connection closed when the daemon stops; a message the database refuses is answered
451 alone, and stored when the sender tries again."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from mailbot.config import load_config
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.intake_pg import PostgresIntake
from mailbot.storage.messages import Messages
from mailbot.storage.models import InboundMessage
from tests.conftest import pg_schema
from tests.helpers import (
    Sink,
    add_member,
    free_port,
    make_message,
    smtp_send,
    wait_for,
    write_config,
)
from tests.test_arrivals import wait_until_listening

NOW = datetime(2026, 12, 4, 22, 30, 15, 123456, tzinfo=UTC)
COLUMNS = [c.key for c in InboundMessage.__table__.columns if c.key != "id"]


@pytest.fixture
def pg() -> Iterator[db.Database]:
    with pg_schema() as url:
        database = db.Database(url)
        db.upgrade(database.engine)
        yield database
        database.close()


def rows(*raws: bytes) -> list[dict[str, Any]]:
    """Rows as `arrival_rows` makes them: a post, then a confirmation with its token."""
    return [{"received_at": NOW, "mail_from": "marie@example.com", "rcpt": "sel@example.org",
             "list_name": "sel", "role": role, "token": token, "message_key": key,
             "raw": raw, "size": len(raw), "status": "new"}
            for raw, (role, token, key) in zip(raws, _kinds(len(raws)), strict=True)]


def _kinds(count: int) -> list[tuple[str, str | None, str]]:
    return [("post", None, f"<m{i}@example.com>") if i % 2 == 0 else
            ("confirm", f"t0k{i}", f"<m{i}@example.com>") for i in range(count)]


def stored(database: db.Database) -> list[dict[str, Any]]:
    def read(session: Any) -> list[dict[str, Any]]:
        found = session.scalars(select(InboundMessage).order_by(InboundMessage.message_key))
        return [{key: getattr(row, key) for key in COLUMNS} for row in found]

    return database.transaction(read)


def backend_alive(database: db.Database, pid: int) -> bool:
    with database.engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                                 {"p": pid}).scalar())


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, pg: db.Database, sink: Sink) -> AsyncIterator[
        tuple[Service, int]]:
    """`serve` in process on `pg`, listening on a port of its own, Marie a member."""
    port = free_port()
    config = load_config(write_config(tmp_path, pg.engine.url.render_as_string(
        hide_password=False), sink_port=sink.port, listen=f"127.0.0.1:{port}"))
    service = Service(config)
    await service.db.run(add_member, "sel", "marie@example.com", "Marie", NOW)
    stop = asyncio.Event()
    task = asyncio.create_task(service.serve(stop))
    try:
        await wait_until_listening(port)
        yield service, port
    finally:
        stop.set()
        await task
        service.close()


async def test_the_rows_are_those_the_database_thread_writes(pg: db.Database) -> None:
    raws = [b"Subject: un\r\n\r\nBonjour \xc3\xa0 tous\r\n", b"Subject: \xe9\r\n\r\n\x00\xff"]
    # a session in another time zone than UTC: the times are still written as UTC
    url = pg.engine.url
    elsewhere = sa.create_engine(url.update_query_dict(
        {"options": f"{url.query['options']} -cTimeZone=America/New_York"}))
    intake = PostgresIntake(elsewhere)
    try:
        await intake.store(rows(*raws))
    finally:
        await intake.close()
        elsewhere.dispose()
    written_on_the_loop = stored(pg)
    with pg_schema() as url:
        other = db.Database(url)
        try:
            db.upgrade(other.engine)
            other.transaction(lambda s: Messages(s).store_new(rows(*raws)))
            assert written_on_the_loop == stored(other)
        finally:
            other.close()
    assert [(r["received_at"], r["raw"], r["token"]) for r in written_on_the_loop] == [
        (NOW, raws[0], None), (NOW, raws[1], "t0k1")]  # aware UTC back, bytes as they came


async def test_a_message_already_stored_is_skipped(pg: db.Database) -> None:
    intake = PostgresIntake(pg.engine)
    try:
        await intake.store(rows(b"A\r\n\r\nx\r\n"))
        await intake.store(rows(b"A\r\n\r\nx\r\n", b"B\r\n\r\ny\r\n"))  # one again, one new
    finally:
        await intake.close()
    assert [r["raw"] for r in stored(pg)] == [b"A\r\n\r\nx\r\n", b"B\r\n\r\ny\r\n"]


async def test_a_connection_the_server_dropped_is_replaced_and_the_write_done(
        pg: db.Database) -> None:
    intake = PostgresIntake(pg.engine)
    try:
        await intake.store(rows(b"A\r\n\r\nx\r\n"))
        kept = intake.backend_pid()
        assert kept is not None and backend_alive(pg, kept)
        with pg.engine.connect() as conn:  # as a restart of the server would
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": kept})
        await wait_for(lambda: not backend_alive(pg, kept), 5, "the backend to end")
        await intake.store(rows(b"A\r\n\r\nx\r\n", b"B\r\n\r\ny\r\n"))
        assert intake.backend_pid() not in (None, kept)
    finally:
        await intake.close()
    assert len(stored(pg)) == 2


async def test_a_server_that_cannot_be_reached_is_an_error_for_the_caller(
        pg: db.Database) -> None:
    """The SMTP session answers 451 and the sender tries again later: nothing is lost."""
    nowhere = sa.create_engine(pg.engine.url.set(port=free_port()))
    intake = PostgresIntake(nowhere)
    with pytest.raises(psycopg.OperationalError):
        await intake.store(rows(b"A\r\n\r\nx\r\n"))
    assert intake.backend_pid() is None
    nowhere.dispose()


async def test_serve_writes_what_it_receives_on_the_loop_and_closes_it_at_the_end(
        tmp_path: Path, pg: db.Database, sink: Sink) -> None:
    async with serving(tmp_path, pg, sink) as (service, port):
        code, _ = await smtp_send(port, make_message(message_id="<on-the-loop@example.com>"))
        assert code == 250
        intake = service.intake_on_the_loop
        assert intake is not None
        pid = intake.backend_pid()
        assert pid is not None  # the 250 came after its commit there
        assert [r["message_key"] for r in stored(pg)] == ["<on-the-loop@example.com>"]
        await wait_for(lambda: len(sink.received) >= 1, 20, "the post's copy")
    assert service.intake_on_the_loop is None
    await wait_for(lambda: not backend_alive(pg, pid), 5, "its connection to close")



REFUSE = """CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.message_key = '<refused@example.com>' THEN
    RAISE EXCEPTION 'refused for the test';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_one BEFORE INSERT ON inbound_message
  FOR EACH ROW EXECUTE FUNCTION refuse_one()"""


async def test_a_message_the_database_refuses_is_answered_451_alone_and_kept_by_its_sender(
        tmp_path: Path, pg: db.Database, sink: Sink) -> None:
    """Over SMTP to `serve`: the refused message gets 451 (the sender keeps it and tries
    again), the one sent with it 250; once the database takes it, the retry is stored,
    once."""
    with pg.engine.begin() as conn:
        conn.exec_driver_sql(REFUSE)
    refused = make_message(message_id="<refused@example.com>", subject="Refusé")
    async with serving(tmp_path, pg, sink) as (_, port):
        (bad, said), (good, _) = await asyncio.gather(
            smtp_send(port, refused),
            smtp_send(port, make_message(message_id="<taken@example.com>")))
        assert (bad, good) == (451, 250) and "4.3.0" in said, said
        assert [r["message_key"] for r in stored(pg)] == ["<taken@example.com>"]
        with pg.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse_one ON inbound_message")
        assert (await smtp_send(port, refused))[0] == 250
        assert (await smtp_send(port, refused))[0] == 250  # a second retry: kept once
        assert sorted(r["message_key"] for r in stored(pg)) == [
            "<refused@example.com>", "<taken@example.com>"]
