"""Decisions: N open proposals (half of them past their deadline) seeded with SQLAlchemy;
the time for the real `mailbot serve` to start (until its SMTP port answers) and to settle
every due one (from its start until none of them is open, watched in the database); then,
on a second database seeded alike, the same settling by `Service.tick` called back to back
in this process (what settling costs without the daemon's timer loop and sender).

The list has one member (the proposers' announcements go to her, and on to the sink), so
that settling is measured, not fan-out. Deadlines not yet due are 30 days away: no reminder.

    .venv/bin/python bench/decisions.py --db sqlite|postgresql [--quick]
"""

import asyncio
import itertools
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from common import (
    BenchError,
    Sink,
    database,
    emit,
    free_port,
    import_members,
    main,
    serving,
    sql,
    write_config,
)

from mailbot.config import load_config
from mailbot.service import Service
from mailbot.storage.models import Counter, Proposal

STALL = 120.0  # seconds without one more proposal settled before the bench gives up


def seed(url: str, count: int, now: datetime) -> None:
    """`count` open proposals, the even ones due an hour ago, the odd ones in 30 days."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for start in range(0, count, 5000):
                conn.execute(sa.insert(Proposal), [{
                    "list_name": "sel", "number": n + 1, "title": f"Proposition {n + 1}",
                    "text": "Que le marché de Noël ait lieu place de l'église.",
                    "proposer": "member0@example.net", "proposer_name": "Marie",
                    "message_id": f"<p{n}@bench.example.net>", "status": "open",
                    "deadline": now + (timedelta(hours=-1) if n % 2 == 0 else timedelta(days=30)),
                    "opened_at": now - timedelta(days=3), "settled_late": False,
                } for n in range(start, min(start + 5000, count))])
            conn.execute(sa.insert(Counter).values(name="sel:proposal", value=count))
    finally:
        engine.dispose()


async def by_daemon(url: str, config: Path, port: int, name: str, due: int,
                    open_due: str) -> None:
    async with serving(config, port, name) as daemon:
        started = time.monotonic()
        emit(f"{name}.startup_s", await daemon.start(), 2)
        left, since = due, time.monotonic()
        while left:
            await asyncio.sleep(0.2)
            now_left = sql(url, open_due)
            if now_left != left:
                left, since = now_left, time.monotonic()
            elif time.monotonic() - since > STALL:
                raise BenchError(f"{due - left} of {due} due proposals settled, none for "
                                 f"{STALL:.0f}s; {daemon.tail()}")
        elapsed = time.monotonic() - started
        emit(f"{name}.settle_{due}_due_s", elapsed)
        emit(f"{name}.settled_per_s", due / elapsed)
        emit(f"{name}.peak_rss_mb", daemon.peak_rss_mb())
    # every proposal settled in one tick shares its settled_at: the ticks, and the gaps
    ticks = tick_times(url)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(ticks)]
    emit(f"{name}.daemon_ticks", len(ticks))
    emit(f"{name}.max_gap_between_ticks_s", max(gaps, default=0.0))


def tick_times(url: str) -> list[datetime]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.scalars(sa.select(Proposal.settled_at).distinct()
                                       .where(Proposal.settled_at.is_not(None))))
    finally:
        engine.dispose()


async def in_process(url: str, config: Path, name: str, due: int) -> None:
    """The same settling by `Service.tick` called back to back (no timer loop, no sender)."""
    service = Service(load_config(config))
    try:
        started, settled = time.monotonic(), 0
        while settled < due:
            done = await service.tick()
            if not done:
                break
            settled += done
    finally:
        service.close()
    elapsed = time.monotonic() - started
    if settled != due:
        raise BenchError(f"Service.tick settled {settled} proposals, want {due}")
    emit(f"{name}.tick_loop_settle_s", elapsed)
    emit(f"{name}.tick_loop_settled_per_s", due / elapsed)


async def run(kind: str, quick: bool, tmp: Path) -> None:
    count = 10_000 if quick else 100_000
    name, due = f"decisions_{count}", count // 2
    sink = Sink()
    await sink.start()
    for mode in ("daemon", "tick_loop"):
        (tmp / mode).mkdir()
        with database(kind, tmp / mode) as url:
            port = free_port()
            config = write_config(tmp / mode, url, sink_port=sink.port, port=port)
            await import_members(config, tmp / mode, ["member0@example.net"])
            now = datetime.now(UTC)
            started = time.monotonic()
            seed(url, count, now)
            if mode == "daemon":
                emit(f"{name}.seed_s", time.monotonic() - started)
            open_due = ("SELECT count(*) FROM proposal WHERE status = 'open' AND deadline <= "
                        f"'{now.replace(tzinfo=None).isoformat(sep=' ')}'")
            if sql(url, open_due) != due:
                raise BenchError(f"seeding left {sql(url, open_due)} due proposals, want {due}")
            if mode == "daemon":
                await by_daemon(url, config, port, name, due, open_due)
            else:
                await in_process(url, config, name, due)
            if (still := sql(url, "SELECT count(*) FROM proposal WHERE status = 'open'")) \
                    != count - due:
                raise BenchError(f"{still} proposals open, want {count - due}")
    await sink.stop()


if __name__ == "__main__":
    main(run, limit=1800 if "--quick" in sys.argv else 4 * 3600)
