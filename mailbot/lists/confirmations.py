"""Actions confirmed by replying to a single-use address: join, leave, a moderator's add
or remove, and a payment. Only the owner of the mailbox that received the token can confirm, so a
forged From can never change anybody's membership."""

from email.message import EmailMessage

from sqlalchemy import select

from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.lists.membership import add_member, get_member, new_token, remove_member
from mailbot.reading.message import author, header
from mailbot.storage.models import Confirmation, InboundMessage


def request_confirmation(ctx: Context, mlist: ListConfig, action: str, *, email: str,
                         target: str, name: str, language: str, amount: int | None = None,
                         memo: str | None = None) -> Confirmation:
    confirmation = Confirmation(
        token=new_token(), list_name=mlist.name, action=action, email=email, target=target,
        name=name, language=language, created_at=ctx.now,
        expires_at=ctx.now + mlist.rules.membership.confirm_within, amount=amount, memo=memo,
    )
    ctx.session.add(confirmation)
    ctx.session.flush()
    return confirmation


def find_confirmation(ctx: Context, token: str) -> Confirmation | None:
    return ctx.session.scalar(select(Confirmation).where(Confirmation.token == token))


def apply_confirmation(ctx: Context, mlist: ListConfig, confirmation: Confirmation,
                       reply: InboundMessage, msg: EmailMessage) -> None:
    """Carry out a confirmed action once; a used or expired token only gets an explanation."""
    replier, _ = author(msg, reply.mail_from)
    if confirmation.used_at is not None or confirmation.expires_at < ctx.now:
        reply.kind, reply.outcome = "confirm", "token used or expired"
        ctx.send(mlist, "member/confirm-invalid", confirmation.language, {}, to=replier,
                 purpose="reply", in_reply_to=header(msg, "Message-ID"), inbound=reply)
        return
    confirmation.used_at = ctx.now
    reply.kind = "confirm"
    if confirmation.action == "pay":
        from mailbot.exchange.commands import confirm_payment

        reply.outcome = confirm_payment(ctx, mlist, confirmation)
        return
    if confirmation.action in ("join", "add"):
        _join(ctx, mlist, confirmation, reply)
    else:
        _leave(ctx, mlist, confirmation, reply)
    if confirmation.action in ("add", "remove"):
        ctx.send(mlist, "moderator/change-done", confirmation.language,
                 {"action": confirmation.action, "target": confirmation.target},
                 to=confirmation.email, purpose="notice", inbound=reply)


def _join(ctx: Context, mlist: ListConfig, confirmation: Confirmation,
          reply: InboundMessage) -> None:
    member, created = add_member(ctx.session, mlist.name, confirmation.target,
                                 confirmation.name, ctx.now, confirmation.language)
    reply.outcome = f"{confirmation.target} joined" if created else "already a member"
    if created:
        ctx.send(mlist, "member/welcome", member.language or mlist.language, {},
                 to=member.email, purpose="notice", inbound=reply)


def _leave(ctx: Context, mlist: ListConfig, confirmation: Confirmation,
           reply: InboundMessage) -> None:
    member = get_member(ctx.session, mlist.name, confirmation.target)
    language = (member.language if member else None) or confirmation.language
    removed = remove_member(ctx.session, mlist.name, confirmation.target)
    reply.outcome = f"{confirmation.target} left" if removed else "was not a member"
    if removed:
        ctx.send(mlist, "member/goodbye", language, {}, to=confirmation.target,
                 purpose="notice", inbound=reply)
