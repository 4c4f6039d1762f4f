"""The worker: claims one stored message at a time and does what it asks, in one transaction.

Whatever a message causes (members added, posts queued, replies queued) commits together
with the message being marked handled, so a crash at any point means the message is simply
handled again from the start, never half-handled. A message whose handling raises is put in
quarantine with its traceback, its sender told (unless it is automatic), and kept for replay.
"""

import logging
import traceback
from email.message import EmailMessage

from sqlalchemy import select

from mailbot.bounces.handling import find_probe, handle_bounce, resume
from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.lists.bans import is_banned
from mailbot.lists.confirmations import apply_confirmation, find_confirmation
from mailbot.lists.requests import handle_request
from mailbot.moderation import decide_hold, find_hold
from mailbot.posting import handle_post
from mailbot.reading.message import author, automatic_kind, header, parse
from mailbot.storage.models import InboundMessage

log = logging.getLogger(__name__)


def process_next(ctx: Context) -> int | None:
    """Handle the oldest new message; return its id, or None when there is none."""
    row = ctx.session.scalars(
        select(InboundMessage).where(InboundMessage.status == "new")
        .order_by(InboundMessage.id).limit(1).with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    try:
        with ctx.session.begin_nested():
            dispatch(ctx, row)
    except Exception:
        log.exception("message %s quarantined", row.id)
        quarantine(ctx, row, traceback.format_exc())
    if row.status == "new":
        row.status = "done"
    row.processed_at = ctx.now
    return row.id


def dispatch(ctx: Context, row: InboundMessage) -> None:
    mlist = ctx.config.get_list(row.list_name)
    msg = parse(row.raw)
    if row.role in ("post", "request", "confirm") and is_banned(
            (author(msg, row.mail_from)[0], row.mail_from), mlist.rules.abuse.banned):
        row.kind, row.outcome = "banned", "ignored: the sender is on the ban list"
        return
    if row.role == "post":
        handle_post(ctx, mlist, row, msg)
    elif row.role == "request":
        handle_request(ctx, mlist, row, msg)
    elif row.role == "confirm":
        handle_confirm(ctx, mlist, row, msg)
    elif row.role == "owner":
        forward_to_owners(ctx, mlist, row, msg)
    else:
        handle_bounce(ctx, mlist, row, msg)


def handle_confirm(ctx: Context, mlist: ListConfig, row: InboundMessage,
                   msg: EmailMessage) -> None:
    automatic = automatic_kind(msg, row.mail_from, mlist.list_id)
    if automatic is not None:  # a vacation reply must never confirm anything
        row.kind, row.outcome = automatic, "ignored: automatic mail confirms nothing"
        return
    token = row.token or ""
    hold = find_hold(ctx, token)
    if hold is not None and hold.list_name == mlist.name:
        decide_hold(ctx, mlist, hold, row, msg)
        return
    confirmation = find_confirmation(ctx, token)
    if confirmation is not None and confirmation.list_name == mlist.name:
        apply_confirmation(ctx, mlist, confirmation, row, msg)
        return
    suspended = find_probe(ctx, mlist, token) if token else None
    if suspended is not None:  # a reply to a probe: the address works again
        row.kind, row.outcome = "confirm", f"delivery resumed for {suspended.email}"
        resume(ctx, mlist, suspended, why="member")
        return
    sender, _ = author(msg, row.mail_from)
    row.kind, row.outcome = "confirm", "unknown token"
    ctx.send(mlist, "member/confirm-invalid", ctx.language_of(mlist, sender), {}, to=sender,
             purpose="reply", in_reply_to=header(msg, "Message-ID"), inbound=row)


def forward_to_owners(ctx: Context, mlist: ListConfig, row: InboundMessage,
                      msg: EmailMessage) -> None:
    """Mail to list-owner@ goes unchanged to every moderator (but never in a loop)."""
    from mailbot.outbound.queue import enqueue

    row.kind = "owner"
    if automatic_kind(msg, row.mail_from, mlist.list_id) == "loop":
        row.outcome = "ignored: loop"
        return
    loop_mark = f"X-Loop: {ctx.address(mlist, 'owner')}\r\n".encode()
    recipients = [(m, ctx.address(mlist, "bounces")) for m in mlist.moderators]
    enqueue(ctx.session, list_name=mlist.name, purpose="owner", raw=loop_mark + row.raw,
            recipients=recipients, now=ctx.now, inbound_id=row.id)
    row.outcome = f"forwarded to {len(recipients)} moderators"


def quarantine(ctx: Context, row: InboundMessage, error: str) -> None:
    """Keep the message for an operator, and tell a human sender it was not handled."""
    row.status, row.error = "quarantined", error
    try:
        mlist = ctx.config.get_list(row.list_name)
        msg = parse(row.raw)
        if automatic_kind(msg, row.mail_from, mlist.list_id) is not None:
            return
        sender, _ = author(msg, row.mail_from)
        with ctx.session.begin_nested():
            ctx.send(mlist, "member/error", ctx.language_of(mlist, sender),
                     {"subject": header(msg, "Subject")}, to=sender, purpose="reply",
                     inbound=row)
    except Exception:  # telling the sender is a courtesy; the message itself is kept
        log.exception("could not tell the sender of message %s", row.id)


def replay(ctx: Context, message_id: int) -> bool:
    """Put a quarantined (or any) message back in line to be handled again."""
    row = ctx.session.get(InboundMessage, message_id)
    if row is None:
        return False
    row.status, row.error, row.outcome, row.processed_at = "new", None, None, None
    return True
