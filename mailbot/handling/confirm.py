"""Mail to `list-confirm+TOKEN@`: a reply that decides a held post (moderators only), confirms
a pending action (join, leave, add, remove, pay), or answers a bounce probe. The token
says which; automatic mail confirms nothing."""

from email.message import EmailMessage

from mailbot.bounces.tracking import resume
from mailbot.config import ListConfig
from mailbot.handling.actions import ask_again, carry_out, may_confirm
from mailbot.handling.known import nothing_known, said_of
from mailbot.lists import admission
from mailbot.outbound.context import Context
from mailbot.pipeline.distribute import pass_post, read_post, tell_rejected
from mailbot.reading.message import author, automatic_kind, header, parse
from mailbot.reading.requests import read_requests
from mailbot.storage.messages import InboundMessage
from mailbot.storage.moderation import Confirmation, Hold

DECISIONS = ("approve", "reject", "discard")


def handle_confirm(ctx: Context, mlist: ListConfig, row: InboundMessage,
                   msg: EmailMessage) -> None:
    automatic = automatic_kind(msg, row.mail_from, mlist.list_id)
    if automatic is not None:  # a vacation reply must never confirm anything
        row.kind, row.outcome = automatic, "ignored: automatic mail confirms nothing"
        return
    token = row.token or ""
    hold = ctx.stores.holds.by_token(token)
    if hold is not None and hold.list_name == mlist.name:
        decide_hold(ctx, mlist, hold, row, msg)
        return
    confirmation = ctx.stores.confirmations.by_token(token)
    if confirmation is not None and confirmation.list_name == mlist.name and \
            confirmation.action == admission.ADMIT:
        decide_admission(ctx, mlist, confirmation, row, msg)
        return
    if confirmation is not None and confirmation.list_name == mlist.name:
        replier = author(msg, row.mail_from)[0]
        if may_confirm(mlist, confirmation, replier):
            carry_out(ctx, mlist, confirmation, row, msg)
        else:
            not_yours(ctx, mlist, confirmation, row, msg, replier)
        return
    suspended = ctx.stores.members.by_probe(mlist.name, token) if token else None
    if suspended is not None:  # a reply to a probe: the address works again
        row.kind, row.outcome = "confirm", f"delivery resumed for {suspended.email}"
        resume(ctx, mlist, suspended, why="member")
        return
    sender, _ = author(msg, row.mail_from)
    row.kind, row.outcome = "confirm", "unknown token"
    ctx.outbox.send(mlist, "member/confirm-invalid", ctx.outbox.language_of(mlist, sender), {},
                    to=sender, purpose="reply", in_reply_to=header(msg, "Message-ID"),
                    inbound_id=row.id)


def not_yours(ctx: Context, mlist: ListConfig, confirmation: Confirmation,
              row: InboundMessage, msg: EmailMessage, replier: str) -> None:
    """A confirmation sent to another mailbox: the replier is told so (never what it was
    for), and that mailbox is asked again (a daughter who replied for her mother leaves
    her one reply away)."""
    resent = ask_again(ctx, mlist, confirmation, replier=replier, reply=row)
    row.kind = "confirm"
    row.outcome = (f"refused: sent to another address than {replier}"
                   + ("; asked that address again" if resent else ""))
    ctx.outbox.send(mlist, "member/confirm-not-yours", ctx.outbox.language_of(mlist, replier),
                    {"replier": replier, "resent": resent}, to=replier, purpose="reply",
                    in_reply_to=header(msg, "Message-ID"), inbound_id=row.id)


def decide_hold(ctx: Context, mlist: ListConfig, hold: Hold, reply: InboundMessage,
                msg: EmailMessage) -> None:
    """Carry out a moderator's reply to a held-message notice."""
    moderator, _ = author(msg, reply.mail_from)
    language = ctx.outbox.language_of(mlist, moderator)
    values: dict[str, object] = {"hold_id": hold.id, "status": hold.status}
    if not mlist.is_moderator(moderator):
        _answer(ctx, mlist, moderator, language, "not-moderator", values, msg, reply)
        return
    if hold.status != "pending":
        values["decided_by"] = hold.decided_by or ""
        _answer(ctx, mlist, moderator, language, "already-decided", values, msg, reply)
        return
    said = said_of(msg, "confirm", mlist, reply.mail_from, None)
    known = nothing_known(mlist, ctx.config.server.separator)
    choice = next((r for r in read_requests(said, known) if r.action in DECISIONS), None)
    if choice is None:
        _answer(ctx, mlist, moderator, language, "unclear", values, msg, reply)
        return
    original = ctx.stores.messages.get(hold.inbound_id)
    assert original is not None
    held = parse(original.raw)
    hold.status = {"approve": "approved", "reject": "rejected", "discard": "discarded"}[
        choice.action]
    hold.decided_at, hold.decided_by = ctx.now, moderator
    if choice.action == "approve":  # the post re-enters the pipeline after `authorize`
        _, values["count"] = pass_post(ctx, original,
                                       read_post(ctx, mlist, original, held, approved=True))
    else:
        original.status, original.outcome = "done", f"{hold.status} by {moderator}"
        if choice.action == "reject" and automatic_kind(held, original.mail_from,
                                                        mlist.list_id) is None:
            said_why = choice.args.get("reason") or " ".join(choice.words)
            tell_rejected(ctx, mlist, original, held, reason_code="moderator",
                          reason=str(said_why).lstrip(":;,.-–— "))
    values["status"] = hold.status
    _answer(ctx, mlist, moderator, language, "done", values, msg, reply)


def decide_admission(ctx: Context, mlist: ListConfig, request: Confirmation,
                     reply: InboundMessage, msg: EmailMessage) -> None:
    """A moderator's reply to a request to join (rules: membership.join = "approve")."""
    moderator, _ = author(msg, reply.mail_from)
    values: dict[str, object] = {"newcomer": request.target, "newcomer_name": request.name,
                                 "reason": ""}
    outcome = "unclear"
    said = said_of(msg, "confirm", mlist, reply.mail_from, None)
    choice = next((r for r in read_requests(said, nothing_known(
        mlist, ctx.config.server.separator)) if r.action in DECISIONS), None)
    if not mlist.is_moderator(moderator):
        outcome = "not-moderator"
    elif request.used_at is not None:
        outcome = "already-decided"
    elif request.expires_at < ctx.now:
        outcome = "expired"
    elif choice is not None:
        said_why = str(choice.args.get("reason") or " ".join(choice.words))
        reason = said_why.lstrip(":;,.-–— ") if choice.action == "reject" else ""
        values["reason"] = reason
        outcome = admission.decide(ctx, mlist, request, choice.action, reason, reply.id)
    reply.kind, reply.outcome = "moderation", f"join of {request.target}: {outcome}"
    ctx.outbox.send(mlist, "moderator/join-decided", ctx.outbox.language_of(mlist, moderator),
                    {**values, "outcome": outcome}, to=moderator, purpose="reply",
                    in_reply_to=header(msg, "Message-ID"), inbound_id=reply.id)


def _answer(ctx: Context, mlist: ListConfig, moderator: str, language: str, outcome: str,
            values: dict[str, object], msg: EmailMessage, reply: InboundMessage) -> None:
    reply.kind, reply.outcome = "moderation", outcome
    ctx.outbox.send(mlist, "moderator/decision", language, {**values, "outcome": outcome},
                    to=moderator, purpose="reply", in_reply_to=header(msg, "Message-ID"),
                    inbound_id=reply.id)
