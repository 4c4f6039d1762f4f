"""The ban list (`abuse.banned`): addresses and shell patterns whose mail is ignored.

A banned sender's posts and commands are kept for the record and never answered: an
answer would only be backscatter to an address that is either abusive or forged.
"""

from collections.abc import Iterable
from fnmatch import fnmatchcase


def is_banned(addresses: Iterable[str], patterns: Iterable[str]) -> bool:
    """True when any of `addresses` (From, envelope sender) matches a pattern."""
    wanted = [p.lower() for p in patterns]
    return any(fnmatchcase(a.strip("<>").lower(), p) for a in addresses if a for p in wanted)
