"""A worker's turn handles its messages without a savepoint each; when one fails, the
whole turn is rolled back and its messages handled again one savepoint at a time: the
failing one quarantined, the others handled once (one copy each, one log line each)."""

import logging
from typing import Any

import pytest
from sqlalchemy import select

import mailbot.handling.dispatch
import mailbot.service
from mailbot.config import ListConfig
from mailbot.outbound.context import Context
from mailbot.reading.message import header
from mailbot.storage.models import InboundMessage
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
    assert turns == [5, 0]  # the failed turn returned nothing; the last found none left

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
