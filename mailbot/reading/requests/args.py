"""The arguments a sentence gives, read without the list's data: the payment's amount, the
words that name its payee and its memo; a digest mode, a language, a duration, an address.
Pure; each takes a `plain` sentence (and the text as typed where the case matters).
"""

import re
from dataclasses import dataclass

from mailbot.reading.amounts import Amount, find_amounts
from mailbot.reading.spoken import NUMBER, number_value, plain

from .lexicon import DIGEST_MODES

_PAY_VERB = re.compile(r"\b(?:payer|payez|paye|paie|regler|reglez|regle|verser|versez|virer|"
                       r"virez|transferer|transferez|crediter|creditez|rembourser|donner|donnez|"
                       r"dois|pay|paid|give|transfer|credit|owe|send|envoyer|envoyez)\b")
_TO = re.compile(r"^\s*(?:a|to|pour|for)\s+")
_FOR = re.compile(r"\b(?:pour|for|de|du|:)\s+(?:l'|le |la |les |un |une |des |the |a |my |mon |ma "
                  r"|mes )?(?P<memo>.+)$")
_SLOT_END = re.compile(r"\s(?:pour|for|de|du|car|parce|because|merci|thanks|svp|please)\b|"
                       r"[,;:!?]|\.(?!\w)")
_POLITE = re.compile(r"^(?:s'il vous plait|please|svp|merci|thanks|thank you)\b")


@dataclass(frozen=True)
class Payment:
    """What a payment sentence says before anyone is looked up."""

    points: int | None
    payee_words: tuple[str, ...]  # the phrases that may name the payee, likeliest first
    memo: str


def payment(sentence: str, points_per_hour: int, unit: str) -> Payment:
    """"payer marie dubois 90 points confitures", "je dois un quart d'heure à Odette pour
    l'ourlet", "pay bill 2 hours for fixing my tablet"."""
    amounts = [a for a in find_amounts(sentence, points_per_hour, unit) if not a.bare]
    verb = _PAY_VERB.search(sentence)
    if not amounts and verb is not None:  # "payer Marie 90": a bare number after the name
        amounts = [a for a in find_amounts(sentence, points_per_hour, unit)
                   if a.bare and a.start > verb.end() and
                   len(sentence[verb.end():a.start].split()) <= 4]
    amount = amounts[0] if amounts else None
    return Payment(amount.points if amount else None, _payee_words(sentence, verb, amount),
                   _memo(sentence, amount, verb))


def _payee_words(sentence: str, verb: re.Match[str] | None, amount: Amount | None) -> tuple[
        str, ...]:
    words: list[str] = []
    if amount is not None:
        after = sentence[amount.end:]
        if _TO.match(after):
            words.append(_slot(_TO.sub("", after, count=1)))
    if verb is not None:
        end = amount.start if amount is not None and amount.start > verb.end() else None
        between = sentence[verb.end():end]
        words.append(_slot(_TO.sub("", between, count=1)))
    return tuple(w for w in words if w)


def _slot(text: str) -> str:
    """The words up to "pour", "for", a comma…: where a name stands."""
    cut = _SLOT_END.search(text)
    return " ".join((text[:cut.start()] if cut else text).split()[:4])


def _memo(sentence: str, amount: Amount | None, verb: re.Match[str] | None) -> str:
    start = amount.end if amount is not None else (verb.end() if verb else 0)
    rest = sentence[start:]
    found = _FOR.search(rest)
    if found is not None:
        memo = found.group("memo")
    elif amount is not None and verb is not None and verb.start() < amount.start:
        memo = rest  # command form: "payer marie dubois 90 points confitures"
    else:
        return ""
    memo = re.split(r"[.!?;]|\s(?:merci|thanks|svp|please)\b", memo)[0]
    return "" if _POLITE.match(memo.strip()) else memo.strip(" ,")


