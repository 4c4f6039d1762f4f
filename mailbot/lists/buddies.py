"""Members without email, and the buddies (parrain, marraine) who act for them by email.

Such a member is on the roster with a placeholder address under the reserved `.invalid`
domain (RFC 2606), so the journal can name them like anyone; they are paused (`nomail`),
and the outbox never queues mail for a placeholder: what concerns them goes to their buddy.
"""

import re
import unicodedata
from datetime import datetime

from mailbot.config import ListConfig
from mailbot.core.errors import MailbotError
from mailbot.outbound.outbox import NEVER_MAILED
from mailbot.storage.members import Member, Members


def placeholder(name: str, list_name: str, taken: set[str]) -> str:
    """"Jeannine Roux" → "jeannine.roux@sel.no-email.invalid" (a number added if taken)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    local = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".") or "member"
    domain = f"{list_name}.no-email{NEVER_MAILED}"
    address, n = f"{local}@{domain}", 1
    while address in taken:
        n += 1
        address = f"{local}.{n}@{domain}"
    return address


def add_without_email(members: Members, mlist: ListConfig, name: str, buddy: str,
                      now: datetime) -> Member:
    """Put someone without email on the roster, in `buddy`'s care (a member)."""
    if not name.strip():
        raise MailbotError("a member without email needs a name: --name \"Jeannine Roux\"")
    if members.get(mlist.name, buddy) is None:
        raise MailbotError(f"the buddy {buddy} is not a member of {mlist.address}")
    taken = {m.email for m in members.roster(mlist.name)}
    member, _ = members.add(mlist.name, placeholder(name, mlist.name, taken), name.strip(), now)
    member.buddy, member.nomail = buddy, True
    return member


def in_care_of(member: Member | None, buddy: str) -> bool:
    return member is not None and member.buddy is not None and member.buddy == buddy.lower()
