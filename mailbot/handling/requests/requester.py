"""Who is sending commands, and what each command returns.

The command tables (membership.py, decisions.py, exchange.py) all take a Requester and a
Command and return an Outcome: a result code for the reply template, and the values it
needs.
"""

from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from mailbot.config import ListConfig
from mailbot.handling.actions import carry_out
from mailbot.outbound.context import Context
from mailbot.reading.commands import Command, number_arg
from mailbot.reading.message import readable_text
from mailbot.reading.requests import Request
from mailbot.storage.members import Member
from mailbot.storage.messages import InboundMessage
from mailbot.storage.moderation import Confirmation

Outcome = tuple[str, dict[str, Any]]


def number_of(request: Request, key: str) -> int | None:
    """The proposal or item number the reader resolved, else the first typed number
    ("12", "#12", "n°12")."""
    value = request.args.get(key)
    if isinstance(value, int):
        return value
    return number_arg(Command(request.action, request.words, request.line, request.language))


@dataclass
class Requester:
    """One message's worth of commands from one sender."""

    ctx: Context
    mlist: ListConfig
    sender: str
    name: str
    member: Member | None
    language: str
    inbound: InboundMessage
    msg: EmailMessage
    token: str | None = None
    # Whether our MTA proved its From (server.authserv_id): a proven sender's leave, pay,
    # add and remove need no confirmation round trip.
    proven: bool = False
    # Archived posts to send back attached to the answer (`get N`)
    attachments: list[bytes] = field(default_factory=list)

    @property
    def msg_text(self) -> str:
        return readable_text(self.msg)

    @property
    def is_moderator(self) -> bool:
        return self.mlist.is_moderator(self.sender)

    def carry_out_now(self, confirmation: Confirmation) -> None:
        """Apply a confirmation at once, as if its reply had come (proven senders only)."""
        assert self.proven
        carry_out(self.ctx, self.mlist, confirmation, self.inbound, self.msg)
