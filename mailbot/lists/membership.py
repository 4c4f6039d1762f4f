"""Joining and leaving a list, once confirmed: the roster changes and the person is told.

Who may ask, and the confirmation round trip, are the request and confirm handlers' work;
here is only what a confirmed join or leave does.
"""

from mailbot.config import ListConfig
from mailbot.lists.moderating import note
from mailbot.outbound.context import Context


def join(ctx: Context, mlist: ListConfig, email: str, name: str, language: str,
         inbound_id: int, by: str = "") -> bool:
    """Add `email` and welcome them; False when they were a member already. `by`: the
    moderator who added them. The moderators hear of it (membership.notify)."""
    member, created = ctx.stores.members.add(mlist.name, email, name, ctx.now, language)
    if created:
        ctx.outbox.send(mlist, "member/welcome", member.language or mlist.language, {},
                        to=member.email, purpose="notice", inbound_id=inbound_id)
        note(ctx, mlist, "join", member.email, name=name, by=by)
    return created


def leave(ctx: Context, mlist: ListConfig, email: str, language: str,
          inbound_id: int | None, by: str = "") -> bool:
    """Remove `email` and say goodbye; False when they were not a member. `by`: the
    moderator who removed them."""
    member = ctx.stores.members.get(mlist.name, email)
    language = (member.language if member else None) or language
    name = member.name if member else ""
    removed = ctx.stores.members.remove(mlist.name, email)
    if removed:
        ctx.outbox.send(mlist, "member/goodbye", language, {}, to=email, purpose="notice",
                        inbound_id=inbound_id)
        note(ctx, mlist, "remove" if by else "leave", email, name=name, by=by)
    return removed
