"""Bounces, wired to the roster: record, score, suspend, probe, resume.

A failure comes from a bounce message (the bounce handler), or as a refusal when the bot
itself delivers (`on_failed_deliveries`, from the sender). Suspension sends the member a
probe (their own VERP token, and a reply token) and tells the moderators; the timer
(`run_due`) lifts it when the probe was not bounced back.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from mailbot.bounces import scoring
from mailbot.config import ListConfig
from mailbot.config.addresses import resolve
from mailbot.core.tokens import new_token
from mailbot.outbound.context import Context
from mailbot.reading.message import header, parse_headers
from mailbot.storage.deliveries import Refusal
from mailbot.storage.members import Member

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailedDelivery:
    """A delivery the smarthost refused for good (5xx), or that was given up."""

    delivery_id: int
    envelope_from: str
    rcpt: str
    error: str


def members_named(ctx: Context, mlist: ListConfig, token: str | None,
                  addresses: Iterable[str]) -> list[tuple[Member, bool]]:
    """(member, whether it is their probe that bounced) for a VERP token, else for the
    addresses a report names."""
    members = ctx.stores.members
    if token:
        by_verp = members.by_verp(mlist.name, token)
        if by_verp is not None:
            return [(by_verp, False)]
        by_probe = members.by_probe(mlist.name, token)
        return [(by_probe, True)] if by_probe is not None else []
    found = (members.get(mlist.name, a) for a in sorted(addresses))
    return [(m, m.probe_state == "waiting") for m in found if m is not None]


def mark_away(ctx: Context, mlist: ListConfig, named: Sequence[tuple[Member, bool]]) -> None:
    """An out-of-office reply: the member is away for `bounces.away_for` (when the rules
    say so); decisions then say how many members were away during their period."""
    if mlist.rules.bounces.mark_away:
        for member, _ in named:
            member.away_until = ctx.now + mlist.rules.bounces.away_for


def on_failed_deliveries(ctx: Context, failures: Iterable[FailedDelivery]) -> None:
    """An outbound 5xx (or a delivery given up) counts as a bounce for the member."""
    for failure in failures:
        target = resolve(failure.envelope_from, ctx.config.lists, ctx.config.server.separator)
        if target is None or target.role != "bounces":
            continue
        mlist = target.mlist
        for member, is_probe in members_named(ctx, mlist, target.token, [failure.rcpt.lower()]):
            record_failure(ctx, mlist, member, permanent=True, source="smtp",
                           detail=f"{failure.rcpt}: {failure.error}"[:2000],
                           delivery_id=failure.delivery_id, is_probe=is_probe)


PURPOSES = {"fr": {"post": "un message de la liste", "digest": "un résumé",
                   "announce": "une annonce de la liste"},
            "en": {"post": "a list message", "digest": "a digest",
                   "announce": "a list announcement"}}


def on_refused_messages(ctx: Context, refusals: Iterable[Refusal]) -> None:
    """The smarthost refused a whole message (policy, size, spam verdict): no member is
    at fault, so no score moves. The operator's log and the list's moderators are told,
    once a message, with the server's answer. Only the list's own mail (posts, digests,
    announcements) is told to the moderators: a refused notice is only logged, so that a
    server refusing everything cannot start a loop of notices about notices."""
    for refusal in refusals:
        log.warning("the smarthost refused message %d (%s, list %s, %d deliveries) as a "
                    "whole: %s", refusal.outbound_id, refusal.purpose, refusal.list_name,
                    refusal.deliveries, refusal.error)
        if refusal.purpose not in PURPOSES["en"]:
            continue
        try:
            mlist = ctx.config.get_list(refusal.list_name)
        except KeyError:
            continue
        subject = header(parse_headers(refusal.raw), "Subject")
        for moderator in mlist.moderators:
            language = ctx.outbox.language_of(mlist, moderator)
            what = PURPOSES.get(language, PURPOSES["en"]).get(refusal.purpose, refusal.purpose)
            ctx.outbox.send(mlist, "moderator/message-refused", language,
                            {"subject": subject, "what": what, "count": refusal.deliveries,
                             "error": refusal.error}, to=moderator, purpose="notice")


def record_failure(ctx: Context, mlist: ListConfig, member: Member, *, permanent: bool,
                   source: str, detail: str, inbound_id: int | None = None,
                   delivery_id: int | None = None, is_probe: bool = False) -> None:
    ctx.stores.bounces.add(mlist.name, member.email, at=ctx.now, permanent=permanent,
                           source="probe" if is_probe else source, detail=detail,
                           inbound_id=inbound_id, delivery_id=delivery_id)
    if is_probe and permanent and member.probe_state == "waiting":
        _probe_bounced(ctx, mlist, member, detail)
    elif permanent and member.suspended_at is None:
        rules = mlist.rules.bounces
        events = ctx.stores.bounces.since(mlist.name, member.email, ctx.now - rules.window)
        current = scoring.score(events, now=ctx.now, cleared_at=member.bounces_cleared_at,
                                rules=rules)
        if scoring.should_suspend(current, rules):
            suspend(ctx, mlist, member, current, detail)


def suspend(ctx: Context, mlist: ListConfig, member: Member, current: int,
            detail: str) -> None:
    member.suspended_at = ctx.now
    member.probes_sent = 0
    send_probe(ctx, mlist, member)
    _tell_moderators(ctx, mlist, "moderator/bounce-suspended", member,
                     {"score": current, "detail": detail})
    # That notice is the "at once" one; with membership.notify = "daily" the suspension is
    # also in the day's summary of changes.
    ctx.stores.log.record(mlist.name, "suspend", member.email, now=ctx.now, name=member.name,
                          detail=detail[:300],
                          reported=mlist.rules.membership.notify != "daily")


def send_probe(ctx: Context, mlist: ListConfig, member: Member) -> None:
    """A short message the member can simply reply to; its envelope is its own VERP
    address, so that its bounce (if any) is told apart from the list's mail."""
    token = new_token()
    member.probe_token, member.probe_sent_at = token, ctx.now
    member.probe_state, member.probes_sent = "waiting", member.probes_sent + 1
    ctx.outbox.send(mlist, "member/bounce-probe", ctx.outbox.language_of(mlist, member.email),
                    {"email": member.email,
                     "probe_wait_days": _days(mlist.rules.bounces.probe_wait)},
                    to=member.email, purpose="probe", reply_token=token, bounce_token=token)


