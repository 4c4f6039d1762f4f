"""Who is sending commands, and what each command handler returns.

Command handlers live with their feature (membership here, decisions in decisions/) and
all take a Requester and a Command and return an Outcome: a result code for the reply
template, and the values it needs.
"""

from dataclasses import dataclass
from typing import Any

from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.storage.models import Member

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

    @property
    def is_moderator(self) -> bool:
        return self.mlist.is_moderator(self.sender)
