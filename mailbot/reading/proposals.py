"""Reading a proposal's subject: its tag and title, and a number named in a reply. Pure.

A proposal is a post whose subject starts with a proposal tag. (A reply's stance is read
in replies.py.)
"""

import re
import unicodedata

from mailbot.reading.subjects import is_reply
from mailbot.reading.text import fold

# Folded (lowercase, no accents) subject after the list prefix: "[proposal] …", "proposition : …"
_TAG = re.compile(r"^\s*(\[\s*(proposal|proposition)s?\s*\]|(proposal|proposition)s?\s*:)\s*",
                  re.I)
_LIST_PREFIX = re.compile(r"^\s*\[[^\]]*\]\s*")
_NUMBER = re.compile(r"(?:#|\bn\s*[°ºo]\s*|\bno\.?\s*)(\d+)\b", re.I)

def proposal_title(subject: str, prefix: str = "") -> str | None:
    """The title of a new proposal, or None when the subject is not a proposal's.

    A reply ("Re: [PROPOSAL] …") is not a new proposal; the list's own prefix may come
    first ("[sel] [PROPOSITION] …")."""
    text = subject.strip()
    if prefix and text.lower().startswith(prefix.lower()):
        text = text[len(prefix):]
    if is_reply(text):
        return None
    composed = unicodedata.normalize("NFC", text)  # "é" typed as e + accent is still "é"
    match = _TAG.match(_fold_keep_length(composed))
    if not match:
        return None
    return " ".join(_after(text, composed[:match.end()]).split()) or None


def _after(text: str, composed_head: str) -> str:
    """What follows the part of `text` that composes to `composed_head` (title as typed)."""
    for cut in range(len(text) + 1):
        if unicodedata.normalize("NFC", text[:cut]) == composed_head:
            return text[cut:]
    return unicodedata.normalize("NFC", text)[len(composed_head):]


def _fold_keep_length(text: str) -> str:
    """Accents removed character by character, so match positions map back onto `text`."""
    if text.isascii():  # nothing to remove: each character lowercased, as `fold` does
        return text.lower()
    return "".join(fold(c) or c for c in text)


def referenced_number(subject: str) -> int | None:
    """A proposal number named in a subject: `#12`, `n°12`, `no. 12`."""
    match = _NUMBER.search(subject)
    return int(match.group(1)) if match else None

