"""Actions confirmed by replying to a single-use address: join, leave, a moderator's add,
remove or ban, and a payment. Only the owner of the mailbox that received the token can
confirm, so a forged From can never change anybody's membership.

Shared by the confirm handler (the reply came) and the request handler (a sender our MTA
proved needs no round trip): what a confirmed action does is written once, here.
"""

import json
from datetime import timedelta
from email.message import EmailMessage

from mailbot.config import ListConfig
from mailbot.exchange import treasury
from mailbot.exchange.payments import money, pay_confirmed
from mailbot.lists import moderating
from mailbot.lists.admission import ask_moderators
from mailbot.lists.membership import join, leave
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_when
from mailbot.reading.message import author, header
from mailbot.storage.messages import InboundMessage
from mailbot.storage.moderation import Confirmation


def ask(ctx: Context, mlist: ListConfig, action: str, *, email: str, target: str, name: str,
        language: str, amount: int | None = None, memo: str | None = None) -> Confirmation:
    """A pending action, valid for `membership.confirm_within`."""
    return ctx.stores.confirmations.ask(
        mlist.name, action, email=email, target=target, name=name, language=language,
        now=ctx.now, valid_for=mlist.rules.membership.confirm_within, amount=amount,
        memo=memo)


def describe(ctx: Context, mlist: ListConfig, c: Confirmation) -> dict[str, object]:
    """What a confirmation is for, as the templates say it (member/_confirm-action)."""
    payee = ctx.stores.members.get(mlist.name, c.target)
    return {"action": c.action, "target": c.target,
            "amount": money(mlist, c.amount or 0), "memo": c.memo or "",
            "payee": (payee.name if payee else "") or c.target}


def _again(ctx: Context, mlist: ListConfig, c: Confirmation) -> dict[str, object]:
    assert c.used_at is not None
    return {**describe(ctx, mlist, c),
            "when": format_when(c.used_at, ctx.config.server.timezone, c.language, ctx.now)}


def may_confirm(mlist: ListConfig, confirmation: Confirmation, replier: str) -> bool:
    """Only the mailbox the confirmation was sent to confirms it (addresses compared
    case-insensitively); a moderator's change may be confirmed by any moderator."""
    if replier.lower() == confirmation.email.lower():
        return True
    return confirmation.action in ("add", "remove") and mlist.is_moderator(replier)


def ask_again(ctx: Context, mlist: ListConfig, confirmation: Confirmation, *,
              replier: str, reply: InboundMessage) -> bool:
    """A reply came from another address than the one asked: nothing is done. The token
    it carried is spent (whoever holds it could forge the right From), and the mailbox
    that was asked gets a fresh one, saying someone else tried. False when there was
    nothing pending to ask again (used or expired)."""
    if confirmation.used_at is not None or confirmation.expires_at < ctx.now:
        return False
    confirmation.expires_at = ctx.now - timedelta(seconds=1)
    c = confirmation
    fresh = ask(ctx, mlist, c.action, email=c.email, target=c.target, name=c.name,
                language=c.language, amount=c.amount, memo=c.memo)
    ctx.outbox.send(mlist, "member/confirm-retry", c.language,
                    {**describe(ctx, mlist, c), "replier": replier}, to=c.email,
                    purpose="notice", reply_token=fresh.token, inbound_id=reply.id)
    return True


def carry_out(ctx: Context, mlist: ListConfig, confirmation: Confirmation,
              reply: InboundMessage, msg: EmailMessage) -> None:
    """Carry out a confirmed action once; a used or expired token only gets an
    explanation."""
    replier, _ = author(msg, reply.mail_from)
    if confirmation.used_at is not None:  # a second reply: say it is done, not "start over"
        reply.kind, reply.outcome = "confirm", "already confirmed"
        ctx.outbox.send(mlist, "member/confirm-again", confirmation.language,
                        _again(ctx, mlist, confirmation), to=replier, purpose="reply",
                        in_reply_to=header(msg, "Message-ID"), inbound_id=reply.id)
        return
    if confirmation.expires_at < ctx.now:
        reply.kind, reply.outcome = "confirm", "token used or expired"
        ctx.outbox.send(mlist, "member/confirm-invalid", confirmation.language, {},
                        to=replier, purpose="reply", in_reply_to=header(msg, "Message-ID"),
                        inbound_id=reply.id)
        return
    confirmation.used_at = ctx.now
    reply.kind = "confirm"
    c = confirmation
    if c.action == "pay":
        assert c.amount is not None
        reply.outcome = pay_confirmed(ctx, mlist, payer=c.email, payee=c.target,
                                      amount=c.amount, memo=c.memo or "", language=c.language)
        return
    if c.action == "ban":
        banned = moderating.ban(ctx, mlist, c.target, by=c.email)
        reply.outcome = f"{c.target} banned" if banned else "already banned"
        ctx.outbox.send(mlist, "moderator/change-done", c.language,
                        {"action": "ban", "target": c.target}, to=c.email, purpose="notice",
                        inbound_id=reply.id)
        return
    by = c.email if c.action in ("add", "remove") else ""
    if c.action in ("record", "reverse"):
        reply.outcome = _books(ctx, mlist, c, reply.id)
        return
    if c.action == "join" and mlist.rules.membership.join == "approve":
        ask_moderators(ctx, mlist, c.target, c.name, c.language, c.memo or "", reply.id)
        reply.outcome = f"{c.target} waits for a moderator's approval"
        return
    if c.action in ("join", "add"):
        joined = join(ctx, mlist, c.target, c.name, c.language, reply.id, by=by)
        reply.outcome = f"{c.target} joined" if joined else "already a member"
    else:
        left = leave(ctx, mlist, c.target, c.language, reply.id, by=by)
        reply.outcome = f"{c.target} left" if left else "was not a member"
    if c.action in ("add", "remove"):
        ctx.outbox.send(mlist, "moderator/change-done", c.language,
                        {"action": c.action, "target": c.target}, to=c.email,
                        purpose="notice", inbound_id=reply.id)


def _books(ctx: Context, mlist: ListConfig, c: Confirmation, inbound_id: int) -> str:
    """A moderator's or treasurer's confirmed slips, or correction."""
    if c.action == "record":
        return treasury.record_slips(ctx, mlist, json.loads(c.memo or "[]"),
                                     recorded_by=c.email, language=c.language,
                                     inbound_id=inbound_id)
    correction = treasury.reverse_entry(ctx, mlist, int(c.memo or 0), recorded_by=c.email,
                                        inbound_id=inbound_id)
    if correction is None:
        return f"entry {c.memo} already corrected"
    ctx.outbox.send(mlist, "member/slips-recorded", c.language,
                    {"lines": [], "correction": correction.id, "reverses": c.memo},
                    to=c.email, purpose="notice", inbound_id=inbound_id)
    return f"entry {correction.id} reverses entry {c.memo}"
