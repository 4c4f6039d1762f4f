"""Intake: store a received message, durably, once per envelope recipient.

This is what runs between the end of DATA and our 250: nothing else. The same message
arriving twice (an SMTP retry, an IMAP re-poll) for the same recipient is stored once.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mailbot.config.addresses import Recipient
from mailbot.reading.message import received_key
from mailbot.storage.messages import Messages

Arrival = tuple[bytes, str, Sequence[tuple[str, Recipient]], datetime]


def store_arrivals(session: Session, arrivals: list[Arrival]) -> None:
    """Several received messages in one transaction (see storage/grouping.py)."""
    Messages(session).store_new(arrival_rows(arrivals))


def arrival_rows(arrivals: list[Arrival]) -> list[dict[str, Any]]:
    """The `inbound_message` rows of received messages, one per envelope recipient."""
    return [row for arrival in arrivals for row in _rows(*arrival)]


def _rows(raw: bytes, mail_from: str, recipients: Sequence[tuple[str, Recipient]],
          now: datetime) -> list[dict[str, Any]]:
    key = received_key(raw)
    return [{"received_at": now, "mail_from": mail_from, "rcpt": address.lower(),
             "list_name": recipient.mlist.name, "role": recipient.role,
             "token": recipient.token, "message_key": key, "raw": raw, "size": len(raw),
             "status": "new"}
            for address, recipient in recipients]
