"""One transaction's doors to the database, one per domain, built from its session."""

from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

from mailbot.storage.bounces import BounceEvents
from mailbot.storage.exchange import Items, Ledger
from mailbot.storage.members import Members, write_post_counts
from mailbot.storage.messages import Messages, number_archived, numbered
from mailbot.storage.moderating import Bans, MembershipLog
from mailbot.storage.moderation import Confirmations, Holds
from mailbot.storage.proposals import Proposals


@dataclass(frozen=True)
class Stores:
    members: Members
    messages: Messages
    holds: Holds
    confirmations: Confirmations
    proposals: Proposals
    ledger: Ledger
    items: Items
    bounces: BounceEvents
    bans: Bans
    log: MembershipLog

    @classmethod
    def of(cls, session: Session) -> "Stores":
        return cls(Members(session), Messages(session), Holds(session),
                   Confirmations(session), Proposals(session), Ledger(session),
                   Items(session), BounceEvents(session), Bans(session), MembershipLog(session))


@event.listens_for(Session, "before_commit")
def _written_at_commit(session: Session) -> None:
    """What a transaction writes only as it commits, in one order for every transaction:
    the authors' post counts (member rows, by id), then the archive numbers (a list's
    counter row): two workers committing at once take their locks in the same order.
    The hook is called as a savepoint ends too: only the transaction's commit counts."""
    if not session.in_nested_transaction():
        write_post_counts(session)
        number_archived(session)
        numbered(session)
