"""What a transaction keeps of the `member` table: rows asked by address (`get`, `ask_many`)
and who receives each post (`receiving_each`). Asked once, answered from memory, and asked
again whenever what was kept may no longer be true: a setting that decides who receives
posts changed on a row (even before it is written), a member added or removed, a
savepoint rolled back, the transaction ended."""

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from mailbot.config.addresses import resolve
from mailbot.storage import db
from mailbot.storage.members import Members
from mailbot.storage.messages import Messages
from mailbot.storage.models import InboundMessage
from tests.e2e import Driver
from tests.helpers import make_message

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
_READERS = "SELECT member.email, member.language, member.verp_token"
PEOPLE = ("ann@example.org", "bob@example.org", "cid@example.org")


@pytest.fixture
def database(database: db.Database) -> db.Database:
    """The database of conftest, with three members in mode `each`."""
    def add(session: Session) -> None:
        for email in PEOPLE:
            Members(session).add("sel", email, email[:3], NOW)

    database.transaction(add)
    return database


def _adds_posts(statement: str) -> bool:
    """The statement that writes the posts' counts: an executemany on SQLite, one
    statement for all the members on PostgreSQL."""
    return statement.lstrip().startswith(("UPDATE member", "WITH locked"))


@pytest.fixture
def asked(database: db.Database) -> Iterator[list[str]]:
    """The statements run on the `member` table, as they are run."""
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM member" in statement or "UPDATE member" in statement:
            statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", note)
    yield statements
    event.remove(database.engine, "before_cursor_execute", note)


def _emails(members: Members) -> list[str]:
    return [r.email for r in members.receiving_each("sel")]


def test_rows_asked_together_are_answered_from_memory_even_after_a_write(
        database: db.Database, asked: list[str]) -> None:
    def read(session: Session) -> None:
        members = Members(session)
        members.ask_many("sel", ["ANN@example.org", "bob@example.org", "nobody@example.org"])
        assert len(asked) == 1
        ann = members.get("sel", "ann@example.org")
        assert ann is not None and ann.name == "ann"
        ann.post_count += 1
        session.flush()  # writes the row; what was asked stays true
        assert members.get("sel", "Ann@Example.org") is ann
        assert members.get("sel", "bob@example.org") is not None
        assert len([s for s in asked if "FROM member" in s]) == 1
        assert members.get("sel", "nobody@example.org") is None  # no one: asked again
        assert len([s for s in asked if "FROM member" in s]) == 2

    database.transaction(read)
    asked.clear()
    database.transaction(lambda s: Members(s).get("sel", "ann@example.org"))
    assert len(asked) == 1  # a new transaction asks afresh


def test_a_savepoint_rolled_back_forgets_the_member_it_added(database: db.Database) -> None:
    def undo(session: Session) -> tuple[bool, bool, list[str]]:
        members = Members(session)
        savepoint = session.begin_nested()
        members.add("sel", "dan@example.org", "Dan", NOW)
        there = members.get("sel", "dan@example.org") is not None
        receiving = _emails(members)
        savepoint.rollback()
        gone = members.get("sel", "dan@example.org") is None
        return there, gone, [*receiving, "|", *_emails(members)]

    there, gone, receiving = database.transaction(undo)
    assert there and gone
    assert receiving == [*PEOPLE, "dan@example.org", "|", *PEOPLE]


def test_receiving_each_is_asked_once_a_transaction(
        database: db.Database, asked: list[str]) -> None:
    def twice(session: Session) -> None:
        members = Members(session)
        first = members.receiving_each("sel")
        assert members.receiving_each("sel") is first
        assert isinstance(first, tuple)  # no caller can change what is kept
        bob = members.get("sel", "bob@example.org")
        assert bob is not None
        bob.post_count += 1  # a post counted: who receives posts is the same
        session.flush()
        assert members.receiving_each("sel") is first

    database.transaction(twice)
    assert len([s for s in asked if s.startswith(_READERS)]) == 1
    database.transaction(lambda s: Members(s).receiving_each("sel"))
    assert len([s for s in asked if s.startswith(_READERS)]) == 2


