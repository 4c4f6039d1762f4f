"""Typed SQLAlchemy models: what mailbot keeps.

Every received message is an `InboundMessage` (raw bytes, kept for replay); everything the
bot sends is an `OutboundMessage` with one `Delivery` per recipient. Times are stored as
naive UTC and read back as aware UTC.
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("list_name", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(5))
    delivery: Mapped[str] = mapped_column(String(10), default="each")
    nomail: Mapped[bool] = mapped_column(default=False)
    verp_token: Mapped[str] = mapped_column(String(40), unique=True)
    post_count: Mapped[int] = mapped_column(default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Digests: what was distributed up to this moment has been offered to the member
    # already (as it came, or in a digest); "text" or "mime" digests.
    digest_through: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest_format: Mapped[str] = mapped_column(String(8), default="text")
    # Bounces: delivery suspended since; the probe that may lift it (its VERP and reply
    # token, when it left, "waiting" or "bounced" or "given-up", how many were sent); bounce
    # events before `bounces_cleared_at` no longer count.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    probe_token: Mapped[str | None] = mapped_column(String(40), unique=True)
    probe_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    probe_state: Mapped[str | None] = mapped_column(String(10))
    probes_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    bounces_cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An out-of-office reply said the member is away until then (rules: bounces.mark_away).
    away_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Moderation: the member's posts are held for the moderators since then, until then
    # (None: until a moderator frees them).
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The flood brake (posting.max_posts_per_day): posts that went out on that day (the
    # list's timezone, YYYY-MM-DD), and the day the member was last told of the limit.
    posts_on: Mapped[str | None] = mapped_column(String(10))
    posts_that_day: Mapped[int] = mapped_column(default=0, server_default="0")
    flood_told_on: Mapped[str | None] = mapped_column(String(10))
    # A member without email: the member (parrain/marraine) who acts for them by email and
    # receives their monthly letter. Their own address is a placeholder that never gets mail.
    buddy: Mapped[str | None] = mapped_column(String(320))


class InboundMessage(Base):
    """One received message for one envelope recipient, raw, as it arrived."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("rcpt", "message_key"),
        UniqueConstraint("list_name", "archive_number"),
        Index("ix_inbound_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt: Mapped[str] = mapped_column(String(320))
    list_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token: Mapped[str | None] = mapped_column(String(80))
    message_key: Mapped[str] = mapped_column(String(255))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="new")
    kind: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    distributed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A distributed post's number in the list's archive (`index`, `get N`), from 1
    archive_number: Mapped[int | None]


class Hold(Base):
    """A post waiting for a moderator's decision."""

    __tablename__ = "hold"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_message.id"))
    token: Mapped[str] = mapped_column(String(80), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(320))


class Confirmation(Base):
    """A pending action that must be confirmed by a reply to a single-use address.

    `email` is who was asked to confirm; `target` is whose membership changes (the same
    address for join and leave, another one when a moderator adds or removes someone).
    """

    __tablename__ = "confirmation"
    __table_args__ = (Index("ix_confirmation_email", "email", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(80), unique=True)
    list_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(320))
    target: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a payment waiting for the payer's reply: how much, and what for
    amount: Mapped[int | None]
    memo: Mapped[str | None] = mapped_column(Text)


class OutboundMessage(Base):
    """One message the bot sends, stored once whatever the number of recipients."""

    __tablename__ = "outbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(32))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))


class Delivery(Base):
    """One recipient of an outbound message: the unit the sender claims and retries."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_rcpt", "rcpt", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outbound_id: Mapped[int] = mapped_column(ForeignKey("outbound_message.id"))
    rcpt: Mapped[str] = mapped_column(String(320))
    envelope_from: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BounceEvent(Base):
    """One failure report about one member: a DSN or other bounce, or a refusal at SMTP
    time. Only permanent ones count towards suspension; temporary ones are kept to see."""

    __tablename__ = "bounce_event"
    __table_args__ = (Index("ix_bounce_event_member", "list_name", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    permanent: Mapped[bool]
    source: Mapped[str] = mapped_column(String(8))  # "dsn", "smtp" or "probe"
    detail: Mapped[str] = mapped_column(Text, default="")
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id"))


class Daemon(Base):
    """A running `mailbot serve` (or a burst run): its heartbeat tells whether its leases
    still hold. A daemon killed with -9 stops beating, and others take its work over."""

    __tablename__ = "daemon"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timers_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # its last timer round


class Counter(Base):
    """Per-list numbering (proposal n°12): one row per list and kind, locked to increment."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Proposal(Base):
    """An idea adopted at its deadline unless an objection stands then."""

    __tablename__ = "proposal"
    __table_args__ = (
        UniqueConstraint("list_name", "number"),
        Index("ix_proposal_due", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    proposer: Mapped[str] = mapped_column(String(320))
    proposer_name: Mapped[str] = mapped_column(String(200), default="")
    message_id: Mapped[str] = mapped_column(String(255))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_late: Mapped[bool] = mapped_column(default=False)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))


class Objection(Base):
    """A member's objection; it stands until they withdraw it."""

    __tablename__ = "objection"
    __table_args__ = (Index("ix_objection_proposal", "proposal_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    email: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Support(Base):
    __tablename__ = "support"
    __table_args__ = (UniqueConstraint("proposal_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProposalRef(Base):
    """A Message-ID that belongs to a proposal's thread: the proposal itself, and every
    message the bot sent the list about it, so that a reply to any of them is matched."""

    __tablename__ = "proposal_ref"
    __table_args__ = (Index("ix_proposal_ref_message", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"))


class LedgerEntry(Base):
    """One line of the append-only journal: `amount` points from payer to payee.

    Nothing is ever edited or deleted; a correction is a reversing entry (payer and payee
    swapped) that names the entry it reverses."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_payer", "list_name", "payer"),
        Index("ix_ledger_payee", "list_name", "payee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    payer: Mapped[str] = mapped_column(String(320))
    payee: Mapped[str] = mapped_column(String(320))
    amount: Mapped[int]
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    recorded_by: Mapped[str] = mapped_column(String(320))
    # The day the exchange took place, when it was written on a paper slip.
    done_on: Mapped[date | None] = mapped_column(Date())


class ExchangeItem(Base):
    """An offer or a request of the exchange: active until it expires or is closed; an
    expired one is hidden, never deleted, and its author may renew it."""

    __tablename__ = "exchange_item"
    __table_args__ = (
        UniqueConstraint("list_name", "number"),
        Index("ix_exchange_item_active", "list_name", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))  # "offer" or "request"
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100), default="")
    author: Mapped[str] = mapped_column(String(320))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    message_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    renewal_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="active")
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))


class Ban(Base):
    """An address a moderator banned: removed from the list, its later mail refused."""

    __tablename__ = "ban"
    __table_args__ = (UniqueConstraint("list_name", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    banned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    banned_by: Mapped[str] = mapped_column(String(320))


class MembershipEvent(Base):
    """One change the moderators are told of (membership.notify): a join, a leave, a
    suspension, a removal, moderation, a ban… `reported_at` is when they were told (at
    once, or in the day's summary); None: waiting for the summary."""

    __tablename__ = "membership_event"
    __table_args__ = (Index("ix_membership_event_unreported", "list_name", "reported_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    by: Mapped[str] = mapped_column(String(320), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
class Meeting(Base):
    """An agenda a moderator asked for: "the decisions adopted since the last meeting"
    are those settled after the previous one."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_list", "list_name", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    asked_by: Mapped[str] = mapped_column(String(320))
