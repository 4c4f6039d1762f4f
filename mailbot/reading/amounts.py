"""Amounts of time as people write them, and back. Pure.

"90" is 90 points; "1h30", "1h", "1,5h", "2 heures", "45min", "45 minutes" are durations,
turned into points at `points_per_hour`.
"""

import re

from mailbot.reading.text import fold

_HOURS = r"(h|heures?|hours?|hrs?)"
_MINUTES = r"(m|mn|min|mins|minutes?)"
_POINTS_WORDS = r"points?|pts?|unites?|units?"
# At most 7 digits: no member's amount is larger, and a huge number is not an amount.
_DURATION = re.compile(
    rf"^(?:(?P<h>\d{{1,7}}(?:[.,]\d{{1,4}})?)\s*{_HOURS}\s*(?P<hm>[0-5]?\d)?\s*(?:{_MINUTES})?"
    rf"|(?P<m>\d{{1,7}})\s*{_MINUTES})$")


def parse_amount(text: str, points_per_hour: int, unit: str = "points") -> int | None:
    """Points for `text`, or None when it is not an amount (or not a positive one)."""
    cleaned = fold(text).strip()
    unit_word = re.escape(fold(unit).removesuffix("s"))
    points_match = re.match(rf"^(?P<p>\d{{1,7}})\s*(?:{_POINTS_WORDS}|{unit_word}s?)?$", cleaned)
    if points_match is not None:
        points = int(points_match.group("p"))
    elif (match := _DURATION.match(cleaned)) is not None:
        points = _duration_points(match, points_per_hour)
    else:
        return None
    return points if points > 0 else None


def _duration_points(match: re.Match[str], points_per_hour: int) -> int:
    if match.group("m") is not None:
        minutes = float(match.group("m"))
    else:
        minutes = float(match.group("h").replace(",", ".")) * 60
        minutes += float(match.group("hm") or 0)
    return round(minutes * points_per_hour / 60)


def as_hours(points: int, points_per_hour: int) -> str:
    """Points as a duration: 90 → "1h30", 60 → "1h", 45 → "0h45", -30 → "-0h30"."""
    sign = "-" if points < 0 else ""
    minutes = round(abs(points) * 60 / points_per_hour)
    hours, rest = divmod(minutes, 60)
    return f"{sign}{hours}h{rest:02d}" if rest else f"{sign}{hours}h"
