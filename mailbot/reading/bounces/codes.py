"""The class of a failure from the codes a server wrote: RFC 3463 enhanced status codes
(class.subject.detail: 2 success, 4 persistent transient, 5 permanent, §3.1) and RFC 5321
§4.2 reply codes (2yz, 4yz, 5yz), as they appear in free text.

A status code is read where it stands alone (not inside an IP address, a version number or a
longer number); a reply code only from the list RFC 5321 defines.
"""

import re

PERMANENT = "permanent"
TEMPORARY = "temporary"
SUCCESS = "success"
UNKNOWN = "unknown"

_STATUS = re.compile(r"(?<![\w.])([245])\.([0-7])\.(\d{1,3})(?![\w]|\.\d)")
# RFC 5321 §4.2.2, with the codes later RFCs added (RFC 3463 §3.x, RFC 4954, RFC 7504).
_REPLIES = {
    "5": ("550", "552", "553", "551", "521", "525", "502", "520", "523", "524", "530", "533",
          "534", "535", "538", "555", "556", "554", "557", "500", "501", "503", "504"),
    "4": ("421", "450", "451", "452", "422", "430", "432", "453", "454", "455", "456", "458",
          "459"),
}
_REPLY = re.compile(r"(?<![\w./-])([245]\d\d)(?![\w./-])")
_TEMPORARY_WORDS = re.compile(r"\btemporar|\bpersistent|\btry again later|\bretry later",
                              re.IGNORECASE)


def status_in(text: str) -> str:
    """The enhanced status code the text gives: the first that says more than x.0.0, else the
    first x.0.0 (RFC 3463 §3.1: ".0.0" only says "other or undefined"); "" when none."""
    codes = [".".join(m.groups()) for m in _STATUS.finditer(text)]
    specific = [c for c in codes if not c.endswith(".0.0")]
    return (specific or codes or [""])[0]


def reply_in(text: str) -> str:
    """The first RFC 5321 reply code in the text, a permanent one first (servers quote the
    earlier temporary replies of a session before the one that ended it)."""
    found = {m.group(1) for m in _REPLY.finditer(text)}
    for first in ("5", "4"):
        for code in _REPLIES[first]:
            if code in found:
                return code
    return ""


def said_temporary(text: str) -> bool:
    """The server's own words say the failure is temporary (sisimai's is_temporary)."""
    return bool(_TEMPORARY_WORDS.search(text))


def class_of(status: str, said: str) -> str:
    """The verdict of a recipient's Status field against the codes in the server's words
    (`said`, its Diagnostic-Code): see _preferred."""
    own = status_in(status) or _reply_as_status(reply_in(status))
    if not own:
        return class_of_text(said)
    return _verdict(_preferred(own, status_in(said), reply_in(said)))


def _preferred(own: str, told: str, reply: str) -> str:
    """The status field or the status code the server gave, as sisimai's SMTP::Status.prefer
    weighs them: the one of the reply code's class; else the more specific (RFC 3463 §3.1:
    x.0.0 and x.y.0 say "other or undefined"); the server's when the field is 4.4.7 (a time
    out), 5.3.x (the reporting system's own trouble) or a 5.1.1 it contradicts."""
    if not told or told == own:
        return own
    if reply and own[0] != told[0] and reply[0] in (own[0], told[0]):
        return own if reply[0] == own[0] else told
    if own.endswith(".0.0"):
        return own if told.endswith(".0.0") else told
    if ".0" in own and ".0" not in told:
        return told
    if told.endswith(".0.0"):
        return own
    if own == "4.4.7" or own.startswith("5.3.") or (own == "5.1.1" and ".0" not in told):
        return told
    return told if own == "5.1.3" and told.startswith("5.7.") else own


def class_of_text(text: str) -> str:
    """The verdict the codes in free text give: UNKNOWN when it holds none."""
    return _verdict(status_in(text) or _reply_as_status(reply_in(text)))


def status_class(text: str) -> str:
    """The verdict of the enhanced status code in free text alone (UNKNOWN without one)."""
    return _verdict(status_in(text))


def _reply_as_status(reply: str) -> str:
    return f"{reply[0]}.0.0" if reply[:1] in ("2", "4", "5") and len(reply) == 3 else ""


def _verdict(status: str) -> str:
    return {"2": SUCCESS, "4": TEMPORARY, "5": PERMANENT}.get(status[:1], UNKNOWN)
