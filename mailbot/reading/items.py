"""Reading offers and requests. Pure.

A post whose subject starts with [OFFER]/[OFFRE] or [REQUEST]/[DEMANDE] (case and accents
ignored, after the list prefix, not in a reply) is an exchange item; a `Category:` /
`Catégorie :` line in its text files it. Matching a request to offers is by category, or
by the significant words their titles share.
"""

import re

from mailbot.reading.subjects import is_reply
from mailbot.reading.text import fold

_TAG = re.compile(r"^\s*\[\s*(offer|offre|request|demande)s?\s*\]\s*", re.I)
_CATEGORY = re.compile(r"^\s*(category|categorie)\s*:\s*(?P<c>.+?)\s*$", re.I)
_KINDS = {"offer": "offer", "offre": "offer", "request": "request", "demande": "request"}
# Words too common to say two items are about the same thing.
_STOP = frozenset({
    "a", "au", "aux", "avec", "de", "des", "du", "en", "et", "la", "le", "les", "l", "un",
    "une", "pour", "par", "sur", "d", "mon", "ma", "mes", "votre", "vos", "je", "j", "cherche",
    "propose", "offre", "demande", "besoin", "aide", "the", "an", "and", "of", "for", "to",
    "with", "my", "i", "need", "offer", "looking", "someone", "quelqu", "quelqu'un", "qui",
})


def item_kind_and_title(subject: str, prefix: str = "") -> tuple[str, str] | None:
    """("offer"|"request", title) for a new item's subject, else None."""
    text = subject.strip()
    if prefix and text.lower().startswith(prefix.lower()):
        text = text[len(prefix):]
    if is_reply(text):
        return None
    match = _TAG.match(fold(text)) if len(fold(text)) == len(text) else _TAG.match(text)
    if match is None:
        return None
    kind = _KINDS[fold(match.group(1))]
    title = " ".join(text[match.end():].split())
    return (kind, title) if title else None


def category_of(text: str) -> str:
    """The `Category:` line's value, lowercased without accents ("" when there is none)."""
    for line in text.splitlines():
        match = _CATEGORY.match(fold(line))
        if match:
            return match.group("c").strip()
    return ""


def keywords(title: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", fold(title))
    return {w for w in words if len(w) > 2 and w not in _STOP}


def matches(request_title: str, request_category: str, offer_title: str,
            offer_category: str) -> bool:
    """An offer fits a request: same category, or at least one significant word shared."""
    if request_category and request_category == offer_category:
        return True
    return bool(keywords(request_title) & keywords(offer_title))
