"""Members named in the writer's words, found in a roster given as data: by address, full
name (either order), "Mme Dubois", first name alone, last name alone; accents and case
ignored, one typo forgiven (rapidfuzz's optimal string alignment distance). Two members that
fit as well as each other are both returned: the caller asks which.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from mailbot.reading.spoken import plain

from .model import Person

TITLES = frozenset(("mme", "madame", "mlle", "mademoiselle", "m", "mr", "monsieur", "mrs",
                    "ms", "miss", "mister", "dr"))
# How a member is named, strongest first.
ADDRESS, FULL, TITLED, FIRST, LAST = 5, 4, 3, 2, 1


@dataclass(frozen=True)
class Mention:
    person: Person
    strength: int  # ADDRESS … LAST
    exact: bool
    start: int  # word index in the sentence
    end: int


@dataclass(frozen=True)
class _Names:
    person: Person
    first: tuple[str, ...]
    last: tuple[str, ...]


def _names(person: Person) -> _Names:
    """"Jean-Pierre Martin" → first ("jean", "pierre"), last ("martin")."""
    first, _, last = person.name.strip().partition(" ")
    if not last:  # one word, or none: the address's local part may hold both
        local = plain(person.email.split("@")[0]).replace(".", " ").replace("_", " ").split()
        words = plain(first).split() if first else local
        return _Names(person, tuple(words[:1]), tuple(words[1:]))
    return _Names(person, tuple(plain(first).split()), tuple(plain(last).split()))


def close(typed: str, name: str, shortest: int = 5) -> bool:
    """The same word, or one slip away from it for words of 5 letters and more; two slips
    for long words that start alike ("Dorothée" for Dorothy, "Francoisse")."""
    if typed == name:
        return True
    if len(name) < shortest or abs(len(typed) - len(name)) > 2:
        return False
    distance = OSA.distance(typed, name)
    return distance <= 1 or (distance == 2 and len(name) >= 7 and typed[:4] == name[:4])


def _fits(typed: Sequence[str], name: Sequence[str], fuzzy: bool) -> bool | None:
    """None: not this name; True: exactly; False: with a typo (in a full name, a short word
    may slip too when another is right: "bil carter")."""
    if not name or len(typed) != len(name):
        return None
    if list(typed) == list(name):
        return True
    pairs = list(zip(typed, name, strict=True))
    shortest = 3 if len(pairs) > 1 and any(t == n for t, n in pairs) else 5
    if fuzzy and all(close(t, n, shortest) for t, n in pairs):
        return False
    return None


def who_is(phrase: str, roster: Sequence[Person], exclude: str = "") -> list[Person]:
    """The members a short phrase names ("marie dubois", "Mme Dubois", "bill", "Lucein"):
    [] when none, one, or several when they fit equally (two Maries)."""
    words = [w for w in re.findall(r"[\w@.+'-]+", plain(phrase)) if w not in ("'", "-")]
    address = next((w for w in words if "@" in w), None)
    people = [p for p in roster if p.email.lower() != exclude.lower()]
    if address is not None:
        return [p for p in people if p.email.lower() == address.strip(".")]
    words = " ".join(w.replace("-", " ").strip(".") for w in words).split()
    best: list[tuple[int, bool, Person]] = []
    for names in map(_names, people):
        found = _match_words(words, names, fuzzy=True, capitalised=True)
        if found is not None:
            best.append((found[0], found[1], names.person))
    if not best:
        return []
    top = max((strength, exact) for strength, exact, _ in best)
    return [person for strength, exact, person in best if (strength, exact) == top]


def _match_words(words: Sequence[str], names: _Names, *, fuzzy: bool,
                 capitalised: bool) -> tuple[int, bool] | None:
    """How `words` (the whole of them) name this member, if they do."""
    if words and words[0] in TITLES:
        fit = _fits(words[1:], names.last, fuzzy)
        return None if fit is None else (TITLED, fit)
    if len(words) == len(names.first) + 1 and names.last and words[-1] == names.last[0][0]:
        fit = _fits(words[:-1], names.first, fuzzy)  # "Marie L."
        if fit is not None:
            return TITLED, fit
    initials = ("".join(w[0] for w in names.first),) if len(names.first) > 1 else ()
    for strength, name in ((FULL, names.first + names.last), (FULL, names.last + names.first),
                           (FIRST, names.first), (FIRST, initials), (LAST, names.last)):
        if strength == LAST and not capitalised:
            continue
        fit = _fits(words, name, fuzzy and (strength != LAST or capitalised))
        if fit is not None:
            return strength, fit
    return None


def mentions(text: str, roster: Sequence[Person], exclude: str = "") -> list[Mention]:
    """Members named anywhere in a sentence as typed. A last name alone counts only when
    capitalised ("Petit", not "petit bricolage"); a typo only in a capitalised word (so
    "la mairie" is never Marie)."""
    typed = re.findall(r"[\w@.+'’-]+", text)
    shouting = sum(c.isupper() for c in text) > 0.8 * max(1, sum(c.isalpha() for c in text))
    tokens: list[tuple[str, bool]] = []
    for word in typed:
        for part in plain(word.replace("-", " ")).split():
            tokens.append((part.strip(".'"), shouting or word[:1].isupper()))
    people = [p for p in roster if p.email.lower() != exclude.lower()]
    found: list[Mention] = []
    for names in map(_names, people):
        found += _mentions_of(tokens, names)
    return _strongest_per_place(found)


def _mentions_of(tokens: list[tuple[str, bool]], names: _Names) -> list[Mention]:
    found = []
    words = [w for w, _ in tokens]
    for start in range(len(tokens)):
        if words[start] == names.person.email.lower():
            found.append(Mention(names.person, ADDRESS, True, start, start + 1))
            continue
        if start and words[start - 1] in ("saint", "st", "sainte"):  # Saint-Martin
            continue
        for width in (len(names.first) + len(names.last) + 1, len(names.first) + len(names.last),
                      len(names.first), len(names.last)):
            piece = tokens[start:start + width]
            if len(piece) < width or width == 0:
                continue
            capitalised = all(cap for _, cap in piece if _ not in TITLES)
            fit = _match_words([w for w, _ in piece], names, fuzzy=capitalised,
                               capitalised=capitalised)
            if fit is not None and (fit[0] != FIRST or fit[1] or capitalised):
                found.append(Mention(names.person, fit[0], fit[1], start, start + width))
                break
    return found


def _strongest_per_place(found: list[Mention]) -> list[Mention]:
    """Where a full name was read, the first-name readings inside it are dropped."""
    kept = [m for m in found if not any(
        o.strength > m.strength and o.start <= m.start and m.end <= o.end for o in found)]
    return sorted(kept, key=lambda m: (m.start, -m.strength))
