"""Intake: store a received message, durably, once per envelope recipient.

This is what runs between the end of DATA and our 250: nothing else. The same message
arriving twice (an SMTP retry, an IMAP re-poll) for the same recipient is stored once.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.addresses import Recipient
from mailbot.mail import message_key, parse
from mailbot.storage.models import InboundMessage


def store_received(session: Session, raw: bytes, mail_from: str,
                   recipients: Sequence[tuple[str, Recipient]], now: datetime) -> list[int]:
    """Store one row per recipient not seen before; return the new rows' ids."""
    key = message_key(parse(raw), raw)
    stored = []
    for address, recipient in recipients:
        if _already_stored(session, address, key):
            continue
        row = InboundMessage(
            received_at=now, mail_from=mail_from, rcpt=address.lower(),
            list_name=recipient.mlist.name, role=recipient.role, token=recipient.token,
            message_key=key, raw=raw, size=len(raw), status="new",
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the same message arriving at the same moment elsewhere
            continue
        stored.append(row.id)
    return stored


def _already_stored(session: Session, address: str, key: str) -> bool:
    return session.scalar(
        select(InboundMessage.id).where(InboundMessage.rcpt == address.lower(),
                                        InboundMessage.message_key == key)
    ) is not None


Arrival = tuple[bytes, str, Sequence[tuple[str, Recipient]], datetime]


def store_arrivals(session: Session, arrivals: list[Arrival]) -> None:
    """Several received messages in one transaction (see storage/grouping.py)."""
    for raw, mail_from, recipients, now in arrivals:
        store_received(session, raw, mail_from, recipients, now)
