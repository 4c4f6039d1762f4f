"""Proposals on a list: opened by a tagged post, objected to or supported by replies in
their thread, reminded, and settled exactly once at the deadline.

Settling locks each due proposal (`FOR UPDATE SKIP LOCKED`) and checks its status in the
same transaction that queues the announcement, so two daemons never settle twice.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.announce import announce
from mailbot.config import ListConfig
from mailbot.context import Context
from mailbot.decisions import lifecycle
from mailbot.decisions.dates import format_when
from mailbot.digests import DIGEST_MODES, needs_proposal_copy, next_digest_at
from mailbot.lists.membership import get_member, gets_mail, receiving_each
from mailbot.reading.message import author, header, readable_text
from mailbot.reading.proposals import proposal_title, referenced_number
from mailbot.reading.replies import own_text, stance
from mailbot.storage.counters import next_number
from mailbot.storage.models import (
    InboundMessage,
    Member,
    Objection,
    Proposal,
    ProposalRef,
    Support,
)

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
    recipients: list[Member]


def on_post(ctx: Context, mlist: ListConfig, row: InboundMessage,
            msg: EmailMessage) -> Opened | None:
    """Called for every post on its way out: opens a proposal, or reads a reply's stance."""
    prefix = mlist.rules.posting.subject_prefix.format(list=mlist.name)
    thread = find_thread(ctx, mlist, msg)
    title = proposal_title(header(msg, "Subject"), prefix)
    if title is not None:
        return open_proposal(ctx, mlist, row, msg, title, amends=thread)
    if thread is not None:
        record_stance(ctx, mlist, thread, row, msg)
    return None


def find_thread(ctx: Context, mlist: ListConfig, msg: EmailMessage) -> Proposal | None:
    """The proposal a message answers: by In-Reply-To/References, else `#N`/`n°N`."""
    refs = _MESSAGE_ID.findall(header(msg, "In-Reply-To") + " " + header(msg, "References"))
    if refs:
        found = ctx.session.scalar(
            select(Proposal).join(ProposalRef, ProposalRef.proposal_id == Proposal.id)
            .where(ProposalRef.message_id.in_(refs), Proposal.list_name == mlist.name)
            .order_by(Proposal.id.desc()).limit(1))
        if found is not None:
            return found
    number = referenced_number(header(msg, "Subject"))
    return by_number(ctx, mlist, number) if number is not None else None


def by_number(ctx: Context, mlist: ListConfig, number: int) -> Proposal | None:
    return ctx.session.scalar(select(Proposal).where(Proposal.list_name == mlist.name,
                                                     Proposal.number == number))


def open_proposal(ctx: Context, mlist: ListConfig, row: InboundMessage, msg: EmailMessage,
                  title: str, *, amends: Proposal | None) -> Opened:
    proposer, name = author(msg, row.mail_from)
    proposal = Proposal(
        list_name=mlist.name, number=next_number(ctx.session, f"{mlist.name}:proposal"),
        title=title[:300], text=own_text(readable_text(msg))[:4000], proposer=proposer,
        proposer_name=name, message_id=header(msg, "Message-ID"), opened_at=ctx.now,
        deadline=lifecycle.deadline_for(ctx.now, mlist.rules.consent.period),
        status=lifecycle.OPEN, inbound_id=row.id)
    if amends is not None and amends.status == lifecycle.OPEN and (
            amends.proposer == proposer or mlist.is_moderator(proposer)):
        amends.status, amends.settled_at = lifecycle.SUPERSEDED, ctx.now
        proposal.amends_id = amends.id
    ctx.session.add(proposal)
    ctx.session.flush()
    ctx.session.add(ProposalRef(message_id=proposal.message_id, proposal_id=proposal.id))
    language = ctx.language_of(mlist, proposer)
    ctx.send(mlist, "member/proposal-opened", language, describe(ctx, mlist, proposal, language),
             to=proposer, purpose="notice", in_reply_to=proposal.message_id, inbound=row)
    blocks = {lang: ctx.composer.render_fragment(
        "list/_proposal-block", lang,
        {"list": ctx.list_vars(mlist), **describe(ctx, mlist, proposal, lang),
         "amends": amends.number if amends is not None and proposal.amends_id else None})
        for lang in ("fr", "en")}
    row.kind, row.outcome = "proposal", f"proposal n°{proposal.number} opened"
    return Opened(proposal, blocks, recipients_of(ctx, mlist, proposal))


