"""Auto-replies (RFC 3834): out-of-office and vacation answers, which say nothing of a
delivery. Mail systems sign their failure notices as MAILER-DAEMON or postmaster and some mark
them "Auto-Submitted: auto-replied" too, so a notice from a mail system is never one.
"""

import re
from email.message import Message
from email.utils import parseaddr

from mailbot.reading.message import header

# Auto-responders' subjects (English, French, German). Unlike message.py's list, a bare
# "Absence" counts: nobody posts a discussion to a bounce address.
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|auto:|autoreply|out of (the )?office|"
    r"r[ée]ponse automatique|absen(ce|t|te)\b|message d'absence|abwesenheit|"
    r"automatische antwort|on vacation\b|vacation\b)",
    re.IGNORECASE,
)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon")


def says_auto_reply(msg: Message) -> bool:
    """RFC 3834 §5.1 "auto-replied" (not "auto-generated": DSNs use it too), the de facto
    X-Autoreply/X-Autorespond and Precedence: auto_reply, Apple's X-Apple-Action: vacation, or
    an auto-responder's subject."""
    submitted = header(msg, "Auto-Submitted").lower()
    return (submitted.startswith("auto-replied")
            or bool(header(msg, "X-Autoreply") or header(msg, "X-Autorespond"))
            or header(msg, "Precedence").lower() == "auto_reply"
            or header(msg, "X-Apple-Action").lower() == "vacation"
            or bool(_AUTO_SUBJECT.match(header(msg, "Subject"))))


def from_mail_system(msg: Message) -> bool:
    """Signed by a mail system: MAILER-DAEMON, postmaster, or no sender address at all."""
    address = parseaddr(header(msg, "From"))[1].lower()
    return address.split("@")[0] in _DAEMONS or not address


def is_bulk_from_person(msg: Message) -> bool:
    """Old vacation(1)-style responders only set Precedence: bulk or junk."""
    precedence = header(msg, "Precedence").lower()
    return precedence in ("bulk", "junk") and not from_mail_system(msg) \
        and not header(msg, "List-Id")
