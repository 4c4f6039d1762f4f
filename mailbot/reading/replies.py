"""A reply's own new text: what the writer typed, without the quoted message or signature.

Members top-post from every client. We cut at the first attribution line (Gmail "On … wrote:",
"Le … a écrit :", Outlook's "-----Original Message-----" or its "From:/De :" header block,
Apple Mail, Thunderbird), drop `>` quoted lines, and stop at a signature ("-- ") or a
mobile footer ("Sent from my iPhone", "Envoyé de mon …").
"""

import re
import unicodedata
from dataclasses import dataclass

from mailbot.reading.text import fold

_ATTRIBUTION = [
    re.compile(r"^\s*-{2,}\s*(original message|message d'origine|message original|"
               r"forwarded message|message transf[ée]r[ée]|mensaje original)\s*-{2,}", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above its header block
    re.compile(r"^\s*(on|le|am|el)\b.{0,200}\b(wrote|a [ée]crit|schrieb|escribi[oó])\s*:?\s*$",
               re.I),
    re.compile(r"^.{0,200}\b(wrote|a [ée]crit)\s*:\s*$", re.I),
]
_HEADER_BLOCK = re.compile(r"^\s*\*?(from|de|von)\s*\*?\s*:", re.I)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|envoy[ée]|date|to|[àa]|objet|subject|cc|gesendet)\s*\*?\s*:", re.I
)
_SIGNATURE = re.compile(
    r"^\s*(--|__)\s*$|^\s*(sent from my|envoy[ée] (de|depuis) mon|get outlook for|"
    r"t[ée]l[ée]charger outlook|obtenir outlook pour)", re.I
)
# "On Mon, 3 Nov 2025 at 10:00, Marie <m@x.org>" then "wrote:" on the next line.
_SPLIT_ATTRIBUTION_START = re.compile(r"^\s*(on|le)\s.+\d", re.I)
_SPLIT_ATTRIBUTION_END = re.compile(
    r"^.{0,120}(wrote|a [ée]crit)\s*:\s*$|^\s*[ée]crit\s*:\s*$", re.I)


def own_text(text: str) -> str:
    """The writer's own lines, in order, trimmed; '' when there are none."""
    lines = text.splitlines()
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _ends_own_text(lines, index):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _ends_own_text(lines: list[str], index: int) -> bool:
    line = lines[index]
    if any(pattern.match(line) for pattern in _ATTRIBUTION) or _SIGNATURE.match(line):
        return True
    following = lines[index + 1 : index + 5]
    if _HEADER_BLOCK.match(line) and any(_HEADER_NEXT.match(n) for n in following):
        return True
    return bool(
        _SPLIT_ATTRIBUTION_START.match(line)
        and index + 1 < len(lines)
        and _SPLIT_ATTRIBUTION_END.match(lines[index + 1])
    )


# Greetings and closings that people write around what they mean.
_GREETING = re.compile(
    r"^(bonjour|bonsoir|salut|coucou|hello|hi|dear|chere?s?|merci|thanks|thank you|"
    r"cordialement|bien a vous|amities|bises|best|regards|kind regards|sincerement)\b"
)


def is_greeting(line: str) -> bool:
    """"Bonjour à toutes et à tous," or "Merci": neither a command nor a stance.

    Short lines, or longer ones that end like a salutation (a comma or "!")."""
    folded = fold(line.lstrip("\ufeff"))
    if not _GREETING.match(folded):
        return False
    return len(folded.split()) <= 4 or (len(folded.split()) <= 8 and folded[-1:] in ",!")


def first_line(text: str) -> str:
    """The first line of the writer's own text that says something (greetings skipped)."""
    for line in own_text(text).splitlines():
        if line.strip() and not is_greeting(line):
            return line.strip()
    return ""


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


@dataclass(frozen=True)
class Reply:
    """What mailbot reads in a reply: the text it was given, the writer's own part of it,
    that part's first line, and the stance that line takes."""

    input: str
    text: str
    first_line: str
    stance: str


def read_reply(text: str) -> Reply:
    """The one reading of a reply's text that the daemon and `mailbot explain` share.
    `first_line` is the first non-empty line of the own text, greeting or not; the stance
    is read on the first line that says something."""
    own = own_text(text)
    first = next((line.strip() for line in own.splitlines() if line.strip()), "")
    return Reply(text, own, first, stance(text))
