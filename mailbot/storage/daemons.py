"""Who is running: each daemon registers, beats, and leaves; a silent one is presumed dead.

Leases (claimed deliveries) name their owner, so when a daemon dies its work is taken over
as soon as its heartbeat is stale, instead of waiting for every lease to run out.
"""

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from mailbot.storage.models import Daemon, Delivery

HEARTBEAT = timedelta(seconds=5)
STALE = timedelta(seconds=30)


def register(session: Session, daemon_id: str, now: datetime) -> None:
    session.merge(Daemon(id=daemon_id, host=socket.gethostname()[:255], pid=os.getpid(),
                         started_at=now, heartbeat_at=now))


def beat(session: Session, daemon_id: str, now: datetime) -> None:
    session.execute(update(Daemon).where(Daemon.id == daemon_id).values(heartbeat_at=now))


def timers_ran(session: Session, daemon_id: str, now: datetime) -> None:
    session.execute(update(Daemon).where(Daemon.id == daemon_id).values(timers_at=now))


def leave(session: Session, daemon_id: str) -> None:
    """A clean stop: release this daemon's leases and forget it."""
    session.execute(update(Delivery).where(Delivery.lease_owner == daemon_id)
                    .values(lease_owner=None, lease_until=None))
    session.execute(delete(Daemon).where(Daemon.id == daemon_id))


def forget_dead_here(session: Session, daemon_id: str) -> int:
    """Forget daemons of this host whose process is gone (a kill -9, a crash), at once
    rather than when their heartbeat goes stale; return how many."""
    rows = session.scalars(select(Daemon).where(Daemon.host == socket.gethostname()[:255],
                                                Daemon.id != daemon_id)).all()
    dead = [row for row in rows if not _process_alive(row.pid)]
    for row in dead:
        session.delete(row)
    return len(dead)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():  # a recycled pid: that daemon was an earlier process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_others(session: Session, daemon_id: str) -> int:
    """Declare every other daemon dead (SQLite: only one may serve a database file)."""
    gone = session.execute(delete(Daemon).where(Daemon.id != daemon_id))
    return int(getattr(gone, "rowcount", 0) or 0)


def alive(now: datetime) -> Select[Any]:
    """The ids of daemons whose heartbeat is recent."""
    return select(Daemon.id).where(Daemon.heartbeat_at >= now - STALE)
