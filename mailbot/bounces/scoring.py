"""Scoring bounces and what a suspended member's probe leads to: pure functions of `now`.

A member's score is the number of permanent failures within `bounces.window` (at most one
a day, by default, as GNU Mailman counts), since the last time delivery was lifted. At
`threshold` delivery is suspended and a probe sent; see tracking.py for the effects.
"""

from collections.abc import Iterable
from datetime import datetime

from mailbot.config.rules import Bounces


def score(events: Iterable[tuple[datetime, bool]], *, now: datetime,
          cleared_at: datetime | None, rules: Bounces) -> int:
    """How many (at, permanent) events count against the member now."""
    start = now - rules.window
    if cleared_at is not None and cleared_at > start:
        start = cleared_at
    counted = [at for at, permanent in events if permanent and start <= at <= now]
    if rules.once_per_day:
        return len({at.date() for at in counted})
    return len(counted)


def should_suspend(current: int, rules: Bounces) -> bool:
    return current >= rules.threshold


def probe_step(state: str | None, sent_at: datetime | None, now: datetime,
               rules: Bounces) -> str | None:
    """"resume" when a probe went unbounced for `probe_wait`; "probe" when a bounced one
    is due to be tried again; otherwise None (nothing to do yet, or nothing more)."""
    if sent_at is None:
        return None
    if state == "waiting" and now >= sent_at + rules.probe_wait:
        return "resume"
    if state == "bounced" and now >= sent_at + rules.probe_every:
        return "probe"
    return None


def after_probe_bounced(probes_sent: int, rules: Bounces) -> str:
    """A probe bounced: try again later ("bounced"), or stop and leave it to moderators."""
    return "bounced" if probes_sent < rules.probes else "given-up"
