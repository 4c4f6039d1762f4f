"""Paying in time: find the payee, move points in one transaction, correct by reversing.

A transfer locks both members' rows (in id order, so two transfers never deadlock) before
reading their balances, so concurrent payments cannot overdraw on PostgreSQL; SQLite
serialises writers anyway. The journal is append-only: a correction is a new entry.
"""

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from mailbot.config import ListConfig
from mailbot.exchange.ledger import Limits, refuse_transfer
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_date
from mailbot.reading.amounts import as_hours
from mailbot.reading.text import fold
from mailbot.storage.exchange import LedgerEntry
from mailbot.storage.members import Member
from mailbot.storage.stores import Stores


def money(mlist: ListConfig, points: int) -> dict[str, Any]:
    """An amount as templates show it: "90 points (1h30)"."""
    rules = mlist.rules.exchange
    return {"points": points, "unit": rules.unit, "hours": as_hours(points, rules.points_per_hour)}


@dataclass(frozen=True)
class PayeeSearch:
    member: Member | None
    candidates: list[str]  # when ambiguous: the names that fit; when unknown: close ones
    ambiguous: bool = False


def find_payee(members: Sequence[Member], who: str) -> PayeeSearch:
    """A member of `members` named by address, full name or first name (case and accents
    ignored)."""
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


def newcomer_until(stores: Stores, mlist: ListConfig, email: str,
                   now: datetime | None) -> datetime | None:
    """Until when `email` is a newcomer whose credit is limited (rules:
    exchange.newcomer_min_balance for newcomer_for after joining), or None."""
    rules = mlist.rules.exchange
    member = stores.members.get(mlist.name, email)
    if now is None or member is None or rules.newcomer_min_balance <= rules.min_balance:
        return None
    until = member.joined_at + rules.newcomer_for
    return until if until > now else None


def minimum_for(stores: Stores, mlist: ListConfig, email: str, now: datetime | None) -> int:
    """The lowest balance `email` may reach now: the list's, or a newcomer's."""
    rules = mlist.rules.exchange
    if newcomer_until(stores, mlist, email, now) is None:
        return rules.min_balance
    return rules.newcomer_min_balance


def refusal(stores: Stores, mlist: ListConfig, payer: str, payee: str,
            amount: int, now: datetime | None = None) -> str | None:
    """Why this transfer may not happen now (balance limits, a newcomer's lower one when
    `now` is given), or None."""
    rules = mlist.rules.exchange
    ledger = stores.ledger
    return refuse_transfer(payer, payee, amount, ledger.balance(mlist.name, payer),
                           ledger.balance(mlist.name, payee),
                           Limits(minimum_for(stores, mlist, payer, now), rules.max_balance))


def transfer(stores: Stores, mlist: ListConfig, payer: str, payee: str, amount: int,
             memo: str, now: datetime, *, recorded_by: str) -> str | None:
    """Record the transfer, or return why it may not happen (nothing is then written)."""
    stores.members.lock(mlist.name, [payer, payee])
    refused = refusal(stores, mlist, payer, payee, amount, now)
    if refused is None:
        stores.ledger.record(LedgerEntry(
            list_name=mlist.name, payer=payer, payee=payee, amount=amount, memo=memo[:500],
            created_at=now, recorded_by=recorded_by))
    return refused


def pay_confirmed(ctx: Context, mlist: ListConfig, *, payer: str, payee: str, amount: int,
                  memo: str, language: str) -> str:
    """The payer confirmed: move the points now (limits checked again, under lock), and
    send both a receipt. Returns what happened, for the record."""
    refused = transfer(ctx.stores, mlist, payer, payee, amount, memo, ctx.now,
                       recorded_by=payer)
    values = {"amount": money(mlist, amount), "memo": memo,
              "payer": ctx.outbox.name_of(mlist, payer),
              "payee": ctx.outbox.name_of(mlist, payee)}
    if refused is not None:
        ctx.outbox.send(mlist, "member/pay-refused", language, {**values, "reason": refused},
                        to=payer, purpose="notice")
        return f"payment refused: {refused}"
    for person, role in ((payer, "payer"), (payee, "payee")):
        if ctx.outbox.mail_for(mlist, person) not in (person, None):  # a buddy reads it
            send_ledger_receipt(ctx, mlist, ctx.stores.ledger.latest(mlist.name), person,
                                payer, None)
            continue
        balance = ctx.stores.ledger.balance(mlist.name, person)
        ctx.outbox.send(mlist, "member/pay-receipt", ctx.outbox.language_of(mlist, person),
                        {**values, "role": role, "balance": money(mlist, balance)},
                        to=person, purpose="notice")
    return f"{amount} points from {payer} to {payee}"


def reverse(ctx: Context, mlist: ListConfig, entry_id: int, *,
            recorded_by: str) -> LedgerEntry | None:
    """A correction: a new entry moving the same points back (limits do not apply: it
    undoes what was done). None when there is no such entry or it was already reversed."""
    ledger = ctx.stores.ledger
    entry = ledger.entry(entry_id)
    if entry is None or entry.list_name != mlist.name or entry.reverses_id is not None:
        return None
    if ledger.reversal_of(entry.id) is not None:
        return None
    return ledger.record(LedgerEntry(
        list_name=mlist.name, payer=entry.payee, payee=entry.payer, amount=entry.amount,
        memo=f"correction of no. {entry.id}", created_at=ctx.now, reverses_id=entry.id,
        recorded_by=recorded_by))


def send_ledger_receipt(ctx: Context, mlist: ListConfig, entry: LedgerEntry, person: str,
                        recorded_by: str, inbound_id: int | None) -> None:
    """Tell `person` (or the buddy of a member without email) of an entry on their
    account, and who recorded it; nothing for a system account or someone who left."""
    to = ctx.outbox.mail_for(mlist, person)
    if to is None:
        return
    language = ctx.outbox.language_of(mlist, to)
    values = {"entry": entry.id, "payer": ctx.outbox.name_of(mlist, entry.payer),
              "payee": ctx.outbox.name_of(mlist, entry.payee),
              "for_member": ctx.outbox.name_of(mlist, person) if to != person else "",
              "role": "payer" if person == entry.payer else "payee",
              "amount": money(mlist, entry.amount), "memo": entry.memo,
              "day": format_date(_noon(entry.done_on), "UTC", language) if entry.done_on
              else "", "reverses": entry.reverses_id or "",
              "recorder": ctx.outbox.name_of(mlist, recorded_by),
              "recorder_role": _role(mlist, recorded_by, entry),
              "balance": money(mlist, ctx.stores.ledger.balance(mlist.name, person))}
    ctx.outbox.send(mlist, "member/ledger-receipt", language, values, to=to,
                    purpose="notice", inbound_id=inbound_id)


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _role(mlist: ListConfig, recorder: str, entry: LedgerEntry) -> str:
    """Who recorded an entry, as the receipt says it."""
    if recorder in mlist.treasurers:
        return "treasurer"
    if mlist.is_moderator(recorder):
        return "moderator"
    return "member" if recorder in (entry.payer, entry.payee) else "buddy"
