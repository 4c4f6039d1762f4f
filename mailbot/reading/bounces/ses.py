"""Amazon SES notifications sent by e-mail through SNS: a JSON body whose notificationType is
Bounce, Complaint or Delivery (the SES developer guide's notification contents). A bounce's
bounceType says Permanent or Transient; a complaint and a delivery name no failure.

The JSON is read as JSON when it parses; SNS mail folds long lines and some relays truncate
them, so the fields are then read one by one, never the fragments between them.
"""

import json
import re
from dataclasses import dataclass

from mailbot.reading.bounces import addresses, codes

_TYPE = re.compile(r'"notificationType"\s*:\s*"(\w+)"')
_BOUNCE_TYPE = re.compile(r'"bounceType"\s*:\s*"(\w+)"')
_RECIPIENTS = re.compile(r'"bouncedRecipients"\s*:\s*\[(.*?)\]', re.DOTALL)
_ADDRESS = re.compile(r'"emailAddress"\s*:\s*"([^"]+)"')
_STATUS = re.compile(r'"status"\s*:\s*"([^"]*)"')


@dataclass(frozen=True)
class Notification:
    kind: str  # "failure", "complaint", "success"
    permanent: frozenset[str]
    temporary: frozenset[str]


def read(text: str) -> Notification | None:
    """None when the text is no SES notification."""
    body = text.strip()
    if not body.startswith("{") or '"notificationType"' not in body.replace("\\", ""):
        return None
    payload = _json(body)
    if payload is not None:
        return _from_json(payload)
    return _from_fields(body)


def _json(body: str) -> dict[str, object] | None:
    """The notification object (inside an SNS envelope's "Message" when there is one)."""
    text = body.split("\n--\n", 1)[0]  # SNS appends an unsubscribe footer after "--"
    try:
        payload = json.loads(text)
        if isinstance(payload, dict) and isinstance(payload.get("Message"), str):
            payload = json.loads(payload["Message"])
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _from_json(payload: dict[str, object]) -> Notification | None:
    kind = payload.get("notificationType")
    if kind == "Complaint":
        return Notification("complaint", frozenset(), frozenset())
    if kind == "Delivery":
        return Notification("success", frozenset(), frozenset())
    bounce = payload.get("bounce")
    if kind != "Bounce" or not isinstance(bounce, dict):
        return None
    named = bounce.get("bouncedRecipients")
    found: list[tuple[str, str]] = []
    for each in named if isinstance(named, list) else []:
        if isinstance(each, dict):
            found.append((str(each.get("emailAddress", "")), str(each.get("status", ""))))
    return _bounce(str(bounce.get("bounceType", "")), found)


def _from_fields(body: str) -> Notification | None:
    kind = _TYPE.search(body)
    if kind is None:
        return None
    if kind.group(1) == "Complaint":
        return Notification("complaint", frozenset(), frozenset())
    if kind.group(1) == "Delivery":
        return Notification("success", frozenset(), frozenset())
    named = _RECIPIENTS.search(body)
    bounce_type = _BOUNCE_TYPE.search(body)
    if kind.group(1) != "Bounce" or named is None or bounce_type is None:
        return None
    found = []
    for entry in named.group(1).split("}"):
        address = _ADDRESS.search(entry)
        status = _STATUS.search(entry)
        if address is not None:
            found.append((address.group(1), status.group(1) if status else ""))
    return _bounce(bounce_type.group(1), found)


def _bounce(bounce_type: str, found: list[tuple[str, str]]) -> Notification:
    """Permanent and Transient as SES says; a per-recipient 4.x.x status is temporary even
    under a Permanent type; "Undetermined" is no failure of anyone's address."""
    permanent: set[str] = set()
    temporary: set[str] = set()
    for raw_address, status in found:
        address = addresses.address(raw_address)
        if address is None:
            continue
        verdict = codes.class_of(status, "")
        if bounce_type == "Transient" or verdict == codes.TEMPORARY:
            temporary.add(address)
        elif bounce_type == "Permanent":
            permanent.add(address)
    return Notification("failure", frozenset(permanent), frozenset(temporary - permanent))
