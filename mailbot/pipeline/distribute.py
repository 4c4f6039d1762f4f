"""A post goes out: the stages before the hooks, the hooks a post causes (in the order
declared here), the stages after, and the fan-out through the outbox.

The post handler calls `pass_post` for a new post; the confirm handler calls it for a
held post a moderator approved (it skips `authorize`). There is one way to the members.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage

from mailbot.config import ListConfig
from mailbot.decisions import proposals
from mailbot.exchange import items
from mailbot.lists.moderating import today
from mailbot.outbound.context import Context
from mailbot.pipeline import stages
from mailbot.pipeline.authorize import Verdict
from mailbot.pipeline.dmarc import policies_for
from mailbot.reading.message import author, automatic_kind, header, usable_from
from mailbot.reading.requests import Request
from mailbot.storage.members import Reader
from mailbot.storage.messages import InboundMessage


@dataclass(frozen=True)
class Fanout:
    """What a hook changes in the fan-out: who gets the post (instead of every member in
    `each` mode) and a block for each language's copy."""

    readers: Sequence[Reader]
    blocks: dict[str, str]


Hook = Callable[[Context, InboundMessage, stages.Post, EmailMessage], Fanout | None]
STANCES = {"object": "objection", "support": "support"}


def _proposal(ctx: Context, row: InboundMessage, post: stages.Post,
              msg: EmailMessage) -> Fanout | None:
    """Opens a proposal (its copies carry the block; digest readers may get it too), or
    reads a reply's stance."""
    seen = post.seen
    title = seen.args.get("title") if seen is not None and seen.action == "propose" else None
    stance = STANCES.get(seen.action) if seen is not None else None
    opened = proposals.on_post(ctx, post.mlist, row, msg,
                               title=str(title) if title else None, stance=stance)
    return Fanout(opened.recipients, opened.blocks) if opened else None


def _exchange_item(ctx: Context, row: InboundMessage, post: stages.Post,
                   msg: EmailMessage) -> Fanout | None:
    seen = post.seen
    kind = {"offer_item": "offer", "request_item": "request"}.get(seen.action) \
        if seen is not None else None
    title = str(seen.args.get("title", "")) if seen is not None else ""
    items.on_post(ctx, post.mlist, row, msg, seen=(kind, title) if kind and title else None)
    return None


# In this order; the first hook that changes the fan-out ends the round (a proposal is not
# also an exchange item).
HOOKS: tuple[tuple[str, Hook], ...] = (("proposal", _proposal),
                                       ("exchange item", _exchange_item))


def read_post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage, *,
              approved: bool = False, seen: Request | None = None,
              automatic: bool | None = None) -> stages.Post:
    """What the stages need to know, read before they run (the author's DMARC policy from
    the cache the worker filled before the transaction). `automatic`: whether no person
    wrote it, when the caller knows already."""
    address, name = author(msg, row.mail_from)
    member = ctx.stores.members.get(mlist.name, address)
    strict = mlist.rules.posting.from_rewrite == "auto" and policies_for(
        ctx.config.dns).needs_rewrite(address, ask=False)
    day = today(ctx)
    posts, posts_today = ctx.stores.members.posts_of(member, day) if member else (0, 0)
    return stages.Post(
        raw=row.raw, msg=msg, mlist=mlist, author=address, author_name=name,
        is_member=member is not None, is_moderator=mlist.is_moderator(address),
        post_count=posts,
        automatic=automatic if automatic is not None else
        automatic_kind(msg, row.mail_from, mlist.list_id) is not None,
        size=row.size, strict_dmarc=strict, hostname=ctx.config.server.hostname,
        list_headers=ctx.outbox.list_headers(mlist), approved=approved, seen=seen,
        has_author=usable_from(msg) is not None,
        moderated=member is not None and member.moderated_at is not None,
        posts_today=posts_today)


def pass_post(ctx: Context, row: InboundMessage, post: stages.Post) -> tuple[Verdict, int]:
    """Run the post through the stages; when they let it go on, run the hooks and queue
    the list's copies. Returns the verdict (hold and reject are the caller's to act on)
    and how many members it went to."""
    draft = stages.run(stages.BEFORE_HOOKS, post, stages.Draft(post.raw, post.msg))
    if draft.verdict.action != "accept":
        return draft.verdict, 0
    fanout = _run_hooks(ctx, row, post, draft.msg)
    mlist = post.mlist
    readers = fanout.readers if fanout else ctx.stores.members.receiving_each(mlist.name)
    groups = ctx.outbox.by_language(mlist, readers) if fanout else {"": list(readers)}
    for language, group in groups.items():
        if not group:  # no one reads it as it comes (digests, paused): no copy to build
            continue
        block = fanout.blocks[language] if fanout else ""
        copy = stages.run(stages.AFTER_HOOKS, post, replace(draft, block=block))
        ctx.outbox.queue(mlist, copy.raw, purpose="post",
                         recipients=ctx.outbox.recipients(mlist, group), inbound_id=row.id)
    sender = ctx.stores.members.get(mlist.name, post.author)
    row.kind, row.status, row.distributed_at = row.kind or "post", "done", ctx.now
    if sender is not None:
        ctx.stores.members.count_post(sender, row, today(ctx))
    ctx.stores.messages.archive(row)  # members may ask for it back: `index`, `get N`
    row.outcome = (row.outcome + "; " if row.outcome else "") + \
        f"distributed to {len(readers)} members"
    return draft.verdict, len(readers)


def _run_hooks(ctx: Context, row: InboundMessage, post: stages.Post,
               msg: EmailMessage) -> Fanout | None:
    for _name, hook in HOOKS:
        fanout = hook(ctx, row, post, msg)
        if fanout is not None:
            return fanout
    return None


def tell_rejected(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage,
                  *, reason_code: str, reason: str) -> None:
    """Tell a post's author it will not go to the list, and why."""
    address, _ = author(msg, row.mail_from)
    values = {
        "subject": header(msg, "Subject"), "reason_code": reason_code, "reason": reason,
        "size_kb": row.size // 1024, "max_kb": mlist.rules.posting.max_kb,
    }
    ctx.outbox.send(mlist, "member/rejected", ctx.outbox.language_of(mlist, address), values,
                    to=address, purpose="notice", in_reply_to=header(msg, "Message-ID"),
                    inbound_id=row.id)