@pytest.mark.parametrize("change", ["delivery", "nomail", "suspended", "email"])
def test_receiving_each_follows_a_setting_changed_and_not_yet_written(
        database: db.Database, change: str) -> None:
    def changed(session: Session) -> list[str]:
        members = Members(session)
        assert _emails(members) == list(PEOPLE)
        bob = members.get("sel", "bob@example.org")
        assert bob is not None
        if change == "delivery":
            bob.delivery = "daily"
        elif change == "nomail":
            bob.nomail = True
        elif change == "suspended":
            bob.suspended_at = NOW
        else:
            bob.email = "bobby@example.org"
        return _emails(members)

    expected = ["ann@example.org", "cid@example.org"]
    if change == "email":
        expected = ["ann@example.org", "bobby@example.org", "cid@example.org"]
    assert database.transaction(changed) == expected


def test_receiving_each_follows_members_added_and_removed(database: db.Database) -> None:
    def roster(session: Session) -> list[list[str]]:
        members = Members(session)
        seen = [_emails(members)]
        members.add("sel", "dan@example.org", "Dan", NOW)
        seen.append(_emails(members))
        members.remove("sel", "ann@example.org")
        seen.append(_emails(members))
        members.add_many("sel", [("eve@example.org", "Eve")], NOW)
        seen.append(_emails(members))
        return seen

    assert database.transaction(roster) == [
        list(PEOPLE), [*PEOPLE, "dan@example.org"],
        ["bob@example.org", "cid@example.org", "dan@example.org"],
        ["bob@example.org", "cid@example.org", "dan@example.org", "eve@example.org"]]


@pytest.fixture
def members() -> list[tuple[str, str]]:
    return [("m0@example.net", "Mo"), ("bob@example.net", "Bob")]


async def test_a_turn_asks_for_its_authors_and_readers_once(bot: Driver) -> None:
    """Six posts of two members in one turn: one read of the authors, one of the readers
    (not six of each), one write of the rows at the end, their archive numbers in it;
    each copy still goes out."""
    service, statements = bot.service, []
    service.worker_slice = 60.0  # one turn for the six, however slow the machine

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    recipient = resolve("sel@example.org", service.config.lists, "-")
    assert recipient is not None
    for number in range(6):
        sender = ("m0@example.net", "bob@example.net")[number % 2]
        await service.accept(make_message(sender=sender, subject=f"Post {number}"), sender,
                             [("sel@example.org", recipient)])
    event.listen(service.db.engine, "before_cursor_execute", note)
    try:
        assert await service.process_pending() == 6
    finally:
        event.remove(service.db.engine, "before_cursor_execute", note)
    member_reads = [s for s in statements if s.startswith("SELECT member.")]
    assert len(member_reads) == 2, member_reads  # with a turn a post: 12
    updates = [s for s in statements if s.startswith("UPDATE inbound_message")]
    # one write of the rows, their archive numbers in it (not one more at the commit)
    assert len(updates) == 1 and "archive_number" in updates[0], updates
    # what the commit would write, written before it in the commit's order
    written = ["member" if _adds_posts(s) else "counter" for s in statements
               if _adds_posts(s) or s.startswith("UPDATE counter")]
    assert written[0] == "member" and set(written[1:]) == {"counter"}, written
    await service.drain()
    assert sorted(m.message["Subject"] for m in bot.sink.to("bob@example.net")) == [
        f"[sel] Post {n}" for n in range(6)]


# --- posts counted for their authors, written as the transaction commits ----------------

_KEYS = itertools.count()


