"""Proposals on a list: opened by a tagged post, objected to or supported by replies in
their thread, reminded, and settled exactly once at the deadline.

Settling locks each due proposal (`FOR UPDATE SKIP LOCKED`) and checks its status in the
same transaction that queues the announcement, so two daemons never settle twice.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from mailbot.config import Config, ListConfig
from mailbot.decisions import lifecycle
from mailbot.digests.schedule import needs_proposal_copy, next_digest_at
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_when
from mailbot.reading.message import author, header, readable_text
from mailbot.reading.proposals import proposal_title, referenced_number
from mailbot.reading.replies import own_text, read_reply, reason_of
from mailbot.storage.members import Reader
from mailbot.storage.messages import InboundMessage
from mailbot.storage.proposals import Objection, Proposal

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Proposals settled per transaction: a round takes well under a second, so arriving mail
# (which waits for SQLite's single writer) is never held up for long.
ROUND = 100


@dataclass(frozen=True)
class Opened:
    """A proposal just opened by a post: who must get it, and the block each language's
    copy carries."""

    proposal: Proposal
    blocks: dict[str, str]
    recipients: list[Reader]


def on_post(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage, *,
            title: str | None = None, stance: str | None = None) -> Opened | None:
    """Called for every post on its way out: opens a proposal, or reads a reply's stance.
    `title` opens one even without a proposal tag (the request reader saw a proposal);
    `stance` is what the reader saw in a reply (else its first line decides)."""
    prefix = mlist.rules.posting.subject_prefix.format(list=mlist.name)
    thread = find_thread(ctx, mlist, msg)
    title = proposal_title(header(msg, "Subject"), prefix) or title
    if title is not None:
        return open_proposal(ctx, mlist, row, msg, title, amends=thread)
    if thread is not None:
        record_stance(ctx, mlist, thread, row, msg, stance)
    return None


def find_thread(ctx: Context, mlist: ListConfig, msg: EmailMessage) -> Proposal | None:
    """The proposal a message answers: by In-Reply-To/References, else `#N`/`n°N`."""
    refs = _MESSAGE_ID.findall(header(msg, "In-Reply-To") + " " + header(msg, "References"))
    if refs:
        found = ctx.stores.proposals.by_refs(mlist.name, refs)
        if found is not None:
            return found
    number = referenced_number(header(msg, "Subject"))
    return ctx.stores.proposals.by_number(mlist.name, number) if number is not None else None


def open_proposal(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage,
                  title: str, *, amends: Proposal | None) -> Opened:
    proposer, name = author(msg, row.mail_from)
    proposal = Proposal(
        list_name=mlist.name, title=title[:300], text=own_text(readable_text(msg))[:4000],
        proposer=proposer,
        proposer_name=name, message_id=header(msg, "Message-ID"), opened_at=ctx.now,
        deadline=lifecycle.deadline_for(ctx.now, mlist.rules.consent.period),
        status=lifecycle.OPEN, inbound_id=row.id)
    if amends is not None and amends.status == lifecycle.OPEN and (
            amends.proposer == proposer or mlist.is_moderator(proposer)):
        amends.status, amends.settled_at = lifecycle.SUPERSEDED, ctx.now
        proposal.amends_id = amends.id
    ctx.stores.proposals.open(proposal)
    language = ctx.outbox.language_of(mlist, proposer)
    ctx.outbox.send(mlist, "member/proposal-opened", language,
                    describe(ctx, mlist, proposal, language), to=proposer, purpose="notice",
                    in_reply_to=proposal.message_id, inbound_id=row.id)
    blocks = {lang: ctx.outbox.fragment(
        "list/_proposal-block", lang,
        {"list": ctx.outbox.list_vars(mlist), **describe(ctx, mlist, proposal, lang),
         "amends": amends.number if amends is not None and proposal.amends_id else None})
        for lang in ("fr", "en")}
    row.kind, row.outcome = "proposal", f"proposal n°{proposal.number} opened"
    return Opened(proposal, blocks, recipients_of(ctx, mlist, proposal))


def recipients_of(ctx: Context, mlist: ListConfig, proposal: Proposal) -> list[Reader]:
    """Everyone receiving posts, and digest readers whose digest would come too late."""
    each = ctx.stores.members.receiving_each(mlist.name)
    digest_readers = ctx.stores.members.reading_digests(mlist.name)
    rules = mlist.rules
    late = [Reader.of(m) for m in digest_readers if needs_proposal_copy(
        m.delivery, next_digest_at(m.delivery, rules.digest, ctx.config.server.timezone,
                                   ctx.now),
        proposal.deadline, rules.consent.reminder_before)]
    return [*each, *late]


def describe(ctx: Context, mlist: ListConfig, proposal: Proposal,
             language: str) -> dict[str, Any]:
    """What templates say about a proposal."""
    return {"number": proposal.number, "title": proposal.title,
            "proposer": proposal.proposer_name or proposal.proposer,
            "deadline": format_when(proposal.deadline, ctx.config.server.timezone, language,
                                    ctx.now),
            "status": proposal.status}


def record_stance(ctx: Context, mlist: ListConfig, proposal: Proposal, row: InboundMessage,
                  msg: EmailMessage, stance: str | None = None) -> str | None:
    """An objection, support, or withdrawn objection read in a reply; a receipt for each.
    Returns what was recorded (None: a comment, or not from a member)."""
    reply = read_reply(readable_text(msg))
    kind = reply.stance if stance in (None, "comment") else stance
    sender, _ = author(msg, row.mail_from)
    if kind == "comment" or (ctx.stores.members.get(mlist.name, sender) is None
                             and not mlist.is_moderator(sender)):
        return None
    code = take_stance(ctx, proposal, sender, kind, reply.text)
    row.outcome = f"proposal n°{proposal.number}: {code}"
    language = ctx.outbox.language_of(mlist, sender)
    ctx.outbox.send(mlist, "member/stance", language,
                    {**describe(ctx, mlist, proposal, language), "code": code}, to=sender,
                    purpose="notice", in_reply_to=header(msg, "Message-ID"),
                    inbound_id=row.id)
    return code


def take_stance(ctx: Context, proposal: Proposal, sender: str, kind: str, own: str) -> str:
    """Record `kind` ("objection", "support", "withdraw") by `sender`; the receipt's code."""
    if proposal.status != lifecycle.OPEN:
        return "closed"
    if kind == "objection":
        return _object(ctx, proposal, sender, own)
    if kind == "support":
        return _support(ctx, proposal, sender)
    return _withdraw_objection(ctx, proposal, sender)


