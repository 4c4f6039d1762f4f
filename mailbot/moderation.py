"""Held posts: a notice to the moderators with a single-use reply address, and their
decision by reply (approve / reject [reason] / discard, in French or English)."""

from email.message import EmailMessage

from sqlalchemy import select

from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.lists.membership import new_token
from mailbot.posting import distribute, tell_rejected
from mailbot.reading.commands import parse_commands
from mailbot.reading.message import author, automatic_kind, header, parse, readable_text
from mailbot.reading.replies import own_text
from mailbot.storage.models import Hold, InboundMessage

DECISIONS = ("approve", "reject", "discard")


def hold_post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage,
              reason: str, *, notify_author: bool) -> Hold:
    hold = Hold(list_name=mlist.name, inbound_id=row.id, token=new_token(), reason=reason,
                status="pending", created_at=ctx.now)
    ctx.session.add(hold)
    ctx.session.flush()
    address, name = author(msg, row.mail_from)
    excerpt = "\n".join(own_text(readable_text(msg)).splitlines()[:15])
    values = {"hold_id": hold.id, "sender": address, "sender_name": name, "reason": reason,
              "subject": header(msg, "Subject"), "excerpt": excerpt}
    for moderator in mlist.moderators:
        ctx.send(mlist, "moderator/held", ctx.language_of(mlist, moderator), values,
                 to=moderator, purpose="moderation", reply_token=hold.token, inbound=row)
    if notify_author:
        ctx.send(mlist, "member/held", ctx.language_of(mlist, address),
                 {"subject": header(msg, "Subject"), "reason": reason}, to=address,
                 purpose="notice", in_reply_to=header(msg, "Message-ID"), inbound=row)
    row.kind, row.status, row.outcome = "post", "held", f"held: {reason}"
    return hold


def find_hold(ctx: Context, token: str) -> Hold | None:
    return ctx.session.scalar(select(Hold).where(Hold.token == token))


def decide_hold(ctx: Context, mlist: ListConfig, hold: Hold, reply: InboundMessage,
                msg: EmailMessage) -> None:
    """Carry out a moderator's reply to a held-message notice."""
    moderator, _ = author(msg, reply.mail_from)
    language = ctx.language_of(mlist, moderator)
    values: dict[str, object] = {"hold_id": hold.id, "status": hold.status}
    if not mlist.is_moderator(moderator):
        _answer(ctx, mlist, moderator, language, "not-moderator", values, msg, reply)
        return
    if hold.status != "pending":
        values["decided_by"] = hold.decided_by or ""
        _answer(ctx, mlist, moderator, language, "already-decided", values, msg, reply)
        return
    reading = parse_commands("", readable_text(msg))
    choice = next((c for c in reading.commands if c.verb in DECISIONS), None)
    if choice is None:
        _answer(ctx, mlist, moderator, language, "unclear", values, msg, reply)
        return
    original = ctx.session.get(InboundMessage, hold.inbound_id)
    assert original is not None
    held = parse(original.raw)
    hold.status = {"approve": "approved", "reject": "rejected", "discard": "discarded"}[
        choice.verb]
    hold.decided_at, hold.decided_by = ctx.now, moderator
    if choice.verb == "approve":
        count = distribute(ctx, mlist, original, held)
        values["count"] = count
    else:
        original.status, original.outcome = "done", f"{hold.status} by {moderator}"
        if choice.verb == "reject" and automatic_kind(held, original.mail_from,
                                                      mlist.list_id) is None:
            tell_rejected(ctx, mlist, original, held, reason_code="moderator",
                          reason=" ".join(choice.args))
    values["status"] = hold.status
    _answer(ctx, mlist, moderator, language, "done", values, msg, reply)


def _answer(ctx: Context, mlist: ListConfig, moderator: str, language: str, outcome: str,
            values: dict[str, object], msg: EmailMessage, reply: InboundMessage) -> None:
    reply.kind, reply.outcome = "moderation", outcome
    ctx.send(mlist, "moderator/decision", language, {**values, "outcome": outcome},
             to=moderator, purpose="reply", in_reply_to=header(msg, "Message-ID"),
             inbound=reply)
