"""Which proposal, offer or request, or held post a message is about: a number the writer
gives ("la 2", "n°3", "#3", "proposal 7"), the one the bot's quoted mail names (a renewal
notice, a reminder, a held-post notice), the writer's own one ("ma demande"), or the words
of its title ("la tondeuse", "the minimum balance"). Pure; the candidates come as data.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailbot.reading.spoken import plain

from .lexicon import MINE, OFFER_WORD, REQUEST_WORD, STOP_WORDS
from .model import OpenItem, OpenProposal

_ORDINALS = {"premiere": 1, "first": 1, "deuxieme": 2, "seconde": 2, "second": 2,
             "troisieme": 3, "third": 3, "quatrieme": 4, "fourth": 4, "cinquieme": 5,
             "fifth": 5, "sixieme": 6, "sixth": 6, "septieme": 7, "seventh": 7,
             "huitieme": 8, "eighth": 8, "neuvieme": 9, "ninth": 9}
_MONTHS = (r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|"
           r"decembre|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec")
# "n°3", "#3", "no. 3", "numero 3", "number 3"; "la 2" (la proposition); "proposal 7".
# Read from the digits back: the words are searched only before a number (1 to 4 digits),
# not at every letter of the text (a search of the whole pattern costs ~70 µs a sentence).
_NUMBER_WORD = re.compile(
    r"(?:n°|#|\bno\.?|\bnum(?:ero|ber)?\.?|\bla|\bproposal|\bproposition|\bprop\.?|\boffre"
    r"|\boffer|\bdemande|\brequest|\bannonce|\bitem)\s*\Z")
_LONGEST_WORD = len("proposition")
_NUMBER_DIGITS = re.compile(r"(?<!\d)\d{1,4}\b")
_NOT_A_NUMBER = re.compile(  # a date, a time, an amount, an age, an ordinal
    rf"\s*(?:{_MONTHS}|h\b|heures?|hours?|%|€|euros?|ans|years|e\b|eme\b|er\b)")
_ORDINAL = re.compile(rf"\b(?:la|the) ({'|'.join(_ORDINALS)})\b")
_PROPOSAL_IN_BOT_MAIL = re.compile(r"\bpropos(?:ition|al)\s*(?:n°|no\.?|#)\s*(\d{1,4})\b")
_ITEM_IN_BOT_MAIL = re.compile(
    r"\b(?:renouveler|renew|clore|close) (\d{1,4})\b|\b(?:votre|your) (?:offre|demande|offer|"
    r"request) (?:n°|no\.?\s*)(\d{1,4})\b")
_HOLD_IN_BOT_MAIL = re.compile(r"\bmessage (?:a moderer|to moderate)\s*(?:n°|no\.?)\s*(\d{1,4})")


_DIGIT = re.compile(r"\d")  # what every number named holds: most texts have none


def numbers_named(text: str) -> list[int]:
    """The numbers a plain text gives to a proposal or an item, in order."""
    found = _numbered(text) if _DIGIT.search(text) else []
    found += [(m.start(), _ORDINALS[m.group(1)]) for m in _ORDINAL.finditer(text)]
    return [number for _, number in sorted(found)]


def _numbered(text: str) -> list[tuple[int, int]]:
    """(where, number) of each number a word names ("n°3", "la 2"), left to right."""
    found: list[tuple[int, int]] = []
    done = 0  # where the last one found ends: the next starts after it
    for digits in _NUMBER_DIGITS.finditer(text):
        if _NOT_A_NUMBER.match(text, digits.end()):
            continue
        word_end = digits.start()
        while word_end > done and text[word_end - 1].isspace():
            word_end -= 1
        word = _NUMBER_WORD.search(text, max(done, word_end - _LONGEST_WORD), digits.start())
        if word is not None:
            found.append((word.start(), int(digits.group())))
            done = digits.end()
    return found


def only(numbers: Sequence[int]) -> int | None:
    """The one number named (several times perhaps), else None."""
    return numbers[0] if numbers and len(set(numbers)) == 1 else None


def proposal_in_bot_mail(text: str) -> int | None:
    return only([int(n) for n in _PROPOSAL_IN_BOT_MAIL.findall(text)])


def item_in_bot_mail(text: str) -> int | None:
    return only([int(a or b) for a, b in _ITEM_IN_BOT_MAIL.findall(text)])


def hold_in_bot_mail(text: str) -> int | None:
    return only([int(n) for n in _HOLD_IN_BOT_MAIL.findall(text)])


def keywords(text: str) -> set[str]:
    """The words that tell one title from another, cut to a stem ("plants", "plantes" →
    "plant")."""
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", plain(text))
            if len(w) > 2 and w not in STOP_WORDS and not w.isdigit()}


def _stem(word: str) -> str:
    return (word[:-1] if word.endswith("s") and len(word) > 4 else word)[:5]


@dataclass(frozen=True)
class _Candidate:
    number: int
    words: frozenset[str]
    mine: bool
    fits_kind: bool = True


def _best_by_words(text: str, candidates: Sequence[_Candidate], prefer_mine: bool) -> int | None:
    """The candidate whose words the text shares most (rare words weigh more); the writer's
    own first when the text says "my"; a single own candidate when nothing else tells."""
    said = keywords(text)
    pool = [c for c in candidates if c.fits_kind] or list(candidates)
    if prefer_mine and any(c.mine for c in pool):
        pool = [c for c in pool if c.mine]
    weight = {w: 1 / sum(w in c.words for c in candidates) for c in candidates for w in c.words}
    scored = sorted(((sum(weight[w] for w in said & c.words), c.number) for c in pool),
                    reverse=True)
    if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    return pool[0].number if prefer_mine and len(pool) == 1 and pool[0].mine else None


def proposal_by_words(text: str, proposals: Sequence[OpenProposal], sender: str) -> int | None:
    candidates = [_Candidate(p.number, frozenset(keywords(p.title)), p.proposer == sender)
                  for p in proposals]
    return _best_by_words(text, candidates, bool(re.search(MINE, text)))


def item_by_words(text: str, items: Sequence[OpenItem], sender: str) -> int | None:
    kind = ("offer" if re.search(OFFER_WORD, text) else
            "request" if re.search(REQUEST_WORD, text) else "")
    candidates = [_Candidate(i.number, frozenset(keywords(i.title) | keywords(i.text)),
                             i.author == sender, not kind or i.kind == kind) for i in items]
    return _best_by_words(text, candidates, bool(re.search(MINE, text)))
