"""Reading what comes back to a list's bounce address: failure, delay, success, complaint or
auto-reply, and which addresses failed. Pure: bytes in, a BounceReport out, never an exception.

Standard reports are read here (RFC 3464 DSNs, RFC 5965 ARF complaints, RFC 3834
auto-replies); everything else goes to flufl.bounce's heuristics (qmail, Exim, old Sendmail,
Exchange, Yahoo...). handling.py decides what the report means for a member.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures

from mailbot.reading.message import header, parse


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

# RFC 3464 §2.3.3: what an MTA did for a recipient that is not a failure.
_SUCCESS_ACTIONS = ("delivered", "relayed", "expanded")
# Auto-responders' subjects (English, French, German). Unlike mail.py's list, a bare "Absence"
# counts: nobody posts a discussion to a bounce address.
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|auto:|autoreply|out of (the )?office|"
    r"r[ée]ponse automatique|absen(ce|t|te)\b|message d'absence|abwesenheit|"
    r"automatische antwort|on vacation\b|vacation\b)",
    re.IGNORECASE,
)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon")


def read_bounce(raw: bytes) -> BounceReport:
    """What the message reports. Never raises: unreadable input is "unknown"."""
    try:
        return _read(raw)
    except Exception:  # malformed MIME, a detector's bug, a too-deep nesting: nothing to read
        return UNKNOWN


def _read(raw: bytes) -> BounceReport:
    msg = parse(raw)
    if _is_feedback_report(msg):
        return COMPLAINT
    dsn = _read_dsn(msg)
    if dsn is not None:
        return dsn
    if _says_auto_reply(msg) and not _from_daemon(msg):
        return AUTO_REPLY
    found = _read_heuristically(parse(raw))  # a copy: this one gets its From mended
    if found.kind == "unknown" and _is_bulk_from_person(msg):
        return AUTO_REPLY  # old vacation(1)-style responders only set Precedence
    return found


def _parts(msg: Message) -> Iterator[Message]:
    """The message and its MIME parts, not entering attached messages (a returned message
    may itself be a report, which is not what this one says)."""
    yield msg
    if msg.get_content_type() == "message/rfc822":
        return
    payload = msg.get_payload()
    if msg.is_multipart() and isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _parts(part)


def _is_feedback_report(msg: Message) -> bool:
    """RFC 5965 §2: multipart/report; report-type=feedback-report, or its
    message/feedback-report part."""
    if str(msg.get_param("report-type", "")).lower() == "feedback-report":
        return True
    return any(p.get_content_type() == "message/feedback-report" for p in _parts(msg))


# -- RFC 3464 delivery status notifications -----------------------------------------------


def _read_dsn(msg: Message) -> BounceReport | None:
    """None when there is no readable per-recipient block."""
    blocks = [b for p in _parts(msg) for b in _recipient_blocks(p)]
    if not blocks:
        return None
    permanent: set[str] = set()
    temporary: set[str] = set()
    failed = delayed = False
    for block in blocks:
        verdict = _verdict(block)
        if verdict == "permanent":
            failed = True
            permanent.update(_recipient(block))
        elif verdict == "temporary":
            delayed = True
            temporary.update(_recipient(block))
    return _report(failed, delayed, frozenset(permanent), frozenset(temporary))


def _report(failed: bool, delayed: bool, permanent: frozenset[str],
            temporary: frozenset[str]) -> BounceReport:
    if failed:
        return BounceReport("failure", permanent, temporary)
    if delayed:
        return BounceReport("delay", NOTHING, temporary)
    return SUCCESS  # only delivered/relayed/expanded blocks: never a bounce


def _recipient_blocks(part: Message) -> list[Message]:
    """RFC 3464 §2.1: the per-message fields, then one block per recipient (the stdlib
    parses each block of a message/delivery-status part as a sub-message)."""
    if part.get_content_type() != "message/delivery-status":
        return []
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        return []
    return [b for b in blocks if isinstance(b, Message) and header(b, "Action")]


def _verdict(block: Message) -> str:
    """One recipient's outcome: permanent, temporary, success or unknown (RFC 3464 §2.3.3,
    §2.3.4). A 4.x.x status is temporary whatever the action: the address is not at fault."""
    action = header(block, "Action").lower()
    status = header(block, "Status").strip()
    if action.startswith("delayed") or status.startswith("4"):
        return "temporary"
    if action.startswith(("failed", "failure", "error")) or status.startswith("5"):
        return "permanent"  # "error": OpenSMTPD's non-standard spelling of "failed"
    if action.startswith(_SUCCESS_ACTIONS):
        return "success"
    return "unknown"


def _recipient(block: Message) -> set[str]:
    """Original-Recipient (RFC 3464 §2.3.1: the address the list sent to, before any
    forwarding), else Final-Recipient, without its address type."""
    for name in ("Original-Recipient", "Final-Recipient"):
        value = header(block, name)
        address = parseaddr(value.split(";", 1)[-1].strip())[1].strip().lower()
        if "@" in address:
            return {address}
    return set()


# -- Auto-replies (RFC 3834) ----------------------------------------------------------------


def _says_auto_reply(msg: Message) -> bool:
    """RFC 3834 §5.1 "auto-replied" (not "auto-generated": DSNs use it too), the de facto
    X-Autoreply/X-Autorespond and Precedence: auto_reply, or an auto-responder's subject."""
    submitted = header(msg, "Auto-Submitted").lower()
    return (submitted.startswith("auto-replied")
            or bool(header(msg, "X-Autoreply") or header(msg, "X-Autorespond"))
            or header(msg, "Precedence").lower() == "auto_reply"
            or bool(_AUTO_SUBJECT.match(header(msg, "Subject"))))


