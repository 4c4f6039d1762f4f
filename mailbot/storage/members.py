"""The roster, asked in the members' words: who is on a list, who receives what.

The only door to the `member` table. It hands out `Member` rows; changing a member's
own settings (mode, language, pause) is done on the row, inside the caller's transaction.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import InstanceState, Session, SessionTransaction, object_session

from mailbot.config.rules import DIGEST_MODES
from mailbot.core.tokens import new_token
from mailbot.storage.counters import next_number
from mailbot.storage.models import InboundMessage, Member

__all__ = ["Addressee", "Member", "Members", "Reader"]


class Addressee(Protocol):
    """What a list copy needs of a member: a `Member` row, or a `Reader`."""

    @property
    def email(self) -> str: ...

    @property
    def language(self) -> str | None: ...

    @property
    def verp_token(self) -> str: ...


class Reader(NamedTuple):
    """A member as a list copy sees them, read as plain columns: the readers of a post to
    50,000 members are 50,000 small tuples, not ORM rows held by the session."""

    email: str
    language: str | None
    verp_token: str

    @classmethod
    def of(cls, member: Addressee) -> "Reader":
        return cls(member.email, member.language, member.verp_token)

# The worker's most frequent queries, built once: building a statement (and its cache key)
# costs more than running it.
_ONE = select(Member).where(Member.list_name == bindparam("list_name"),
                            Member.email == bindparam("email"))
_SOME = select(Member).where(Member.list_name == bindparam("list_name"),
                             Member.email.in_(bindparam("emails", expanding=True)))
_ROSTER = select(Member).where(Member.list_name == bindparam("list_name")).order_by(Member.email)


def gets_mail() -> ColumnElement[bool]:
    """Neither paused by the member (`nomail`) nor suspended for bounces."""
    return and_(Member.nomail.is_(False), Member.suspended_at.is_(None))


# Asked once a transaction (`receiving_each`); run on the connection (no ORM rows).
_RECEIVING_EACH = (select(Member.email, Member.language, Member.verp_token)
                   .where(Member.list_name == bindparam("list_name"),
                          Member.delivery == "each", gets_mail())
                   .order_by(Member.id))


# What a turn of the worker asks again and again, kept in the session's `info` until the
# transaction ends: members' rows by address (a post asks for its author's up to four
# times: the request reader, the pipeline, the count of posts; a turn reads the authors
# of its messages at once, `ask_many`), and who receives each post as it comes (asked for
# every post). Forgotten when the transaction ends, when a rollback of any depth (a
# savepoint, a failed flush) may have undone an add or a removal, when we add or remove,
# and, for the readers, when a setting that decides who receives posts is changed on a
# row (`_RECEIVING_DEPENDS_ON`, events below).
_ASKED = "mailbot.members.asked"
_RECEIVING = "mailbot.members.receiving_each"
_RECEIVING_DEPENDS_ON = (Member.list_name, Member.email, Member.language, Member.verp_token,
                         Member.delivery, Member.nomail, Member.suspended_at)


def _forget(session: Session) -> None:
    session.info.pop(_ASKED, None)
    session.info.pop(_RECEIVING, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    """Once for every session (a listener added to each session cost more than a query)."""
    if transaction.parent is None:  # the transaction itself: the next one reads afresh
        _forget(session)
        session.info.pop(_COUNTED, None)  # written as it committed, or rolled back


@event.listens_for(Session, "after_soft_rollback")
def _forget_what_was_undone(session: Session, _transaction: SessionTransaction) -> None:
    _forget(session)


def _readers_changed(member: Member, value: object, old: object, _initiator: object) -> None:
    session = object_session(member)
    if session is not None and value != old:
        session.info.pop(_RECEIVING, None)


for _column in _RECEIVING_DEPENDS_ON:
    event.listen(_column, "set", _readers_changed)


# Posts counted for their authors (`count_post`), written as the transaction commits
# (`write_post_counts`): (the post's row, its author's row, the day in the list's zone).
_COUNTED = "mailbot.members.posts_counted"
_ADD_POSTS = update(Member).where(Member.id == bindparam("member_id")).values(
    post_count=Member.post_count + bindparam("posts"),
    posts_that_day=case((Member.posts_on == bindparam("day"),
                         Member.posts_that_day + bindparam("posts_that_day")),
                        else_=bindparam("posts_that_day")),
    posts_on=bindparam("day"))
# The same on PostgreSQL, for every member in one statement: an executemany costs
# psycopg's pipeline a round of Python and system calls a row (0.38-0.41 ms of CPU for
# 13 rows against 0.14-0.15).
# The rows are locked first in the order of their ids (`locked`, materialized, sorted,
# FOR UPDATE; every row updated is one it locked), as the executemany took them.
_ADD_POSTS_AT_ONCE = text("""
WITH locked AS MATERIALIZED (
    SELECT id FROM member WHERE id = ANY(CAST(:ids AS INTEGER[])) ORDER BY id FOR UPDATE),
