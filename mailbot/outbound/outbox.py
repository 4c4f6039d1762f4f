"""The one way out: every message the bot sends is composed from a template (or is a list
copy the pipeline built), queued with a delivery per recipient, and recorded, in the
transaction of whatever caused it.

Handlers and domains receive an Outbox; none of them queues mail any other way. The
Outbox is also the one place that turns a member into a recipient: their address, their
envelope sender (VERP), and the language they are written to in.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session

from mailbot.config import Config, ListConfig
from mailbot.config.addresses import address_for
from mailbot.outbound.compose import Composer, Sender
from mailbot.outbound.conform import conform
from mailbot.outbound.dates import format_when
from mailbot.outbound.headers import ListHeaders, list_headers, list_headers_of
from mailbot.reading.message import parse as parse_message
from mailbot.storage import deliveries
from mailbot.storage.members import Addressee, Members, Reader

RATE_LIMITED_PURPOSES = ("reply",)
RATE_NOTICE = "rate-notice"  # "I will answer again at …": once a window, never limited

# The placeholder addresses of members without email end so (RFC 2606 reserves the
# .invalid top-level domain): nothing is ever queued for them.
NEVER_MAILED = ".invalid"

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, session: Session, config: Config, composer: Composer,
                 now: datetime) -> None:
        self._session = session
        self._members = Members(session)
        self.config = config
        self.composer = composer
        self.now = now
        self.queued = 0  # deliveries queued through this outbox (the sender has work)

    # --- addresses and recipients ---------------------------------------------------------
    def address(self, mlist: ListConfig, role: str, token: str | None = None) -> str:
        return address_for(mlist, self.config.server.separator, role, token)

    def envelope_for(self, mlist: ListConfig, member: Addressee, *,
                     verp: bool | None = None) -> str:
        """The envelope sender of a list-wide copy to one member: their VERP address, or
        the plain bounce address when VERP is off (`outbound.verp`, unless `verp` says),
        so copies can be batched."""
        verp = self.config.outbound.verp if verp is None else verp
        return self.address(mlist, "bounces", member.verp_token if verp else None)

    def recipients(self, mlist: ListConfig, members: Iterable[Addressee], *,
                   verp: bool | None = None) -> list[tuple[str, str]]:
        """(address, envelope sender) for each member."""
        return [(m.email, self.envelope_for(mlist, m, verp=verp)) for m in members]

    def language_of(self, mlist: ListConfig, email: str) -> str:
        """The language a person is written to in: theirs if a member, else the list's."""
        member = self._members.get(mlist.name, email)
        return (member.language if member else None) or mlist.language

    def name_of(self, mlist: ListConfig, email: str) -> str:
        """How a person is named to others: their name on the roster, else the address."""
        member = self._members.get(mlist.name, email)
        return (member.name if member else "") or email

    def mail_for(self, mlist: ListConfig, email: str) -> str | None:
        """Where mail about a member's account goes: their address, or their buddy's for a
        member without email; None for someone not on the list (a system account)."""
        member = self._members.get(mlist.name, email)
        if member is None:
            return None
        return member.buddy or member.email

    def by_language(self, mlist: ListConfig,
                    members: Iterable[Reader]) -> dict[str, list[Reader]]:
        groups: dict[str, list[Reader]] = defaultdict(list)
        for member in members:
            groups[member.language or mlist.language].append(member)
        return dict(groups)

    def list_vars(self, mlist: ListConfig) -> dict[str, str | bool]:
        """What every template knows about the list."""
        return {
            "title": mlist.title, "name": mlist.name, "address": mlist.address,
            "request": self.address(mlist, "request"), "owner": self.address(mlist, "owner"),
            "has_charter": bool(mlist.charter),
        }

    def list_headers(self, mlist: ListConfig) -> ListHeaders:
        return list_headers_of(mlist, self.address(mlist, "request"))

    # --- what the bot writes ----------------------------------------------------------------
    def send(self, mlist: ListConfig, template: str, language: str, values: dict[str, Any],
             *, to: str, purpose: str, reply_token: str | None = None,
             reply_to: str | None = None, in_reply_to: str = "",
             inbound_id: int | None = None, bounce_token: str | None = None,
             attachments: Sequence[bytes | tuple[str, str] | tuple[str, str, bytes]] = ()
             ) -> str:
        """Queue one templated message; return its Message-ID ("" when a rate limit held
        it back). `attachments`: whole messages to attach (message/rfc822, as bytes), such
        as posts from the archive; (file name, text) pairs attached as plain text; or
        (file name, MIME type, bytes), such as a PDF.

        Replies to it go to the single-use confirm address of `reply_token`, or to
        `reply_to` (another member, to put two people in touch), or to list-request@.
        Its bounce comes back to sel-bounces@, or to sel-bounces+`bounce_token`@."""
        if to.endswith(NEVER_MAILED):  # a member without email: their buddy is written to
            return ""
        if purpose in RATE_LIMITED_PURPOSES:
            window, limit = self._window(mlist, to)
            if self._sent_since(to, window, RATE_LIMITED_PURPOSES) >= limit:
                self._tell_rate_limited(mlist, to, language, window)
                return ""
        if reply_token:
            reply_to = self.address(mlist, "confirm", reply_token)
        sender = Sender(mlist.title, self.address(mlist, "request"), reply_to)
        message = self.composer.compose(
            template, language, {"list": self.list_vars(mlist), **values}, to=to,
            sender=sender, now=self.now, in_reply_to=in_reply_to,
            auto="auto-replied" if in_reply_to else "auto-generated",
            hostname=self.config.server.hostname,
            attachments=[(a[0], a[1]) for a in attachments
                         if not isinstance(a, bytes) and len(a) == 2],
        )
        for attached in attachments:
            if isinstance(attached, bytes):
                message.add_attachment(parse_message(attached))
            elif len(attached) == 3:
                filename, mime, data = attached
                maintype, _, subtype = mime.partition("/")
                message.add_attachment(data, maintype=maintype, subtype=subtype,
                                       filename=filename)
        self.queue(mlist, message.as_bytes(policy=policy.SMTP), purpose=purpose,
                   recipients=[(to, self.address(mlist, "bounces", bounce_token))],
                   inbound_id=inbound_id)
        return str(message["Message-ID"])

    def fragment(self, name: str, language: str, values: dict[str, Any]) -> str:
        """A piece of text from a template, to go inside another message."""
        return self.composer.render_fragment(name, language, values)

    def list_message(self, mlist: ListConfig, template: str, language: str,
                     values: dict[str, Any], *, references: Sequence[str] = ()) -> EmailMessage:
        """A bot message that belongs to the list's traffic, addressed to the list: replies
        go to the list, and it carries the list headers (so it threads, and comes back as
        a loop if it ever does)."""
        msg = self.composer.compose(
            template, language, {"list": self.list_vars(mlist), **values}, to=mlist.address,
            sender=Sender(mlist.title, self.address(mlist, "request"), reply_to=mlist.address),
            now=self.now, auto="auto-generated", hostname=self.config.server.hostname)
        if references:
            msg["In-Reply-To"] = references[0]
            msg["References"] = " ".join(references)
        for name, value in list_headers(self.list_headers(mlist)):
            msg[name] = value
        return msg

    def announce(self, mlist: ListConfig, template: str,
                 values_for: Callable[[str], dict[str, Any]], *,
                 references: Sequence[str] = (), purpose: str = "announce",
                 readers: Sequence[Reader] | None = None) -> list[str]:
        """Tell every member receiving posts (`readers`, when the caller has read them
        already), one copy per language; return the copies' Message-IDs."""
        message_ids = []
        if readers is None:
            readers = self._members.receiving_each(mlist.name)
        for language, members in self.by_language(mlist, readers).items():
            msg = self.list_message(mlist, template, language, values_for(language),
                                    references=references)
            self.queue(mlist, msg.as_bytes(policy=policy.SMTP), purpose=purpose,
                       recipients=self.recipients(mlist, members))
            message_ids.append(str(msg["Message-ID"]))
        return message_ids

    def queue(self, mlist: ListConfig, raw: bytes, *, purpose: str,
              recipients: Sequence[tuple[str, str]], inbound_id: int | None = None,
              author: str | None = None) -> None:
        """Store one message (a list copy, a forward, a digest) and a delivery per
        (address, envelope sender). It leaves with exactly one From (`author`, else the
        request address, when it had none), a Date and a Message-ID (outbound/conform.py)."""
        if recipients:
            raw = conform(raw, sender=author or self.address(mlist, "request"), now=self.now,
                          hostname=self.config.server.hostname)
            deliveries.enqueue(self._session, list_name=mlist.name, purpose=purpose, raw=raw,
                               recipients=recipients, now=self.now, inbound_id=inbound_id)
            self.queued += len(recipients)

    def _window(self, mlist: ListConfig, to: str) -> tuple[timedelta, int]:
        """Members (and moderators, treasurers): `replies_per_hour`. Others:
        `confirmations_per_day`, so a forged From cannot turn the list into a mail bomb
        against a stranger."""
        abuse = mlist.rules.abuse
        if mlist.keeps_books(to) or self._members.get(mlist.name, to) is not None:
            return timedelta(hours=1), abuse.replies_per_hour
        return timedelta(days=1), abuse.confirmations_per_day

    def _sent_since(self, to: str, window: timedelta, purposes: Sequence[str]) -> int:
        return deliveries.sent_to_since(self._session, to, self.now - window, purposes)

    def _tell_rate_limited(self, mlist: ListConfig, to: str, language: str,
                           window: timedelta) -> None:
        """Never silent: once a window, a short notice saying when answers come again."""
        if self._sent_since(to, window, (RATE_NOTICE,)):
            return
        since = self.now - window
        first = deliveries.first_sent_to_since(self._session, to, since,
                                               RATE_LIMITED_PURPOSES) or self.now
        until = format_when(first + window, self.config.server.timezone, language, self.now)
        log.warning("answers to %s on list %s held back by the rate limit until %s",
                    to, mlist.name, until)
        self.send(mlist, "member/rate-limited", language, {"until": until}, to=to,
                  purpose=RATE_NOTICE)
