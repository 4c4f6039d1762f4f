"""Bounce events: one row per failure report about a member. The door to `bounce_event`."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.storage.models import BounceEvent


class BounceEvents:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, list_name: str, email: str, *, at: datetime, permanent: bool, source: str,
            detail: str, inbound_id: int | None, delivery_id: int | None) -> None:
        self.session.add(BounceEvent(list_name=list_name, email=email, at=at,
                                     permanent=permanent, source=source, detail=detail,
                                     inbound_id=inbound_id, delivery_id=delivery_id))
        self.session.flush()

    def since(self, list_name: str, email: str,
              since: datetime) -> Sequence[tuple[datetime, bool]]:
        """(when, permanent) of the member's events since `since`."""
        rows = self.session.execute(select(BounceEvent.at, BounceEvent.permanent).where(
            BounceEvent.list_name == list_name, BounceEvent.email == email,
            BounceEvent.at >= since))
        return [(at, permanent) for at, permanent in rows]
