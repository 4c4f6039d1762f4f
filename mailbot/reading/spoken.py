"""Sentences as people type them, made comparable: folded (lowercase, no accents), French
elisions restored when the apostrophe was dropped ("J AI" → "j'ai"), hyphens between letters
made spaces, and the number words of French and English. Pure; tables are data.
"""

import re

from mailbot.reading.text import fold

# "J AI", "QUELQU UN", "M ENVOYER": an ALL CAPS writer or a phone drops the apostrophe.
# ("t" is left out: "reste-t-il" must stay "reste t il".)
# Each pattern starts with what it must find (a letter, a hyphen), its look-behinds after:
# the engine then skips to the candidates instead of looking behind at every character
# (plain() 11 → 8 µs on a sentence; tests/test_requests_words.py checks they read the same).
_ELISION = re.compile(
    r"(?=[jmslndcq])(?<![\w'])(j|m|s|l|n|d|c|qu|jusqu|lorsqu|puisqu|quelqu)\s+(?=[aeiouyh])")
_APOSTROPHES = re.compile(r"[’‘`´]")
_HYPHEN = re.compile(r"-(?<=[a-z]-)(?=[a-z])")
_SPACED_APOSTROPHE = re.compile(r"\s*'\s*")


def plain(text: str) -> str:
    """Folded, apostrophes and elisions made one form, hyphens between letters spaces.
    (A rewrite whose character is not in the text is not run: the same result, and a
    sentence costs a few substitutions less.)"""
    if not text.isascii() or "`" in text:
        text = _APOSTROPHES.sub("'", text)
    folded = fold(text)
    if "-" in folded:
        folded = _HYPHEN.sub(" ", folded)
    if "'" in folded:
        folded = _SPACED_APOSTROPHE.sub("'", folded)
    return _ELISION.sub(r"\1'", folded)


# Number words, folded. "a"/"an" count as one only where a unit follows (amounts.py).
UNITS: dict[str, int] = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS: dict[str, int] = {
    "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
}
_SMALL = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
          "sept": 7, "huit": 8, "neuf": 9, "one": 1, "two": 2, "three": 3, "four": 4,
          "five": 5, "seven": 7, "eight": 8, "nine": 9}


def _alternation(words: list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_TENS = _alternation(list(TENS))
_UNIT_WORDS = _alternation(list(UNITS))
# "dix sept", "vingt cinq", "vingt et un", "forty five", or one word; digits "1", "1,5".
NUMBER = (rf"(?:\d{{1,7}}(?:[.,]\d{{1,4}})?|(?:{_TENS})(?:\s+et\s+(?:un|une)|\s+(?:{_UNIT_WORDS}))?"
          rf"|dix\s+(?:sept|huit|neuf)|(?:{_UNIT_WORDS}))")
_NUMBER_FULL = re.compile(rf"^{NUMBER}$")


def number_value(word: str) -> float | None:
    """The value of a number as NUMBER matches it ("2", "1,5", "vingt cinq"), else None."""
    word = " ".join(word.split())
    if not _NUMBER_FULL.match(word):
        return None
    if word[0].isdigit():
        return float(word.replace(",", "."))
    parts = [p for p in word.split() if p != "et"]
    if parts[0] == "dix" and len(parts) == 2:
        return 10 + _SMALL[parts[1]]
    if parts[0] in TENS:
        return TENS[parts[0]] + (_SMALL.get(parts[1], 0) if len(parts) > 1 else 0)
    return UNITS.get(parts[0])
