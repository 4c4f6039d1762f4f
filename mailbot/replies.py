"""A reply's own new text: what the writer typed, without the quoted message or signature.

Members top-post from every client. We cut at the first attribution line (Gmail "On … wrote:",
"Le … a écrit :", Outlook's "-----Original Message-----" or its "From:/De :" header block,
Apple Mail, Thunderbird), drop `>` quoted lines, and stop at a signature ("-- ") or a
mobile footer ("Sent from my iPhone", "Envoyé de mon …").
"""

import re

from mailbot.textutil import fold

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
