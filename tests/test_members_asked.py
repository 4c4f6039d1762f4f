"""A member's row asked again in the same message is not read again from the database, and
is never stale: after an add, a removal, a savepoint undone, or in the next message."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from mailbot.storage import db
from mailbot.storage.members import Members
from tests.helpers import statements_of

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(database: db.Database) -> db.Database:
    database.transaction(lambda s: Members(s).add("sel", "ann@example.org", "Ann", NOW))
    return database


def test_asked_twice_read_once(database: db.Database) -> None:
    def twice(session: Session) -> int:
        members = Members(session)
        seen = statements_of(session)
        first = members.get("sel", "ann@example.org")
        again = members.get("sel", "Ann@Example.org")
        assert first is not None and again is first
        assert members.get("sel", "bob@example.org") is None
        assert members.get("sel", "bob@example.org") is None
        assert members.get("other", "ann@example.org") is None
        return len(seen)

    assert database.transaction(twice) == 4  # Ann once; "no one" is asked each time


def test_an_add_or_a_removal_is_seen_at_once(database: db.Database) -> None:
    def change(session: Session) -> None:
        members = Members(session)
        assert members.get("sel", "bob@example.org") is None
        members.add("sel", "bob@example.org", "Bob", NOW)
        assert members.get("sel", "bob@example.org") is not None
        assert members.get("sel", "ann@example.org") is not None
        assert members.remove("sel", "ann@example.org")
        assert members.get("sel", "ann@example.org") is None

    database.transaction(change)


def test_a_row_given_a_new_address_is_not_found_by_the_old_one(database: db.Database) -> None:
    def moved(session: Session) -> None:
        members = Members(session)
        ann = members.get("sel", "ann@example.org")
        assert ann is not None
        ann.email = "ann@elsewhere.org"
        assert members.get("sel", "ann@example.org") is None
        assert members.get("sel", "ann@elsewhere.org") is ann
        assert members.get("sel", "bob@example.org") is None
        ann.email = "bob@example.org"
        assert members.get("sel", "bob@example.org") is ann

    database.transaction(moved)


def test_a_savepoint_undone_undoes_what_was_asked(database: db.Database) -> None:
    class Undo(Exception):
        pass

    def undone(session: Session) -> None:
        members = Members(session)
        assert members.get("sel", "ann@example.org") is not None
        with pytest.raises(Undo), session.begin_nested():
            members.remove("sel", "ann@example.org")
            assert members.get("sel", "ann@example.org") is None
            members.add("sel", "bob@example.org", "Bob", NOW)
            assert members.get("sel", "bob@example.org") is not None
            raise Undo
        assert members.get("sel", "ann@example.org") is not None  # the removal undone
        assert members.get("sel", "bob@example.org") is None  # the add undone

    database.transaction(undone)


def test_each_message_asks_again(database: db.Database, database_url: str) -> None:
    """Messages are handled in savepoints: what another process committed in between is
    seen by the next message (here, Bob joined by another connection)."""
    other = db.Database(database_url)

    def two_messages(session: Session) -> None:
        members = Members(session)
        with session.begin_nested():
            assert members.get("sel", "bob@example.org") is None
        other.transaction(lambda s: Members(s).add("sel", "bob@example.org", "Bob", NOW))
        with session.begin_nested():
            assert members.get("sel", "bob@example.org") is not None

    try:
        if database.single_writer:  # SQLite: one writer; the other waits for our end
            pytest.skip("SQLite has one writer at a time")
        database.transaction(two_messages)
    finally:
        other.close()
