"""Mail to the list address: a post. Automatic mail is kept and ignored. What a member
meant for the robot (administrivia, Mailman's word) is passed on to the request address;
a stance on a proposal named only by its words (a reply to a digest) is recorded, not
posted. Anything else passes the pipeline, which sends it, or says to hold it for a
moderator or refuse it."""

from email.message import EmailMessage

from mailbot.bounces.tracking import mark_away
from mailbot.config import ListConfig
from mailbot.decisions.proposals import find_thread, record_stance
from mailbot.handling.known import FROM_THE_LIST, known_of, said_of, thread_proposal
from mailbot.lists.moderating import today
from mailbot.outbound.context import Context
from mailbot.pipeline.distribute import STANCES, pass_post, read_post, tell_rejected
from mailbot.reading.message import author, automatic_kind, header, readable_text
from mailbot.reading.replies import own_text
from mailbot.reading.requests import Request, read_requests
from mailbot.storage.messages import InboundMessage

IGNORED_AUTOMATIC = ("loop", "bounce", "auto-reply")


def handle_post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage) -> None:
    automatic = automatic_kind(msg, row.mail_from, mlist.list_id)
    if automatic in IGNORED_AUTOMATIC:
        if automatic == "auto-reply":
            member = ctx.stores.members.get(mlist.name, author(msg, row.mail_from)[0])
            if member is not None:
                mark_away(ctx, mlist, [(member, False)])
        row.kind, row.outcome = automatic, f"ignored: {automatic} never goes to the list"
        return
    seen = None if automatic else _seen(ctx, mlist, row, msg)
    if seen is not None and _meant_for_the_robot(ctx, mlist, row, msg, seen):
        return
    verdict, _ = pass_post(ctx, row, read_post(ctx, mlist, row, msg, seen=seen,
                                               automatic=automatic is not None))
    if verdict.action == "reject":
        row.outcome = f"rejected: {verdict.reason}"
        if automatic is None:
            tell_rejected(ctx, mlist, row, msg, reason_code=verdict.reason, reason="")
    elif verdict.action == "hold":
        hold_post(ctx, mlist, row, msg, verdict.reason,
                  notify_author=automatic is None and _may_tell(ctx, mlist, row, verdict.reason)
                  and _tell_author(ctx, mlist, row, msg, verdict.reason))


def _may_tell(ctx: Context, mlist: ListConfig, row: InboundMessage, reason: str) -> bool:
    """Without a usable From the author is only the envelope sender: told only when a
    member (the envelope of a stranger's mail proves nothing)."""
    if reason != "no-from":
        return True
    return ctx.stores.members.get(mlist.name, row.mail_from.strip().lower()) is not None


def _tell_author(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage,
                 reason: str) -> bool:
    """A member under moderation was told once, when it began; a member past the day's
    number of posts is told once that day."""
    if reason == "moderated":
        return False
    if reason != "flood":
        return True
    member = ctx.stores.members.get(mlist.name, author(msg, row.mail_from)[0])
    day = today(ctx)
    if member is None or member.flood_told_on == day:
        return False
    member.flood_told_on = day
    return True


def _seen(ctx: Context, mlist: ListConfig, row: InboundMessage,
          msg: EmailMessage) -> Request | None:
    """What the request reader reads in the post, as `mailbot explain` does."""
    said = said_of(msg, "post", mlist, row.mail_from, thread_proposal(ctx.stores, mlist, msg))
    ahead = ctx.ahead.get(row.id)
    found = read_requests(said, known_of(ctx.stores, mlist, ctx.config.server.separator),
                          ahead.reading if ahead is not None else None)
    return found[0] if found else None


def _meant_for_the_robot(ctx: Context, mlist: ListConfig, row: InboundMessage,
                         msg: EmailMessage, seen: Request) -> bool:
    """True when the post was handled another way than by going to the list: only for
    members (a stranger's mail is held for the moderators as any)."""
    sender = author(msg, row.mail_from)[0]
    if ctx.stores.members.get(mlist.name, sender) is None and not mlist.is_moderator(sender):
        return False
    if seen.action == "administrivia":
        ctx.stores.messages.pass_on(row, role="request", rcpt=ctx.outbox.address(
            mlist, "request"), token=FROM_THE_LIST, now=ctx.now)
        row.kind, row.outcome = "administrivia", "passed on to the request address"
        return True
    number = seen.args.get("proposal")
    if seen.action in STANCES and isinstance(number, int) and find_thread(
            ctx, mlist, msg) is None:
        proposal = ctx.stores.proposals.by_number(mlist.name, number)
        if proposal is None or record_stance(ctx, mlist, proposal, row, msg,
                                             STANCES[seen.action]) is None:
            return False
        row.kind = "stance"  # a reply to a digest: counted, not posted
        return True
    return False


def hold_post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage,
              reason: str, *, notify_author: bool) -> None:
    """Keep the post for the moderators: each gets a notice with a single-use reply
    address, and the author is told it waits."""
    hold = ctx.stores.holds.hold(mlist.name, row.id, reason, ctx.now)
    address, name = author(msg, row.mail_from)
    excerpt = "\n".join(own_text(readable_text(msg)).splitlines()[:15])
    values = {"hold_id": hold.id, "sender": address, "sender_name": name, "reason": reason,
              "subject": header(msg, "Subject"), "excerpt": excerpt,
              "max_posts": mlist.rules.posting.max_posts_per_day}
    for moderator in mlist.moderators:
        ctx.outbox.send(mlist, "moderator/held", ctx.outbox.language_of(mlist, moderator),
                        values, to=moderator, purpose="moderation", reply_token=hold.token,
                        inbound_id=row.id)
    if notify_author:
        ctx.outbox.send(mlist, "member/held", ctx.outbox.language_of(mlist, address),
                        {"subject": header(msg, "Subject"), "reason": reason,
                         "max_posts": mlist.rules.posting.max_posts_per_day}, to=address,
                        purpose="notice", in_reply_to=header(msg, "Message-ID"),
                        inbound_id=row.id)
    row.kind, row.status, row.outcome = "post", "held", f"held: {reason}"
