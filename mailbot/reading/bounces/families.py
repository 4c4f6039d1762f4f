"""Failure notices that are no RFC 3464 report, read with per-family rules kept as data
(families/*.toml, one file per MTA or provider, loaded once): which messages a family writes,
where its report starts and where the returned message begins, how it names a failed
recipient, and which of its phrases mean "will retry" or "gave up".

The phrases are facts about each server's output, most of them as sisimai documents them
(NOTICE). The engine is the same for every family: no code per provider.
"""

import re
import tomllib
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from functools import cache
from importlib import resources

from mailbot.reading.bounces import addresses, codes
from mailbot.reading.message import header


@dataclass(frozen=True)
class Family:
    name: str
    order: int  # families are tried in this order; the first to name a recipient reads it
    last_resort: bool  # tried only after flufl.bounce's heuristics found nothing
    match: dict[str, tuple[str, ...]]  # subject/from/received/message_id/body/headers
    start: tuple[str, ...]  # the report starts at the first line holding one of these
    end: tuple[str, ...]  # ...and ends before the first line holding one of these
    recipient: tuple[re.Pattern[str], ...]  # a line naming a recipient: group "address"
    skip: tuple[str, ...]  # lines holding one of these name no recipient
    header_recipients: tuple[str, ...]  # headers naming the recipients when the text does not
    returned_to: tuple[str, ...]  # a report holding one of these: the returned To failed
    delay: tuple[str, ...]  # in the report: the whole notice is a delay warning
    temporary: tuple[str, ...]  # in a recipient's diagnosis: the server will retry
    gave_up: tuple[str, ...]  # the server stopped retrying: permanent, whatever the code


@dataclass(frozen=True)
class Found:
    family: str
    address: str
    verdict: str  # codes.PERMANENT or codes.TEMPORARY
    said: str  # the lines that report on this recipient


def read(msg: Message, text: str, returned_to: str, *, last_resort: bool = False) -> list[Found]:
    """The recipients the first family that knows this message names, with their verdicts;
    [] when no family does. `last_resort`: the families tried after every other reader."""
    fields = {
        "subject": header(msg, "Subject"), "from": header(msg, "From"),
        "message_id": header(msg, "Message-ID"), "body": text,
        "received": " ".join(str(v) for v in (msg.get_all("Received") or [])),
    }
    seen = {key: value.lower() for key, value in fields.items()}  # once, not once a family
    for family in loaded():
        if family.last_resort == last_resort and _matches(family, msg, seen):
            found = _read_with(family, msg, text, returned_to)
            if found:
                return found
    return []


def _matches(family: Family, msg: Message, seen: dict[str, str]) -> bool:
    """Any of the family's marks (none: every message) holds."""
    if not any(family.match.values()):
        return True
    if any(_has_header(msg, wanted) for wanted in family.match.get("headers", ())):
        return True
    return any(_holds_lowered(seen[key], family.match.get(key, ())) for key in seen)


def _has_header(msg: Message, wanted: str) -> bool:
    """"name" (present) or "name: words" (its value holds the words)."""
    name, _, words = wanted.partition(":")
    value = header(msg, name.strip())
    return bool(value) and words.strip() in value.lower()


def _read_with(family: Family, msg: Message, text: str, returned_to: str) -> list[Found]:
    lines, after = _report_lines(family, text)
    if lines is None:
        return []
    whole = "\n".join(lines)
    named = _named(family, lines)
    if not named:
        named = [(a, whole) for a in _header_recipients(family, msg)]
    if not named and _holds(whole, family.returned_to):
        to = returned_to or _to_of(after)
        named = [(to, whole)] if to else []
    delayed = _holds(whole, family.delay)
    return [Found(family.name, address, _verdict(family, said, delayed), said)
            for address, said in named]


def _report_lines(family: Family, text: str) -> tuple[list[str] | None, list[str]]:
    """The lines from the family's start marker to its end marker (None without a start),
    and the lines after the end marker (a returned message, in a report that is one text)."""
    lines = text.splitlines()
    begin = 0
    if family.start:
        begin = next((i for i, line in enumerate(lines) if _holds(line, family.start)), -1)
        if begin < 0:
            return None, []
    end = next((i for i in range(begin + 1, len(lines)) if _holds(lines[i], family.end)),
               len(lines))
    return lines[begin:end], lines[end + 1:]


