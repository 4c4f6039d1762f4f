"""One transaction's doors to the database, one per domain, built from its session."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailbot.storage.bounces import BounceEvents
from mailbot.storage.exchange import Items, Ledger
from mailbot.storage.members import Members
from mailbot.storage.messages import Messages
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
