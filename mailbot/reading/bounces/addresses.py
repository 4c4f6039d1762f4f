"""Addresses read in a report: freed of what servers wrap them in (<>, quotes, "rfc822;",
"mailto:", trailing punctuation) and kept only when email-validator accepts them (RFC 5321
§4.1.2 syntax, a dotted domain that is not reserved), lower-cased.

So a report can never name a JSON fragment, a Message-ID's right side alone, a command line
or a bare local part: what is not a valid address is no address.
"""

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

# What servers write around an address; quotes stay when they wrap the local part only.
_EDGES = " \t\r\n<>()[]{}'`,;:.=!?*"
_PREFIX = re.compile(r"^(?:rfc822|rfc/822|smtp|mailto)\s*[;:]\s*", re.IGNORECASE)
_LOCAL_QUOTE = re.compile(r'^"[^"]*"@')
# A token that looks like an address, inside free text (RFC 5322's atext, or a quoted local).
_IN_TEXT = re.compile(r'(?:"[^"\s]{1,64}"|[\w.!#$%&\'*+/=?^`{|}~-]{1,64})@[\w.-]+\.[\w-]+')


def address(text: str) -> str | None:
    """The one address `text` holds ('<a@b.c>', 'rfc822; a@b.c', 'mailto:a@b.c'), lower-cased,
    or None when what it holds is not a valid address."""
    value = _PREFIX.sub("", text.strip())
    value = value.strip(_EDGES if not _LOCAL_QUOTE.match(value.strip("<> ")) else " <>")
    if value.count("@") != 1 or len(value) > 254:
        return None
    return _valid(value.lower())


def find(text: str) -> list[str]:
    """The valid addresses in free text, in order, each once."""
    found: list[str] = []
    for match in _IN_TEXT.finditer(text):
        valid = address(match.group(0))
        if valid is not None and valid not in found:
            found.append(valid)
    return found


@lru_cache(maxsize=4096)
def _valid(value: str) -> str | None:
    if _check(value):
        return value
    local, _, domain = value.rpartition("@")
    if ".." in local or local.startswith(".") or local.endswith("."):
        # RFC 5321 §4.1.2: such a local part is only valid quoted; it names the same mailbox.
        quoted = f'"{local}"@{domain}'
        return quoted if _check(quoted) else None
    return None


def _check(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False, allow_quoted_local=True)
    except EmailNotValidError:
        return False
    return True