def recipients_of(ctx: Context, mlist: ListConfig, proposal: Proposal) -> list[Member]:
    """Everyone receiving posts, and digest readers whose digest would come too late."""
    each = list(receiving_each(ctx.session, mlist.name))
    digest_readers = ctx.session.scalars(select(Member).where(
        Member.list_name == mlist.name, Member.delivery.in_(DIGEST_MODES),
        gets_mail())).all()
    rules = mlist.rules
    late = [m for m in digest_readers if needs_proposal_copy(
        m.delivery, next_digest_at(m.delivery, rules.digest, ctx.config.server.timezone,
                                   ctx.now),
        proposal.deadline, rules.consent.reminder_before)]
    return each + late


def describe(ctx: Context, mlist: ListConfig, proposal: Proposal,
             language: str) -> dict[str, Any]:
    """What templates say about a proposal."""
    return {"number": proposal.number, "title": proposal.title,
            "proposer": proposal.proposer_name or proposal.proposer,
            "deadline": format_when(proposal.deadline, ctx.config.server.timezone, language,
                                    ctx.now),
            "status": proposal.status}


def record_stance(ctx: Context, mlist: ListConfig, proposal: Proposal, row: InboundMessage,
                  msg: EmailMessage) -> None:
    """An objection, support, or withdrawn objection read in a reply; a receipt for each."""
    kind = stance(readable_text(msg))
    sender, _ = author(msg, row.mail_from)
    if kind == "comment" or (get_member(ctx.session, mlist.name, sender) is None
                             and not mlist.is_moderator(sender)):
        return
    if proposal.status != lifecycle.OPEN:
        code = "closed"
    elif kind == "objection":
        code = _object(ctx, proposal, sender, msg)
    elif kind == "support":
        code = _support(ctx, proposal, sender)
    else:
        code = _withdraw_objection(ctx, proposal, sender)
    row.outcome = f"proposal n°{proposal.number}: {code}"
    language = ctx.language_of(mlist, sender)
    ctx.send(mlist, "member/stance", language,
             {**describe(ctx, mlist, proposal, language), "code": code}, to=sender,
             purpose="notice", in_reply_to=header(msg, "Message-ID"), inbound=row)


def standing_objection(ctx: Context, proposal: Proposal, email: str) -> Objection | None:
    return ctx.session.scalar(select(Objection).where(
        Objection.proposal_id == proposal.id, Objection.email == email,
        Objection.withdrawn_at.is_(None)))


def _object(ctx: Context, proposal: Proposal, sender: str, msg: EmailMessage) -> str:
    if standing_objection(ctx, proposal, sender) is not None:
        return "objection-again"
    reason = "\n".join(own_text(readable_text(msg)).splitlines()[:10])
    ctx.session.add(Objection(proposal_id=proposal.id, email=sender, reason=reason,
                              created_at=ctx.now))
    return "objection"


def _support(ctx: Context, proposal: Proposal, sender: str) -> str:
    exists = ctx.session.scalar(select(Support.id).where(Support.proposal_id == proposal.id,
                                                         Support.email == sender))
    if exists is None:
        ctx.session.add(Support(proposal_id=proposal.id, email=sender, created_at=ctx.now))
    return "support"


def _withdraw_objection(ctx: Context, proposal: Proposal, sender: str) -> str:
    objection = standing_objection(ctx, proposal, sender)
    if objection is None:
        return "no-objection"
    objection.withdrawn_at = ctx.now
    return "withdraw"


def standing_objections(ctx: Context, proposal: Proposal) -> Sequence[Objection]:
    return ctx.session.scalars(select(Objection).where(
        Objection.proposal_id == proposal.id, Objection.withdrawn_at.is_(None))
        .order_by(Objection.id)).all()


def support_count(ctx: Context, proposal: Proposal) -> int:
    return ctx.session.scalar(select(func.count(Support.id))
                              .where(Support.proposal_id == proposal.id)) or 0