def _post(session: Session, number: int, *, distributed: bool = True) -> InboundMessage:
    row = InboundMessage(received_at=NOW, mail_from="ann@example.org", rcpt="sel@example.org",
                         list_name="sel", role="post", message_key=f"<{number}.{next(_KEYS)}@x>",
                         raw=b"Subject: x\n\nx\n", size=14, status="done",
                         distributed_at=NOW if distributed else None)
    session.add(row)
    session.flush()
    return row


def _counts(database: db.Database, email: str = "ann@example.org") -> tuple[int, str | None,
                                                                          int]:
    def read(session: Session) -> tuple[int, str | None, int]:
        member = Members(session).get("sel", email)
        assert member is not None
        return member.post_count, member.posts_on, member.posts_that_day
    return database.transaction(read)


def test_posts_are_counted_at_once_and_written_as_the_transaction_commits(
        database: db.Database, asked: list[str]) -> None:
    def two_posts(session: Session) -> list[tuple[int, int]]:
        members = Members(session)
        ann = members.get("sel", "ann@example.org")
        assert ann is not None
        bob = members.get("sel", "bob@example.org")
        assert ann is not None and bob is not None
        seen = [members.posts_of(ann, "2026-12-04")]
        for number in range(2):
            members.count_post(ann, _post(session, number), "2026-12-04")
            members.count_post(bob, _post(session, 10 + number), "2026-12-04")  # not ann's
            seen.append(members.posts_of(ann, "2026-12-04"))
        seen.append(members.posts_of(ann, "2026-12-05"))  # another day: none that day
        assert not [s for s in asked if _adds_posts(s)]  # not yet
        return seen

    assert database.transaction(two_posts) == [(0, 0), (1, 1), (2, 2), (2, 0)]
    assert len([s for s in asked if _adds_posts(s)]) == 1
    assert _counts(database) == (2, "2026-12-04", 2)
    assert _counts(database, "bob@example.org") == (2, "2026-12-04", 2)


def test_a_new_day_starts_the_days_count_again(database: db.Database) -> None:
    def posts(session: Session, days: list[str]) -> None:
        members = Members(session)
        ann = members.get("sel", "ann@example.org")
        assert ann is not None
        for number, day in enumerate(days):
            members.count_post(ann, _post(session, len(days) * 10 + number), day)

    database.transaction(posts, ["2026-12-03"] * 3)
    assert _counts(database) == (3, "2026-12-03", 3)
    database.transaction(posts, ["2026-12-03", "2026-12-04", "2026-12-04"])
    assert _counts(database) == (6, "2026-12-04", 2)
    database.transaction(posts, ["2026-12-04"])
    assert _counts(database) == (7, "2026-12-04", 3)


def test_a_post_undone_by_its_savepoint_is_not_counted(database: db.Database) -> None:
    def undone(session: Session) -> tuple[int, int]:
        members = Members(session)
        ann = members.get("sel", "ann@example.org")
        assert ann is not None
        members.count_post(ann, _post(session, 1), "2026-12-04")
        row = _post(session, 2, distributed=False)  # claimed
        savepoint = session.begin_nested()
        row.distributed_at = NOW  # as pass_post marks it
        members.count_post(ann, row, "2026-12-04")
        assert members.posts_of(ann, "2026-12-04") == (2, 2)
        savepoint.rollback()  # the post was not distributed after all
        return members.posts_of(ann, "2026-12-04")

    assert database.transaction(undone) == (1, 1)
    assert _counts(database) == (1, "2026-12-04", 1)


def test_a_transaction_rolled_back_counts_nothing(database: db.Database) -> None:
    def fails(session: Session) -> None:
        members = Members(session)
        ann = members.get("sel", "ann@example.org")
        assert ann is not None
        members.count_post(ann, _post(session, 1), "2026-12-04")
        raise RuntimeError("simulated")

    with pytest.raises(RuntimeError):
        database.transaction(fails)
    assert _counts(database) == (0, None, 0)


