"""Ledger rules: whether a transfer may happen. Pure.

The journal is append-only and every entry moves points from one member to another, so
the sum of all balances is zero by construction; these rules keep each balance within the
list's limits.
"""

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
