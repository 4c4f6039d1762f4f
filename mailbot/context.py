"""What handling one message needs: the session, the config, templates, and `now`.

`Context.send` is the single door for the bot's own messages: it renders a template,
applies the per-address rate limits, and queues the result in the same transaction as
everything else the message caused.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.config import Config, ListConfig
from mailbot.config.addresses import address_for
from mailbot.lists.membership import get_member
from mailbot.outbound.compose import Composer, Sender
from mailbot.outbound.queue import enqueue
from mailbot.storage.models import Delivery, InboundMessage, OutboundMessage

RATE_LIMITED_PURPOSES = ("reply",)


@dataclass
class Context:
    session: Session
    config: Config
    composer: Composer
    now: datetime

    def address(self, mlist: ListConfig, role: str, token: str | None = None) -> str:
        return address_for(mlist, self.config.server.separator, role, token)

    def envelope_for(self, mlist: ListConfig, verp_token: str) -> str:
        """The envelope sender of a list-wide copy to one member: their VERP address, or
        the plain bounce address when `outbound.verp` is off (so copies can be batched)."""
        return self.address(mlist, "bounces", verp_token if self.config.outbound.verp else None)

    def language_of(self, mlist: ListConfig, email: str) -> str:
        member = get_member(self.session, mlist.name, email)
        return (member.language if member else None) or mlist.language

    def list_vars(self, mlist: ListConfig) -> dict[str, str]:
        """What every template knows about the list."""
        return {
            "title": mlist.title, "name": mlist.name, "address": mlist.address,
            "request": self.address(mlist, "request"), "owner": self.address(mlist, "owner"),
        }

    def send(self, mlist: ListConfig, template: str, language: str, values: dict[str, Any],
             *, to: str, purpose: str, reply_token: str | None = None,
             reply_to: str | None = None, in_reply_to: str = "",
             inbound: InboundMessage | None = None, bounce_token: str | None = None) -> bool:
        """Queue one templated message; False when a rate limit held it back.

        Replies to it go to the single-use confirm address of `reply_token`, or to
        `reply_to` (another member, to put two people in touch), or to list-request@.
        Its bounce comes back to sel-bounces@, or to sel-bounces+`bounce_token`@."""
        if purpose in RATE_LIMITED_PURPOSES and self._over_limit(mlist, to):
            return False
        if reply_token:
            reply_to = self.address(mlist, "confirm", reply_token)
        sender = Sender(mlist.title, self.address(mlist, "request"), reply_to)
        message = self.composer.compose(
            template, language, {"list": self.list_vars(mlist), **values}, to=to,
            sender=sender, now=self.now, in_reply_to=in_reply_to,
            auto="auto-replied" if in_reply_to else "auto-generated",
            hostname=self.config.server.hostname,
        )
        enqueue(self.session, list_name=mlist.name, purpose=purpose,
                raw=message.as_bytes(policy=policy.SMTP),
                recipients=[(to, self.address(mlist, "bounces", bounce_token))], now=self.now,
                inbound_id=inbound.id if inbound else None)
        return True

    def _over_limit(self, mlist: ListConfig, to: str) -> bool:
        """Members: `replies_per_hour`. Others: `confirmations_per_day`, so a forged From
        cannot turn the list into a mail bomb against a stranger."""
        abuse = mlist.rules.abuse
        if mlist.is_moderator(to) or get_member(self.session, mlist.name, to) is not None:
            since, limit = self.now - timedelta(hours=1), abuse.replies_per_hour
        else:
            since, limit = self.now - timedelta(days=1), abuse.confirmations_per_day
        sent = self.session.scalar(
            select(func.count(Delivery.id))
            .join(OutboundMessage, OutboundMessage.id == Delivery.outbound_id)
            .where(Delivery.rcpt == to, Delivery.created_at >= since,
                   OutboundMessage.purpose.in_(RATE_LIMITED_PURPOSES))
        )
        return (sent or 0) >= limit
