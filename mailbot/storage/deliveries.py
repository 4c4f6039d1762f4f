"""The outbound queue lives in the database: enqueue, claim a due batch, record results.
The only door to the `outbound_message` and `delivery` tables.

A claim is a lease (`lease_owner`, `lease_until`), committed before any SMTP is spoken. A
sender that dies mid-batch stops beating (see storage/daemons.py) and its deliveries are
claimed again by whoever runs next; no delivery is lost. On PostgreSQL, `SKIP LOCKED`
lets several daemons claim disjoint batches.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from mailbot.core.retry import next_attempt, should_give_up
from mailbot.storage.daemons import alive
from mailbot.storage.models import Delivery, OutboundMessage

LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Job:
    """One delivery to attempt, with the bytes to send."""

    delivery_id: int
    envelope_from: str
    rcpt: str
    raw: bytes
    outbound_id: int = 0


@dataclass(frozen=True)
class Result:
    delivery_id: int
    ok: bool
    permanent: bool = False
    error: str = ""


def enqueue(session: Session, *, list_name: str, purpose: str, raw: bytes,
            recipients: Iterable[tuple[str, str]], now: datetime,
            inbound_id: int | None = None) -> OutboundMessage:
    """Store one message and a delivery per (recipient, envelope sender)."""
    message = OutboundMessage(list_name=list_name, purpose=purpose, raw=raw, created_at=now,
                              inbound_id=inbound_id)
    session.add(message)
    session.flush()
    session.add_all(
        Delivery(outbound_id=message.id, rcpt=rcpt, envelope_from=envelope_from,
                 status="queued", attempts=0, created_at=now, next_attempt_at=now)
        for rcpt, envelope_from in recipients
    )
    return message


def claim_due(session: Session, now: datetime, limit: int, owner: str) -> list[Job]:
    """Lease up to `limit` due deliveries to `owner` and return them with their bytes
    (one UPDATE for the leases, not one per delivery)."""
    rows = session.execute(
        select(Delivery.id, Delivery.envelope_from, Delivery.rcpt, Delivery.outbound_id)
        .where(Delivery.status == "queued", Delivery.next_attempt_at <= now,
               or_(Delivery.lease_until.is_(None), Delivery.lease_until < now,
                   Delivery.lease_owner.not_in(alive(now))))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    raws = {message_id: raw for message_id, raw in session.execute(
        select(OutboundMessage.id, OutboundMessage.raw)
        .where(OutboundMessage.id.in_({r.outbound_id for r in rows}))
    )}
    session.execute(update(Delivery).where(Delivery.id.in_([r.id for r in rows]))
                    .values(lease_until=now + LEASE, lease_owner=owner)
                    .execution_options(synchronize_session=False))
    return [Job(r.id, r.envelope_from, r.rcpt, raws[r.outbound_id], r.outbound_id)
            for r in rows]


def record(session: Session, results: Iterable[Result], now: datetime,
           give_up_after: timedelta) -> list[Delivery]:
    """Mark sent, failed (permanent, or temporary for too long), or due again later;
    return the deliveries that failed for good (they count as bounces).

    What was sent, nearly everything, is one UPDATE; only failures are read and decided
    one by one."""
    by_id = {r.delivery_id: r for r in results}
    sent = [delivery_id for delivery_id, result in by_id.items() if result.ok]
    if sent:
        session.execute(
            update(Delivery).where(Delivery.id.in_(sent))
            .values(status="sent", done_at=now, last_error=None, lease_until=None,
                    lease_owner=None, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False))
    unsent = [delivery_id for delivery_id, result in by_id.items() if not result.ok]
    if not unsent:
        return []
    rows = session.scalars(select(Delivery).where(Delivery.id.in_(unsent))).all()
    failed = []
    for row in rows:
        result = by_id[row.id]
        row.lease_until = row.lease_owner = None
        row.attempts += 1
        if result.permanent or should_give_up(row.created_at, now, give_up_after):
            row.status, row.done_at, row.last_error = "failed", now, result.error
            failed.append(row)
        else:
            row.next_attempt_at, row.last_error = next_attempt(row.attempts, now), result.error
    return failed


def sent_since(session: Session, since: datetime) -> int:
    """Deliveries handed over since `since` (for a sending cap per hour)."""
    count = session.scalar(select(func.count(Delivery.id)).where(
        Delivery.status == "sent", Delivery.done_at >= since))
    return int(count or 0)


def next_due(session: Session) -> datetime | None:
    """When the earliest queued delivery becomes due (None when the queue is empty)."""
    return session.scalar(
        select(Delivery.next_attempt_at).where(Delivery.status == "queued")
        .order_by(Delivery.next_attempt_at).limit(1)
    )


def retry_all(session: Session, now: datetime) -> int:
    """Make every queued delivery due now (the `queue retry` verb)."""
    rows = session.scalars(select(Delivery).where(Delivery.status == "queued")).all()
    for row in rows:
        row.next_attempt_at, row.lease_until, row.lease_owner = now, None, None
    return len(rows)


def sent_to_since(session: Session, rcpt: str, since: datetime,
                  purposes: Sequence[str]) -> int:
    """Messages of these purposes queued for `rcpt` since `since` (for rate limits)."""
    return session.scalar(
        select(func.count(Delivery.id))
        .join(OutboundMessage, OutboundMessage.id == Delivery.outbound_id)
        .where(Delivery.rcpt == rcpt, Delivery.created_at >= since,
               OutboundMessage.purpose.in_(purposes))) or 0


def status_counts(session: Session) -> list[tuple[str, int]]:
    """How many deliveries are in each status (for `mailbot queue`)."""
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return [(status, count) for status, count in rows]


def waiting(session: Session, limit: int = 50) -> list[tuple[Delivery, str]]:
    """Queued and failed deliveries with their message's purpose, oldest first."""
    rows = session.execute(
        select(Delivery, OutboundMessage.purpose)
        .join(OutboundMessage, OutboundMessage.id == Delivery.outbound_id)
        .where(Delivery.status.in_(["queued", "failed"])).order_by(Delivery.id).limit(limit))
    return [(delivery, purpose) for delivery, purpose in rows]
