"""A worker's turn handles its messages without a savepoint each; when one fails, the
whole turn is rolled back and its messages handled again one savepoint at a time: the
failing one quarantined, the others handled once (one copy each, one log line each)."""

import logging
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import mailbot.handling.dispatch
import mailbot.service
import mailbot.storage.members
import mailbot.storage.stores
from mailbot.config import ListConfig
from mailbot.outbound.context import Context
from mailbot.reading.message import header
from mailbot.storage.models import InboundMessage, Member
from tests.e2e import Driver
from tests.test_outbound import note_turns, posts


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("m0@example.net", "Mo"), ("bob@example.net", "Bob")]


def _failing_on(monkeypatch: pytest.MonkeyPatch, subject: str, how: str) -> None:
    """The post handler, but the post with `subject` raises (`how` = "raise") or leaves a
    change the database refuses when it is written ("write")."""
    handle_post = mailbot.handling.dispatch.HANDLERS["post"]

    def post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: Any) -> None:
        handle_post(ctx, mlist, row, msg)
        if header(msg, "Subject") == subject:
            if how == "raise":
                raise RuntimeError("simulated bug")
            row.status = None  # type: ignore[assignment]  # NOT NULL: refused at the flush

    monkeypatch.setitem(mailbot.handling.dispatch.HANDLERS, "post", post)


def _seen_by(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """The ids each way of handling saw, in order: "careful" (`process`, a savepoint each)
    and "quick" (`process_quickly`)."""
    seen: dict[str, list[int]] = {"careful": [], "quick": []}
    for name, key in (("process", "careful"), ("process_quickly", "quick")):
        original = getattr(mailbot.service, name)

        def noting(ctx: Context, row: InboundMessage, *, _original: Any = original,
                   _key: str = key) -> Any:
            seen[_key].append(row.id)
            return _original(ctx, row)

        monkeypatch.setattr(mailbot.service, name, noting)
    return seen


async def _ids(bot: Driver) -> list[int]:
    return list(await bot.service.db.run(lambda s: list(s.scalars(
        select(InboundMessage.id).order_by(InboundMessage.id)))))


@pytest.mark.parametrize("how", ["raise", "write"])
async def test_a_failing_message_is_quarantined_and_the_turn_handled_again(
        bot: Driver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        how: str) -> None:
    service = bot.service
    turns = note_turns(service, monkeypatch, 60.0)  # one turn would take them all
    seen = _seen_by(monkeypatch)
    _failing_on(monkeypatch, "Post 2", how)
    await posts(service, 5)
    ids = await _ids(bot)

    with caplog.at_level(logging.INFO, logger="mailbot"):
        assert await service.process_pending() == 5
    if how == "raise":
        # the quick turn stopped at the third, rolled back; handled again, carefully up to it
        assert seen["quick"] == ids[:3] + ids[3:]
        assert seen["careful"] == ids[:3]
        failed = f"message {ids[2]} could not be handled ("
    else:  # refused when the claimed five were written at once: all five handled again
        assert seen["quick"] == ids
        assert seen["careful"] == ids
        failed = f"what the messages up to {ids[4]} changed could not be written ("
    assert turns == [5]  # the failed turn returned nothing; no turn more to find none left

    rows = await service.db.run(lambda s: [(r.status, r.archive_number) for r in s.scalars(
        select(InboundMessage).order_by(InboundMessage.id))])
    assert rows == [("done", 1), ("done", 2), ("quarantined", None), ("done", 3),
                    ("done", 4)]
    redone = [r.getMessage() for r in caplog.records if "handled again" in r.getMessage()]
    assert len(redone) == 1 and failed in redone[0]
    assert ("RuntimeError: simulated bug" if how == "raise" else "IntegrityError") in redone[0]
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("message ")]
    assert sorted(int(line.split()[1]) for line in lines if " to sel " in line) == ids

    await service.drain()
    assert sorted(m.message["Subject"] for m in bot.sink.to("bob@example.net")) == [
        "[sel] Post 0", "[sel] Post 1", "[sel] Post 3", "[sel] Post 4"]
    told = [m.message["Subject"] for m in bot.sink.to("m0@example.net")
            if not m.message["Subject"].startswith("[sel] Post")]  # not their list copies
    assert len(told) == 1 and "n'a pas pu être traité" in told[0]


