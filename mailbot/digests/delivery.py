"""Sending digests: for each digest reader whose digest is due, gather what is new since
their last one, render it, queue it, and move their watermark, in one transaction.

Readers are locked (`FOR UPDATE SKIP LOCKED`) and their watermark checked in the same
transaction, so a reader gets one digest per period, across restarts and daemons. Readers
are taken a round at a time (`CHUNK`), a transaction each, so that thousands of digests
never hold SQLite's single writer away from arriving mail for long. Readers of a round
whose digest is the same share one rendered message: a round costs a render or two, not
one per reader.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from typing import Any

from mailbot.config import ListConfig
from mailbot.decisions.proposals import describe
from mailbot.digests.schedule import (
    DIGEST_MODES,
    DigestPost,
    Thread,
    arrange_threads,
    digest_text,
    previous_digest_at,
    topic,
)
from mailbot.outbound.context import Context
from mailbot.reading.message import attachments, author, header, parse, readable_text
from mailbot.storage.exchange import ExchangeItem
from mailbot.storage.members import Member
from mailbot.storage.messages import InboundMessage
from mailbot.storage.proposals import Proposal

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class News:
    """What happened on a list between two moments."""

    threads: list[Thread]
    raws: list[bytes]
    decisions: list[Proposal]
    open_proposals: list[Proposal]
    new_items: list[ExchangeItem]

    @property
    def empty(self) -> bool:
        return not self.threads and not self.decisions


CHUNK = 500  # readers per transaction
# Digests rendered per transaction: readers who joined at different times and never had
# a digest each have news of their own, and a round of them must stay short too.
RENDERS = 10


@dataclass(frozen=True)
class Round:
    queued: int  # digests queued
    readers: int  # readers handled (their watermark moved); none: nothing left to do


# The posts of a list between two moments, parsed once for every round of readers.
Posts = dict[tuple[str, datetime, datetime], tuple[list[Thread], list[bytes]]]


def send_due(ctx: Context, *, everything_until: datetime | None = None,
             list_name: str | None = None, limit: int | None = None,
             posts: Posts | None = None) -> Round:
    """Send up to `limit` readers' digests whose time has come (or, with
    `everything_until`, every digest that has something new up to that moment, as if its
    time had come). Call again, in a new transaction, while readers are handled, with the
    same `posts` (a dict the rounds share)."""
    limit = CHUNK if limit is None else limit
    posts = {} if posts is None else posts
    queued = handled = 0
    for mlist in ctx.config.lists:
        if list_name is not None and mlist.name != list_name:
            continue
        for mode in DIGEST_MODES:
            due = everything_until or previous_digest_at(
                mode, mlist.rules.digest, ctx.config.server.timezone, ctx.now)
            if due is not None and handled < limit:
                sent, readers = _send_mode(ctx, mlist, mode, due, limit - handled, posts)
                queued, handled = queued + sent, handled + readers
    return Round(queued, handled)


def _send_mode(ctx: Context, mlist: ListConfig, mode: str, due: datetime,
               limit: int, posts: Posts) -> tuple[int, int]:
    readers = ctx.stores.members.digest_due(mlist.name, mode, due, limit)
    gathered: dict[datetime, News] = {}
    alike: dict[tuple[datetime, str, bool], list[Member]] = {}  # one digest for each
    handled = 0
    for reader in readers:
        since = reader.digest_through or reader.joined_at
        key = (since, reader.language or mlist.language, reader.digest_format == "mime")
        if key not in alike and len(alike) == RENDERS:
            break  # this reader, and those after, go in the next round
        if since not in gathered:
            gathered[since] = gather(ctx, mlist, since, due, posts)
        if not gathered[since].empty:
            alike.setdefault(key, []).append(reader)
        reader.digest_through = due
        handled += 1
    for (since, language, mime), group in alike.items():
        _queue_digest(ctx, mlist, group, mode, gathered[since], language, mime)
    return sum(len(group) for group in alike.values()), handled


def send_last(ctx: Context, mlist: ListConfig, reader: Member) -> bool:
    """The digest of what is pending for a reader who leaves digest mode, sent now."""
    since = reader.digest_through or reader.joined_at
    news = gather(ctx, mlist, since, ctx.now)
    if not news.empty:
        _queue_digest(ctx, mlist, [reader], reader.delivery, news,
                      reader.language or mlist.language, reader.digest_format == "mime")
    reader.digest_through = ctx.now
    return not news.empty


def gather(ctx: Context, mlist: ListConfig, since: datetime, until: datetime,
           posts: Posts | None = None) -> News:
    posts = {} if posts is None else posts
    key = (mlist.name, since, until)
    if key not in posts:
        posts[key] = _posts(ctx, mlist, since, until)
    threads, raws = posts[key]
    decisions = ctx.stores.proposals.settled_between(mlist.name, since, until)
    still_open = ctx.stores.proposals.still_open(mlist.name)
    new_items = ctx.stores.items.new_between(mlist.name, since, until)
    return News(threads, raws, list(decisions), list(still_open), list(new_items))


def _posts(ctx: Context, mlist: ListConfig, since: datetime,
           until: datetime) -> tuple[list[Thread], list[bytes]]:
    rows = ctx.stores.messages.posts_between(mlist.name, since, until)
    prefix = mlist.rules.posting.subject_prefix.format(list=mlist.name)
    return arrange_threads([_digest_post(row, prefix) for row in rows]), [r.raw for r in rows]


def _digest_post(row: InboundMessage, prefix: str) -> DigestPost:
    msg = parse(row.raw)
    own_id = header(msg, "Message-ID") or f"<inbound-{row.id}>"
    refs = _MESSAGE_ID.findall(header(msg, "References")) or \
        _MESSAGE_ID.findall(header(msg, "In-Reply-To"))
    address, name = author(msg, row.mail_from)
    assert row.distributed_at is not None
    return DigestPost(message_id=own_id, root=refs[0] if refs else own_id,
                      subject=topic(header(msg, "Subject"), prefix),
                      author=f"{name} <{address}>" if name else address,
                      date=row.distributed_at, text=digest_text(readable_text(msg)),
                      attachments=tuple(attachments(msg)))


def _queue_digest(ctx: Context, mlist: ListConfig, readers: list[Member], mode: str,
                  news: News, language: str, mime: bool) -> None:
    """One digest, addressed to the list (as announcements are), for every reader whose
    digest is the same: same news, language and format."""
    values: dict[str, Any] = {
        "mode": mode, "mime": mime, "threads": news.threads,
        "count": sum(len(t.posts) for t in news.threads),
        "with_files": any(p.attachments for t in news.threads for p in t.posts),
        "proposals": [describe(ctx, mlist, p, language) for p in news.open_proposals],
        "decisions": [{"number": p.number, "title": p.title, "status": p.status}
                      for p in news.decisions],
        "items": [{"number": i.number, "kind": i.kind, "title": i.title,
                   "author": i.author_name or i.author} for i in news.new_items],
    }
    msg = ctx.outbox.list_message(mlist, "member/digest", language, values)
    if mime:
        msg = _with_messages(msg, news.raws)
    # every reader's own VERP envelope, whatever `outbound.verp`: a bounce names its reader
    ctx.outbox.queue(mlist, msg.as_bytes(policy=policy.SMTP), purpose="digest",
                     recipients=ctx.outbox.recipients(mlist, readers, verp=True))


def _with_messages(msg: EmailMessage, raws: list[bytes]) -> EmailMessage:
    """A MIME digest (RFC 2046 §5.1.5): the text first, then the messages themselves."""
    digest = EmailMessage()
    digest["Content-Type"] = "multipart/digest"
    for raw in raws:
        part = EmailMessage()
        part.set_content(parse(raw))  # message/rfc822
        digest.attach(part)
    msg.make_mixed()
    msg.attach(digest)
    return msg
