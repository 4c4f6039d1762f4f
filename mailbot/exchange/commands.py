"""Ledger commands to list-request@: pay WHO AMOUNT [TEXT] (confirmed by reply), balance,
statement (French: payer, solde, relevé)."""

from typing import Any

from sqlalchemy import select

from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.exchange.ledger import Limits, refuse_transfer
from mailbot.exchange.payments import balance, find_payee, statement, transfer
from mailbot.lists.requester import Outcome, Requester
from mailbot.reading.amounts import as_hours, parse_amount
from mailbot.reading.commands import Command, number_arg
from mailbot.reading.text import fold
from mailbot.storage.models import Confirmation, ExchangeItem


def money(mlist: ListConfig, points: int) -> dict[str, Any]:
    """An amount as templates show it: "90 points (1h30)"."""
    rules = mlist.rules.exchange
    return {"points": points, "unit": rules.unit, "hours": as_hours(points, rules.points_per_hour)}


def pay(state: Requester, command: Command) -> Outcome:
    from mailbot.lists.confirmations import request_confirmation

    if state.member is None:
        return "not-member", {}
    rules = state.mlist.rules.exchange
    split = _split_pay(command.args, rules.points_per_hour, rules.unit)
    if split is None:
        return "pay-usage", {}
    who, amount, memo = split
    found = find_payee(state.ctx.session, state.mlist, who)
    if found.member is None:
        return ("payee-ambiguous" if found.ambiguous else "payee-unknown",
                {"who": who, "candidates": found.candidates})
    payee = found.member
    session, name = state.ctx.session, state.mlist.name
    refusal = refuse_transfer(state.sender, payee.email, amount,
                              balance(session, name, state.sender),
                              balance(session, name, payee.email),
                              Limits(rules.min_balance, rules.max_balance))
    values = {"amount": money(state.mlist, amount), "payee": payee.name or payee.email,
              "memo": memo, "min": money(state.mlist, rules.min_balance),
              "max": money(state.mlist, rules.max_balance)}
    if refusal is not None:
        return refusal, values
    if state.token is not None:
        return "one-at-a-time", {}
    confirmation = request_confirmation(
        state.ctx, state.mlist, "pay", email=state.sender, target=payee.email,
        name=payee.name, language=state.language, amount=amount, memo=memo)
    if state.proven:
        state.carry_out_now(confirmation)
        return "done-pay", values
    state.token = confirmation.token
    return "confirm-pay", values


def _split_pay(args: tuple[str, ...], points_per_hour: int,
               unit: str) -> tuple[str, int, str] | None:
    """WHO (one or more words) AMOUNT (one or two words) [TEXT…]."""
    for i in range(1, len(args)):
        for width in (2, 1):
            amount = parse_amount(" ".join(args[i:i + width]), points_per_hour, unit)
            if amount is not None and i + width <= len(args):
                return " ".join(args[:i]), amount, " ".join(args[i + width:])
    return None


def show_balance(state: Requester, command: Command) -> Outcome:
    if state.member is None:
        return "not-member", {}
    points = balance(state.ctx.session, state.mlist.name, state.sender)
    return "balance", {"balance": money(state.mlist, points)}


def show_statement(state: Requester, command: Command) -> Outcome:
    if state.member is None:
        return "not-member", {}
    session, name, me = state.ctx.session, state.mlist.name, state.sender
    lines = [{"id": e.id, "date": e.created_at.date().isoformat(),
              "signed": money(state.mlist, e.amount if e.payee == me else -e.amount),
              "other": e.payer if e.payee == me else e.payee, "memo": e.memo}
             for e in statement(session, name, me)]
    return "statement", {"lines": lines, "balance": money(state.mlist, balance(session, name, me))}


def confirm_payment(ctx: Context, mlist: ListConfig, confirmation: Confirmation) -> str:
    """The payer replied: move the points now (limits checked again, under lock), and send
    both a receipt. Returns what happened, for the record."""
    assert confirmation.amount is not None
    refusal = transfer(ctx.session, mlist, confirmation.email, confirmation.target,
                       confirmation.amount, confirmation.memo or "", ctx.now,
                       recorded_by=confirmation.email)
    values = {"amount": money(mlist, confirmation.amount), "memo": confirmation.memo or "",
              "payer": confirmation.email, "payee": confirmation.target}
    if refusal is not None:
        ctx.send(mlist, "member/pay-refused", confirmation.language,
                 {**values, "reason": refusal}, to=confirmation.email, purpose="notice")
        return f"payment refused: {refusal}"
    for person, role in ((confirmation.email, "payer"), (confirmation.target, "payee")):
        ctx.send(mlist, "member/pay-receipt", ctx.language_of(mlist, person),
                 {**values, "role": role,
                  "balance": money(mlist, balance(ctx.session, mlist.name, person))},
                 to=person, purpose="notice")
    return f"{confirmation.amount} points from {confirmation.email} to {confirmation.target}"


def list_items(state: Requester, command: Command) -> Outcome:
    """offers / requests [CATEGORY]: the active ones."""
    from mailbot.exchange import items

    if state.member is None and not state.is_moderator:
        return "not-member", {}
    kind = "offer" if command.verb == "offers" else "request"
    category = fold(" ".join(command.args))
    found = items.active_items(state.ctx, state.mlist, kind, category)
    return "items", {"kind": kind, "category": category,
                     "entries": [items.describe(state.ctx, state.mlist, i, state.language)
                               for i in found]}


def renew_or_close(state: Requester, command: Command) -> Outcome:
    """renew N / close N, by the item's author or a moderator."""
    from mailbot.exchange import items

    number = number_arg(command)
    if number is None:
        return "item-usage", {}
    item = state.ctx.session.scalar(select(ExchangeItem).where(
        ExchangeItem.list_name == state.mlist.name, ExchangeItem.number == number))
    if item is None:
        return "no-such-item", {"number": number}
    if item.author != state.sender and not state.is_moderator:
        return "not-your-item", {"number": item.number}
    if command.verb == "renew":
        if item.status == items.CLOSED:
            return "item-closed", {"number": item.number}
        items.renew(state.ctx, state.mlist, item)
        return "item-renewed", items.describe(state.ctx, state.mlist, item, state.language)
    item.status = items.CLOSED
    return "item-closed-now", items.describe(state.ctx, state.mlist, item, state.language)


HANDLERS = {"pay": pay, "balance": show_balance, "statement": show_statement,
            "offers": list_items, "requests": list_items, "renew": renew_or_close,
            "close": renew_or_close}
