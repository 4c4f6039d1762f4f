"""RFC 3464 delivery status notifications: the per-recipient fields (§2.3), wherever a server
put them: in a message/delivery-status part, in a text/plain part, or in the raw body of a
report whose MIME boundary is broken. One Outcome per recipient named by a valid address.
"""

import re
from dataclasses import dataclass

from mailbot.reading.bounces import addresses, codes

# RFC 3464 §2.2 and §2.3 field names (and the common X- extensions), lower-cased.
_FIELDS = (
    "original-envelope-id", "reporting-mta", "dsn-gateway", "received-from-mta",
    "arrival-date", "original-recipient", "final-recipient", "action", "status", "remote-mta",
    "diagnostic-code", "last-attempt-date", "final-log-id", "will-retry-until",
    "x-actual-recipient", "x-display-name", "x-postfix-queue-id", "x-postfix-sender",
    "x-supplementary-info", "x-original-message-id", "x-sendgrid-queueid", "x-sendgrid-sender",
)
_FIELD = re.compile(r"^(" + "|".join(_FIELDS) + r")\s*:\s?(.*)$", re.IGNORECASE)
_RECIPIENT_FIELDS = ("original-recipient", "final-recipient", "action")
_QUOTED = re.compile(r"^(?:> ?)+")
# RFC 3464 §2.3.3: what an MTA did for a recipient that is not a failure.
_SUCCESS_ACTIONS = ("delivered", "relayed", "expanded")
# "error" is OpenSMTPD's spelling of "failed"; "expired" SendGrid's for a delivery given up.
_FAILED_ACTIONS = ("failed", "failure", "error", "expired")


@dataclass(frozen=True)
class Outcome:
    address: str
    verdict: str  # codes.PERMANENT, TEMPORARY, SUCCESS or UNKNOWN
    said: str  # the server's own words (Diagnostic-Code), if any


def outcomes(text: str) -> list[Outcome]:
    """The recipients the DSN fields in `text` report on, in order."""
    found: list[Outcome] = []
    for block in _blocks(text):
        address = _recipient(block)
        if address is not None:
            found.append(Outcome(address, verdict(block), block.get("diagnostic-code", "")))
    return found


def verdict(block: dict[str, str]) -> str:
    """One recipient's outcome (RFC 3464 §2.3.3 Action, §2.3.4 Status, RFC 3463 classes).
    A 4.x.x status is temporary whatever the action: the address is not at fault."""
    action = block.get("action", "").strip().lower()
    said = block.get("diagnostic-code", "")
    if action.startswith("delayed"):
        return codes.TEMPORARY
    if action.startswith(_SUCCESS_ACTIONS):
        return codes.SUCCESS
    found = codes.class_of(block.get("status", ""), said)
    if found in (codes.PERMANENT, codes.TEMPORARY):
        return found
    if action.startswith(_FAILED_ACTIONS):
        return codes.TEMPORARY if codes.said_temporary(said) else codes.PERMANENT
    return found  # SUCCESS for a bare 2.x.x status, else UNKNOWN


def _recipient(block: dict[str, str]) -> str | None:
    """Original-Recipient (§2.3.1: the address the list sent to, before any forwarding), else
    Final-Recipient (§2.3.2), without its address type; None when neither is an address."""
    for name in ("original-recipient", "final-recipient"):
        value = block.get(name, "")
        if ";" in value:
            value = value.split(";", 1)[1]
        found = addresses.address(value) if value.strip() else None
        if found is not None:
            return found
    return None


def _blocks(text: str) -> list[dict[str, str]]:
    """Consecutive DSN field lines, one dict a recipient: a blank line, a line that is no field,
    or a field the current recipient already has (servers that leave no blank line) ends one."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        line = _QUOTED.sub("", line)  # a report forwarded as a quote is still one
        field = _FIELD.match(line)
        if field is not None:
            name, value = field.group(1).lower(), field.group(2).strip()
            if name in current and name in _RECIPIENT_FIELDS:
                blocks.append(current)
                current = {}
            current[name] = value
            last = name
        elif last and line[:1] in (" ", "\t") and line.strip():
            current[last] += " " + line.strip()  # a folded field (RFC 5322 §2.2.3)
        else:
            if current:
                blocks.append(current)
            current, last = {}, ""
    if current:
        blocks.append(current)
    return [b for b in blocks if any(n in b for n in ("original-recipient", "final-recipient"))]
