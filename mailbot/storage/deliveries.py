"""The outbound queue lives in the database: enqueue, claim a due batch, record results.
The only door to the `outbound_message` and `delivery` tables.

A claim is a lease (`lease_owner`, `lease_until`), committed before any SMTP is spoken. A
sender that dies mid-batch stops beating (see storage/daemons.py) and its deliveries are
claimed again by whoever runs next; no delivery is lost. On PostgreSQL, `SKIP LOCKED`
lets several daemons claim disjoint batches.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from mailbot.core.retry import next_attempt, should_give_up
from mailbot.storage.daemons import alive
from mailbot.storage.models import Delivery, OutboundMessage, UTCDateTime

LEASE = timedelta(minutes=10)
ENQUEUE_CHUNK = 1000  # deliveries inserted by one statement
# Built once (building a statement costs more than running it), their values as parameters.
_NEW_MESSAGE = insert(OutboundMessage).returning(OutboundMessage.id)
_NEW_DELIVERY = insert(Delivery)


def _deliveries_from_arrays() -> Insert:
    """PostgreSQL: a chunk of deliveries from two arrays (addresses, envelope senders) in
    one INSERT … SELECT FROM unnest(…): psycopg's executemany sends and adapts one
    statement per row, which a fan-out to thousands of members pays for each."""
    pairs = func.unnest(bindparam("rcpts", type_=ARRAY(String)),
                        bindparam("froms", type_=ARRAY(String))) \
        .table_valued("rcpt", "envelope_from").render_derived()
    now = bindparam("now", type_=UTCDateTime())
    return insert(Delivery).from_select(
        ["outbound_id", "rcpt", "envelope_from", "status", "attempts", "created_at",
         "next_attempt_at"],
        select(bindparam("outbound_id", type_=Integer()), pairs.c.rcpt, pairs.c.envelope_from,
               literal("queued"), literal(0), now, now))


_NEW_DELIVERIES_PG = _deliveries_from_arrays()


@dataclass(frozen=True)
class Job:
    """One delivery to attempt, with the bytes to send."""

    delivery_id: int
    envelope_from: str
    rcpt: str
    raw: bytes
    outbound_id: int = 0
    list_name: str = ""  # whose mail it is: the list's DKIM key signs it


@dataclass(frozen=True)
class Result:
    delivery_id: int
    ok: bool
    permanent: bool = False
    error: str = ""
    # The server refused the message itself (at MAIL FROM or DATA: policy, size, spam
    # verdict), not this recipient: no member's address is at fault.
    whole: bool = False


@dataclass(frozen=True)
class Refusal:
    """A message the smarthost refused for good as a whole, told once."""

    outbound_id: int
    list_name: str
    purpose: str
    raw: bytes
    error: str
    deliveries: int  # how many of its deliveries are now kept as refused


def enqueue(session: Session, *, list_name: str, purpose: str, raw: bytes,
            recipients: Iterable[tuple[str, str]], now: datetime,
            inbound_id: int | None = None) -> int:
    """Store one message and a delivery per (recipient, envelope sender); return the
    message's id. Plain INSERTs, a thousand deliveries to a statement: a post to 50,000
    members makes no ORM objects (nor flushes) and holds no more than a thousand rows in
    memory at once."""
    connection = session.connection()
    message_id = connection.execute(_NEW_MESSAGE, {
        "list_name": list_name, "purpose": purpose, "raw": raw, "created_at": now,
        "inbound_id": inbound_id}).scalar_one()
    if connection.dialect.name == "postgresql":  # two arrays a chunk, not a row each
        pairs = iter(recipients)
        while part := list(islice(pairs, ENQUEUE_CHUNK)):
            connection.execute(_NEW_DELIVERIES_PG, {
                "outbound_id": message_id, "rcpts": [rcpt for rcpt, _ in part],
                "froms": [envelope_from for _, envelope_from in part], "now": now})
        return message_id
    rows = ({"outbound_id": message_id, "rcpt": rcpt, "envelope_from": envelope_from,
             "status": "queued", "attempts": 0, "created_at": now, "next_attempt_at": now}
            for rcpt, envelope_from in recipients)
    while chunk := list(islice(rows, ENQUEUE_CHUNK)):
        connection.execute(_NEW_DELIVERY, chunk)
    return message_id


def among(session: Session, column: InstrumentedAttribute[int],
          ids: Collection[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `column = ANY(array)`, one parameter whatever the
    number of ids: the statement's text stays the same, so the server prepares and plans
    it once (a list of a thousand placeholders is parsed, and prepared anew, each time)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def claim_due(session: Session, now: datetime, limit: int, owner: str) -> list[Job]:
    """Lease up to `limit` due deliveries to `owner` and return them with their bytes
    (one UPDATE for the leases, not one per delivery)."""
    rows = session.execute(
        select(Delivery.id, Delivery.envelope_from, Delivery.rcpt, Delivery.outbound_id)
        .where(Delivery.status == "queued", Delivery.next_attempt_at <= now,
               or_(Delivery.lease_until.is_(None), Delivery.lease_until < now,
                   and_(Delivery.lease_owner != owner,  # ours are under way (prefetch)
                        Delivery.lease_owner.not_in(alive(now)))))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    messages = {message_id: (raw, list_name) for message_id, raw, list_name in session.execute(
        select(OutboundMessage.id, OutboundMessage.raw, OutboundMessage.list_name)
        .where(among(session, OutboundMessage.id, {r.outbound_id for r in rows}))
    )}
    session.execute(update(Delivery).where(among(session, Delivery.id, [r.id for r in rows]))
                    .values(lease_until=now + LEASE, lease_owner=owner)
                    .execution_options(synchronize_session=False))
    return [Job(r.id, r.envelope_from, r.rcpt, messages[r.outbound_id][0], r.outbound_id,
                messages[r.outbound_id][1]) for r in rows]


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
            update(Delivery).where(among(session, Delivery.id, sent))
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


def take_refusals(session: Session, results: Iterable[Result],
                  now: datetime) -> tuple[list[Refusal], list[Result]]:
    """Record the messages refused for good as a whole (status "refused", kept), with
    every delivery of theirs still queued, since those would be refused alike; return the
    refusals not seen before, and the other results (for `record`)."""
    refused = {r.delivery_id: r for r in results if not r.ok and r.permanent and r.whole}
    rest = [r for r in results if r.delivery_id not in refused]
    if not refused:
        return [], rest
    rows = session.scalars(select(Delivery).where(Delivery.id.in_(refused))).all()
    errors: dict[int, str] = {}
    for row in rows:
        row.status, row.done_at, row.last_error = "refused", now, refused[row.id].error
        row.lease_until = row.lease_owner = None
        row.attempts += 1
        errors.setdefault(row.outbound_id, refused[row.id].error)
    return [r for r in map(lambda i: _refuse_message(session, i, errors[i], rows, now),
                           sorted(errors)) if r is not None], rest


def _refuse_message(session: Session, outbound_id: int, error: str,
                    just_refused: Sequence[Delivery], now: datetime) -> Refusal | None:
    """Lock the message, refuse what of it is still queued; a Refusal when it is new."""
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.id == outbound_id)
                             .with_for_update())
    assert message is not None
    mine = {d.id for d in just_refused if d.outbound_id == outbound_id}
    earlier = session.scalar(select(func.count(Delivery.id)).where(
        Delivery.outbound_id == outbound_id, Delivery.status == "refused",
        Delivery.id.not_in(mine)))
    more = session.execute(
        update(Delivery).where(Delivery.outbound_id == outbound_id,
                               Delivery.status == "queued")
        .values(status="refused", done_at=now, last_error=error, lease_until=None,
                lease_owner=None).execution_options(synchronize_session=False))
    if earlier:
        return None
    return Refusal(outbound_id, message.list_name, message.purpose, message.raw, error,
                   len(mine) + (more.rowcount or 0))  # type: ignore[attr-defined]


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


# Asked for each answer the bot writes (built once: building a statement costs more than
# running it).
_SENT_TO_SINCE = (select(Delivery.created_at)
                  .join(OutboundMessage, OutboundMessage.id == Delivery.outbound_id)
                  .where(Delivery.rcpt == bindparam("rcpt"),
                         Delivery.created_at >= bindparam("since"),
                         OutboundMessage.purpose.in_(bindparam("purposes", expanding=True))))
_COUNT_SENT = _SENT_TO_SINCE.with_only_columns(func.count(Delivery.id))
_FIRST_SENT = _SENT_TO_SINCE.with_only_columns(func.min(Delivery.created_at))


def sent_to_since(session: Session, rcpt: str, since: datetime,
                  purposes: Sequence[str]) -> int:
    """Messages of these purposes queued for `rcpt` since `since` (for rate limits)."""
    return session.scalar(
        _COUNT_SENT, {"rcpt": rcpt, "since": since, "purposes": list(purposes)}) or 0


def first_sent_to_since(session: Session, rcpt: str, since: datetime,
                        purposes: Sequence[str]) -> datetime | None:
    """When the oldest of those messages was queued (the rate window ends after it)."""
    found: datetime | None = session.scalar(
        _FIRST_SENT, {"rcpt": rcpt, "since": since, "purposes": list(purposes)})
    return found


def status_counts(session: Session) -> list[tuple[str, int]]:
    """How many deliveries are in each status (for `mailbot queue`)."""
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return [(status, count) for status, count in rows]


def waiting(session: Session, limit: int = 50) -> list[tuple[Delivery, str]]:
    """Queued, failed and refused deliveries with their message's purpose, oldest
    first."""
    rows = session.execute(
        select(Delivery, OutboundMessage.purpose)
        .join(OutboundMessage, OutboundMessage.id == Delivery.outbound_id)
        .where(Delivery.status.in_(["queued", "failed", "refused"]))
        .order_by(Delivery.id).limit(limit))
    return [(delivery, purpose) for delivery, purpose in rows]
