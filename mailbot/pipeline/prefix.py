"""The subject prefix, exactly once: "[sel] Re: topic", never "Re: [sel] Re: [sel] topic"."""

import re

# Reply and forward markers of many clients: Re:, RE :, Réf., AW:, SV:, TR:, Fwd:, Fw:, WG:
_REPLY = r"(re|r[ée]f\.?|aw|sv|antw|odp)"
_FORWARD = r"(fwd?|tr|wg|enc|rv)"
_MARKER = re.compile(rf"^\s*(?:{_REPLY}|(?P<fw>{_FORWARD}))\s*(\[\d+\])?\s*:\s*", re.I)


def build_subject(subject: str, prefix: str) -> str:
    """Strip every copy of the prefix and every Re:/Fwd: marker, then put back one of each."""
    rest, replied, forwarded = " ".join(subject.split()), False, False
    while True:
        stripped = rest.removeprefix(prefix).lstrip() if rest.startswith(prefix) else rest
        match = _MARKER.match(stripped)
        if match:
            forwarded = forwarded or bool(match.group("fw"))
            replied = replied or not match.group("fw")
            stripped = stripped[match.end():]
        if stripped == rest:
            break
        rest = stripped.lstrip()
    rest = rest.replace(f" {prefix} ", " ")
    marker = "Re: " if replied else ("Fwd: " if forwarded else "")
    return f"{prefix} {marker}{rest}".rstrip() if rest or marker else prefix
