"""Ledger rules: whether a transfer may happen. Pure.

The journal is append-only and every entry moves points from one member to another, so
the sum of all balances is zero by construction; these rules keep each balance within the
list's limits.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    min_balance: int
    max_balance: int


def refuse_transfer(payer: str, payee: str, amount: int, payer_balance: int,
                    payee_balance: int, limits: Limits) -> str | None:
    """Why this transfer may not happen (a reason code), or None when it may."""
    if amount <= 0:
        return "not-positive"
    if payer == payee:
        return "to-self"
    if payer_balance - amount < limits.min_balance:
        return "below-minimum"
    if payee_balance + amount > limits.max_balance:
        return "above-maximum"
    return None


_FOR = re.compile(r"^\s*[:;,.\-–—]*\s*(pour|for)\b\s*[:\-–—]?\s*", re.IGNORECASE)


def memo_of(text: str) -> str:
    """What a payment is for, as the payer wrote it, without a leading "pour"/"for" or
    stray punctuation: the templates say "pour « … »" themselves."""
    return _FOR.sub("", text, count=1).strip(" :;,-–—\"'«»“”").strip()
