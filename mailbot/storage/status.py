"""What `mailbot status` shows: how much is waiting where, and whether the daemons live."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.storage.models import Daemon, Delivery, Hold, InboundMessage

UNDELIVERED = ("queued",)


@dataclass
class Status:
    messages: dict[str, int] = field(default_factory=dict)  # inbound, by status
    deliveries: dict[str, int] = field(default_factory=dict)  # outbound, by status
    oldest_undelivered: datetime | None = None
    held: dict[str, int] = field(default_factory=dict)  # pending holds, by list
    quarantined: list[tuple[int, datetime, str, str]] = field(default_factory=list)
    daemons: list[tuple[str, int, datetime, datetime | None]] = field(default_factory=list)


def read_status(session: Session, quarantined_shown: int = 20) -> Status:
    status = Status()
    status.messages = dict(session.execute(
        select(InboundMessage.status, func.count()).group_by(InboundMessage.status)).all())
    status.deliveries = dict(session.execute(
        select(Delivery.status, func.count()).group_by(Delivery.status)).all())
    status.oldest_undelivered = session.scalar(
        select(func.min(Delivery.created_at)).where(Delivery.status.in_(UNDELIVERED)))
    status.held = dict(session.execute(
        select(Hold.list_name, func.count()).where(Hold.status == "pending")
        .group_by(Hold.list_name)).all())
    rows = session.execute(
        select(InboundMessage.id, InboundMessage.received_at, InboundMessage.list_name,
               InboundMessage.mail_from)
        .where(InboundMessage.status == "quarantined").order_by(InboundMessage.id.desc())
        .limit(quarantined_shown))
    status.quarantined = [(i, at, name, sender) for i, at, name, sender in rows]
    status.daemons = [(d.host, d.pid, d.heartbeat_at, d.timers_at)
                      for d in session.scalars(select(Daemon).order_by(Daemon.started_at))]
    return status
