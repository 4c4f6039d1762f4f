"""The worker claims new messages several at a time (one statement), handles them in the
order they came, and leaves what a turn did not reach for the next one; another daemon's
claims are skipped. The fan-out's readers are asked after what the transaction changed."""

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from mailbot.config.addresses import resolve
from mailbot.service import CLAIM_BATCH, CLAIM_LIMITS, CLAIM_MARGIN
from mailbot.storage import db
from mailbot.storage.members import Members
from mailbot.storage.messages import InboundMessage, Messages
from tests.e2e import Driver
from tests.helpers import make_message
from tests.test_outbound import note_turns, posts

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _row(number: int) -> dict[str, Any]:
    return {"received_at": NOW, "mail_from": f"m{number}@example.net",
            "rcpt": "sel@example.org", "list_name": "sel", "role": "post", "token": None,
            "message_key": f"<{number}@example.net>", "raw": b"Subject: x\n\nx\n", "size": 14,
            "status": "new"}


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("m0@example.net", "Mo")]  # the author of `posts`


def _stored(database: db.Database, count: int) -> list[int]:
    database.transaction(lambda s: Messages(s).store_new([_row(n) for n in range(count)]))
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM inbound_message ORDER BY id")).scalars())


def test_a_claim_takes_the_oldest_new_messages_up_to_a_limit(database: db.Database) -> None:
    ids = _stored(database, 6)

    with database.engine.begin() as conn:
        conn.execute(text("UPDATE inbound_message SET status = 'done' WHERE id = :id"),
                     {"id": ids[1]})

    def claim(session: Session) -> tuple[list[int], list[int]]:
        messages = Messages(session)
        return ([r.id for r in messages.claim(ids[4], 2)],
                [r.id for r in messages.claim(ids[4], 10)])

    assert database.transaction(claim) == ([ids[0], ids[2]],
                                           [ids[0], ids[2], ids[3], ids[4]])


def test_a_claim_after_a_handled_batch_skips_it_before_it_is_written(
        database: db.Database) -> None:
    """The turn claims its next batch before writing the last one (its last write then
    numbers the archive too): the handled messages, still new in the database, are not
    claimed again."""
    ids = _stored(database, 4)

    def claim(session: Session) -> tuple[list[int], list[int]]:
        messages = Messages(session)
        first = messages.claim(ids[-1], 2)
        for row in first:
            row.status = "done"  # not flushed: the next claim does not write it
        return [r.id for r in first], [r.id for r in messages.claim(ids[-1], 10,
                                                                    after=first[-1].id)]

    assert database.transaction(claim) == (ids[:2], ids[2:])