def _probe_bounced(ctx: Context, mlist: ListConfig, member: Member, detail: str) -> None:
    member.probe_state = scoring.after_probe_bounced(member.probes_sent, mlist.rules.bounces)
    if member.probe_state == "given-up":
        _tell_moderators(ctx, mlist, "moderator/bounce-gave-up", member,
                         {"probes": member.probes_sent, "detail": detail})


def resume(ctx: Context, mlist: ListConfig, member: Member, *, why: str,
           tell_member: bool = True) -> None:
    """Deliver to the member again ("probe": it was not bounced; "member": they wrote)."""
    member.suspended_at = member.probe_token = member.probe_sent_at = None
    member.probe_state, member.probes_sent = None, 0
    member.bounces_cleared_at = ctx.now
    _tell_moderators(ctx, mlist, "moderator/bounce-resumed", member, {"why": why})
    if tell_member:
        ctx.outbox.send(mlist, "member/bounce-resumed",
                        ctx.outbox.language_of(mlist, member.email), {"why": why},
                        to=member.email, purpose="notice")


def run_due(ctx: Context) -> int:
    """Lift suspensions whose probe was not bounced, send probes that are due again."""
    done = 0
    for mlist in ctx.config.lists:
        for member in ctx.stores.members.probing(mlist.name):
            step = scoring.probe_step(member.probe_state, member.probe_sent_at, ctx.now,
                                      mlist.rules.bounces)
            if step == "resume":
                resume(ctx, mlist, member, why="probe")
            elif step == "probe":
                send_probe(ctx, mlist, member)
            done += step is not None
    return done


def _tell_moderators(ctx: Context, mlist: ListConfig, template: str, member: Member,
                     values: dict[str, object]) -> None:
    rules = mlist.rules.bounces
    common = {"email": member.email, "member_name": member.name, "threshold": rules.threshold,
              "window_days": max(1, round(rules.window.total_seconds() / 86400)),
              "probes_max": rules.probes, "probe_wait_days": _days(rules.probe_wait)}
    for moderator in mlist.moderators:
        ctx.outbox.send(mlist, template, ctx.outbox.language_of(mlist, moderator),
                        {**common, **values}, to=moderator, purpose="notice")


def _days(delta: timedelta) -> int:
    return max(1, round(delta.total_seconds() / 86400))
