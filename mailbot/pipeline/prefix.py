"""The subject prefix, exactly once: "[sel] Re: topic", never "Re: [sel] Re: [sel] topic"."""

import re

# Reply and forward markers of many clients: Re:, RE :, Réf., AW:, SV:, TR:, Fwd:, Fw:, WG:
_REPLY = r"(re|r[ée]f\.?|aw|sv|antw|odp)"
_FORWARD = r"(fwd?|tr|wg|enc|rv)"
_MARKER = re.compile(rf"^\s*(?:{_REPLY}|(?P<fw>{_FORWARD}))\s*(\[\d+\])?\s*:\s*", re.I)


def build_subject(subject: str, prefix: str) -> str:
    """Strip every copy of the prefix and every Re:/Fwd: marker, then put back one of each."""
    rest = " ".join(subject.replace(prefix, " ").split())
    replied = forwarded = False
    while match := _MARKER.match(rest):
        forwarded = forwarded or bool(match.group("fw"))
        replied = replied or not match.group("fw")
        rest = rest[match.end():].lstrip()
    marker = "Re: " if replied else ("Fwd: " if forwarded else "")
    return f"{prefix} {marker}{rest}".rstrip() if rest or marker else prefix
