"""The journal on disk: balances, statements, and transfers made in one transaction.

A transfer locks both members' rows (in id order, so two transfers never deadlock) before
reading their balances, so concurrent payments cannot overdraw on PostgreSQL; SQLite
serialises writers anyway.
"""

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mailbot.config import ListConfig
from mailbot.exchange.ledger import Limits, refuse_transfer
from mailbot.lists.membership import list_members
from mailbot.reading.text import fold
from mailbot.storage.models import LedgerEntry, Member


def balance(session: Session, list_name: str, email: str) -> int:
    received = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.list_name == list_name, LedgerEntry.payee == email))
    paid = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.list_name == list_name, LedgerEntry.payer == email))
    return int(received or 0) - int(paid or 0)


def statement(session: Session, list_name: str, email: str,
              limit: int = 20) -> Sequence[LedgerEntry]:
    """The member's latest entries, newest first."""
    return session.scalars(
        select(LedgerEntry).where(LedgerEntry.list_name == list_name,
                                  or_(LedgerEntry.payer == email, LedgerEntry.payee == email))
        .order_by(LedgerEntry.id.desc()).limit(limit)).all()


@dataclass(frozen=True)
class PayeeSearch:
    member: Member | None
    candidates: list[str]  # when ambiguous: the names that fit; when unknown: close ones
    ambiguous: bool = False


def find_payee(session: Session, mlist: ListConfig, who: str) -> PayeeSearch:
    """A member named by address, full name or first name (case and accents ignored)."""
    members = list_members(session, mlist.name)
    wanted = fold(who.strip("<>"))
    by_address = [m for m in members if m.email == wanted]
    by_name = [m for m in members if fold(m.name) == wanted] or \
        [m for m in members if fold(m.name).split()[:1] == [wanted]]
    found = by_address or by_name
    if len(found) == 1:
        return PayeeSearch(found[0], [])
    if found:
        return PayeeSearch(None, [f"{m.name} <{m.email}>" for m in found], ambiguous=True)
    names = {fold(m.name): m for m in members if m.name} | {m.email: m for m in members}
    close = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)
    return PayeeSearch(None, [f"{names[c].name} <{names[c].email}>".strip() for c in close])


def transfer(session: Session, mlist: ListConfig, payer: str, payee: str, amount: int,
             memo: str, now: datetime, *, recorded_by: str) -> str | None:
    """Record the transfer, or return why it may not happen (nothing is then written)."""
    rules = mlist.rules.exchange
    session.scalars(select(Member).where(Member.list_name == mlist.name,
                                         Member.email.in_([payer, payee]))
                    .order_by(Member.id).with_for_update()).all()
    refusal = refuse_transfer(payer, payee, amount, balance(session, mlist.name, payer),
                              balance(session, mlist.name, payee),
                              Limits(rules.min_balance, rules.max_balance))
    if refusal is None:
        session.add(LedgerEntry(list_name=mlist.name, payer=payer, payee=payee,
                                amount=amount, memo=memo[:500], created_at=now,
                                recorded_by=recorded_by))
        session.flush()
    return refusal


def reverse(session: Session, mlist: ListConfig, entry_id: int, now: datetime, *,
            recorded_by: str) -> LedgerEntry | None:
    """A correction: a new entry moving the same points back (limits do not apply: it
    undoes what was done). None when there is no such entry or it was already reversed."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.list_name != mlist.name or entry.reverses_id is not None:
        return None
    already = session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id))
    if already is not None:
        return None
    correction = LedgerEntry(list_name=mlist.name, payer=entry.payee, payee=entry.payer,
                             amount=entry.amount, memo=f"correction of no. {entry.id}",
                             created_at=now, reverses_id=entry.id, recorded_by=recorded_by)
    session.add(correction)
    session.flush()
    return correction