counts AS (
    SELECT * FROM unnest(CAST(:ids AS INTEGER[]), CAST(:posts AS INTEGER[]),
                         CAST(:days AS VARCHAR[]), CAST(:that_day AS INTEGER[]))
        AS c (member_id, posts, day, posts_that_day))
UPDATE member SET post_count = member.post_count + counts.posts,
    posts_that_day = CASE WHEN member.posts_on = counts.day
                          THEN member.posts_that_day + counts.posts_that_day
                          ELSE counts.posts_that_day END,
    posts_on = counts.day
FROM counts JOIN locked ON locked.id = counts.member_id
WHERE member.id = counts.member_id""")


def _counted(session: Session,
             of: Member | None = None) -> list[tuple[InboundMessage, Member, str]]:
    """This transaction's counted posts (`of` one member only), but those undone since (a
    savepoint rolled back: the post was not distributed after all) and those of a member
    removed since. (A member's are picked out first: asked for each post, looking at
    every post of the turn was a turn's posts squared.)"""
    return [(post, member, day) for post, member, day in session.info.get(_COUNTED, ())
            if (of is None or member is of) and _still_there(post) and _still_there(member)
            and post.distributed_at]


def _still_there(row: InboundMessage | Member) -> bool:
    """In the database as this transaction sees it (not deleted, nor undone since)."""
    state: InstanceState[InboundMessage | Member] = inspect(row)
    return state.persistent


def write_post_counts(session: Session) -> None:
    """Add this transaction's posts to their authors' counts: one UPDATE a member, as
    increments (two workers counting one member's posts lose none), in the order of the
    members' ids and only as the transaction commits (a row's lock is then held for the
    commit alone, and two workers' commits take their locks in the same order: neither
    waits for the other in a circle). Counted as each post went out, the author's row
    was locked for the rest of the turn, in the order of the posts: two workers on
    PostgreSQL deadlocked."""
    by_member: dict[int, list[str]] = {}
    for _post, member, day in _counted(session):
        by_member.setdefault(member.id, []).append(day)
    session.info.pop(_COUNTED, None)
    if not by_member:
        return
    rows = [{"member_id": member_id, "posts": len(days), "day": days[-1],
             "posts_that_day": days.count(days[-1])}
            for member_id, days in sorted(by_member.items())]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(_ADD_POSTS, rows)
        return
    connection.execute(_ADD_POSTS_AT_ONCE, {
        "ids": [r["member_id"] for r in rows], "posts": [r["posts"] for r in rows],
        "days": [r["day"] for r in rows], "that_day": [r["posts_that_day"] for r in rows]})


class Members:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _asked(self) -> dict[tuple[str, str], Member]:
        asked: dict[tuple[str, str], Member] = self.session.info.setdefault(_ASKED, {})
        return asked

    def get(self, list_name: str, email: str) -> Member | None:
        key = (list_name, email.lower())
        member = self._asked.get(key)
        if member is not None and member.email == key[1]:  # not since given a new address
            return member
        member = self.session.scalar(_ONE, {"list_name": list_name, "email": key[1]})
        if member is not None:  # "no one" is asked again: someone may take the address
            self._asked[key] = member
        return member

    def ask_many(self, list_name: str, emails: Iterable[str]) -> None:
        """Read the rows of these addresses in one statement, for `get` to answer from
        (a turn's authors, before their messages are handled one by one)."""
        asked = self._asked
        wanted = sorted({e.lower() for e in emails if e} - {
            email for name, email in asked if name == list_name})
        if wanted:
            for member in self.session.scalars(_SOME, {"list_name": list_name,
                                                       "emails": wanted}):
                asked[(list_name, member.email)] = member

    def count_post(self, member: Member, post: InboundMessage, day: str) -> None:
        """One more post of `member` went out (`post`, on `day` in the list's timezone,
        YYYY-MM-DD): counted as the transaction commits (`write_post_counts`), at once
        for `posts_of`."""
        self.session.info.setdefault(_COUNTED, []).append((post, member, day))

    def posts_of(self, member: Member, day: str) -> tuple[int, int]:
        """How many posts of `member` went out, in all and on `day`: what is written,
        and what this transaction counted."""
        days = [d for _post, _member, d in _counted(self.session, member)]
        that_day = member.posts_that_day if member.posts_on == day else 0
        return member.post_count + len(days), that_day + days.count(day)

    def names(self, list_name: str) -> list[tuple[str, str]]:
        """(address, name) of everyone on the list, as plain columns: what the request
        reader matches names against, for every message (no ORM rows, even for 50,000)."""
        return [(email, name) for email, name in self.session.execute(
            select(Member.email, Member.name).where(Member.list_name == list_name)
            .order_by(Member.email))]

    def any_on(self, list_name: str) -> bool:
        """Whether the list has any member at all."""
        return self.session.scalar(select(Member.id).where(Member.list_name == list_name)
                                   .limit(1)) is not None

    def roster(self, list_name: str) -> Sequence[Member]:
        """Everyone on the list, by address."""
        return self.session.scalars(_ROSTER, {"list_name": list_name}).all()

    def add(self, list_name: str, email: str, name: str, now: datetime,
            language: str | None = None) -> tuple[Member, bool]:
        """Add someone (or return them if already there); the flag says whether they are
        new."""
        existing = self.get(list_name, email)
        if existing is not None:
            return existing, False
        member = Member(list_name=list_name, email=email.lower(), name=name,
                        language=language, delivery="each", nomail=False,
                        verp_token=new_token(), post_count=0, joined_at=now)
        self.session.add(member)
        self.session.flush()
        _forget(self.session)
        return member, True

    def add_many(self, list_name: str, people: Iterable[tuple[str, str]],
                  now: datetime) -> int:
        """Add everyone not yet on the list (as `add` would, in mode `each`); how many were
        added. One read of the addresses already there, then plain inserts a thousand at
        a time: 50,000 people from a spreadsheet take seconds, not minutes."""
        there = set(self.session.scalars(
            select(Member.email).where(Member.list_name == list_name)))
        rows = []
        for email, name in people:
            if email.lower() in there:
                continue
            there.add(email.lower())
            rows.append({"list_name": list_name, "email": email.lower(), "name": name,
                         "language": None, "delivery": "each", "nomail": False,
                         "verp_token": new_token(), "post_count": 0, "joined_at": now})
        for start in range(0, len(rows), 1000):
            self.session.execute(insert(Member), rows[start:start + 1000])
        _forget(self.session)
        return len(rows)

    def remove(self, list_name: str, email: str) -> bool:
        member = self.get(list_name, email)
        if member is None:
            return False
        self.session.delete(member)
        self.session.flush()
        _forget(self.session)
        return True

    def without_email(self, list_name: str) -> Sequence[Member]:
        """Members a buddy acts for (they have no email), by name."""
        return self.session.scalars(select(Member).where(
            Member.list_name == list_name, Member.buddy.is_not(None))
            .order_by(Member.name, Member.id)).all()

    def first_mark(self, name: str) -> bool:
        """True the first time `name` is marked (a locked counter: one daemon only)."""
        return next_number(self.session, name) == 1

    def receiving_each(self, list_name: str) -> Sequence[Reader]:
        """Members who get every post as it comes: mode `each`, not paused nor suspended
        (asked once a transaction, see `_RECEIVING`)."""
        known: dict[str, tuple[Reader, ...]] = self.session.info.setdefault(_RECEIVING, {})
        readers = known.get(list_name)
        if readers is None:
            self.session.flush()  # what this transaction changed (a member paused) counts
            readers = known[list_name] = tuple(
                Reader(*row) for row in self.session.connection().execute(
                    _RECEIVING_EACH, {"list_name": list_name}))
        return readers

    def reading_digests(self, list_name: str) -> Sequence[Member]:
        """Members in a digest mode who get mail."""
        return self.session.scalars(select(Member).where(
            Member.list_name == list_name, Member.delivery.in_(DIGEST_MODES),
            gets_mail())).all()

    def digest_due(self, list_name: str, mode: str, due: datetime,
                   limit: int) -> Sequence[Member]:
        """Up to `limit` readers in `mode` whose digest up to `due` has not left, locked
        (skipping those another daemon holds)."""
        return self.session.scalars(
            select(Member).where(
                Member.list_name == list_name, Member.delivery == mode, gets_mail(),
                or_(Member.digest_through.is_(None), Member.digest_through < due))
            .order_by(Member.id).limit(limit).with_for_update(skip_locked=True)).all()

    def by_verp(self, list_name: str, token: str) -> Member | None:
        return self.session.scalar(select(Member).where(
            Member.list_name == list_name, Member.verp_token == token))

    def by_probe(self, list_name: str, token: str) -> Member | None:
        return self.session.scalar(select(Member).where(
            Member.list_name == list_name, Member.probe_token == token))

    def probing(self, list_name: str) -> Sequence[Member]:
        """Suspended members whose probe waits or bounced, locked."""
        return self.session.scalars(select(Member).where(
            Member.list_name == list_name, Member.suspended_at.is_not(None),
            Member.probe_state.in_(("waiting", "bounced"))).with_for_update(
                skip_locked=True)).all()

    def away_between(self, list_name: str, start: datetime, end: datetime) -> int:
        """How many members an out-of-office reply marked away at some time in
        (start, end)."""
        return self.session.scalar(select(func.count(Member.id)).where(
            Member.list_name == list_name, Member.away_until > start,
            Member.away_until < end)) or 0

    def lock(self, list_name: str, emails: Iterable[str]) -> None:
        """Lock these members' rows, in id order (so two transfers never deadlock)."""
        self.session.scalars(select(Member).where(
            Member.list_name == list_name, Member.email.in_(list(emails)))
            .order_by(Member.id).with_for_update()).all()
