"""The worker's step: claim one stored message and hand it to the one handler its address
calls for, in one transaction.

Whatever a message causes (members added, posts queued, replies queued) commits together
with the message being marked handled, so a crash at any point means the message is simply
handled again from the start, never half-handled. A message whose handling raises is put in
quarantine with its traceback, its sender told (unless it is automatic), and kept for replay.
"""

import logging
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from typing import Any

from mailbot.config import ListConfig
from mailbot.config.addresses import is_own
from mailbot.handling.bounce import handle_bounce
from mailbot.handling.confirm import handle_confirm
from mailbot.handling.owner import handle_owner
from mailbot.handling.post import handle_post
from mailbot.handling.requests import handle_request
from mailbot.lists.bans import is_banned
from mailbot.outbound.context import Context
from mailbot.reading.ahead import parsed
from mailbot.reading.message import (
    author,
    automatic_kind,
    header,
    parse,
    parse_headers,
    usable_from,
)
from mailbot.storage.db import is_transient
from mailbot.storage.messages import InboundMessage, Messages
from mailbot.storage.moderation import Holds

log = logging.getLogger(__name__)

Handler = Callable[[Context, ListConfig, InboundMessage, EmailMessage], None]

# One handler for each kind of address a list has (config/addresses.py).
HANDLERS: dict[str, Handler] = {
    "post": handle_post, "request": handle_request, "confirm": handle_confirm,
    "owner": handle_owner, "bounces": handle_bounce,
}


class HandlingFailed(Exception):
    """The turn must be rolled back: a message handled by `process_quickly` raised, or
    the write of a batch (`write_handled`) was refused, and the messages up to
    `message_id` are handled again by `process`; or the error is a deadlock
    (`is_transient` of its cause, even from `process`), and the turn is done again as
    it was."""

    def __init__(self, message_id: int, *, written: bool = False) -> None:
        super().__init__(
            f"what the messages up to {message_id} changed could not be written" if written
            else f"message {message_id} could not be handled")
        self.message_id = message_id


def process(ctx: Context, row: InboundMessage) -> None:
    """Handle one claimed message (`Messages.claim`) in a savepoint of its own: what fails
    is undone and the message quarantined, the rest of the transaction is kept. But a
    deadlock is not the message's fault: it comes as `HandlingFailed`, and the turn is
    done again."""
    started = time.perf_counter()
    try:
        with ctx.stores.messages.savepoint():
            dispatch(ctx, row)
            _handled(ctx, row)  # inside: the row is written once, as the savepoint ends
    except Exception as exc:
        if is_transient(exc):
            raise HandlingFailed(row.id) from exc
        log.exception("message %s quarantined", row.id)
        quarantine(ctx, row, traceback.format_exc())
        _handled(ctx, row)
    log_handled(*handled_line(row, time.perf_counter() - started))


def process_quickly(ctx: Context, row: InboundMessage) -> "HandledLine":
    """Handle one claimed message with no savepoint (one costs a SAVEPOINT, a RELEASE and
    a flush of its own): for a stream of messages, where failures are rare. What it
    raises comes as `HandlingFailed`; the caller rolls back and handles the messages of
    the transaction again with `process`. What it changed is written by the next query
    that needs it, or by `write_handled` after the last of the claimed messages. Returns
    the operator's line, to be logged once the transaction is committed (a transaction
    rolled back logs nothing)."""
    started, message_id = time.perf_counter(), row.id  # the row is unreadable once failed
    try:
        dispatch(ctx, row)
        _handled(ctx, row)
    except Exception as exc:
        raise HandlingFailed(message_id) from exc
    return handled_line(row, time.perf_counter() - started)


def write_handled(ctx: Context, last_id: int, *, last: bool = False) -> None:
    """Write what the messages handled by `process_quickly` up to `last_id` changed (one
    flush for them all: their rows' UPDATEs go as one statement). What it raises comes as
    `HandlingFailed` of `last_id`: the messages up to it are handled again by `process`,
    each written at the end of its savepoint, and the one at fault is found. The `last`
    write before the commit also writes what the commit would (`Stores.write_now`)."""
    try:
        ctx.stores.write_now(last=last)
    except Exception as exc:
        raise HandlingFailed(last_id, written=True) from exc


def ask_senders(ctx: Context, rows: Sequence[InboundMessage]) -> None:
    """The member rows of the claimed messages' senders, read in one statement a list:
    what each message then asks of its sender (the reader, the pipeline, the count of
    posts) is answered from memory (`Members.ask_many`)."""
    senders: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.mail_from:
            senders[row.list_name].append(row.mail_from)
    for list_name, emails in senders.items():
        ctx.stores.members.ask_many(list_name, emails)


