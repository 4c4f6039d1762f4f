"""`<db>.arrivals`: on SQLite, what the listener of `mailbot serve` receives is committed
to a file of its own, then moved into the database by whoever handles messages. Kept as
stored, moved once even when a move is repeated (a kill -9 between its commit and its
delete), and moved by a daemon that finds it at start (one restarted without workers)."""

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.config import load_config
from mailbot.config.addresses import resolve
from mailbot.inbound.intake import arrival_rows
from mailbot.service import Service
from mailbot.storage import db
from mailbot.storage.arrivals import Arrivals, arrivals_path
from mailbot.storage.models import InboundMessage
from tests.helpers import (
    Sink,
    add_member,
    free_port,
    make_message,
    smtp_send,
    wait_for,
    write_config,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def rows_for(service: Service, *raws: bytes) -> list[dict[str, object]]:
    recipient = resolve("sel@example.org", service.config.lists, service.config.server.separator)
    assert recipient is not None
    return arrival_rows([(raw, "marie@example.com", [("sel@example.org", recipient)], NOW)
                         for raw in raws])


def test_rows_come_back_as_they_were_kept(tmp_path: Path) -> None:
    arrivals = Arrivals(str(tmp_path / "mailbot.db.arrivals"), first=True)
    try:
        row = {"received_at": NOW, "mail_from": "", "rcpt": "sel-request@example.org",
               "list_name": "sel", "role": "request", "token": None,
               "message_key": "<a@b>", "raw": b"Subject: \xe9\r\n\r\n\x00\xff", "size": 9}
        arrivals.put([row, {**row, "role": "confirm", "token": "t0k"}])
        last, rows = arrivals.oldest(10)
        assert rows == [{**row, "status": "new"},
                        {**row, "role": "confirm", "token": "t0k", "status": "new"}]
        assert arrivals.oldest(1)[1] == rows[:1]
        arrivals.forget(last)
        assert arrivals.oldest(10) == (0, []) and arrivals.count() == 0
    finally:
        arrivals.close()


def _sqlite_only(service: Service) -> str:
    path = service.db.engine.url.database
    if not service.db.single_writer or not path:
        pytest.skip("the file of arrivals is for SQLite")
    return arrivals_path(path)


async def test_what_a_killed_listener_kept_is_moved_and_handled_once(
        service: Service) -> None:
    """A daemon restarted without workers finds the file and moves it; moving the same rows
    again (a kill -9 after the database's commit, before the delete) stores them once."""
    path = _sqlite_only(service)
    await service.db.run(add_member, "sel", "marie@example.com", "Marie", NOW)
    await service.db.run(add_member, "sel", "bob@example.net", "Bob", NOW)
    left = Arrivals(path, first=True)
    rows = rows_for(service, make_message(message_id="<kept-1@example.com>"),
                    make_message(message_id="<kept-2@example.com>"))
    left.put(rows)
    left.put(rows[:1])  # the same message received twice: kept twice, stored once
    left.close()

    assert await service.process_pending() == 2
    assert service.arrivals is not None and service.arrivals.count() == 0
    stored = await service.db.run(lambda s: s.scalars(
        select(InboundMessage.message_key).order_by(InboundMessage.id)).all())
    assert stored == ["<kept-1@example.com>", "<kept-2@example.com>"]

    again = Arrivals(path)
    again.put(rows)  # moved again, as after a kill between commit and delete
    again.close()
    assert await service.process_pending() == 0
    assert await service.db.run(lambda s: len(s.scalars(select(InboundMessage.id)).all())) == 2
    await service.deliver_due()
    assert await service.db.run(lambda s: s.scalars(select(InboundMessage.status)).all()) == [
        "done", "done"]


async def test_no_file_is_made_by_a_daemon_that_keeps_nothing_there(service: Service) -> None:
    path = _sqlite_only(service)
    assert await service.move_arrivals() == 0
    assert not Path(path).exists()


async def test_serve_on_sqlite_keeps_what_it_receives_there_then_handles_it(
        tmp_path: Path, database_url: str, sink: Sink, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 250 comes once the message is committed to the file; the worker moves it into
    the database and the post goes out to the members."""
    if not database_url.startswith("sqlite"):  # before a Service holds a connection
        pytest.skip("the file of arrivals is for SQLite")
    port = free_port()
    config = load_config(write_config(tmp_path, database_url, sink_port=sink.port,
                                      listen=f"127.0.0.1:{port}"))
    service = Service(config)
    db.upgrade(service.db.engine)
    path = _sqlite_only(service)
    kept: list[str] = []
    put = Arrivals.put

    def keep(self: Arrivals, rows: list[dict[str, object]]) -> None:
        put(self, rows)
        kept.extend(str(row["message_key"]) for row in rows)

    monkeypatch.setattr(Arrivals, "put", keep)
    await service.db.run(add_member, "sel", "marie@example.com", "Marie", NOW)
    await service.db.run(add_member, "sel", "bob@example.net", "Bob", NOW)
    stop = asyncio.Event()
    serving = asyncio.create_task(service.serve(stop))
    try:
        await wait_until_listening(port)
        code, _ = await smtp_send(port, make_message(message_id="<served@example.com>"))
        assert code == 250 and kept == ["<served@example.com>"]
        await wait_for(lambda: len(sink.received) >= 2, 20, "the post's two copies")
        left = Arrivals(path)
        assert left.count() == 0
        left.close()
    finally:
        stop.set()
        await serving
        service.close()


async def wait_until_listening(port: int) -> None:
    await wait_for(lambda: _accepts(port), 10, "the listener")


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
