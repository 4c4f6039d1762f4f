"""Joining and leaving a list, once confirmed: the roster changes and the person is told.

Who may ask, and the confirmation round trip, are the request and confirm handlers' work;
here is only what a confirmed join or leave does.
"""

from mailbot.config import ListConfig
from mailbot.outbound.context import Context


def join(ctx: Context, mlist: ListConfig, email: str, name: str, language: str,
         inbound_id: int) -> bool:
    """Add `email` and welcome them; False when they were a member already."""
    member, created = ctx.stores.members.add(mlist.name, email, name, ctx.now, language)
    if created:
        ctx.outbox.send(mlist, "member/welcome", member.language or mlist.language, {},
                        to=member.email, purpose="notice", inbound_id=inbound_id)
    return created


def leave(ctx: Context, mlist: ListConfig, email: str, language: str,
          inbound_id: int | None) -> bool:
    """Remove `email` and say goodbye; False when they were not a member."""
    member = ctx.stores.members.get(mlist.name, email)
    language = (member.language if member else None) or language
    removed = ctx.stores.members.remove(mlist.name, email)
    if removed:
        ctx.outbox.send(mlist, "member/goodbye", language, {}, to=email, purpose="notice",
                        inbound_id=inbound_id)
    return removed
