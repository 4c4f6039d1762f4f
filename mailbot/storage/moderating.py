"""The moderators' records: banned addresses, and the membership events they are told of
(membership.notify), at once or in the day's summary. The doors to `ban` and
`membership_event`; members under moderation are found here too."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, SessionTransaction

from mailbot.storage.models import Ban, Member, MembershipEvent

__all__ = ["Ban", "Bans", "MembershipEvent", "MembershipLog"]

# Asked for every message, so read once a transaction (a worker's turn handles several):
# each list's banned addresses, kept in the session's `info` until the transaction ends.
# Once a ban is added or lifted in it, the database is asked each time instead (a
# savepoint rolled back may undo the change). A ban another daemon commits meanwhile
# counts from the next transaction, as for a message already under way.
_BANNED = "mailbot.bans.banned"
_ASK_EACH_TIME = "mailbot.bans.changed"
_BANNED_ON = select(Ban.email).where(Ban.list_name == bindparam("list_name"))
_ANY_BANNED = select(Ban.id).where(
    Ban.list_name == bindparam("list_name"),
    Ban.email.in_(bindparam("emails", expanding=True))).limit(1)


@event.listens_for(Session, "after_transaction_end")
def _forget_banned(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint in it
        session.info.pop(_BANNED, None)
        session.info.pop(_ASK_EACH_TIME, None)


class Bans:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, list_name: str, email: str) -> Ban | None:
        return self.session.scalar(select(Ban).where(
            Ban.list_name == list_name, Ban.email == email.lower()))

    def any_of(self, list_name: str, addresses: Iterable[str]) -> bool:
        """Whether one of these addresses (From, envelope sender) is banned."""
        wanted = [a.lower() for a in addresses if a]
        if not wanted:
            return False
        # on the connection: no autoflush (add and remove flush)
        if self.session.info.get(_ASK_EACH_TIME):
            return self.session.connection().execute(
                _ANY_BANNED, {"list_name": list_name, "emails": wanted}).first() is not None
        known: dict[str, frozenset[str]] = self.session.info.setdefault(_BANNED, {})
        banned = known.get(list_name)
        if banned is None:
            banned = known[list_name] = frozenset(self.session.connection().execute(
                _BANNED_ON, {"list_name": list_name}).scalars())
        return any(address in banned for address in wanted)

    def _changed(self) -> None:
        self.session.info[_ASK_EACH_TIME] = True
        self.session.info.pop(_BANNED, None)

    def add(self, list_name: str, email: str, by: str, now: datetime) -> bool:
        """Ban `email`; False when it was banned already."""
        if self.get(list_name, email) is not None:
            return False
        self.session.add(Ban(list_name=list_name, email=email.lower(), banned_at=now,
                             banned_by=by))
        self.session.flush()
        self._changed()
        return True

    def remove(self, list_name: str, email: str) -> bool:
        ban = self.get(list_name, email)
        if ban is None:
            return False
        self.session.delete(ban)
        self.session.flush()
        self._changed()
        return True

    def all(self, list_name: str) -> Sequence[Ban]:
        return self.session.scalars(select(Ban).where(Ban.list_name == list_name)
                                    .order_by(Ban.email)).all()


class MembershipLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, list_name: str, kind: str, email: str, *, now: datetime, name: str = "",
               by: str = "", detail: str = "", reported: bool) -> MembershipEvent:
        """Note a change; `reported`: the moderators were told already (or never are)."""
        event = MembershipEvent(list_name=list_name, at=now, kind=kind, email=email,
                                name=name, by=by, detail=detail,
                                reported_at=now if reported else None)
        self.session.add(event)
        self.session.flush()
        return event

    def unreported(self, list_name: str, until: datetime) -> Sequence[MembershipEvent]:
        """Events before `until` not yet in a summary, oldest first, locked (skipping
        those another daemon is summing up)."""
        return self.session.scalars(select(MembershipEvent).where(
            MembershipEvent.list_name == list_name, MembershipEvent.reported_at.is_(None),
            MembershipEvent.at <= until).order_by(MembershipEvent.id)
            .with_for_update(skip_locked=True)).all()

    def latest(self, list_name: str, emails: Iterable[str],
               kinds: Iterable[str]) -> dict[str, MembershipEvent]:
        """The newest event of these kinds for each address."""
        rows = self.session.scalars(select(MembershipEvent).where(
            MembershipEvent.list_name == list_name, MembershipEvent.email.in_(list(emails)),
            MembershipEvent.kind.in_(list(kinds))).order_by(MembershipEvent.id)).all()
        return {row.email: row for row in rows}

    def moderated_due(self, list_name: str, now: datetime) -> Sequence[Member]:
        """Members whose moderation ends at or before `now`, locked."""
        return self.session.scalars(select(Member).where(
            Member.list_name == list_name, Member.moderated_at.is_not(None),
            Member.moderated_until.is_not(None), Member.moderated_until <= now)
            .with_for_update(skip_locked=True)).all()

    def next_moderation_end(self, after: datetime) -> datetime | None:
        return self.session.scalar(select(Member.moderated_until).where(
            Member.moderated_at.is_not(None), Member.moderated_until > after)
            .order_by(Member.moderated_until).limit(1))
