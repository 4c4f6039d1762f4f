"""A reply's own new text: what the writer typed, without the quoted message or signature.

Members reply from every client, in many languages, above the quote, under it or between
its lines. We walk the lines: quoted lines and their quote header ("On … wrote:", "Le … a
écrit :") are skipped and the reading goes on under them; an Outlook header block, an
"Original message" or forward separator, a signature mark or a mobile footer ends the
writer's text; a sign-off keeps the name under it and ends it. reply_lines.py tells lines.
"""

import re
import unicodedata
from dataclasses import dataclass

from mailbot.reading import reply_lines as kind
from mailbot.reading.text import fold


def own_text(text: str) -> str:
    """The writer's own lines, in order, trimmed; '' when there are none."""
    lines = [line.rstrip() for line in text.splitlines()]
    flats = [kind.plain(line) for line in lines]
    kept: list[str] = []
    index = 0
    headed = kind.may_hold_attribution(flats)  # most texts hold no quote header at all
    while index < len(lines):
        line, flat = lines[index], flats[index]
        if kind.is_quoted(line, flat) or kind.is_wrapped_quote(lines, flats, index):
            index += 1
            continue
        span = kind.attribution_span(lines, flats, index) if headed else 0
        if span:
            # Under a quote header: go on after its quote (bottom-posting, interleaving),
            # unless the original follows unquoted (then it is all theirs).
            after = kind.next_filled(flats, index + span)
            if after < len(lines) and kind.is_quoted(lines[after], flats[after]):
                index = after
                continue
            break
        if kind.is_separator(line, flat) or kind.is_header_block(flats, index):
            break
        if kind.is_mobile_footer(flat) or kind.is_banner(flat):
            if _says_something(kept) and not kind.is_banner(flat):
                break
            index += 1  # some phones and servers put theirs above the text
            continue
        kept.append(line)
        index += 1
        if kind.is_signoff(flat) and _says_something(kept[:-1]):
            index = _keep_names(lines, flats, index, kept)
            if index >= len(lines) or not kind.is_postscript(flats[index]):
                break
    return _trimmed(kept)


def _says_something(kept: list[str]) -> bool:
    return any(line.strip() and not is_greeting(line) for line in kept)


def _keep_names(lines: list[str], flats: list[str], index: int, kept: list[str]) -> int:
    """Keeps up to two name lines under a sign-off; returns where the signature goes on."""
    blanks: list[str] = []
    names = 0
    while index < len(lines) and names < 2:
        if not flats[index]:
            if names:  # a name and its title stand together; a blank ends them
                break
            blanks.append("")
        elif kind.is_name(lines[index]) and not kind.is_mobile_footer(flats[index]):
            kept.extend([*blanks, lines[index]])
            blanks, names = [], names + 1
        else:
            break
        index += 1
    return kind.next_filled(flats, index)


def _trimmed(kept: list[str]) -> str:
    """Without trailing rules and blank lines, nor a last "-Name" signed under a blank."""
    while kept and kind.is_decoration(kept[-1]):
        kept.pop()
    if len(kept) > 2 and kind.is_dash_name(kept[-1]) and not kept[-2].strip():
        kept.pop()
        while kept and kind.is_decoration(kept[-1]):
            kept.pop()
    return "\n".join(kept).strip()


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
    """The first line of the writer's own text that says something (greetings skipped,
    unless there is nothing else)."""
    return _first_saying(own_text(text))


def _first_saying(own: str) -> str:
    """The first line that is not a greeting; when there are only greetings ("Merci !"),
    the first of them: what the writer said is that."""
    lines = [line.strip() for line in own.splitlines() if line.strip()]
    return next((line for line in lines if not is_greeting(line)), lines[0] if lines else "")


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
    return _stance_of(first_line(body))


def _stance_of(first: str) -> str:
    """The stance that the first line saying something takes."""
    own = unicodedata.normalize("NFC", first).lower().lstrip("\ufeff ")
    own = re.sub(r"[*_]", "", own).lstrip()  # bold and italics from HTML mail
    line = fold(own)
    if _WITHDRAW.match(line):
        return "withdraw"
    if _OBJECT.match(line) and not own.startswith("bloqué"):  # "bloqué par la neige"
        return "objection"
    if _SUPPORT.match(line):
        return "support"
    return "comment"


# The stance word an objector starts with, and what follows it before the reason.
_OBJECTION_WORDS = re.compile(
    r"^\W*(objection|je m['’]oppose|je suis contre|veto|je bloque|bloque|block|i object|-1)"
    r"\b\W*(?=\w|$)|^\W*-1\W*", re.IGNORECASE)


def reason_of(own: str, lines: int = 10) -> str:
    """Why an objector objects: their own text from its first line that says something
    (greetings skipped), without the objection word it starts with ("OBJECTION : trop
    cher" gives "trop cher"); at most `lines` lines."""
    kept = own.splitlines()
    while kept and (not kept[0].strip() or is_greeting(kept[0])):
        kept.pop(0)
    if kept:
        kept[0] = _OBJECTION_WORDS.sub("", kept[0].replace("*", ""), count=1).strip()
        if not kept[0]:
            kept.pop(0)
    return "\n".join(kept[:lines]).strip()


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
    return Reply(text, own, first, _stance_of(_first_saying(own)))
