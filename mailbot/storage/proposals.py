"""Proposals, their objections and supports, and the Message-IDs of their threads.
The only door to the `proposal`, `objection`, `support` and `proposal_ref` tables."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, extract, func, select
from sqlalchemy.orm import Session

from mailbot.storage.counters import next_number
from mailbot.storage.models import Meeting, Objection, Proposal, ProposalRef, Support

__all__ = ["Objection", "Proposal", "Proposals"]

OPEN, ADOPTED, CONTESTED = "open", "adopted", "contested"

# Asked for posts and requests (built once: building a statement costs more than running it).
_STILL_OPEN = (select(Proposal)
               .where(Proposal.list_name == bindparam("list_name"), Proposal.status == OPEN)
               .order_by(Proposal.deadline))
_BY_REFS = (select(Proposal).join(ProposalRef, ProposalRef.proposal_id == Proposal.id)
            .where(ProposalRef.message_id.in_(bindparam("message_ids", expanding=True)),
                   Proposal.list_name == bindparam("list_name"))
            .order_by(Proposal.id.desc()).limit(1))


class Proposals:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(self, proposal: Proposal) -> Proposal:
        """Give a new proposal its list's next number, store it and its Message-ID."""
        proposal.number = next_number(self.session, f"{proposal.list_name}:proposal")
        self.session.add(proposal)
        self.session.flush()
        self.add_refs(proposal, [proposal.message_id])
        return proposal

    def add_refs(self, proposal: Proposal, message_ids: Iterable[str]) -> None:
        """Message-IDs that belong to the proposal's thread: replies to them are matched."""
        self.session.add_all(ProposalRef(message_id=m, proposal_id=proposal.id)
                             for m in message_ids)

    def by_refs(self, list_name: str, message_ids: Sequence[str]) -> Proposal | None:
        """The newest proposal of the list whose thread holds one of these Message-IDs."""
        return self.session.scalar(
            _BY_REFS, {"message_ids": list(message_ids), "list_name": list_name})

    def by_number(self, list_name: str, number: int) -> Proposal | None:
        return self.session.scalar(select(Proposal).where(Proposal.list_name == list_name,
                                                          Proposal.number == number))

    def still_open(self, list_name: str) -> Sequence[Proposal]:
        """Open proposals, closing soonest first."""
        return self.session.scalars(_STILL_OPEN, {"list_name": list_name}).all()

    def adopted(self, list_name: str, year: int | None = None) -> Sequence[Proposal]:
        """The register of decisions, oldest first (of one year when `year` is given)."""
        query = select(Proposal).where(Proposal.list_name == list_name,
                                       Proposal.status == ADOPTED)
        if year is not None:
            query = query.where(extract("year", Proposal.settled_at) == year)
        return self.session.scalars(query.order_by(Proposal.settled_at)).all()

    def settled_between(self, list_name: str, since: datetime,
                        until: datetime) -> Sequence[Proposal]:
        """Adopted or contested in (since, until]."""
        return self.session.scalars(
            select(Proposal).where(Proposal.list_name == list_name,
                                   Proposal.settled_at > since, Proposal.settled_at <= until,
                                   Proposal.status.in_([ADOPTED, CONTESTED]))
            .order_by(Proposal.settled_at)).all()

    def contested(self, list_name: str) -> Sequence[Proposal]:
        """Proposals settled as contested (they wait for a discussion), oldest first."""
        return self.session.scalars(
            select(Proposal).where(Proposal.list_name == list_name,
                                   Proposal.status == CONTESTED)
            .order_by(Proposal.settled_at)).all()

    def last_meeting(self, list_name: str) -> Meeting | None:
        """The latest agenda a moderator asked for."""
        return self.session.scalars(select(Meeting).where(Meeting.list_name == list_name)
                                    .order_by(Meeting.asked_at.desc()).limit(1)).first()

    def hold_meeting(self, list_name: str, asked_by: str, now: datetime) -> Meeting:
        meeting = Meeting(list_name=list_name, asked_by=asked_by, asked_at=now)
        self.session.add(meeting)
        self.session.flush()
        return meeting

    def listing(self, list_name: str | None, everything: bool) -> Sequence[Proposal]:
        """For the CLI: open ones (or all), by list and number."""
        query = select(Proposal).order_by(Proposal.list_name, Proposal.number)
        if list_name is not None:
            query = query.where(Proposal.list_name == list_name)
        if not everything:
            query = query.where(Proposal.status == OPEN)
        return self.session.scalars(query).all()

    def due(self, now: datetime, limit: int) -> Sequence[Proposal]:
        """Open proposals whose deadline has come, locked (others' locks skipped)."""
        return self.session.scalars(
            select(Proposal).where(Proposal.status == OPEN, Proposal.deadline <= now)
            .order_by(Proposal.deadline).limit(limit).with_for_update(skip_locked=True)).all()

    def to_remind(self, list_name: str, now: datetime, until: datetime,
                  limit: int) -> Sequence[Proposal]:
        """Open, not yet reminded, with a deadline in (now, until], locked."""
        return self.session.scalars(
            select(Proposal).where(
                Proposal.list_name == list_name, Proposal.status == OPEN,
                Proposal.reminded_at.is_(None), Proposal.deadline > now,
                Proposal.deadline <= until)
            .order_by(Proposal.deadline).limit(limit).with_for_update(skip_locked=True)).all()

    def upcoming(self, list_names: Iterable[str],
                 limit: int = 200) -> Sequence[tuple[str, datetime, datetime | None]]:
        """(list, deadline, reminded_at) of the open proposals closing soonest."""
        rows = self.session.execute(
            select(Proposal.list_name, Proposal.deadline, Proposal.reminded_at)
            .where(Proposal.status == OPEN, Proposal.list_name.in_(list(list_names)))
            .order_by(Proposal.deadline).limit(limit)).all()
        return [(name, deadline, reminded) for name, deadline, reminded in rows]

    # --- objections and supports -------------------------------------------------------
    def standing_objection(self, proposal: Proposal, email: str) -> Objection | None:
        return self.session.scalar(select(Objection).where(
            Objection.proposal_id == proposal.id, Objection.email == email,
            Objection.withdrawn_at.is_(None)))

    def object(self, proposal: Proposal, email: str, reason: str, now: datetime) -> None:
        self.session.add(Objection(proposal_id=proposal.id, email=email, reason=reason,
                                   created_at=now))

    def support(self, proposal: Proposal, email: str, now: datetime) -> None:
        """Record support once per member."""
        exists = self.session.scalar(select(Support.id).where(
            Support.proposal_id == proposal.id, Support.email == email))
        if exists is None:
            self.session.add(Support(proposal_id=proposal.id, email=email, created_at=now))

    def standing_objections(self, proposal_ids: Sequence[int]) -> dict[int, list[Objection]]:
        """Each proposal's standing objections, oldest first (read at once for a round)."""
        found: dict[int, list[Objection]] = {i: [] for i in proposal_ids}
        for objection in self.session.scalars(select(Objection).where(
                Objection.proposal_id.in_(proposal_ids), Objection.withdrawn_at.is_(None))
                .order_by(Objection.id)):
            found[objection.proposal_id].append(objection)
        return found

    def supports(self, proposal_ids: Sequence[int]) -> dict[int, int]:
        """How many members support each proposal (those with none are absent)."""
        return {proposal_id: count for proposal_id, count in self.session.execute(
            select(Support.proposal_id, func.count(Support.id))
            .where(Support.proposal_id.in_(proposal_ids)).group_by(Support.proposal_id))}
