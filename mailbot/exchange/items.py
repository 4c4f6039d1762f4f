"""Offers and requests on a list: recorded from tagged posts, matched, renewed or expired.

A request's author is told of the active offers that fit it, and those offers' authors of
the request, each note with a Reply-To of the other person: replying is contacting them.
Before an item expires its author is asked whether to renew it; silence hides it (it is
never deleted) and `renew N` brings it back.
"""

from collections.abc import Sequence
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from mailbot.config import ListConfig
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_date
from mailbot.reading.items import category_of, item_kind_and_title, matches
from mailbot.reading.message import author, header, readable_text
from mailbot.reading.replies import own_text
from mailbot.storage.exchange import ExchangeItem
from mailbot.storage.messages import InboundMessage

ACTIVE, EXPIRED, CLOSED = "active", "expired", "closed"
MAX_MATCHES = 3


def on_post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage, *,
            seen: tuple[str, str] | None = None) -> ExchangeItem | None:
    """Records the offer or request a post is: by its tag, else by what the request
    reader `seen` in it (kind, title)."""
    prefix = mlist.rules.posting.subject_prefix.format(list=mlist.name)
    found = item_kind_and_title(header(msg, "Subject"), prefix) or seen
    if found is None:
        return None
    kind, title = found
    address, name = author(msg, row.mail_from)
    text = own_text(readable_text(msg))
    item = ctx.stores.items.record(ExchangeItem(
        list_name=mlist.name, kind=kind, title=title[:300], text=text[:4000],
        category=category_of(text)[:100],
        author=address, author_name=name, message_id=header(msg, "Message-ID"),
        created_at=ctx.now, expires_at=ctx.now + mlist.rules.exchange.item_lifetime,
        status=ACTIVE, inbound_id=row.id))
    language = ctx.outbox.language_of(mlist, address)
    ctx.outbox.send(mlist, "member/item-recorded", language,
                    describe(ctx, mlist, item, language), to=address,
                    purpose="notice", in_reply_to=item.message_id, inbound_id=row.id)
    if kind == "request":
        introduce(ctx, mlist, item)
    row.kind, row.outcome = kind, f"{kind} n°{item.number} recorded"
    return item


def describe(ctx: Context, mlist: ListConfig, item: ExchangeItem,
             language: str) -> dict[str, Any]:
    return {"number": item.number, "kind": item.kind, "title": item.title,
            "category": item.category, "author": item.author_name or item.author,
            "email": item.author,
            "expires": format_date(item.expires_at, ctx.config.server.timezone, language),
            "status": item.status}


def active_items(ctx: Context, mlist: ListConfig, kind: str,
                 category: str = "") -> Sequence[ExchangeItem]:
    return ctx.stores.items.active(mlist.name, kind, category)


def introduce(ctx: Context, mlist: ListConfig, request: ExchangeItem) -> int:
    """Tell the requester of fitting offers, and the offers' authors of the request."""
    fitting = [o for o in active_items(ctx, mlist, "offer")
               if o.author != request.author
               and matches(request.title, request.category, o.title, o.category)]
    for offer in fitting[:MAX_MATCHES]:
        for reader, other, about in ((request.author, offer, request),
                                     (offer.author, request, offer)):
            language = ctx.outbox.language_of(mlist, reader)
            ctx.outbox.send(mlist, "member/item-match", language,
                            {"mine": describe(ctx, mlist, about, language),
                             "theirs": describe(ctx, mlist, other, language)},
                            to=reader, purpose="notice", reply_to=other.author)
    return len(fitting[:MAX_MATCHES])


def renew_or_expire_due(ctx: Context) -> int:
    """Ask authors whose items expire soon; hide the items whose time is over."""
    done = 0
    for mlist in ctx.config.lists:
        notice = mlist.rules.exchange.renewal_notice_before
        for item in ctx.stores.items.ending_by(mlist.name, ctx.now + notice):
            done += _renew_or_expire(ctx, mlist, item, notice)
    return done


def _renew_or_expire(ctx: Context, mlist: ListConfig, item: ExchangeItem,
                     notice: timedelta) -> int:
    language = ctx.outbox.language_of(mlist, item.author)
    if item.expires_at <= ctx.now:
        item.status = EXPIRED
        ctx.outbox.send(mlist, "member/item-expired", language,
                        describe(ctx, mlist, item, language), to=item.author, purpose="notice")
        return 1
    if item.renewal_asked_at is None and item.expires_at - notice <= ctx.now:
        item.renewal_asked_at = ctx.now
        ctx.outbox.send(mlist, "member/item-renewal", language,
                        describe(ctx, mlist, item, language), to=item.author, purpose="notice")
        return 1
    return 0


def renew(ctx: Context, mlist: ListConfig, item: ExchangeItem) -> None:
    item.status, item.renewal_asked_at = ACTIVE, None
    item.expires_at = ctx.now + mlist.rules.exchange.item_lifetime