def _object(ctx: Context, proposal: Proposal, sender: str, own: str) -> str:
    proposals = ctx.stores.proposals
    if proposals.standing_objection(proposal, sender) is not None:
        return "objection-again"
    proposals.object(proposal, sender, reason_of(own), ctx.now)
    return "objection"


def _support(ctx: Context, proposal: Proposal, sender: str) -> str:
    ctx.stores.proposals.support(proposal, sender, ctx.now)
    return "support"


def _withdraw_objection(ctx: Context, proposal: Proposal, sender: str) -> str:
    objection = ctx.stores.proposals.standing_objection(proposal, sender)
    if objection is None:
        return "no-objection"
    objection.withdrawn_at = ctx.now
    return "withdraw"


def away_count(ctx: Context, mlist: ListConfig, proposal: Proposal) -> int:
    """Members an out-of-office reply marked away at some time of the proposal's period
    (only counted when the rules say `bounces.mark_away`)."""
    rules = mlist.rules.bounces
    if not rules.mark_away:
        return 0
    return ctx.stores.members.away_between(mlist.name, proposal.opened_at,
                                           proposal.deadline + rules.away_for)


# --- timers ------------------------------------------------------------------------------

@dataclass
class _Round:
    """What settling or reminding a round of proposals reads once, not once per proposal."""

    objections: dict[int, list[Objection]]
    supports: dict[int, int]
    readers: dict[str, Sequence[Reader]] = field(default_factory=dict)

    @classmethod
    def read(cls, ctx: Context, proposals: Sequence[Proposal]) -> "_Round":
        ids = [p.id for p in proposals]
        store = ctx.stores.proposals
        return cls(store.standing_objections(ids), store.supports(ids))

    def readers_of(self, ctx: Context, list_name: str) -> Sequence[Reader]:
        if list_name not in self.readers:
            self.readers[list_name] = ctx.stores.members.receiving_each(list_name)
        return self.readers[list_name]