def _handled(ctx: Context, row: InboundMessage) -> None:
    if row.status == "new":
        row.status = "done"
    row.processed_at = ctx.now


HandledLine = tuple[tuple[Any, ...], dict[str, Any]]


def handled_line(row: InboundMessage, seconds: float) -> HandledLine:
    """The operator's line for each message (list, sender, what it was, what was done), as
    `log_handled`'s arguments: read off the row while its session is open."""
    return ((row.id, row.list_name, row.role, row.mail_from or "<>", row.kind or "?",
             row.outcome or row.status, seconds * 1000),
            {"message_id": row.id, "list": row.list_name, "role": row.role,
             "sender": row.mail_from, "kind": row.kind, "status": row.status,
             "outcome": row.outcome, "ms": round(seconds * 1000, 1)})


def log_handled(values: tuple[Any, ...], extra: dict[str, Any]) -> None:
    log.info("message %s to %s (%s) from %s: %s — %s (%.0f ms)", *values, extra=extra)


def dispatch(ctx: Context, row: InboundMessage) -> None:
    mlist = ctx.config.get_list(row.list_name)
    msg = parsed(row.raw, ctx.ahead.get(row.id))
    if _from_ourselves(ctx, msg, row):
        row.kind, row.outcome = "loop", "ignored: sent from one of the bot's own addresses"
        return
    senders = (author(msg, row.mail_from)[0], row.mail_from)
    if row.role in ("post", "request", "confirm") and (
            is_banned(senders, mlist.rules.abuse.banned)
            or ctx.stores.bans.any_of(mlist.name, senders)):
        row.kind, row.outcome = "banned", "ignored: the sender is on the ban list"
        return
    HANDLERS.get(row.role, handle_bounce)(ctx, mlist, row, msg)


def _from_ourselves(ctx: Context, msg: EmailMessage, row: InboundMessage) -> bool:
    """Mail whose From or envelope sender is one of our own addresses: answering it, or
    holding it with a notice, would mail ourselves (a loop)."""
    found = usable_from(msg)
    senders = [row.mail_from] + ([found[0]] if found else [])
    return any(s and is_own(s, ctx.config.lists, ctx.config.server.separator)
               for s in senders)


def quarantine(ctx: Context, row: InboundMessage, error: str) -> None:
    """Keep the message for an operator, and tell a human sender it was not handled."""
    row.status, row.error = "quarantined", error
    try:
        mlist = ctx.config.get_list(row.list_name)
        msg = parse(row.raw)
        if automatic_kind(msg, row.mail_from, mlist.list_id) is not None or \
                _from_ourselves(ctx, msg, row):
            return
        sender, _ = author(msg, row.mail_from)
        if usable_from(msg) is None and ctx.stores.members.get(mlist.name, sender) is None:
            return  # no From, and an envelope that is no member's: it proves nothing
        with ctx.stores.messages.savepoint():
            ctx.outbox.send(mlist, "member/error", ctx.outbox.language_of(mlist, sender),
                            {"subject": header(msg, "Subject")}, to=sender, purpose="reply",
                            inbound_id=row.id)
    except Exception:  # telling the sender is a courtesy; the message itself is kept
        log.exception("could not tell the sender of message %s", row.id)


def replay(ctx: Context, message_id: int) -> bool:
    """Put a quarantined (or any) message back in line to be handled again."""
    row = ctx.stores.messages.get(message_id)
    if row is None:
        return False
    row.status, row.error, row.outcome, row.processed_at = "new", None, None, None
    return True


def look_ahead(messages: Messages, holds: Holds, limit: int,
               share: tuple[int, int] | None = None) -> tuple[int | None, set[str]]:
    """The id of the last of the next `limit` new messages (of a worker's `share`, see
    `Messages.claim`), and the authors of the posts they would send out (a post, or a held
    post a moderator's reply may approve): the worker asks their DMARC policy before it
    handles them, so the pipeline never waits for the DNS inside a transaction."""
    peeked = messages.peek_new(limit, share)
    authors = set()
    for peek in peeked:
        if peek.role == "confirm":
            hold = holds.by_token(peek.token or "")
            held = messages.peek(hold.inbound_id) if hold is not None else None
            peek = held if held is not None else peek
        if peek.role == "post":
            authors.add(author(parse_headers(peek.head), peek.mail_from)[0])
    return (peeked[-1].id if peeked else None), authors
