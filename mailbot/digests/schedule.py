"""Digests: when they leave, and what goes in them, given now. Pure.

Daily digests leave at `digest.time`, weekly ones on `digest.weekday` at that time, in the
list's timezone; or at the times `digest.cron` (daily readers) or `digest.weekly_cron`
(weekly readers) names. Local times are turned into UTC through the timezone database, so
a digest keeps its wall-clock time across daylight-saving changes.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailbot.config.rules import DIGEST_MODES, WEEKDAYS, Digest
from mailbot.core.cron import next_fire, previous_fire
from mailbot.reading.replies import own_text
from mailbot.reading.subjects import build_subject

__all__ = ["DIGEST_MODES"]


def next_digest_at(mode: str, digest: Digest, timezone: str, now: datetime) -> datetime | None:
    """The first moment strictly after `now` when a digest of `mode` leaves (None: never)."""
    return _scheduled(mode, digest, timezone, now, forward=True)


def previous_digest_at(mode: str, digest: Digest, timezone: str,
                       now: datetime) -> datetime | None:
    """The latest moment at or before `now` when a digest of `mode` was due (None: never).

    A daemon that was down catches up with this one moment only: one digest, not one per
    missed period."""
    return _scheduled(mode, digest, timezone, now, forward=False)


def _scheduled(mode: str, digest: Digest, timezone: str, now: datetime, *,
               forward: bool) -> datetime | None:
    if mode not in DIGEST_MODES:
        return None
    cron = digest.cron if mode == "daily" else digest.weekly_cron
    if cron:
        return (next_fire if forward else previous_fire)(cron, timezone, now)
    zone = ZoneInfo(timezone)
    hour, minute = (int(part) for part in digest.time.split(":"))
    today = now.astimezone(zone).date()
    for offset in range(8):
        day = today + timedelta(days=offset if forward else -offset)
        if mode == "weekly" and day.weekday() != WEEKDAYS.index(digest.weekday):
            continue
        moment = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
        if (moment > now) if forward else (moment <= now):
            return moment
    raise AssertionError("a daily or weekly digest always falls within eight days")


def needs_proposal_copy(mode: str, next_digest: datetime | None, deadline: datetime,
                        reminder_before: timedelta) -> bool:
    """Silence is consent only if everyone could object in time: a digest reader whose next
    digest leaves after `deadline − reminder_before` gets the proposal on its own."""
    if mode not in DIGEST_MODES:
        return False
    return next_digest is None or next_digest > deadline - reminder_before



# --- what goes in a digest -----------------------------------------------------------------

MAX_LINES = 60  # of one message's own text in a digest


@dataclass(frozen=True)
class DigestPost:
    """A post as a digest shows it: its own text only, quotes and signature trimmed."""

    message_id: str
    root: str  # the Message-ID its thread started with (References), or its own
    subject: str  # without the list prefix and Re: markers
    author: str
    date: datetime
    text: str
    attachments: tuple[str, ...] = ()  # files the digest's text does not carry


@dataclass(frozen=True)
class Thread:
    subject: str
    posts: tuple[DigestPost, ...]


def digest_text(text: str) -> str:
    """A message's own lines (no quotes, no signature), at most MAX_LINES of them."""
    lines = own_text(text).splitlines()
    if len(lines) > MAX_LINES:
        lines = [*lines[:MAX_LINES], "[…]"]
    return "\n".join(lines)


def topic(subject: str, prefix: str) -> str:
    """A subject without the list prefix and reply markers: what a thread is about."""
    bare = build_subject(subject, prefix).removeprefix(prefix).strip()
    for marker in ("Re: ", "Fwd: "):
        bare = bare.removeprefix(marker)
    return bare.strip() or "(sans objet / no subject)"


def arrange_threads(posts: list[DigestPost]) -> list[Thread]:
    """Posts grouped by thread (References, else the same topic), threads in the order of
    their first post, posts by date within a thread (RFC 1153 reads top to bottom)."""
    by_root: dict[str, int] = {}
    by_topic: dict[str, int] = {}
    groups: list[list[DigestPost]] = []
    for post in sorted(posts, key=lambda p: p.date):
        index = by_root.get(post.root, by_topic.get(post.subject.lower()))
        if index is None:
            index = len(groups)
            groups.append([])
        groups[index].append(post)
        by_root.setdefault(post.root, index)
        by_topic.setdefault(post.subject.lower(), index)
    return [Thread(group[0].subject, tuple(group)) for group in groups]
