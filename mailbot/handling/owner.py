"""Mail to `list-owner@`: forwarded unchanged to every moderator (but never in a loop)."""

from email.message import EmailMessage

from mailbot.config import ListConfig
from mailbot.outbound.context import Context
from mailbot.reading.message import author, automatic_kind
from mailbot.storage.messages import InboundMessage


def handle_owner(ctx: Context, mlist: ListConfig, row: InboundMessage,
                 msg: EmailMessage) -> None:
    row.kind = "owner"
    if automatic_kind(msg, row.mail_from, mlist.list_id) == "loop":
        row.outcome = "ignored: loop"
        return
    loop_mark = f"X-Loop: {ctx.outbox.address(mlist, 'owner')}\r\n".encode()
    bounces = ctx.outbox.address(mlist, "bounces")
    ctx.outbox.queue(mlist, loop_mark + row.raw, purpose="owner",
                     recipients=[(m, bounces) for m in mlist.moderators], inbound_id=row.id,
                     author=author(msg, row.mail_from)[0] or None)
    row.outcome = f"forwarded to {len(mlist.moderators)} moderators"
