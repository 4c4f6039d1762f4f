"""When to try a failed delivery again: a pure function of the attempt count and now."""

from datetime import datetime, timedelta

FIRST_DELAY = timedelta(minutes=1)
LONGEST_DELAY = timedelta(hours=1)


def next_attempt(attempts: int, now: datetime) -> datetime:
    """1, 2, 4, 8 … minutes after the failure, never more than an hour apart."""
    doublings = min(max(attempts - 1, 0), 16)  # past the cap; also keeps timedelta in range
    delay: timedelta = FIRST_DELAY * (2**doublings)
    return now + min(delay, LONGEST_DELAY)


def should_give_up(created_at: datetime, now: datetime, give_up_after: timedelta) -> bool:
    return now - created_at >= give_up_after
