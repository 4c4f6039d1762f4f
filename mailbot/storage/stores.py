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

    def write_now(self, *, last: bool = False) -> None:
        """Write what the transaction changed so far (a flush): an error it causes is
        then the messages' just handled, not one handled later or the commit's. The
        `last` write before the commit first does what the commit would
        (`_written_at_commit`): the archived posts' numbers then go in the same UPDATEs
        as the rest of their rows, not in one more statement at the commit."""
        session = self.messages.session
        if last:
            with session.no_autoflush:  # what is flushed after them fails as itself
                _commit_writes(session)
        session.flush()


def _commit_writes(session: Session) -> None:
    """What a transaction writes only as it commits, in one order for every transaction:
    the authors' post counts (member rows, by id), then the archive numbers (a list's
    counter row): two workers committing at once take their locks in the same order."""
    write_post_counts(session)
    number_archived(session)


@event.listens_for(Session, "before_commit")
def _written_at_commit(session: Session) -> None:
    """`_commit_writes`, as the transaction commits (unless `Stores.write_now` did them
    last and nothing was handled since). The hook is called as a savepoint ends too:
    only the transaction's commit counts."""
    if not session.in_nested_transaction():
        _commit_writes(session)
        numbered(session)