async def test_the_last_message_of_a_turn_refused_at_its_write_is_its_own_failure(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written as its handling ends, not at the commit: a commit that fails would be
    tried again for ever, and the message never quarantined."""
    service = bot.service
    _failing_on(monkeypatch, "Post 2", "write")
    await posts(service, 3)
    assert await service.process_pending() == 3
    statuses = await service.db.run(lambda s: list(s.scalars(
        select(InboundMessage.status).order_by(InboundMessage.id))))
    assert statuses == ["done", "done", "quarantined"]


class _Deadlock(Exception):
    sqlstate = "40P01"  # as psycopg says it


def _in_the_way() -> OperationalError:
    return OperationalError("UPDATE member …", {}, _Deadlock("deadlock detected"))


def _deadlocked_once(monkeypatch: pytest.MonkeyPatch, subject: str,
                     at: int = 1) -> list[str]:
    """The post handler, but the post with `subject` meets a deadlock the `at`-th time it
    is handled (and only then)."""
    handle_post = mailbot.handling.dispatch.HANDLERS["post"]
    met: list[str] = []
    times = [0]

    def post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: Any) -> None:
        if header(msg, "Subject") == subject:
            times[0] += 1
            if times[0] == at:
                met.append(subject)
                raise _in_the_way()
        handle_post(ctx, mlist, row, msg)

    monkeypatch.setitem(mailbot.handling.dispatch.HANDLERS, "post", post)
    return met


async def _outcome(bot: Driver) -> list[tuple[str, int | None]]:
    return await bot.service.db.run(lambda s: [(r.status, r.archive_number) for r in s.scalars(
        select(InboundMessage).order_by(InboundMessage.id))])


async def test_a_deadlock_is_not_a_failing_message_the_turn_is_done_again(
        bot: Driver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    service = bot.service
    note_turns(service, monkeypatch, 60.0)
    seen = _seen_by(monkeypatch)
    met = _deadlocked_once(monkeypatch, "Post 2")
    await posts(service, 4)
    ids = await _ids(bot)
    with caplog.at_level(logging.INFO, logger="mailbot"):
        assert await service.process_pending() == 4
    assert met == ["Post 2"]
    assert seen["careful"] == []  # done again as it was: no message at fault
    assert seen["quick"] == ids[:3] + ids
    assert await _outcome(bot) == [("done", n) for n in range(1, 5)]
    assert any("in the way" in r.getMessage() for r in caplog.records)
    await service.drain()
    assert sorted(m.message["Subject"] for m in bot.sink.to("bob@example.net")) == [
        f"[sel] Post {n}" for n in range(4)]


async def test_a_deadlock_in_the_careful_redo_quarantines_nothing(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Post 2 is a bug (quarantined); Post 1 meets a deadlock as the turn is redone a
    message at a time (its second handling): the turn is done again, and Post 1 goes
    out."""
    service = bot.service
    note_turns(service, monkeypatch, 60.0)
    seen = _seen_by(monkeypatch)
    _failing_on(monkeypatch, "Post 2", "raise")
    met = _deadlocked_once(monkeypatch, "Post 1", at=2)
    await posts(service, 4)
    ids = await _ids(bot)
    assert await service.process_pending() == 4
    assert met == ["Post 1"]
    assert seen["careful"] == ids[:2] + ids[:3]  # met the deadlock at Post 1, done again
    assert await _outcome(bot) == [("done", 1), ("done", 2), ("quarantined", None),
                                   ("done", 3)]


async def test_a_deadlock_at_the_commit_does_the_turn_again(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    service = bot.service
    note_turns(service, monkeypatch, 60.0)
    write = mailbot.storage.stores.write_post_counts
    met: list[int] = []

    def counts_once_in_the_way(session: Any) -> None:
        if not met and session.info.get(mailbot.storage.members._COUNTED):  # the turn's
            met.append(1)
            raise _in_the_way()
        write(session)

    await posts(service, 3)  # (their intake commits too)
    monkeypatch.setattr(mailbot.storage.stores, "write_post_counts", counts_once_in_the_way)
    assert await service.process_pending() == 3
    assert met == [1]
    assert await _outcome(bot) == [("done", n) for n in range(1, 4)]
    counts = await service.db.run(lambda s: s.scalar(
        select(Member.post_count).where(Member.email == "m0@example.net")))
    assert counts == 3  # counted once, by the turn that committed
