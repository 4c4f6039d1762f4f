"""The last resort for a failure notice no family rule knows: flufl.bounce's detectors (GNU
Mailman's heuristics for old Sendmail, Exim, qmail, GroupWise, Exchange... notices).

What they return is kept only when it is a valid address: their free-text scans also pick up
Message-IDs, JSON fragments and command lines.
"""

from email.message import Message
from email.utils import getaddresses

from flufl.bounce import all_failures

from mailbot.reading.bounces import addresses
from mailbot.reading.message import header


def failures(msg: Message) -> tuple[frozenset[str], frozenset[str]]:
    """(permanent, temporary) addresses flufl.bounce reads. It gets a policy.default message:
    its detectors call str methods on header values, which compat32 turns into Header objects
    for 8-bit bytes."""
    if not getaddresses([header(msg, "From")]):
        # flufl.bounce 6.0's Yale detector takes the first From address and raises when there
        # is none, which stops every detector after it (Postfix, qmail, Exchange...).
        del msg["From"]
        msg["From"] = "<>"
    temporary, permanent = all_failures(msg)
    perm, temp = _valid(permanent), _valid(temporary)
    return perm, temp - perm


def _valid(found: frozenset[bytes]) -> frozenset[str]:
    valid = (addresses.address(a.decode("ascii", "replace")) for a in found if a)
    return frozenset(a for a in valid if a is not None)
