"""Joining a list whose rules say `membership.join = "approve"`: once the newcomer has
confirmed, the moderators receive the request with the newcomer's own words and approve
or refuse it by replying; the newcomer is told it waits, then the outcome.

The request is a pending action "admit" (storage/moderation.py): one single-use token sent
to every moderator, so the first answer decides and a second one is told it is done.
"""

from mailbot.config import ListConfig
from mailbot.lists.membership import join
from mailbot.outbound.context import Context
from mailbot.storage.moderation import Confirmation

ADMIT = "admit"


def ask_moderators(ctx: Context, mlist: ListConfig, email: str, name: str, language: str,
                   words: str, inbound_id: int) -> Confirmation:
    """The newcomer confirmed: ask the moderators, and tell the newcomer it waits."""
    owner = ctx.outbox.address(mlist, "owner")
    request = ctx.stores.confirmations.ask(
        mlist.name, ADMIT, email=owner, target=email, name=name, language=language,
        now=ctx.now, valid_for=mlist.rules.membership.confirm_within, memo=words)
    values = {"newcomer": email, "newcomer_name": name, "words": words.splitlines()}
    for moderator in mlist.moderators:
        ctx.outbox.send(mlist, "moderator/join-request",
                        ctx.outbox.language_of(mlist, moderator), values, to=moderator,
                        purpose="notice", reply_token=request.token, inbound_id=inbound_id)
    ctx.outbox.send(mlist, "member/join-waiting", language, {}, to=email, purpose="notice",
                    inbound_id=inbound_id)
    return request


def decide(ctx: Context, mlist: ListConfig, request: Confirmation, choice: str,
           reason: str, inbound_id: int) -> str:
    """A moderator approved ("approve"), refused ("reject", the newcomer told why) or
    discarded (refused, the newcomer not told) the request: returns the status."""
    request.used_at = ctx.now
    if choice == "approve":
        joined = join(ctx, mlist, request.target, request.name, request.language, inbound_id)
        return "approved" if joined else "already-member"
    if choice == "reject":
        ctx.outbox.send(mlist, "member/join-refused", request.language, {"reason": reason},
                        to=request.target, purpose="notice", inbound_id=inbound_id)
    return "refused" if choice == "reject" else "discarded"
