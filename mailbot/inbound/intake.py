"""Intake: store a received message, durably, once per envelope recipient.

This is what runs between the end of DATA and our 250: nothing else. The same message
arriving twice (an SMTP retry, an IMAP re-poll) for the same recipient is stored once.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailbot.config.addresses import Recipient
from mailbot.reading.message import message_key, parse_headers
from mailbot.storage.models import InboundMessage

ROWS_PER_INSERT = 100  # well under SQLite's limit of bound parameters (11 a row)


Arrival = tuple[bytes, str, Sequence[tuple[str, Recipient]], datetime]


def store_arrivals(session: Session, arrivals: list[Arrival]) -> None:
    """Several received messages in one transaction (see storage/grouping.py)."""
    rows = [row for arrival in arrivals for row in _rows(*arrival)]
    for start in range(0, len(rows), ROWS_PER_INSERT):
        _insert_new(session, rows[start:start + ROWS_PER_INSERT])


def _rows(raw: bytes, mail_from: str, recipients: Sequence[tuple[str, Recipient]],
          now: datetime) -> list[dict[str, Any]]:
    key = message_key(parse_headers(raw), raw)
    return [{"received_at": now, "mail_from": mail_from, "rcpt": address.lower(),
             "list_name": recipient.mlist.name, "role": recipient.role,
             "token": recipient.token, "message_key": key, "raw": raw, "size": len(raw),
             "status": "new"}
            for address, recipient in recipients]


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """One INSERT for all the rows; a (recipient, message) already stored, or twice among
    them, is skipped by the database itself: no read first, no race between two daemons."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(InboundMessage).values(rows)
                 .on_conflict_do_nothing(index_elements=["rcpt", "message_key"]))
    session.execute(statement)
