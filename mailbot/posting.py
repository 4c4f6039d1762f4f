"""A post to the list: authorize, then distribute to members or hold for a moderator.

A moderator's approval comes back through `distribute` too: there is one way out.
"""

from email.message import EmailMessage
from email.utils import make_msgid

from mailbot.announce import by_language
from mailbot.bounces.handling import mark_away
from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.dmarc import policies_for
from mailbot.exchange import items as exchange_items
from mailbot.lists.membership import get_member, receiving_each
from mailbot.outbound.queue import enqueue
from mailbot.pipeline.authorize import decide_post
from mailbot.pipeline.block import add_block
from mailbot.pipeline.decorate import ListHeaders, PostHeaders, build_list_copy
from mailbot.reading.message import author, automatic_kind, header, parse
from mailbot.storage.models import InboundMessage

IGNORED_AUTOMATIC = ("loop", "bounce", "auto-reply")


def handle_post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage) -> None:
    from mailbot.moderation import hold_post

    automatic = automatic_kind(msg, row.mail_from, mlist.list_id)
    address, _ = author(msg, row.mail_from)
    member = get_member(ctx.session, mlist.name, address)
    if automatic in IGNORED_AUTOMATIC:
        if automatic == "auto-reply" and member is not None:
            mark_away(ctx, mlist, [(member, False)])
        row.kind, row.outcome = automatic, f"ignored: {automatic} never goes to the list"
        return
    verdict = decide_post(
        mlist.rules.posting, is_member=member is not None,
        is_moderator=mlist.is_moderator(address),
        post_count=member.post_count if member else 0, size=row.size,
        automatic=automatic is not None,
    )
    if verdict.action == "reject":
        row.outcome = f"rejected: {verdict.reason}"
        if automatic is None:
            tell_rejected(ctx, mlist, row, msg, reason_code=verdict.reason, reason="")
    elif verdict.action == "hold":
        hold_post(ctx, mlist, row, msg, verdict.reason, notify_author=automatic is None)
    else:
        distribute(ctx, mlist, row, msg)


def distribute(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage) -> int:
    """Queue the list's copy for every member in `each` mode; return how many.

    A proposal's copy carries a block in each reader's language, so there is one copy per
    language; any other post is one copy for all."""
    from mailbot.decisions.proposals import on_post

    raw = with_message_id(row.raw, msg, ctx.config.server.hostname)
    if raw is not row.raw:
        msg = parse(raw)
    opened = on_post(ctx, mlist, row, msg)
    if opened is None:
        exchange_items.on_post(ctx, mlist, row, msg)
    members = opened.recipients if opened else receiving_each(ctx.session, mlist.name)
    groups = by_language(mlist, members) if opened else {"": list(members)}
    headers = post_headers(ctx, mlist, row, msg)
    for language, group in groups.items():
        body = add_block(raw, opened.blocks[language]) if opened else raw
        copy = build_list_copy(body, headers, list_headers_of(ctx, mlist),
                               ctx.config.server.hostname)
        recipients = [(m.email, ctx.envelope_for(mlist, m.verp_token)) for m in group]
        if not recipients:
            continue
        enqueue(ctx.session, list_name=mlist.name, purpose="post", raw=copy,
                recipients=recipients, now=ctx.now, inbound_id=row.id)
    sender = get_member(ctx.session, mlist.name, author(msg, row.mail_from)[0])
    if sender is not None:
        sender.post_count += 1
    row.kind, row.status, row.distributed_at = row.kind or "post", "done", ctx.now
    row.outcome = (row.outcome + "; " if row.outcome else "") + \
        f"distributed to {len(members)} members"
    return len(members)


def with_message_id(raw: bytes, msg: EmailMessage, hostname: str) -> bytes:
    """The post with a Message-ID of its own, so every copy and every reply agree on it."""
    if header(msg, "Message-ID"):
        return raw
    return f"Message-ID: {make_msgid(domain=hostname)}\r\n".encode() + raw


def post_headers(ctx: Context, mlist: ListConfig, row: InboundMessage,
                 msg: EmailMessage) -> PostHeaders:
    address, name = author(msg, row.mail_from)
    rules = mlist.rules.posting
    return PostHeaders(
        subject=header(msg, "Subject"), from_name=name, from_address=address,
        reply_to_rule=rules.reply_to,
        rewrite_from=rules.from_rewrite == "always" or (
            rules.from_rewrite == "auto" and policies_for(ctx.config.dns).needs_rewrite(address)),
        original_reply_to=header(msg, "Reply-To"), message_id=header(msg, "Message-ID"),
    )


def list_headers_of(ctx: Context, mlist: ListConfig) -> ListHeaders:
    return ListHeaders(
        title=mlist.title, list_id=mlist.list_id, post=mlist.address,
        request=ctx.address(mlist, "request"), unsubscribe_url=mlist.unsubscribe_url,
        prefix=mlist.rules.posting.subject_prefix.format(list=mlist.name),
    )


def tell_rejected(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage,
                  *, reason_code: str, reason: str) -> None:
    """Tell a post's author it will not go to the list, and why."""
    address, _ = author(msg, row.mail_from)
    values = {
        "subject": header(msg, "Subject"), "reason_code": reason_code, "reason": reason,
        "size_kb": row.size // 1024, "max_kb": mlist.rules.posting.max_kb,
    }
    ctx.send(mlist, "member/rejected", ctx.language_of(mlist, address), values, to=address,
             purpose="notice", in_reply_to=header(msg, "Message-ID"), inbound=row)
