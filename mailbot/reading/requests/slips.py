"""Paper slips, as a treasurer copies them into an email: "enregistrer : Bob Martin → Dave
Leroy, 2 h, jardinage, 12 novembre", "record: Bob → Dave, 90, bread", or in a sentence
("Merci d'enregistrer 2 h de Bob Martin à Dave Leroy pour le jardinage du 12 novembre",
"Please record that Bob paid Dave 2 hours for gardening on 12 November"). Pure: names
stay words here, the resolver looks them up.
"""

import re
from dataclasses import dataclass

from mailbot.reading.amounts import find_amounts
from mailbot.reading.spoken import plain

_MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "janv": 1, "fev": 2, "avr": 4, "juil": 7, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAYS = [
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?\b"),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?:of\s+)?(?P<mn>{_MONTH})\.?"
               rf"(?:\s+(?P<y>\d{{4}}))?\b"),
    re.compile(rf"\b(?P<mn>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?"
               r"\b"),
]
_DAY_LEAD = r"(?:\s*(?:,|le|du|on|the|of|dated?|date\s*:))*\s*$"

_VERB = (r"\b(?:enregistr\w*|record(?:ed|ing)?|note[rz]?|notez|inscri(?:re|vez) au (?:registre|"
         r"grand livre)|saisi[rs]|saisissez|log)\b")
_TYPED = re.compile(rf"^\s*(?:{_VERB})\s*:\s*(?P<rest>.+)$")
_ARROW = re.compile(r"\s*(?:→|->|-->|=>|⇒|➔|➜|—>|–>)\s*")
_FROM_TO = re.compile(r"\b(?:de(?: la part de)?|d'|from)\s+(?P<a>.+?)\s+(?:a|vers|to)\s+(?P<b>.+)$")
_PAID = re.compile(r"^(?:que\s+|that\s+)?(?P<a>.+?)\s+(?:a paye|a verse|a donne|a regle|doit|"
                   r"paid|gave|owes?)\s+(?:(?:a|to)\s+)?(?P<b>.+)$")
_NAME_END = re.compile(r"\s(?:pour|for|de|du|le|on|car|because|merci|thanks|svp|please)\b|"
                       r"[,;:!?()]|\.(?!\w)")
_MEMO = re.compile(r"\b(?:pour|for)\s+(?:l'|le |la |les |un |une |du |des |de |the |a |some )?"
                   r"(?P<memo>.+)$")


@dataclass(frozen=True)
class Slip:
    """A transfer written on a slip: who paid whom, how much, what for, which day."""

    payer: str  # the words naming the payer (plain)
    payee: str
    points: int | None
    memo: str  # plain
    day: str  # "2026-11-12", "11-12" (year left to the caller), or ""


def read_slip(line: str, points_per_hour: int = 60, unit: str = "points") -> Slip | None:
    """A slip in one line or sentence, or None when it is not one."""
    text = plain(line).strip()
    typed = _TYPED.match(text)
    if typed is not None:
        return _typed(typed.group("rest"), points_per_hour, unit)
    if not re.search(_VERB, text):
        return None
    if _ARROW.search(line):
        after = re.split(_VERB, text, maxsplit=1)[1].lstrip(" :")
        return _typed(after, points_per_hour, unit)
    slip = _sentence(text, points_per_hour, unit)
    return slip if slip is not None and slip.points is not None else None  # an amount, or talk


def arrow_slip(line: str, points_per_hour: int = 60, unit: str = "points") -> Slip | None:
    """"Bob Martin → Dave Leroy, 2 h, jardinage": an arrow and an amount are a slip even
    without a verb (a treasurer's list of slips, one a line)."""
    text = plain(line).strip()
    if not _ARROW.search(text):
        return None
    slip = _typed(text, points_per_hour, unit)
    return slip if slip is not None and slip.points is not None else None


def _typed(rest: str, points_per_hour: int, unit: str) -> Slip | None:
    """PAYER → PAYEE, AMOUNT[, MEMO][, DAY], the fields after the payee in any order."""
    parts = _ARROW.split(rest, maxsplit=1)
    if len(parts) != 2:
        return None
    payer = parts[0].strip(" ,:")
    fields = [f.strip() for f in re.split(r"\s*[,;]\s*", parts[1]) if f.strip()]
    if not payer or not fields:
        return None
    payee, points, day, memo = fields[0], None, "", []
    for field in fields[1:]:
        found_day, without = find_day(field)
        day = day or found_day
        amounts = find_amounts(without, points_per_hour, unit)
        if amounts and points is None:
            points = amounts[0].points
            without = without[:amounts[0].start] + without[amounts[0].end:]
        if without.strip():
            memo.append(without.strip())
    memo_text = _memo_words(" ".join(memo)) if memo else ""
    return Slip(payer, payee, points, memo_text, day)


def _memo_words(text: str) -> str:
    return re.sub(r"^(?:pour|for)\s+(?:l'|le |la |les |du |des |de |the )?", "", text).strip()


def _sentence(text: str, points_per_hour: int, unit: str) -> Slip | None:
    """"merci d'enregistrer 2 h de bob martin a dave leroy pour le jardinage du 12
    novembre", "please record that bob paid dave 2 hours for gardening on 12 november"."""
    day, text = find_day(text)
    amounts = find_amounts(text, points_per_hour, unit)
    points = amounts[0].points if amounts else None
    if amounts:
        text = f"{text[:amounts[0].start]} {text[amounts[0].end:]}"
    after_verb = re.split(_VERB, text, maxsplit=1)[-1]
    after_verb = re.sub(r"^\s*(?:[:,]|s'il (?:te|vous) plait|please|svp)?\s*(?:que|that)?\s*",
                        "", after_verb)
    found = _FROM_TO.search(after_verb) or _PAID.match(after_verb.strip())
    if found is None:
        return None
    payer = _name(found.group("a"))
    payee_text = found.group("b")
    payee = _name(payee_text)
    memo = _MEMO.search(payee_text[len(payee):])
    if not payer or not payee:
        return None
    return Slip(payer, payee, points, (memo.group("memo").strip(" .,") if memo else ""), day)


def _name(text: str) -> str:
    """The words up to "pour", "for", a comma…: where a name stands (four words at most)."""
    text = re.sub(r"^\s*(?:a|to)\s+", "", text)
    cut = _NAME_END.search(text)
    return " ".join((text[:cut.start()] if cut else text).split()[:4])


def find_day(text: str) -> tuple[str, str]:
    """The day a slip names ("12 novembre", "12/11/2026", "November 12") as "YYYY-MM-DD"
    or "MM-DD", and the text without it."""
    folded = plain(text)
    for pattern in _DAYS:
        found = pattern.search(folded)
        if found is None:
            continue
        month = _MONTHS[found.group("mn")] if "mn" in found.groupdict() else int(found.group("m"))
        day, year = int(found.group("d")), found.group("y")
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        lead = re.search(_DAY_LEAD, folded[:found.start()])
        start = lead.start() if lead else found.start()
        rest = (folded[:start] + folded[found.end():]).strip(" ,")
        if year is not None:
            full = int(year) + (2000 if len(year) == 2 else 0)
            return f"{full:04d}-{month:02d}-{day:02d}", rest
        return f"{month:02d}-{day:02d}", rest
    return "", text