def _from_daemon(msg: Message) -> bool:
    """Mail systems sign their failure reports as MAILER-DAEMON or postmaster (and Exim and
    Postfix mark them "Auto-Submitted: auto-replied", so that header alone proves nothing)."""
    address = parseaddr(header(msg, "From"))[1].lower()
    return address.split("@")[0] in _DAEMONS or not address


def _is_bulk_from_person(msg: Message) -> bool:
    precedence = header(msg, "Precedence").lower()
    return precedence in ("bulk", "junk") and not _from_daemon(msg) and not header(msg, "List-Id")


# -- Everything else: flufl.bounce's detectors ----------------------------------------------


def _read_heuristically(msg: Message) -> BounceReport:
    """flufl.bounce's verdict. It gets a policy.default message: its detectors call str
    methods on header values, which compat32 turns into Header objects for 8-bit bytes."""
    if not getaddresses([header(msg, "From")]):
        # flufl.bounce 6.0's Yale detector takes the first From address and raises when there
        # is none, which stops every detector after it (Postfix, qmail, Exchange...).
        del msg["From"]
        msg["From"] = "<>"
    temporary, permanent = all_failures(msg)
    perm, temp = _decoded(permanent), _decoded(temporary)
    if perm:
        return BounceReport("failure", perm, temp - perm)
    if temp:
        return BounceReport("delay", NOTHING, temp)
    return UNKNOWN


def _decoded(addresses: frozenset[bytes]) -> frozenset[str]:
    return frozenset(a.decode("ascii", "replace").strip().lower() for a in addresses if a)


_DIAGNOSTIC = re.compile(rb"^Diagnostic-Code:(.*(?:\r?\n[ \t].+)*)", re.IGNORECASE | re.MULTILINE)
_TYPE = re.compile(r"^[\w-]+;\s*")  # "smtp; 550 …": the diagnostic type goes


def diagnostic(raw: bytes) -> str:
    """The remote server's own words (RFC 3464 §2.3.6 Diagnostic-Code), on one line, for
    the moderators' notice; "" when the report has none."""
    found = _DIAGNOSTIC.search(raw)
    if found is None:
        return ""
    said = " ".join(found.group(1).decode("utf-8", "replace").split())
    return _TYPE.sub("", said)[:300]


def read_returned(raw: bytes, automatic: str | None) -> BounceReport:
    """What mail to a bounce address reports, as the bounce handling counts it:
    `automatic` is what the message's headers say of it (message.automatic_kind); an
    unreadable report that says it is an auto-reply is one."""
    report = read_bounce(raw)
    if report.kind == "unknown" and automatic == "auto-reply":
        return AUTO_REPLY
    return report
