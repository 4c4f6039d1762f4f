"""Amounts of time as people write them, and back. Pure.

"90" is 90 points; "1h30", "1h", "1,5h", "2 heures", "45min", "45 minutes" are durations,
turned into points at `points_per_hour`. Words count too ("deux heures", "une heure et
demie", "un quart d'heure", "an hour and a half"), and `find_amounts` reads them inside a
sentence ("je dois un quart d'heure à Odette").
"""

import re
from dataclasses import dataclass

from mailbot.reading.spoken import NUMBER, number_value, plain
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
        return _spelled_out(text, points_per_hour, unit)
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


# --- amounts inside sentences ---------------------------------------------------------------

@dataclass(frozen=True)
class Amount:
    """An amount found in a sentence made `plain`: its points and where it stands.
    `bare` is a number with no unit ("payer Marie 90"), which only a command's place makes
    an amount."""

    points: int
    start: int
    end: int
    bare: bool = False


_FRACTIONS = {"demi": 30, "demie": 30, "quart": 15, "a half": 30, "a quarter": 15, "1/2": 30,
              "1/4": 15, "3/4": 45, "½": 30, "¼": 15, "¾": 45}
_EDGE = r"(?<![\w/°#+\-.,:])"
_AMOUNT_PARTS = [
    (r"(?P<q3>(?:trois|3)\s+quarts?\s+d'heure|three\s+quarters?\s+of\s+an\s+hour)"),
    (r"(?P<q1>(?:(?:un|a|one)\s+)?quart\s+d'heure|(?:a\s+|one\s+)?quarter\s+(?:of\s+an\s+)?hour)"),
    (r"(?P<half>(?:(?:une|un|a)\s+)?demi\s*heure|half\s+an\s+hour|(?:a\s+)?half\s+(?:an\s+)?hour"
     r"|1/2\s*(?:h|heure|hour)\b)"),
    (rf"(?P<ah>{NUMBER}|an|a)\s+and\s+a\s+half\s+hours?"),
    (rf"(?P<h>{NUMBER}|an(?=\s+hour)|a(?=\s+hour))\s*(?:(?:petite|bonne|grosse|good|full)\s+)?"
     rf"{_HOURS}(?:\s*(?P<slash>1/2|1/4|3/4|½|¼|¾)"
     rf"|\s*(?:et|and)\s+(?P<frac>demie?|quart|a\s+half|a\s+quarter)\b"
     rf"|\s*(?:et\s+)?(?P<hm>[0-5]?\d|{NUMBER})\b\s*(?:{_MINUTES}\b)?)?"),
    (rf"(?P<m>{NUMBER})\s*{_MINUTES}"),
    (rf"(?P<p>{NUMBER})\s*(?:{_POINTS_WORDS}|UNIT)"),
    (r"(?P<b>\d{1,5})"),
]
# Words after which "9h" or "14h30" is a time of day, not an amount.
_BEFORE_TIME = re.compile(r"(?:\ba|\bvers|\bat|\bdes|\bdepuis|\bjusqu'a|\bavant|\bapres|"
                          r"\bfrom|\buntil|\bbefore|\bafter|\bdepart|\bnoon|\bby)\s*$")
# Nouns after which a bare number counts something else.
_COUNTED = re.compile(r"^\s*(?:€|%|\$|£)|^\s*(?:fois|times?|euros?|eur|ans?|years?|jours?|days?|"
                      r"mois|months?|"
                      r"semaines?|weeks?|km|kg|personnes?|people|places?|[a-z]+ \d{4}|"
                      r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|"
                      r"novembre|decembre|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b")


def _pattern(unit: str) -> re.Pattern[str]:
    unit_word = re.escape(plain(unit).removesuffix("s")) + "s?"
    body = "|".join(part.replace("UNIT", unit_word) for part in _AMOUNT_PARTS)
    return re.compile(rf"{_EDGE}(?:{body})(?![\w/])")


def find_amounts(text: str, points_per_hour: int, unit: str = "points") -> list[Amount]:
    """Every positive amount in `text` (a `plain` sentence), in order; times of day ("à 9h")
    and counted things ("4 fois", "le 12 novembre") left out."""
    found: list[Amount] = []
    for match in _pattern(unit).finditer(text):
        minutes = _minutes(match)
        if minutes is None or _is_time(text, match):
            continue
        bare = match.group("b") is not None
        if bare and (_COUNTED.match(text[match.end():]) or re.search(
                r"(?:\ble|\bdu|\bau|\bn°|#|\bno|\bla|\bl'|-)\s*$", text[:match.start()])):
            continue
        points = int(minutes) if match.group("p") or bare else \
            round(minutes * points_per_hour / 60)
        if points > 0:
            found.append(Amount(points, match.start(), match.end(), bare))
    return found


def _minutes(match: re.Match[str]) -> float | None:
    """Minutes for a duration match; the number itself for points or a bare number."""
    groups = match.groupdict()
    for key, minutes in (("q3", 45), ("q1", 15), ("half", 30)):
        if groups[key]:
            return float(minutes)
    for key in ("p", "b", "m"):
        if groups[key]:
            return number_value(groups[key])
    if groups["ah"]:
        hours = 1.0 if groups["ah"] in ("a", "an") else number_value(groups["ah"])
        return None if hours is None else hours * 60 + 30
    hours = 1.0 if groups["h"] in ("a", "an") else number_value(groups["h"] or "")
    if hours is None:
        return None
    extra = _FRACTIONS.get(" ".join((groups["frac"] or groups["slash"] or "").split()), 0.0)
    if groups["hm"]:
        value = number_value(groups["hm"])
        extra = value if value is not None and value < 60 else 0.0
    return hours * 60 + extra


def _is_time(text: str, match: re.Match[str]) -> bool:
    """"à 9h", "vers 14h30": a time of day, written as digits and h only."""
    written = match.group(0)
    return bool(re.fullmatch(r"\d{1,2}\s*h\s*(?:\d{2})?", written)) and bool(
        _BEFORE_TIME.search(text[:match.start()]))


def _spelled_out(text: str, points_per_hour: int, unit: str) -> int | None:
    """A whole text that is one amount written with words ("deux heures", "une heure et
    demie"); digits alone are left to the strict reading above."""
    cleaned = plain(text).strip(" .!")
    if not re.search(r"[a-z]{2,}", re.sub(rf"{_HOURS}|{_MINUTES}|{_POINTS_WORDS}", "", cleaned)):
        return None
    found = find_amounts(cleaned, points_per_hour, unit)
    if len(found) == 1 and (found[0].start, found[0].end) == (0, len(cleaned)) \
            and not found[0].bare:
        return found[0].points
    return None