def test_a_claim_skips_what_another_daemon_holds(database: db.Database,
                                                 database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: a second daemon waits for the first's turn")
    ids = _stored(database, 5)
    other = db.Database(database_url)
    try:
        def both(session: Session) -> tuple[list[int], list[int]]:
            mine = [r.id for r in Messages(session).claim(ids[-1], 2)]
            theirs = other.transaction(
                lambda s: [r.id for r in Messages(s).claim(ids[-1], 10)])
            return mine, theirs

        assert database.transaction(both) == (ids[:2], ids[2:])
    finally:
        other.close()


async def test_a_turn_handles_several_claims_in_the_order_they_came(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    service = bot.service
    turns = note_turns(service, monkeypatch, 60.0)
    count = CLAIM_BATCH * 2 + 3
    await posts(service, count)
    assert await service.process_pending() == count
    assert turns[0] == count  # one transaction, three claims
    with service.db.engine.connect() as conn:
        numbers = conn.execute(text(
            "SELECT archive_number FROM inbound_message ORDER BY id")).scalars().all()
    assert list(numbers) == list(range(1, count + 1))


def _claims_noted(service: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A clock that ticks once a post (a turn's slice counts posts); the size each claim
    asks for, in order."""
    ticks = itertools.count()
    monkeypatch.setattr(service, "turn_clock", lambda: float(next(ticks)))
    asked: list[int] = []
    claim = Messages.claim

    def noting(self: Messages, up_to: int, limit: int, *args: Any, **kwargs: Any) -> Any:
        asked.append(limit)
        return claim(self, up_to, limit, *args, **kwargs)

    monkeypatch.setattr(Messages, "claim", noting)
    return asked


async def test_a_turn_claims_what_the_last_full_turn_held(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first claim takes CLAIM_BATCH; once a turn ran to its slice, each claims what
    it held and CLAIM_MARGIN more (a turn of three posts here: a clock that ticks once a
    post); what is claimed and not reached is handled in the next turn, once."""
    service = bot.service
    turns = note_turns(service, monkeypatch, 3.0)
    asked = _claims_noted(service, monkeypatch)
    await posts(service, 10)
    assert await service.process_pending() == 10
    assert turns == [3, 3, 3, 1]  # the last claim came back short: no empty turn after it
    assert asked[0] == CLAIM_BATCH and set(asked[1:]) == {3 + CLAIM_MARGIN}, asked
    assert CLAIM_LIMITS[0] <= 3 + CLAIM_MARGIN  # else the lower limit, checked below
    with service.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inbound_message "
                                 "WHERE status = 'done'")).scalar() == 10


@pytest.mark.parametrize(("posts_a_turn", "claimed"), [(1, CLAIM_LIMITS[0]),
                                                       (45, CLAIM_LIMITS[1])])
async def test_a_claim_stays_within_its_limits(
        bot: Driver, monkeypatch: pytest.MonkeyPatch, posts_a_turn: int, claimed: int) -> None:
    """A turn of one post claims CLAIM_LIMITS' least next, not three; a turn of 45 (all
    within one look ahead), its most, not 47."""
    service = bot.service
    note_turns(service, monkeypatch, float(posts_a_turn))
    asked = _claims_noted(service, monkeypatch)
    service.claim_size = posts_a_turn  # a first claim as big as the turn
    await posts(service, posts_a_turn + 1)
    assert await service.process_pending() == posts_a_turn + 1
    assert asked[0] == posts_a_turn and asked[-1] == claimed, asked


async def test_an_index_asked_in_the_same_turn_as_a_post_lists_it(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The post is numbered as the turn commits; the index, handled after it in the same
    turn, already lists it with its number."""
    service = bot.service
    turns = note_turns(service, monkeypatch, 60.0)
    await posts(service, 1)
    recipient = resolve("sel-request@example.org", service.config.lists, "-")
    assert recipient is not None
    await service.accept(make_message(sender="m0@example.net", to="sel-request@example.org",
                                      body="index"), "m0@example.net",
                         [("sel-request@example.org", recipient)])
    assert await service.process_pending() == 2
    await service.drain()
    assert turns[0] == 2
    [index] = [r for r in bot.sink.to("m0@example.net") if not r.message["List-Id"]]
    assert "n°1" in index.text() and "Post 0" in index.text()


async def test_what_a_turn_did_not_reach_is_handled_in_the_next(
        bot: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn of no time handles one of the messages it claimed: the others stay new
    (claimed, not lost) and each is handled once."""
    service = bot.service
    turns = note_turns(service, monkeypatch, 0.0)
    await posts(service, 4)
    assert await service.process_pending() == 4
    assert turns[:4] == [1, 1, 1, 1]
    with service.db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT status, archive_number FROM inbound_message ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("done", n) for n in range(1, 5)]


def test_readers_are_asked_after_what_the_transaction_changed(
        database: db.Database) -> None:
    def pause(session: Session) -> list[str]:
        members = Members(session)
        for email in ("ann@example.org", "bob@example.org"):
            members.add("sel", email, email[:3], NOW)
        session.flush()
        bob = members.get("sel", "bob@example.org")
        assert bob is not None
        bob.nomail = True  # not flushed yet
        return [r.email for r in members.receiving_each("sel")]

    assert database.transaction(pause) == ["ann@example.org"]


def _distribute(session: Session, row: InboundMessage) -> None:
    """What `pass_post` does to the row of a post that went out, in its own savepoint."""
    with session.begin_nested():
        row.status, row.distributed_at = "done", NOW
        Messages(session).archive(row)


def test_posts_are_numbered_as_the_transaction_commits_in_the_order_they_went_out(
        database: db.Database) -> None:
    """A post whose savepoint is rolled back gets no number, and no number is skipped."""
    ids = _stored(database, 3)

    def turn(session: Session) -> list[int | None]:
        first, failed, last = Messages(session).claim(ids[-1], 3)
        _distribute(session, first)
        with pytest.raises(RuntimeError), session.begin_nested():
            row = failed
            row.status, row.distributed_at = "done", NOW
            Messages(session).archive(row)
            raise RuntimeError("the handling failed after the post was archived")
        _distribute(session, last)
        return [first.archive_number, last.archive_number]  # not yet: at the commit

    assert database.transaction(turn) == [None, None]
    with database.engine.connect() as conn:
        numbers = conn.execute(text(
            "SELECT archive_number FROM inbound_message ORDER BY id")).scalars().all()
    assert list(numbers) == [1, None, 2]


def test_the_archive_read_in_a_transaction_has_its_own_posts(database: db.Database) -> None:
    ids = _stored(database, 2)

    def turn(session: Session) -> list[int | None]:
        for row in Messages(session).claim(ids[-1], 2):
            _distribute(session, row)
        archived = Messages(session).archived("sel")
        assert Messages(session).archived_post("sel", 2) is archived[1]
        return [r.archive_number for r in archived]

    assert database.transaction(turn) == [1, 2]


def test_the_archive_read_by_a_request_in_the_same_turn_has_the_posts_before_it(
        database: db.Database) -> None:
    """A request (`index`, `get 1`) is handled in a savepoint of its own after a post of
    the same turn: it finds the post numbered, and a request undone takes no number away."""
    ids = _stored(database, 1)

    def turn(session: Session) -> None:
        row = Messages(session).claim(ids[-1], 1)[0]
        _distribute(session, row)
        with pytest.raises(RuntimeError), session.begin_nested():
            assert [r.id for r in Messages(session).archived("sel")] == [row.id]
            raise RuntimeError("the request's handling failed")
        with session.begin_nested():
            assert Messages(session).archived_post("sel", 1) is row

    database.transaction(turn)
    with database.engine.connect() as conn:
        numbers = conn.execute(text("SELECT archive_number FROM inbound_message")).all()
    assert [tuple(n) for n in numbers] == [(1,)]


def test_a_turn_under_way_does_not_hold_the_archive_counter(database: db.Database,
                                                          database_url: str) -> None:
    """Two workers on PostgreSQL: the second's turn commits while the first's is still
    open (numbered at the commit, the counter's row lock lasts no longer); its post is
    numbered first. Fails if a post takes its number as it goes out (the second waits
    for the first's commit: lock timeout)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: a second daemon waits for the first's turn")
    ids = _stored(database, 3)
    database.transaction(lambda s: _distribute(s, Messages(s).claim(ids[0], 1)[0]))
    other = db.Database(database_url)

    def second(session: Session) -> None:
        session.execute(text("SET LOCAL lock_timeout = '2s'"))
        _distribute(session, Messages(session).claim(ids[-1], 1)[0])

    try:
        def first(session: Session) -> None:
            _distribute(session, Messages(session).claim(ids[-1], 1)[0])
            other.transaction(second)

        database.transaction(first)
    finally:
        other.close()
    with database.engine.connect() as conn:
        numbers = conn.execute(text(
            "SELECT archive_number FROM inbound_message ORDER BY id")).scalars().all()
    assert list(numbers) == [1, 3, 2]
