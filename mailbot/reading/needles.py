"""Which of many regular expressions may match a text, known before running them.

Python's `re` scans a text position by position and tries every alternative at each; a
pattern that opens with a word boundary and an alternation of phrases ("\\b(?:pause|
suspendre|…)") gets no quick skip to its first letters. The request reader searches each
sentence for some 75 such patterns, and most sentences hold none of them: running them all
was a third of its time on the corpora.

A pattern's needles are literal strings one of which every match contains, worked out from
the parsed expression: a run of literal characters is one; an alternation gives the union
of its branches' (when each branch has some); a sequence, the set whose shortest needle is
longest. A class, an optional part or a case-insensitive flag gives none, and a pattern
without needles is always run. The `Sieve` files each pattern under a three-character
slice of each needle and asks which slices a text holds: a pattern none of whose slices is
there cannot match, and is not run.
"""

import re
from collections.abc import Iterable

# The standard library's own reading of a pattern (what `re.compile` compiles).
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _p  # type: ignore[attr-defined]
from typing import Any


def needles(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` contains; None when unknown."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        found = _of(_p.parse(pattern.pattern, pattern.flags & ~re.UNICODE))
    except Exception:  # a construct this reading does not know: the pattern is always run
        return None
    return frozenset(found) if found else None


def _of(items: Iterable[tuple[Any, Any]]) -> set[str] | None:
    """The best needle set of a sequence of parsed items (None: none known)."""
    sets: list[set[str]] = []
    run: list[str] = []
    for op, value in items:
        if op is _c.LITERAL:
            run.append(chr(value))
            continue
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue  # zero width: the characters on each side stay side by side
        if run:
            sets.append({"".join(run)})
            run = []
        found = _of_item(op, value)
        if found:
            sets.append(found)
    if run:
        sets.append({"".join(run)})
    return max(sets, key=lambda s: (min(map(len, s)), -len(s))) if sets else None


def _of_item(op: Any, value: Any) -> set[str] | None:
    if op is _c.SUBPATTERN:
        _group, add_flags, _del_flags, inner = value
        return None if add_flags & re.IGNORECASE else _of(inner)
    if op is _c.BRANCH:
        branches = [_of(branch) for branch in value[1]]
        return set().union(*branches) if all(branches) else None  # type: ignore[arg-type]
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        least, _most, inner = value
        return _of(inner) if least >= 1 else None
    return None  # a class, any character, a back-reference: no literal to count on


# Characters by how often they come in folded French and English text, most frequent
# first: a needle is filed under its slice of the rarest ones.
_COMMON = " eastinrulodcpmvhgfbqyjkxwz'"
_RARITY = {char: rank for rank, char in enumerate(_COMMON)}
SLICE = 3


def _rarest_slice(needle: str) -> str:
    slices = [needle[i:i + SLICE] for i in range(len(needle) - SLICE + 1)]
    return max(slices, key=lambda s: sum(_RARITY.get(c, len(_COMMON)) for c in s))


class Sieve:
    """Which of many patterns may match a text, from one look at the text's slices."""

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        self._always: set[re.Pattern[str]] = set()
        self._filed: dict[str, set[re.Pattern[str]]] = {}
        for pattern in patterns:
            found = needles(pattern)
            if found is None or min(map(len, found)) < SLICE:
                self._always.add(pattern)
                continue
            for needle in found:
                self._filed.setdefault(_rarest_slice(needle), set()).add(pattern)
        self._slices = frozenset(self._filed)

    def may_match(self, text: str) -> set[re.Pattern[str]]:
        """The patterns that may match `text`; the others cannot."""
        found = set(self._always)
        for piece in {text[i:i + SLICE] for i in range(len(text) - SLICE + 1)} & self._slices:
            found |= self._filed[piece]
        return found
