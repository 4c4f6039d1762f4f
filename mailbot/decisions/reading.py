"""Reading proposals and replies to them. Pure.

A proposal is a post whose subject starts with a proposal tag. A reply's stance is read
on the first line of the writer's own text: an objection word, a support word, the
withdrawal of an objection, or else a comment.
"""

import re

from mailbot.replies import first_line
from mailbot.textutil import fold

# Folded (lowercase, no accents) subject after the list prefix: "[proposal] …", "proposition : …"
_TAG = re.compile(r"^\s*(\[\s*(proposal|proposition|proposals|propositions)\s*\]|"
                  r"(proposal|proposition)\s*:)\s*", re.I)
_LIST_PREFIX = re.compile(r"^\s*\[[^\]]*\]\s*")
_REPLY_MARK = re.compile(r"^\s*(re|r[ée]f\.?|aw|sv|tr|fwd?|wg)\s*(\[\d+\])?\s*:", re.I)
_NUMBER = re.compile(r"(?:#|\bn\s*[°ºo]\s*|\bno\.?\s*)(\d+)\b", re.I)

# Order matters: the withdrawal of an objection starts with words an objection also uses.
_WITHDRAW = re.compile(
    r"^(withdraw (my )?objection|i withdraw my objection|objection withdrawn|"
    r"je retire mon objection|retrait de (mon|l') ?objection|objection retiree|"
    r"je leve mon objection)")
_OBJECT = re.compile(r"^(objection|je m'oppose|je suis contre|-1(?!\d)|veto|block|bloque|"
                     r"je bloque|i object)\b|^-1(?!\d)")
_SUPPORT = re.compile(r"^(\+1(?!\d)|d'accord|je suis d'accord|agree|i agree|je soutiens|"
                      r"i support|favorable)")


def proposal_title(subject: str, prefix: str = "") -> str | None:
    """The title of a new proposal, or None when the subject is not a proposal's.

    A reply ("Re: [PROPOSAL] …") is not a new proposal; the list's own prefix may come
    first ("[sel] [PROPOSITION] …")."""
    text = subject.strip()
    if prefix and text.startswith(prefix):
        text = text[len(prefix):]
    if _REPLY_MARK.match(text):
        return None
    match = _TAG.match(fold(text)) and _TAG.match(_fold_keep_length(text))
    if not match:
        return None
    return " ".join(text[match.end():].split()) or None


def _fold_keep_length(text: str) -> str:
    """Accents removed character by character, so match positions map back onto `text`."""
    return "".join(fold(c) or c for c in text)


def referenced_number(subject: str) -> int | None:
    """A proposal number named in a subject: `#12`, `n°12`, `no. 12`."""
    match = _NUMBER.search(subject)
    return int(match.group(1)) if match else None


def stance(body: str) -> str:
    """"objection", "support", "withdraw" (an objection) or "comment"."""
    own = first_line(body).lower().lstrip("*_ ")
    line = fold(own)
    if _WITHDRAW.match(line):
        return "withdraw"
    if _OBJECT.match(line) and not own.startswith("bloqué"):  # "bloqué par la neige"
        return "objection"
    if _SUPPORT.match(line):
        return "support"
    return "comment"
