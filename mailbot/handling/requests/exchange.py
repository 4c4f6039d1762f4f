"""Exchange commands to list-request@: pay WHO AMOUNT [TEXT] (confirmed by reply),
balance, statement, offers, requests, renew N, close N (French: payer, solde, relevé,
offres, demandes, renouveler, clore)."""

from mailbot.exchange import items
from mailbot.exchange.ledger import memo_of
from mailbot.exchange.payments import find_payee, minimum_for, money, newcomer_until, refusal
from mailbot.handling.actions import ask
from mailbot.handling.requests.requester import Outcome, Requester, number_of
from mailbot.outbound.dates import format_date
from mailbot.reading.amounts import parse_amount
from mailbot.reading.replies import own_text
from mailbot.reading.requests import Request
from mailbot.reading.text import fold
from mailbot.storage.members import Member


def pay(state: Requester, request: Request) -> Outcome:
    """The reader resolved the payee and the amount; typed words are the fallback."""
    if state.member is None:
        return "not-member", {}
    rules = state.mlist.rules.exchange
    found = _payee_and_amount(state, request)
    if not isinstance(found[0], Member):
        return found
    payee, amount, memo = found[0], int(found[1]), str(found[2])
    stores, now = state.ctx.stores, state.ctx.now
    refused = refusal(stores, state.mlist, state.sender, payee.email, amount, now)
    newcomer = newcomer_until(stores, state.mlist, state.sender, now)
    values = {"amount": money(state.mlist, amount), "payee": payee.name or payee.email,
              "memo": memo, "min": money(state.mlist, minimum_for(stores, state.mlist,
                                                                  state.sender, now)),
              "max": money(state.mlist, rules.max_balance),
              "newcomer": format_date(newcomer, state.ctx.config.server.timezone,
                                     state.language) if newcomer else ""}
    if refused is not None:
        return refused, values
    if state.token is not None:
        return "one-at-a-time", {}
    confirmation = ask(state.ctx, state.mlist, "pay", email=state.sender, target=payee.email,
                       name=payee.name, language=state.language, amount=amount, memo=memo)
    if state.proven:
        state.carry_out_now(confirmation)
        return "done-pay", values
    state.token = confirmation.token
    return "confirm-pay", values


def _payee_and_amount(state: Requester,
                      request: Request) -> tuple[Member, int, str] | Outcome:
    members = state.ctx.stores.members
    who, points = request.args.get("who"), request.args.get("points")
    if isinstance(who, str) and isinstance(points, int):
        payee = members.get(state.mlist.name, who)
        if payee is not None:
            return payee, points, memo_of(str(request.args.get("memo", "")))
    rules = state.mlist.rules.exchange
    split = _split_pay(request.words, rules.points_per_hour, rules.unit)
    if split is None:
        return "pay-usage", {}
    found = find_payee(members.roster(state.mlist.name), split[0])
    if found.member is None:
        return ("payee-ambiguous" if found.ambiguous else "payee-unknown",
                {"who": split[0], "candidates": found.candidates})
    return found.member, split[1], memo_of(split[2])


def _split_pay(args: tuple[str, ...], points_per_hour: int,
               unit: str) -> tuple[str, int, str] | None:
    """WHO (one or more words) AMOUNT (one or two words) [TEXT…]."""
    for i in range(1, len(args)):
        for width in (2, 1):
            amount = parse_amount(" ".join(args[i:i + width]), points_per_hour, unit)
            if amount is not None and i + width <= len(args):
                return " ".join(args[:i]), amount, " ".join(args[i + width:])
    return None


def show_balance(state: Requester, request: Request) -> Outcome:
    if state.member is None:
        return "not-member", {}
    points = state.ctx.stores.ledger.balance(state.mlist.name, state.sender)
    return "balance", {"balance": money(state.mlist, points)}


def show_statement(state: Requester, request: Request) -> Outcome:
    if state.member is None:
        return "not-member", {}
    ledger, name, me = state.ctx.stores.ledger, state.mlist.name, state.sender
    return "statement", {"lines": _lines(state, me),
                         "balance": money(state.mlist, ledger.balance(name, me))}


def dispute(state: Requester, request: Request) -> Outcome:
    """"Annule, c'est une erreur" (to a receipt, a statement): the journal is append-only,
    so the member's words go to the moderators at once, with her latest entries; only a
    reversing entry corrects a payment."""
    lines = _lines(state, state.sender, 5)
    words = [line for line in own_text(state.msg_text).splitlines() if line.strip()][:10]
    values = {"who": state.ctx.outbox.name_of(state.mlist, state.sender),
              "email": state.sender, "words": words,
              "lines": lines}
    for moderator in state.mlist.moderators:
        state.ctx.outbox.send(state.mlist, "moderator/dispute",
                              state.ctx.outbox.language_of(state.mlist, moderator), values,
                              to=moderator, purpose="notice", inbound_id=state.inbound.id)
    return "dispute-passed", {}


def _lines(state: Requester, me: str, limit: int = 20) -> list[dict[str, object]]:
    ledger, name = state.ctx.stores.ledger, state.mlist.name
    return [{"id": e.id, "date": e.created_at.date().isoformat(),
             "signed": money(state.mlist, e.amount if e.payee == me else -e.amount),
             "other": state.ctx.outbox.name_of(state.mlist,
                                               e.payer if e.payee == me else e.payee),
             "memo": e.memo}
            for e in ledger.statement(name, me, limit)]


def list_items(state: Requester, request: Request) -> Outcome:
    """offers / requests [CATEGORY]: the active ones."""
    if state.member is None and not state.is_moderator:
        return "not-member", {}
    kind = "offer" if request.action == "offers" else "request"
    category = fold(str(request.args.get("category", "")) or " ".join(request.words))
    found = items.active_items(state.ctx, state.mlist, kind, category)
    return "items", {"kind": kind, "category": category,
                     "entries": [items.describe(state.ctx, state.mlist, i, state.language)
                                 for i in found]}


def renew_or_close(state: Requester, request: Request) -> Outcome:
    """renew N / close N, by the item's author or a moderator."""
    number = number_of(request, "item")
    if number is None:
        return "item-usage", {}
    item = state.ctx.stores.items.by_number(state.mlist.name, number)
    if item is None:
        return "no-such-item", {"number": number}
    if item.author != state.sender and not state.is_moderator:
        return "not-your-item", {"number": item.number}
    if request.action == "renew":
        if item.status == items.CLOSED:
            return "item-closed", {"number": item.number}
        items.renew(state.ctx, state.mlist, item)
        return "item-renewed", items.describe(state.ctx, state.mlist, item, state.language)
    item.status = items.CLOSED
    return "item-closed-now", items.describe(state.ctx, state.mlist, item, state.language)


HANDLERS = {"pay": pay, "balance": show_balance, "statement": show_statement,
            "offers": list_items, "requests": list_items, "renew": renew_or_close,
            "close": renew_or_close}
