"""The roster, asked in the members' words: who is on a list, who receives what.

The only door to the `member` table. It hands out `Member` rows; changing a member's
own settings (mode, language, pause) is done on the row, inside the caller's transaction.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from sqlalchemy import ColumnElement, and_, bindparam, event, func, insert, or_, select
from sqlalchemy.orm import Session, SessionTransaction

from mailbot.config.rules import DIGEST_MODES
from mailbot.core.tokens import new_token
from mailbot.storage.counters import next_number
from mailbot.storage.models import Member

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
_ROSTER = select(Member).where(Member.list_name == bindparam("list_name")).order_by(Member.email)


def gets_mail() -> ColumnElement[bool]:
    """Neither paused by the member (`nomail`) nor suspended for bounces."""
    return and_(Member.nomail.is_(False), Member.suspended_at.is_(None))


# Asked for each post; run on the connection (SQLite: 180 µs → 25 µs a post).
_RECEIVING_EACH = (select(Member.email, Member.language, Member.verp_token)
                   .where(Member.list_name == bindparam("list_name"),
                          Member.delivery == "each", gets_mail())
                   .order_by(Member.id))


# A post asks for its author's row up to four times (the request reader, the pipeline, the
# count of posts): asked once, kept in the session's `info`. Forgotten when a transaction
# or savepoint ends (a rolled-back savepoint may undo an add or a removal), which includes
# the end of each flush (SQLAlchemy runs a flush in a transaction of its own), and when we
# add or remove.
_ASKED = "mailbot.members.asked"


@event.listens_for(Session, "after_transaction_end")
def _forget_asked(session: Session, _transaction: SessionTransaction) -> None:
    """Once for every session (a listener added to each session cost more than a query)."""
    session.info.pop(_ASKED, None)


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
        self._asked.clear()
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
        self._asked.clear()
        return len(rows)

    def remove(self, list_name: str, email: str) -> bool:
        member = self.get(list_name, email)
        if member is None:
            return False
        self.session.delete(member)
        self.session.flush()
        self._asked.clear()
        return True

    def without_email(self, list_name: str) -> Sequence[Member]:
        """Members a buddy acts for (they have no email), by name."""
        return self.session.scalars(select(Member).where(
            Member.list_name == list_name, Member.buddy.is_not(None))
            .order_by(Member.name, Member.id)).all()

    def first_mark(self, name: str) -> bool:
        """True the first time `name` is marked (a locked counter: one daemon only)."""
        return next_number(self.session, name) == 1

    def receiving_each(self, list_name: str) -> list[Reader]:
        """Members who get every post as it comes: mode `each`, not paused nor suspended."""
        self.session.flush()  # what this transaction changed (a member paused) counts
        return [Reader(*row) for row in self.session.connection().execute(
            _RECEIVING_EACH, {"list_name": list_name})]

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
