"""Reading proposals and replies to them. Pure.

A proposal is a post whose subject starts with a proposal tag. A reply's stance is read
on the first line of the writer's own text: an objection word, a support word, the
withdrawal of an objection, or else a comment.
"""

import re
import unicodedata

from mailbot.replies import first_line
from mailbot.textutil import fold

# Folded (lowercase, no accents) subject after the list prefix: "[proposal] …", "proposition : …"
_TAG = re.compile(r"^\s*(\[\s*(proposal|proposition)s?\s*\]|(proposal|proposition)s?\s*:)\s*",
                  re.I)
_LIST_PREFIX = re.compile(r"^\s*\[[^\]]*\]\s*")
_REPLY_MARK = re.compile(r"^\s*(re|r[ée]f\.?|aw|sv|tr|fwd?|wg)\s*(\[\d+\])?\s*:", re.I)
_NUMBER = re.compile(r"(?:#|\bn\s*[°ºo]\s*|\bno\.?\s*)(\d+)\b", re.I)

# Order matters: the withdrawal of an objection starts with words an objection also uses.
_WITHDRAW = re.compile(
    r"^(withdraw (my )?objection|i withdraw my objection|objection withdrawn|"
    r"je retire mon objection|retrait de (mon|l') ?objection|objection retiree|"
    r"je leve mon objection|objection levee)")
_ONE = r"1(?!\d|[.,]\d)"  # -1 and +1, but not -10 or -1,5 °C
_OBJECT = re.compile(rf"^(objection|je m'oppose|je suis contre|veto|block|bloque|je bloque|"
                     rf"i object)\b|^-{_ONE}")
_SUPPORT = re.compile(rf"^(d'accord|je suis d'accord|agreed?|i agree|je soutiens|i support|"
                      rf"favorable)\b|^\+{_ONE}")


def proposal_title(subject: str, prefix: str = "") -> str | None:
    """The title of a new proposal, or None when the subject is not a proposal's.

    A reply ("Re: [PROPOSAL] …") is not a new proposal; the list's own prefix may come
    first ("[sel] [PROPOSITION] …")."""
    text = subject.strip()
    if prefix and text.lower().startswith(prefix.lower()):
        text = text[len(prefix):]
    if _REPLY_MARK.match(text):
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
    return "".join(fold(c) or c for c in text)


def referenced_number(subject: str) -> int | None:
    """A proposal number named in a subject: `#12`, `n°12`, `no. 12`."""
    match = _NUMBER.search(subject)
    return int(match.group(1)) if match else None


def stance(body: str) -> str:
    """"objection", "support", "withdraw" (an objection) or "comment"."""
    own = unicodedata.normalize("NFC", first_line(body)).lower().lstrip("\ufeff ")
    own = re.sub(r"[*_]", "", own).lstrip()  # bold and italics from HTML mail
    line = fold(own)
    if _WITHDRAW.match(line):
        return "withdraw"
    if _OBJECT.match(line) and not own.startswith("bloqué"):  # "bloqué par la neige"
        return "objection"
    if _SUPPORT.match(line):
        return "support"
    return "comment"
