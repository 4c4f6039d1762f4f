"""Digests: when they leave, given now. Pure.

Daily digests leave at `digest.time`, weekly ones on `digest.weekday` at that time, in the
list's timezone. Local times are turned into UTC through the timezone database, so a
digest keeps its wall-clock time across daylight-saving changes.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailbot.lists.rules import WEEKDAYS, Digest

DIGEST_MODES = ("daily", "weekly")


def next_digest_at(mode: str, digest: Digest, timezone: str, now: datetime) -> datetime | None:
    """The first moment strictly after `now` when a digest of `mode` leaves (None: never)."""
    if mode not in DIGEST_MODES:
        return None
    zone = ZoneInfo(timezone)
    hour, minute = (int(part) for part in digest.time.split(":"))
    today = now.astimezone(zone).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if mode == "weekly" and day.weekday() != WEEKDAYS.index(digest.weekday):
            continue
        moment = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
        if moment > now:
            return moment
    raise AssertionError("a daily or weekly digest always falls within eight days")


def needs_proposal_copy(mode: str, next_digest: datetime | None, deadline: datetime,
                        reminder_before: timedelta) -> bool:
    """Silence is consent only if everyone could object in time: a digest reader whose next
    digest leaves after `deadline − reminder_before` gets the proposal on its own."""
    if mode not in DIGEST_MODES:
        return False
    return next_digest is None or next_digest > deadline - reminder_before