def away_count(ctx: Context, mlist: ListConfig, proposal: Proposal) -> int:
    """Members an out-of-office reply marked away at some time of the proposal's period
    (only counted when the rules say `bounces.mark_away`)."""
    rules = mlist.rules.bounces
    if not rules.mark_away:
        return 0
    return ctx.session.scalar(select(func.count(Member.id)).where(
        Member.list_name == mlist.name, Member.away_until > proposal.opened_at,
        Member.away_until < proposal.deadline + rules.away_for)) or 0


# --- timers ------------------------------------------------------------------------------

@dataclass
class _Round:
    """What settling or reminding a round of proposals reads once, not once per proposal."""

    objections: dict[int, list[Objection]]
    supports: dict[int, int]
    readers: dict[str, Sequence[Member]] = field(default_factory=dict)

    @classmethod
    def read(cls, ctx: Context, proposals: Sequence[Proposal]) -> "_Round":
        ids = [p.id for p in proposals]
        objections: dict[int, list[Objection]] = {i: [] for i in ids}
        for objection in ctx.session.scalars(select(Objection).where(
                Objection.proposal_id.in_(ids), Objection.withdrawn_at.is_(None))
                .order_by(Objection.id)):
            objections[objection.proposal_id].append(objection)
        supports = {proposal_id: count for proposal_id, count in ctx.session.execute(
            select(Support.proposal_id, func.count(Support.id))
            .where(Support.proposal_id.in_(ids)).group_by(Support.proposal_id))}
        return cls(objections, supports)

    def readers_of(self, ctx: Context, list_name: str) -> Sequence[Member]:
        if list_name not in self.readers:
            self.readers[list_name] = receiving_each(ctx.session, list_name)
        return self.readers[list_name]


def settle_due(ctx: Context, running_since: datetime | None = None) -> int:
    """Settle up to ROUND open proposals whose deadline has come; return how many.
    The caller calls again, in a new transaction, while some were settled."""
    due = ctx.session.scalars(
        select(Proposal).where(Proposal.status == lifecycle.OPEN, Proposal.deadline <= ctx.now)
        .order_by(Proposal.deadline).limit(ROUND).with_for_update(skip_locked=True)).all()
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
              "objections": [{"email": o.email, "reason": o.reason} for o in objections]}
    tell_list(ctx, mlist, proposal, "list/proposal-settled", values,
              readers=known.readers_of(ctx, mlist.name))
    if outcome.status == lifecycle.CONTESTED:
        for person in {proposal.proposer, *mlist.moderators}:
            language = ctx.language_of(mlist, person)
            ctx.send(mlist, "member/proposal-contested", language,
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
    candidates = ctx.session.scalars(
        select(Proposal).where(
            Proposal.list_name == mlist.name, Proposal.status == lifecycle.OPEN,
            Proposal.reminded_at.is_(None), Proposal.deadline > ctx.now,
            Proposal.deadline <= ctx.now + before)
        .order_by(Proposal.deadline).limit(ROUND).with_for_update(skip_locked=True)).all()
    due = [p for p in candidates
           if lifecycle.reminder_due(p.status, p.deadline, before, False, ctx.now)]
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
              values: dict[str, Any], readers: Sequence[Member] | None = None) -> None:
    """Tell the whole list, in each reader's language, threaded under the proposal."""
    ids = announce(ctx, mlist, template,
                   lambda lang: {**describe(ctx, mlist, proposal, lang), **values},
                   references=[proposal.message_id], readers=readers)
    ctx.session.add_all(ProposalRef(message_id=i, proposal_id=proposal.id) for i in ids)


def next_timer(session: Session, reminder_before: dict[str, timedelta],
               now: datetime) -> datetime | None:
    """The next moment after `now` when a deadline falls or a reminder is due."""
    rows = session.execute(
        select(Proposal.list_name, Proposal.deadline, Proposal.reminded_at)
        .where(Proposal.status == lifecycle.OPEN, Proposal.list_name.in_(reminder_before))
        .order_by(Proposal.deadline).limit(200)).all()
    moments = [deadline for _, deadline, _ in rows]
    moments += [deadline - reminder_before[name] for name, deadline, reminded in rows
                if reminded is None]
    upcoming = [moment for moment in moments if moment > now]
    return min(upcoming) if upcoming else None
