"""The ban list is read once a transaction (the worker asks it for every message of its
turn) and is never stale within it: a ban added or lifted there counts at once, also after
a savepoint undone; one another session commits counts from the next transaction."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from mailbot.storage import db
from mailbot.storage.moderating import Bans
from tests.helpers import statements_of

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(database: db.Database) -> db.Database:
    database.transaction(lambda s: Bans(s).add("sel", "Spam@Example.org", "mod@x.org", NOW))
    return database


def test_asked_for_each_message_read_once(database: db.Database) -> None:
    def turn(session: Session) -> tuple[list[bool], int]:
        bans, seen = Bans(session), statements_of(session)
        found = []
        for sender in ("ann@example.org", "spam@example.org", "SPAM@example.org", ""):
            with session.begin_nested():  # a savepoint ending does not forget them
                found.append(bans.any_of("sel", [sender, "bob@example.org"]))
        found.append(bans.any_of("other", ["spam@example.org"]))
        found.append(bans.any_of("sel", ["", ""]))
        return found, sum("FROM ban" in s for s in seen)

    found, reads = database.transaction(turn)
    assert found == [False, True, True, False, False, False]
    assert reads == 2  # "sel" once, "other" once


def test_a_ban_added_or_lifted_counts_at_once(database: db.Database) -> None:
    def change(session: Session) -> None:
        bans = Bans(session)
        assert not bans.any_of("sel", ["bob@example.org"])
        assert bans.add("sel", "Bob@example.org", "mod@x.org", NOW)
        assert bans.any_of("sel", ["bob@example.org"])
        assert bans.remove("sel", "spam@example.org")
        assert not bans.any_of("sel", ["spam@example.org"])

    database.transaction(change)


def test_a_savepoint_undone_undoes_the_ban(database: db.Database) -> None:
    class Undo(Exception):
        pass

    def undone(session: Session) -> None:
        bans = Bans(session)
        assert not bans.any_of("sel", ["bob@example.org"])
        with pytest.raises(Undo), session.begin_nested():
            bans.add("sel", "bob@example.org", "mod@x.org", NOW)
            assert bans.any_of("sel", ["bob@example.org"])
            raise Undo
        assert not bans.any_of("sel", ["bob@example.org"])

    database.transaction(undone)


def test_a_ban_committed_elsewhere_counts_from_the_next_transaction(
        database: db.Database) -> None:
    assert not database.transaction(lambda s: Bans(s).any_of("sel", ["bob@example.org"]))
    database.transaction(lambda s: Bans(s).add("sel", "bob@example.org", "mod@x.org", NOW))
    assert database.transaction(lambda s: Bans(s).any_of("sel", ["bob@example.org"]))
    with database.sessions() as session:  # one session, a transaction after another
        assert not Bans(session).any_of("sel", ["eve@example.org"])
        session.commit()
        database.transaction(lambda s: Bans(s).add("sel", "eve@example.org", "m@x.org", NOW))
        assert Bans(session).any_of("sel", ["eve@example.org"])
        session.rollback()
