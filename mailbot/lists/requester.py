"""Who is sending commands, and what each command handler returns.

Command handlers live with their feature (membership here, decisions in decisions/) and
all take a Requester and a Command and return an Outcome: a result code for the reply
template, and the values it needs.
"""

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.storage.models import Confirmation, InboundMessage, Member

Outcome = tuple[str, dict[str, Any]]


@dataclass
class Requester:
    """One message's worth of commands from one sender."""

    ctx: Context
    mlist: ListConfig
    sender: str
    name: str
    member: Member | None
    language: str
    token: str | None = None
    # The message itself, and whether our MTA proved its From (server.authserv_id): a
    # proven sender's leave, pay, add and remove need no confirmation round trip.
    inbound: InboundMessage | None = None
    msg: EmailMessage | None = None
    proven: bool = False

    @property
    def is_moderator(self) -> bool:
        return self.mlist.is_moderator(self.sender)

    def carry_out_now(self, confirmation: Confirmation) -> None:
        """Apply a confirmation at once, as if its reply had come (proven senders only)."""
        from mailbot.lists.confirmations import apply_confirmation

        assert self.proven and self.inbound is not None and self.msg is not None
        apply_confirmation(self.ctx, self.mlist, confirmation, self.inbound, self.msg)