def _to_of(lines: list[str]) -> str:
    """The one address in the To of the message returned after the report, if any."""
    text = "\n".join(lines).lstrip("\n")
    returned = HeaderParser().parsestr(text, headersonly=True)
    found = addresses.find(header(returned, "To"))
    return found[0] if len(found) == 1 else ""


def _named(family: Family, lines: list[str]) -> list[tuple[str, str]]:
    """(address, what the report says of it): a recipient line and the lines up to the next."""
    named: list[tuple[str, list[str]]] = []
    for line in lines:
        address = None if _holds(line, family.skip) else _recipient_in(family, line)
        if address is not None:
            if all(address != a for a, _ in named):
                named.append((address, [line]))
        elif named:
            named[-1][1].append(line)
    return [(a, " ".join(" ".join(said).split())) for a, said in named]


def _recipient_in(family: Family, line: str) -> str | None:
    for pattern in family.recipient:
        found = pattern.search(line)
        if found is not None:
            address = addresses.address(found.group("address"))
            if address is not None:
                return address
    return None


def _header_recipients(family: Family, msg: Message) -> list[str]:
    found: list[str] = []
    for name in family.header_recipients:
        for part in header(msg, name).split(","):
            address = addresses.address(part)
            if address is not None and address not in found:
                found.append(address)
    return found


def _verdict(family: Family, said: str, delayed: bool) -> str:
    """Temporary for a delay warning. Else the class of the enhanced status code the server
    gave (RFC 3463); a family's "will retry" phrase; the class of its reply code (RFC 5321);
    its words ("temporarily"); and permanent when it said nothing: a failure notice reports a
    failure. A 4.x.x the server gave up on is permanent, unless it called it temporary."""
    if delayed:
        return codes.TEMPORARY
    found = codes.status_class(said)
    if found == codes.UNKNOWN and _holds(said, family.temporary):
        return codes.TEMPORARY
    if found == codes.UNKNOWN:
        found = codes.class_of_text(said)  # its reply code
    told_temporary = codes.said_temporary(said)
    if found == codes.TEMPORARY and _holds(said, family.gave_up) and not told_temporary:
        return codes.PERMANENT
    if found in (codes.PERMANENT, codes.TEMPORARY):
        return found
    return codes.TEMPORARY if told_temporary else codes.PERMANENT


def _holds(text: str, phrases: tuple[str, ...]) -> bool:
    """One of the (lower-cased) phrases is in the text; "^phrase": at the start of a line."""
    return _holds_lowered(text.lower(), phrases)


def _holds_lowered(lowered: str, phrases: tuple[str, ...]) -> bool:
    return any(_starts_a_line(lowered, p[1:]) if p.startswith("^") else p in lowered
               for p in phrases)


def _starts_a_line(text: str, phrase: str) -> bool:
    return text.startswith(phrase) or f"\n{phrase}" in text


@cache
def loaded() -> tuple[Family, ...]:
    """Every family's rules, read once from the package's data files."""
    folder = resources.files(__package__).joinpath("families")
    families = [_family(tomllib.loads(f.read_text(encoding="utf-8")))
                for f in folder.iterdir() if f.name.endswith(".toml")]
    return tuple(sorted(families, key=lambda f: (f.order, f.name)))


def _family(data: dict[str, object]) -> Family:
    match = data.get("match", {})
    read = data.get("read", {})
    verdict = data.get("verdict", {})
    assert isinstance(match, dict) and isinstance(read, dict) and isinstance(verdict, dict)
    return Family(
        name=str(data["name"]), order=int(str(data.get("order", 50))),
        last_resort=bool(data.get("last_resort", False)),
        match={k: _lower(v) for k, v in match.items()},
        start=_lower(read.get("start", [])), end=_lower(read.get("end", [])),
        recipient=tuple(re.compile(p) for p in read.get("recipient", [])),
        skip=_lower(read.get("skip", [])),
        header_recipients=tuple(read.get("header_recipients", [])),
        returned_to=_lower(read.get("returned_to", [])),
        delay=_lower(verdict.get("delay", [])), temporary=_lower(verdict.get("temporary", [])),
        gave_up=_lower(verdict.get("gave_up", [])))


def _lower(values: object) -> tuple[str, ...]:
    assert isinstance(values, list)
    return tuple(str(v).lower() for v in values)
