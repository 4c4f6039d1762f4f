"""Deadlines the way people write them: "vendredi 28 novembre à 18h00". Pure."""

from datetime import datetime
from zoneinfo import ZoneInfo

_DAYS = {
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


def format_when(when: datetime, timezone: str, language: str, now: datetime | None = None) -> str:
    """A moment in the list's timezone; the year is said only when it is not this year's."""
    local = when.astimezone(ZoneInfo(timezone))
    day, month = _DAYS[language][local.weekday()], _MONTHS[language][local.month - 1]
    year = "" if now is None or now.astimezone(ZoneInfo(timezone)).year == local.year \
        else f" {local.year}"
    if language == "fr":
        return f"{day} {local.day} {month}{year} à {local.hour}h{local.minute:02d}"
    return f"{day} {local.day} {month}{year} at {local.hour:02d}:{local.minute:02d}"


def format_date(when: datetime, timezone: str, language: str) -> str:
    """A day, for the register: "28 novembre 2026" / "28 November 2026"."""
    local = when.astimezone(ZoneInfo(timezone))
    return f"{local.day} {_MONTHS[language][local.month - 1]} {local.year}"