def test_counts_are_written_by_member_id_before_the_archive_numbers(
        database: db.Database) -> None:
    """Every commit takes its locks in one order (members by id, then the list's counter):
    two workers committing at once never wait for each other in a circle."""
    written: list[tuple[str, object]] = []

    def note(_conn: object, _cursor: object, statement: str, parameters: object,
             *_args: object) -> None:
        if _adds_posts(statement) or statement.startswith("UPDATE counter"):
            written.append(("member" if _adds_posts(statement) else "counter", parameters))

    def posts(session: Session) -> None:
        members, messages = Members(session), Messages(session)
        for number, email in enumerate(("cid@example.org", "ann@example.org",
                                        "bob@example.org", "ann@example.org")):
            member = members.get("sel", email)
            assert member is not None
            row = _post(session, number)
            members.count_post(member, row, "2026-12-04")
            messages.archive(row)

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        database.transaction(posts)
    finally:
        event.remove(database.engine, "before_cursor_execute", note)
    assert [table for table, _ in written][:2] == ["member", "counter"]
    ids = database.transaction(lambda s: {
        email: member.id for email in PEOPLE
        if (member := Members(s).get("sel", email)) is not None})
    rows = written[0][1]
    if isinstance(rows, dict):  # PostgreSQL: one statement, the ids as an array
        param_ids = list(rows["ids"])
    else:
        assert isinstance(rows, (list, tuple))
        param_ids = [row["member_id"] if isinstance(row, dict) else row[-1] for row in rows]
    assert param_ids == sorted(ids.values())
    assert [_counts(database, email)[0] for email in PEOPLE] == [2, 1, 1]


def test_two_transactions_counting_one_member_lose_neither(database: db.Database) -> None:
    """Both read the member's count before either wrote: the counts are added in the
    database, not written over what each read."""
    if database.single_writer:
        pytest.skip("SQLite: one writer, transactions never overlap")
    first = database.sessions()
    second = database.sessions()
    try:
        with first.begin(), second.begin():
            ann_first, ann_second = (Members(s).get("sel", "ann@example.org")
                                     for s in (first, second))
            assert ann_first is not None and ann_second is not None
            Members(first).count_post(ann_first, _post(first, 1), "2026-12-04")
            Members(second).count_post(ann_second, _post(second, 2), "2026-12-04")
            second.commit()
        assert _counts(database) == (2, "2026-12-04", 2)
    finally:
        first.close()
        second.close()


def test_the_counts_lock_their_members_in_the_order_of_their_ids(
        database: db.Database) -> None:
    """PostgreSQL writes every member's count in one statement: while the first of them
    (lowest id) is held by another transaction, it waits for it before taking the next,
    as two workers committing at once must (else each holds what the other waits for)."""
    if database.single_writer:
        pytest.skip("SQLite: one writer, transactions never overlap")
    ids = database.transaction(lambda s: sorted(
        member.id for email in PEOPLE if (member := Members(s).get("sel", email))))
    holder, counting = database.sessions(), database.sessions()
    try:
        holder.begin()
        holder.execute(text("SELECT id FROM member WHERE id = :id FOR UPDATE"),
                       {"id": ids[0]})

        def count_all() -> None:
            with counting.begin():
                members = Members(counting)
                for number, email in enumerate(reversed(PEOPLE)):  # the highest id first
                    member = members.get("sel", email)
                    assert member is not None
                    members.count_post(member, _post(counting, 50 + number), "2026-12-04")

        writer = threading.Thread(target=count_all)
        writer.start()
        time.sleep(0.5)  # it writes, and waits for the first member
        assert writer.is_alive()
        with database.engine.connect() as other:  # the others are not taken yet
            for member_id in ids[1:]:
                other.execute(text("SELECT id FROM member WHERE id = :id FOR UPDATE NOWAIT"),
                              {"id": member_id})
            other.rollback()
        holder.rollback()
        writer.join(10)
        assert not writer.is_alive()
        assert [_counts(database, email)[0] for email in PEOPLE] == [1, 1, 1]
    finally:
        holder.close()
        counting.close()