def settle_due(ctx: Context, running_since: datetime | None = None) -> int:
    """Settle up to ROUND open proposals whose deadline has come; return how many.
    The caller calls again, in a new transaction, while some were settled."""
    due = ctx.stores.proposals.due(ctx.now, ROUND)
    known = _Round.read(ctx, due)
    return sum(settle_one(ctx, proposal, running_since, known) for proposal in due)


def settle_one(ctx: Context, proposal: Proposal, running_since: datetime | None,
               known: _Round) -> bool:
    try:
        mlist = ctx.config.get_list(proposal.list_name)
    except KeyError:  # the list left the config: its proposals wait for it to come back
        return False
    objections = known.objections[proposal.id]
    outcome = lifecycle.settle(proposal.status, proposal.deadline, len(objections), ctx.now,
                               running_since=running_since)
    if outcome is None:
        return False
    proposal.status, proposal.settled_at = outcome.status, ctx.now
    proposal.settled_late = outcome.late
    values = {"late": outcome.late, "supports": known.supports.get(proposal.id, 0),
              "away": away_count(ctx, mlist, proposal),
              "objections": [{"email": o.email, "who": ctx.outbox.name_of(mlist, o.email),
                              "reason": o.reason} for o in objections]}
    tell_list(ctx, mlist, proposal, "list/proposal-settled", values,
              readers=known.readers_of(ctx, mlist.name))
    if outcome.status == lifecycle.CONTESTED:
        for person in {proposal.proposer, *mlist.moderators}:
            language = ctx.outbox.language_of(mlist, person)
            ctx.outbox.send(mlist, "member/proposal-contested", language,
                     {**describe(ctx, mlist, proposal, language), **values}, to=person,
                     purpose="notice", in_reply_to=proposal.message_id)
    return True


def remind_due(ctx: Context) -> int:
    """Remind the list of up to ROUND proposals a list whose reminder time has come; return
    how many. The caller calls again, in a new transaction, while some were reminded.

    Only proposals inside their list's reminder window are read (and locked), so a
    database holding many open proposals costs no more per tick than the due ones; their
    objections and the list's readers are read once for the round."""
    reminded = 0
    for mlist in ctx.config.lists:
        reminded += _remind_list(ctx, mlist)
    return reminded


def _remind_list(ctx: Context, mlist: ListConfig) -> int:
    before = mlist.rules.consent.reminder_before
    candidates = ctx.stores.proposals.to_remind(mlist.name, ctx.now, ctx.now + before, ROUND)
    due = [p for p in candidates if lifecycle.reminder_due(
        p.status, p.deadline, before, False, ctx.now,
        at=reminder_time(ctx.config, mlist.name, p.deadline))]
    if not due:
        return 0
    known = _Round.read(ctx, due)
    for proposal in due:
        proposal.reminded_at = ctx.now
        tell_list(ctx, mlist, proposal, "list/proposal-reminder",
                  {"objections": len(known.objections[proposal.id])},
                  readers=known.readers_of(ctx, mlist.name))
    return len(due)


def tell_list(ctx: Context, mlist: ListConfig, proposal: Proposal, template: str,
              values: dict[str, Any], readers: Sequence[Reader] | None = None) -> None:
    """Tell the whole list, in each reader's language, threaded under the proposal."""
    ids = ctx.outbox.announce(mlist, template,
                              lambda lang: {**describe(ctx, mlist, proposal, lang), **values},
                              references=[proposal.message_id], readers=readers)
    ctx.stores.proposals.add_refs(proposal, ids)


def reminder_time(config: Config, list_name: str, deadline: datetime) -> datetime:
    """When the list `list_name` is reminded of a proposal closing at `deadline`."""
    consent = config.get_list(list_name).rules.consent
    return lifecycle.reminder_at(deadline, consent.reminder_before, consent.reminder_cron,
                                 config.server.timezone)


def next_timer(rows: Sequence[tuple[str, datetime, datetime | None]],
               reminder_at: Callable[[str, datetime], datetime],
               now: datetime) -> datetime | None:
    """The next moment after `now` when a deadline falls or a reminder is due, from the
    (list, deadline, reminded_at) of the open proposals closing soonest."""
    moments = [deadline for _, deadline, _ in rows]
    moments += [reminder_at(name, deadline) for name, deadline, reminded in rows
                if reminded is None]
    upcoming = [moment for moment in moments if moment > now]
    return min(upcoming) if upcoming else None