_TYPED_MODES = {"daily": "daily", "quotidien": "daily", "jour": "daily", "weekly": "weekly",
                "hebdomadaire": "weekly", "semaine": "weekly", "off": "off", "non": "off",
                "no": "off", "aucun": "off", "none": "off", "each": "off"}


def typed_mode(words: tuple[str, ...]) -> str | None:
    """The mode a typed command names: "résumé non", "digest daily"."""
    return next((_TYPED_MODES[plain(w)] for w in words if plain(w) in _TYPED_MODES), None)


def digest_mode(text: str) -> str | None:
    """daily, weekly or off: after "mais"/"but"/"finalement" the one the writer prefers,
    never the one they leave ("au lieu de", "instead of")."""
    found = []
    for mode, pattern in DIGEST_MODES:
        for match in re.finditer(pattern, text):
            before = text[max(0, match.start() - 20):match.start()]
            if not re.search(r"(?:au lieu d[eu]|instead of|plutot que|rather than)\s*\S*\s*$",
                             before):
                found.append((match.start(), mode))
    if not found:
        return None
    turns = list(re.finditer(r"\b(?:mais|but|finalement|plutot|rather|prefere\w*|prefer\w*)\b",
                             text))
    turn = turns[-1] if turns else None
    after = [f for f in sorted(found) if turn is not None and f[0] > turn.start()]
    return (after or sorted(found))[0][1]


_LANGUAGE_NAMES = {"anglais": "en", "english": "en", "francais": "fr", "french": "fr"}


def language(text: str) -> str | None:
    """The language asked for: the last one named and not refused ("pas en français")."""
    chosen = None
    for match in re.finditer(r"\b(anglais|english|francais|french)\b", text):
        before = text[max(0, match.start() - 25):match.start()]
        if not re.search(r"\b(?:pas|not|instead of|au lieu de|plutot qu')\s+(?:en |in )?$",
                         before) and not re.search(r"\bkeeps? \w+ (?:to \w+ )?in $", before):
            chosen = _LANGUAGE_NAMES[match.group(1)]
    return chosen


_DURATION = re.compile(rf"\b(?P<n>{NUMBER}|a|an|another|quelques|few)?\s*(?:more |extra |"
                       r"additional |de plus |supplementaires? )?(?P<u>semaines?|weeks?|jours?|"
                       r"days?|heures?|hours?|h)\b")


def duration(text: str) -> str | None:
    """"une semaine de plus" → "7d", "de 48 heures" → "48h", "two more days" → "2d"."""
    for match in _DURATION.finditer(text):
        count_word = match.group("n")
        if count_word is None:
            continue
        count = 1.0 if count_word in ("a", "an", "another") else 3.0 if count_word in (
            "quelques", "few") else number_value(count_word)
        if not count:
            continue
        unit = match.group("u")
        if unit.startswith(("semaine", "week")):
            return f"{int(count * 7)}d"
        return f"{int(count)}{'d' if unit.startswith(('jour', 'day')) else 'h'}"
    return None


def addresses(text: str) -> list[str]:
    """Mail addresses written in a text, lowercased, in order."""
    return [a.lower().strip(".") for a in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)]


def category_asked(text: str) -> str:
    """"qui propose du bricolage" → "bricolage"."""
    found = re.search(r"\b(?:propose|offre|offers?|fait|does)\s+(?:du|de la|de l'|des|de|some|"
                      r"any)\s*([a-z]{3,})", text)
    return found.group(1) if found else ""


def as_typed(original: str, folded: str) -> str:
    """The piece of `original` that `plain` turns into `folded` (accents and case back)."""
    if not folded:
        return ""
    words = original.split()
    for start in range(len(words)):
        for end in range(start + 1, len(words) + 1):
            piece = " ".join(words[start:end])
            if plain(piece).strip(" ,.;:!?") == folded:
                return piece.strip(" ,.;:!?")
            if len(plain(piece)) > len(folded) + 2:
                break
    return folded
