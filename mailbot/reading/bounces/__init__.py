"""Reading what comes back to a list's bounce address: failure, delay, success, complaint or
auto-reply, and which addresses failed. Pure: bytes in, a BounceReport out, never an exception.

In order: complaints (RFC 5965 ARF, arf.py), Amazon SES notifications (ses.py), RFC 3464
delivery status fields wherever they sit (dsn.py), auto-replies (RFC 3834, autoreply.py), the
failure notices of each MTA family (families.py and its data files), and last flufl.bounce's
heuristics (fallback.py). handling.py decides what the report means for a member.
"""

import re
from dataclasses import dataclass
from email.message import Message

from mailbot.reading.bounces import (
    addresses,
    arf,
    autoreply,
    codes,
    dsn,
    fallback,
    families,
    report,
    ses,
)
from mailbot.reading.message import parse


@dataclass(frozen=True)
class BounceReport:
    kind: str  # "failure" | "delay" | "success" | "complaint" | "auto-reply" | "unknown"
    permanent: frozenset[str]  # lowercased addresses that failed permanently (5.x.x)
    temporary: frozenset[str]  # lowercased addresses delayed or failed temporarily (4.x.x)


NOTHING: frozenset[str] = frozenset()
UNKNOWN = BounceReport("unknown", NOTHING, NOTHING)
COMPLAINT = BounceReport("complaint", NOTHING, NOTHING)
AUTO_REPLY = BounceReport("auto-reply", NOTHING, NOTHING)
SUCCESS = BounceReport("success", NOTHING, NOTHING)


def read_bounce(raw: bytes) -> BounceReport:
    """What the message reports. Never raises: unreadable input is "unknown"."""
    try:
        return _read(raw)
    except Exception:  # malformed MIME, a detector's bug, a too-deep nesting: nothing to read
        return UNKNOWN


def _read(raw: bytes) -> BounceReport:
    msg = parse(raw)
    if arf.is_complaint(msg):
        return COMPLAINT
    told = report.read(msg)
    notification = ses.read(told.text)
    if notification is not None:
        return _from_ses(notification)
    standard = _from_dsn(dsn.outcomes(told.fields) or dsn.outcomes(told.text))
    if standard is not None:
        return standard
    if autoreply.says_auto_reply(msg) and not autoreply.from_mail_system(msg):
        return AUTO_REPLY
    found = families.read(msg, told.text, _returned_to(told))
    if found:
        return _from_verdicts([(f.address, f.verdict) for f in found])
    guessed = _from_fallback(parse(raw))  # a copy: flufl.bounce gets its From mended
    if guessed.kind != "unknown":
        return guessed
    found = families.read(msg, told.text, _returned_to(told), last_resort=True)
    if found:
        return _from_verdicts([(f.address, f.verdict) for f in found])
    return AUTO_REPLY if autoreply.is_bulk_from_person(msg) else UNKNOWN


def _from_ses(notification: ses.Notification) -> BounceReport:
    if notification.kind != "failure":
        return COMPLAINT if notification.kind == "complaint" else SUCCESS
    found = _from_sets(notification.permanent, notification.temporary)
    return found or UNKNOWN


def _from_dsn(outcomes: list[dsn.Outcome]) -> BounceReport | None:
    """None when no recipient block says anything readable."""
    verdicts = [(o.address, o.verdict) for o in outcomes if o.verdict != codes.UNKNOWN]
    if not verdicts:
        return None
    return _from_verdicts(verdicts)


def _from_verdicts(verdicts: list[tuple[str, str]]) -> BounceReport:
    permanent = frozenset(a for a, v in verdicts if v == codes.PERMANENT)
    temporary = frozenset(a for a, v in verdicts if v == codes.TEMPORARY) - permanent
    return _from_sets(permanent, temporary) or SUCCESS  # only delivered/relayed/expanded


def _from_sets(permanent: frozenset[str], temporary: frozenset[str]) -> BounceReport | None:
    if permanent:
        return BounceReport("failure", permanent, temporary - permanent)
    if temporary:
        return BounceReport("delay", NOTHING, temporary)
    return None


def _from_fallback(msg: Message) -> BounceReport:
    try:
        permanent, temporary = fallback.failures(msg)
    except Exception:  # a heuristic's bug must not keep the last-resort family from reading
        return UNKNOWN
    return _from_sets(permanent, temporary) or UNKNOWN


def _returned_to(told: report.Report) -> str:
    """The returned message's one To address, for the families that name no recipient in
    their text ("Delivery report unavailable")."""
    found = addresses.find(told.returned_header("To"))
    return found[0] if len(found) == 1 else ""


_DIAGNOSTIC = re.compile(rb"^Diagnostic-Code:(.*(?:\r?\n[ \t].+)*)", re.IGNORECASE | re.MULTILINE)
_TYPE = re.compile(r"^[\w-]+;\s*")  # "smtp; 550 …": the diagnostic type goes


def diagnostic(raw: bytes) -> str:
    """The remote server's own words (RFC 3464 §2.3.6 Diagnostic-Code), on one line, for
    the moderators' notice; else what a family's notice says of its first recipient; ""
    when the report has neither."""
    found = _DIAGNOSTIC.search(raw)
    if found is None:
        return _family_words(raw)[:300]
    said = " ".join(found.group(1).decode("utf-8", "replace").split())
    return _TYPE.sub("", said)[:300]


def _family_words(raw: bytes) -> str:
    try:
        msg = parse(raw)
        told = report.read(msg)
        found = families.read(msg, told.text, _returned_to(told))
    except Exception:  # words for a notice are a courtesy: none rather than an error
        return ""
    return found[0].said if found else ""


def read_returned(raw: bytes, automatic: str | None) -> BounceReport:
    """What mail to a bounce address reports, as the bounce handling counts it:
    `automatic` is what the message's headers say of it (message.automatic_kind); an
    unreadable report that says it is an auto-reply is one, unless a mail system signed it
    (a postmaster's failure notice is no out-of-office reply)."""
    report_ = read_bounce(raw)
    if report_.kind == "unknown" and automatic == "auto-reply" and not _from_system(raw):
        return AUTO_REPLY
    return report_


def _from_system(raw: bytes) -> bool:
    try:
        return autoreply.from_mail_system(parse(raw))
    except Exception:  # unparsable: say nothing more than "unknown"
        return False
