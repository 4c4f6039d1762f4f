"""Subjects: the reply and forward markers of every client, and the list prefix exactly
once ("[sel] Re: topic", never "Re: [sel] Re: [sel] topic"). Pure.

The one pattern of markers, shared by the prefix, the proposal tag (a reply is not a new
proposal) and the commands read in a subject.
"""

import re

# Reply and forward markers of many clients: Re:, RE :, Réf., AW:, SV:, Antw:, Odp:, TR:,
# Fwd:, Fw:, WG:, Enc:, RV:, each maybe numbered ("Re[2]:").
_REPLY = r"(re|r[ée]f\.?|aw|sv|antw|odp)"
_FORWARD = r"(fwd?|tr|wg|enc|rv)"
MARKER = re.compile(rf"^\s*(?:{_REPLY}|(?P<fw>{_FORWARD}))\s*(\[\d+\])?\s*:\s*", re.I)
# Markers and bracketed tags ("[sel]", "[PROPOSITION]") at the start, any number of them.
_MARKS_AND_TAGS = re.compile(
    rf"^\s*((?:{_REPLY}|{_FORWARD})\s*(\[\d+\])?\s*:\s*|\[[^\]]*\]\s*)+", re.I)


def is_reply(subject: str) -> bool:
    """The subject starts with a reply or forward marker."""
    return MARKER.match(subject) is not None


def without_marks(subject: str) -> str:
    """The subject without its leading markers and bracketed tags."""
    return _MARKS_AND_TAGS.sub("", subject).strip()


def build_subject(subject: str, prefix: str) -> str:
    """Strip every copy of the prefix and every Re:/Fwd: marker, then put back one of each."""
    rest = " ".join(subject.replace(prefix, " ").split())
    replied = forwarded = False
    while match := MARKER.match(rest):
        forwarded = forwarded or bool(match.group("fw"))
        replied = replied or not match.group("fw")
        rest = rest[match.end():].lstrip()
    marker = "Re: " if replied else ("Fwd: " if forwarded else "")
    return f"{prefix} {marker}{rest}".rstrip() if rest or marker else prefix
