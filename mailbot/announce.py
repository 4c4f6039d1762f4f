"""Bot messages to the whole list (a proposal settled, a reminder): one copy per language,
each member getting theirs, with the list headers so replies thread and loops are caught."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from email import policy
from email.message import EmailMessage
from typing import Any

from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.lists.membership import receiving_each
from mailbot.outbound.compose import Sender
from mailbot.outbound.queue import enqueue
from mailbot.pipeline.decorate import list_headers
from mailbot.storage.models import Member


def by_language(mlist: ListConfig, members: Iterable[Member]) -> dict[str, list[Member]]:
    groups: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        groups[member.language or mlist.language].append(member)
    return dict(groups)


def list_message(ctx: Context, mlist: ListConfig, template: str, language: str,
                 values: dict[str, Any], *, to: str,
                 references: Sequence[str] = ()) -> EmailMessage:
    """A bot message that belongs to the list's traffic: replies go to the list, and it
    carries the list headers (so it threads, and comes back as a loop if it ever does)."""
    from mailbot.posting import list_headers_of

    msg = ctx.composer.compose(
        template, language, {"list": ctx.list_vars(mlist), **values}, to=to,
        sender=Sender(mlist.title, ctx.address(mlist, "request"), reply_to=mlist.address),
        now=ctx.now, auto="auto-generated", hostname=ctx.config.server.hostname)
    if references:
        msg["In-Reply-To"] = references[0]
        msg["References"] = " ".join(references)
    for name, value in list_headers(list_headers_of(ctx, mlist)):
        msg[name] = value
    return msg


def announce(ctx: Context, mlist: ListConfig, template: str,
             values_for: Callable[[str], dict[str, Any]], *,
             references: Sequence[str] = (), purpose: str = "announce",
             readers: Sequence[Member] | None = None) -> list[str]:
    """Queue the announcement for every member receiving posts (`readers`, when the
    caller has read them already); return its Message-IDs."""
    message_ids = []
    if readers is None:
        readers = receiving_each(ctx.session, mlist.name)
    for language, members in by_language(mlist, readers).items():
        msg = list_message(ctx, mlist, template, language, values_for(language),
                           to=mlist.address, references=references)
        recipients = [(m.email, ctx.envelope_for(mlist, m.verp_token)) for m in members]
        enqueue(ctx.session, list_name=mlist.name, purpose=purpose,
                raw=msg.as_bytes(policy=policy.SMTP), recipients=recipients, now=ctx.now)
        message_ids.append(str(msg["Message-ID"]))
    return message_ids
