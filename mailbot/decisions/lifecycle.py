"""A proposal's life as pure functions of its state and `now`.

open → (objections, support, reminder) → settled once at the deadline: adopted when no
objection stands, contested otherwise. Withdrawn or superseded proposals are never settled.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from mailbot.core.cron import next_fire

# Settled this long after its deadline, a proposal is announced as settled late (the
# daemon was down): the tick runs far more often than this.
LATE_AFTER = timedelta(minutes=2)
OPEN, ADOPTED, CONTESTED, WITHDRAWN, SUPERSEDED = (
    "open", "adopted", "contested", "withdrawn", "superseded")


@dataclass(frozen=True)
class Outcome:
    status: str  # ADOPTED or CONTESTED
    late: bool


def deadline_for(opened_at: datetime, period: timedelta) -> datetime:
    return opened_at + period


def settle(status: str, deadline: datetime, standing_objections: int, now: datetime,
           *, running_since: datetime | None = None) -> Outcome | None:
    """The outcome if the proposal is due now, else None (not yet, or already settled).

    It is late when its deadline passed before the daemon settling it started (it was
    down then), or, whoever settles, when it comes more than LATE_AFTER after it."""
    if status != OPEN or now < deadline:
        return None
    verdict = CONTESTED if standing_objections else ADOPTED
    missed = running_since is not None and deadline < running_since
    return Outcome(verdict, late=missed or now - deadline > LATE_AFTER)


def reminder_at(deadline: datetime, reminder_before: timedelta, cron: str = "",
                timezone: str = "UTC") -> datetime:
    """When the list is reminded of a proposal: `reminder_before` its deadline, or with
    `consent.reminder_cron` the first time the expression names from then on, if one
    comes before the deadline (else at `reminder_before`, as without it)."""
    start = deadline - reminder_before
    if cron:
        fire = next_fire(cron, timezone, start - timedelta(microseconds=1))
        if fire is not None and fire < deadline:
            return fire
    return start


def reminder_due(status: str, deadline: datetime, reminder_before: timedelta,
                 reminded: bool, now: datetime, *, at: datetime | None = None) -> bool:
    """True once the reminder time (`at`, by default `reminder_before` the deadline) has
    come and nobody was reminded yet."""
    start = deadline - reminder_before if at is None else at
    return status == OPEN and not reminded and start <= now < deadline


def extended(deadline: datetime, by: timedelta, now: datetime) -> datetime:
    """A new deadline `by` later (counted from now if the old one has already passed)."""
    return max(deadline, now) + by

