"""Cron expressions ("0 18 * * mon,thu", "0 9 1 * *") read with APScheduler's CronTrigger,
used only as a pure schedule reader: given a moment, the next (or the last) time the
expression names, in a timezone. Nothing is scheduled in APScheduler: the durable timers
stay rows in the database (timers/due.py), which survive kill -9 and are shared by
several daemons.

Two corrections to CronTrigger 3.x: weekday numbers are read as crontab reads them (0 and
7 Sunday, 1 Monday; APScheduler 3 counts from Monday, see its issue 286), and a local
time that happens twice when clocks go back names its first occurrence only.
"""

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

# Looking back for the last fire time: from an hour, doubling, up to about five years
# (a 29 February falls within that).
_FIRST_LOOK, _LONGEST_LOOK = timedelta(hours=1), timedelta(days=4 * 366 + 31)
_TICK = timedelta(microseconds=1)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def check_cron(expression: str) -> None:
    """ValueError saying what is wrong with a five-field crontab expression."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has five fields (minute hour day month "
                         f"weekday), not {len(fields)}: {expression!r}")
    _trigger(expression, "UTC")


def next_fire(expression: str, timezone: str, now: datetime) -> datetime | None:
    """The first moment strictly after `now` the expression names, in UTC (None: never)."""
    trigger = _trigger(expression, timezone)
    fire = trigger.get_next_fire_time(None, now + _TICK)
    while fire is not None and _second_occurrence(fire, timezone):
        # in UTC: adding to a local time would add to the wall clock and lose the fold
        fire = trigger.get_next_fire_time(None, fire.astimezone(UTC) + _TICK)
    return None if fire is None else fire.astimezone(UTC)


def previous_fire(expression: str, timezone: str, now: datetime) -> datetime | None:
    """The last moment at or before `now` the expression names, in UTC (None: none in
    about five years)."""
    look = _FIRST_LOOK
    while look <= _LONGEST_LOOK:
        found, fire = None, next_fire(expression, timezone, now - look)
        while fire is not None and fire <= now:
            found, fire = fire, next_fire(expression, timezone, fire)
        if found is not None:
            return found
        look *= 2
    return None


def _second_occurrence(fire: datetime, timezone: str) -> bool:
    """A wall-clock time the clocks went back over, met for the second time."""
    local = fire.astimezone(UTC).astimezone(ZoneInfo(timezone))
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field with its numbers written as names: "1-5" → "mon,…,fri",
    "*/2" → "sun,tue,thu,sat"; names and a bare "*" are kept as they are."""
    if field == "*" or any(c.isalpha() for c in field):
        return field
    names: list[str] = []
    for item in field.split(","):
        span, _, step = item.partition("/")
        first, _, last = ("0-6" if span == "*" else span).partition("-")
        if not (first.isdigit() and (last or first).isdigit() and (step or "1").isdigit()):
            raise ValueError(f"not a weekday: {item!r}")
        low, high = int(first), int(last or (first if not step else "6"))
        if not 0 <= low <= high <= 7 or int(step or 1) < 1:
            raise ValueError(f"weekdays go from 0 (Sunday) to 7 (Sunday again), not {item!r}")
        names += [_DAYS[n % 7] for n in range(low, high + 1, int(step or 1))]
    return ",".join(dict.fromkeys(names))


@lru_cache(maxsize=256)
def _trigger(expression: str, timezone: str) -> CronTrigger:
    minute, hour, day, month, weekday = expression.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_weekdays(weekday), timezone=ZoneInfo(timezone))
