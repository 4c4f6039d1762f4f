"""The books by email (issue 19): a moderator's or treasurer's paper slips ("enregistrer :
Bob → Dave, 2 h, jardinage"), corrections ("corriger 12"), yearly statements ("relevé
2026"). Slips and corrections are confirmed by reply; bad input (a name not on the
list, a limit crossed, no amount) is answered at once and nothing is written.
"""

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.exchange import treasury
from mailbot.handling.actions import ask
from mailbot.handling.requests import exchange
from mailbot.handling.requests.requester import Outcome, Requester
from mailbot.letters.agenda import send_agenda
from mailbot.lists import buddies
from mailbot.reading.requests import Request


def record(state: Requester, request: Request) -> Outcome:
    """One slip; the slips of one message make one batch, confirmed by one reply."""
    if not state.mlist.keeps_books(state.sender):
        return "slip-not-allowed", {}
    args = request.args
    if "problem" in args:
        candidates = args.get("candidates", ())
        return f"slip-{args['problem']}", {
            "name": args.get("name", ""),
            "candidates": list(candidates) if isinstance(candidates, tuple) else []}
    if "points" not in args:
        return "slip-no-amount", {}
    slip: treasury.Slip = {"payer": args["payer"], "payee": args["payee"],
                           "points": args["points"], "memo": args.get("memo", ""),
                           "day": args.get("day", "")}
    if slip["day"] and treasury.slip_day(str(slip["day"]), state.ctx.now,
                                         state.ctx.config.server.timezone) is None:
        return "slip-bad-day", {"day": slip["day"]}
    pending = None
    if state.token is not None:  # a slip before it in this message: the same batch
        pending = state.ctx.stores.confirmations.by_token(state.token)
        if pending is None or pending.action != "record":
            return "one-at-a-time", {}
    slips = [*json.loads(pending.memo or "[]"), slip] if pending is not None else [slip]
    values = treasury.describe(state.ctx, state.mlist, slip, state.language)
    refused = treasury.batch_refusal(state.ctx.stores, state.mlist, slips, state.ctx.now)
    if refused is not None:
        return f"slip-{refused[1]}", values
    memo = json.dumps(slips, ensure_ascii=False)
    if pending is not None:
        pending.memo = memo
        return "slip-added", values
    batch = ask(state.ctx, state.mlist, "record", email=state.sender, target=state.sender,
                name="", language=state.language, memo=memo)
    if state.proven:
        state.carry_out_now(batch)
        return "slip-done", values
    state.token = batch.token
    return "slip-confirm", values


def reverse(state: Requester, request: Request) -> Outcome:
    """"corriger 12": a reversing entry, confirmed by reply."""
    if not state.mlist.keeps_books(state.sender):
        return "slip-not-allowed", {}
    number = request.args.get("entry")
    ledger = state.ctx.stores.ledger
    entry = ledger.entry(int(number)) if isinstance(number, int) else None
    if entry is None or entry.list_name != state.mlist.name:
        return "ledger-no-entry", {"entry": number}
    if entry.reverses_id is not None or ledger.reversal_of(entry.id) is not None:
        return "ledger-corrected-already", {"entry": entry.id}
    if state.token is not None:
        return "one-at-a-time", {}
    values = treasury.describe(state.ctx, state.mlist, {
        "payer": entry.payer, "payee": entry.payee, "points": entry.amount, "memo": entry.memo,
        "day": entry.done_on.isoformat() if entry.done_on else "", "entry": entry.id},
        state.language)
    confirmation = ask(state.ctx, state.mlist, "reverse", email=state.sender,
                       target=entry.payer, name="", language=state.language,
                       memo=str(entry.id))
    if state.proven:
        state.carry_out_now(confirmation)
        return "ledger-reversed", values
    state.token = confirmation.token
    return "ledger-reverse-confirm", values


def yearly_statement(state: Requester, request: Request) -> Outcome:
    """A member's own year; a moderator's or treasurer's for anyone the journal names,
    including someone who left."""
    who = str(request.args.get("who") or state.sender)
    if who != state.sender and not state.mlist.keeps_books(state.sender):
        return "ledger-not-allowed", {}
    if who == state.sender and state.member is None and \
            not state.mlist.keeps_books(state.sender):
        return "not-member", {}
    if who not in state.ctx.stores.ledger.accounts(state.mlist.name) and \
            state.ctx.stores.members.get(state.mlist.name, who) is None:
        return "ledger-no-account", {"who": who}
    year = request.args.get("year")
    if not isinstance(year, int):
        year = _this_year(state.ctx.now, state.ctx.config.server.timezone)
    values: dict[str, Any] = treasury.yearly(state.ctx, state.mlist, who, year, state.language)
    return "year-statement", values


def _this_year(now: datetime, timezone: str) -> int:
    return now.astimezone(ZoneInfo(timezone)).year


def for_member(state: Requester, request: Request) -> Outcome:
    """"pour Jeannine : payer Marie 1h" from Jeannine's buddy: carried out for her, each
    act confirmed by the buddy, a payment noted in the ledger as done by the buddy."""
    target = str(request.args["for"])
    member = state.ctx.stores.members.get(state.mlist.name, target)
    name = state.ctx.outbox.name_of(state.mlist, target)
    if member is None or not buddies.in_care_of(member, state.sender):
        return "buddy-not-in-care", {"name": name}
    act, args = request.args.get("act"), request.args
    if act == "pay" and "who" in args and "points" in args:
        return _pay_for(state, member.email, name, request)
    if act in ("balance", "statement", "yearly_statement"):
        inner = Request(str(act), {k: v for k, v in args.items() if k not in ("for", "act")})
        acting = Requester(state.ctx, state.mlist, member.email, member.name, member,
                           state.language, inbound=state.inbound, msg=state.msg)
        code, values = _SHOW[str(act)](acting, inner)
        return (code if code.startswith("year") else f"buddy-{code}"), {**values, "name": name}
    if act in ("pay", "unclear"):
        return "buddy-unclear", {"name": name, "ask": request.ask}
    return "buddy-cannot", {"name": name}


def _pay_for(state: Requester, payer: str, name: str, request: Request) -> Outcome:
    args = request.args
    slip: treasury.Slip = {"payer": payer, "payee": args["who"], "points": args["points"],
                           "memo": args.get("memo", ""), "day": ""}
    values = {**treasury.describe(state.ctx, state.mlist, slip, state.language), "name": name}
    refused = treasury.batch_refusal(state.ctx.stores, state.mlist, [slip], state.ctx.now)
    if refused is not None:
        return "buddy-refused", {**values, "reason": refused[1]}
    if state.token is not None:
        return "one-at-a-time", {}
    batch = ask(state.ctx, state.mlist, "record", email=state.sender, target=payer, name="",
                language=state.language, memo=json.dumps([slip], ensure_ascii=False))
    if state.proven:
        state.carry_out_now(batch)
        return "buddy-done", values
    state.token = batch.token
    return "buddy-confirm-pay", values


_SHOW = {"balance": exchange.show_balance, "statement": exchange.show_statement,
         "yearly_statement": yearly_statement}

def agenda(state: Requester, request: Request) -> Outcome:
    """"ordre du jour" / "agenda" from a moderator: sent in a message of its own, with a
    printable PDF."""
    if not state.is_moderator:
        return "agenda-not-allowed", {}
    send_agenda(state.ctx, state.mlist, state.sender, state.language, state.inbound.id)
    return "agenda-sent", {}


HANDLERS = {"agenda": agenda, "record": record, "reverse": reverse,
            "yearly_statement": yearly_statement,
            "for_member": for_member}
