"""Durations as people write them in rules and commands: `30s`, `90m`, `72h`, `3d`, `2w`."""

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "j": 86400, "w": 604800}
_PART = re.compile(r"(\d+)\s*(min|s|m|h|d|j|w)", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """Parse `3d`, `72h`, `1h30m`; raise ValueError with the offending text otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"not a duration: {text!r} (write e.g. 30s, 90m, 72h, 3d)")
    seconds = sum(int(n) * _UNITS[unit.lower()] for n, unit in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return timedelta(seconds=seconds)
