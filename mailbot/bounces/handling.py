"""Bounces, wired to the roster: record, score, suspend, probe, resume.

A bounce comes as a message to `sel-bounces[+TOKEN]@` (the worker calls `handle_bounce`)
or as a refusal when the bot itself delivers (`on_failed_deliveries`, from the sender).
The VERP token names the member; without one, the addresses the report names are looked
up. Suspension sends the member a probe (their own VERP token, and a reply token) and tells
the moderators; the timer (`run_due`) lifts it when the probe was not bounced back.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from mailbot.bounces import scoring
from mailbot.config import ListConfig
from mailbot.config.addresses import resolve
from mailbot.context import Context
from mailbot.lists.membership import get_member, new_token
from mailbot.reading.bounces import BounceReport, diagnostic, read_returned
from mailbot.reading.message import automatic_kind
from mailbot.storage.models import BounceEvent, InboundMessage, Member

NOT_BOUNCES = {"success": "a success notice", "complaint": "a complaint (ARF) report",
               "auto-reply": "an auto-reply"}


@dataclass(frozen=True)
class FailedDelivery:
    """A delivery the smarthost refused for good (5xx), or that was given up."""

    delivery_id: int
    envelope_from: str
    rcpt: str
    error: str


def handle_bounce(ctx: Context, mlist: ListConfig, row: InboundMessage,
                  msg: EmailMessage) -> None:
    report = read_returned(row.raw, automatic_kind(msg, row.mail_from, mlist.list_id))
    row.kind = "bounce"
    if report.kind in NOT_BOUNCES:
        if report.kind == "auto-reply":
            mark_away(ctx, mlist, _members_named(ctx, mlist, row.token, report) or [])
        row.kind = "auto-reply" if report.kind == "auto-reply" else "bounce"
        row.outcome = f"ignored: {NOT_BOUNCES[report.kind]} is not a bounce"
        return
    permanent = _is_permanent(report, row, msg, mlist)
    if permanent is None:
        row.outcome = "ignored: not a delivery failure"
        return
    named = _members_named(ctx, mlist, row.token, report)
    if not named:
        row.outcome = "ignored: names no member of the list"
        return
    addresses = ", ".join(sorted(report.permanent | report.temporary))
    detail = diagnostic(row.raw) or addresses or "an unrecognised report"
    for member, is_probe in named:
        record_failure(ctx, mlist, member, permanent=permanent, source="dsn",
                       detail=detail, inbound_id=row.id, is_probe=is_probe)
    kind = "permanent" if permanent else "temporary"
    row.outcome = f"{kind} failure for " + ", ".join(m.email for m, _ in named)


def _is_permanent(report: BounceReport, row: InboundMessage, msg: EmailMessage,
                  mlist: ListConfig) -> bool | None:
    """True/False for a permanent/temporary failure; None when it is no failure at all.

    A report no detector understands still counts when it comes back to a member's own
    VERP address from a mail system (null sender, MAILER-DAEMON, a multipart/report)."""
    if report.kind == "failure":
        return True
    if report.kind == "delay":
        return False
    from_a_system = automatic_kind(msg, row.mail_from, mlist.list_id) == "bounce"
    return True if row.token and from_a_system else None


def _members_named(ctx: Context, mlist: ListConfig, token: str | None,
                   report: BounceReport) -> list[tuple[Member, bool]]:
    """(member, whether it is their probe that bounced) for a VERP token, else for the
    addresses in the report."""
    session = ctx.session
    if token:
        by_verp = session.scalar(select(Member).where(
            Member.list_name == mlist.name, Member.verp_token == token))
        if by_verp is not None:
            return [(by_verp, False)]
        by_probe = session.scalar(select(Member).where(
            Member.list_name == mlist.name, Member.probe_token == token))
        return [(by_probe, True)] if by_probe is not None else []
    found = (get_member(session, mlist.name, a) for a in sorted(report.permanent
                                                                  | report.temporary))
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
        named = _members_named(ctx, mlist, target.token, _report_for(failure.rcpt))
        for member, is_probe in named:
            record_failure(ctx, mlist, member, permanent=True, source="smtp",
                           detail=f"{failure.rcpt}: {failure.error}"[:2000],
                           delivery_id=failure.delivery_id, is_probe=is_probe)


def _report_for(rcpt: str) -> BounceReport:
    return BounceReport("failure", frozenset({rcpt.lower()}), frozenset())


def record_failure(ctx: Context, mlist: ListConfig, member: Member, *, permanent: bool,
                   source: str, detail: str, inbound_id: int | None = None,
                   delivery_id: int | None = None, is_probe: bool = False) -> None:
    ctx.session.add(BounceEvent(list_name=mlist.name, email=member.email, at=ctx.now,
                                permanent=permanent, source="probe" if is_probe else source,
                                detail=detail, inbound_id=inbound_id, delivery_id=delivery_id))
    ctx.session.flush()
    if is_probe and permanent and member.probe_state == "waiting":
        _probe_bounced(ctx, mlist, member, detail)
    elif permanent and member.suspended_at is None:
        current = scoring.score(_events_of(ctx, mlist, member), now=ctx.now,
                                cleared_at=member.bounces_cleared_at, rules=mlist.rules.bounces)
        if scoring.should_suspend(current, mlist.rules.bounces):
            suspend(ctx, mlist, member, current, detail)


def _events_of(ctx: Context, mlist: ListConfig, member: Member
               ) -> Sequence[tuple[datetime, bool]]:
    since = ctx.now - mlist.rules.bounces.window
    rows = ctx.session.execute(select(BounceEvent.at, BounceEvent.permanent).where(
        BounceEvent.list_name == mlist.name, BounceEvent.email == member.email,
        BounceEvent.at >= since))
    return [(at, permanent) for at, permanent in rows]


def suspend(ctx: Context, mlist: ListConfig, member: Member, current: int,
            detail: str) -> None:
    member.suspended_at = ctx.now
    member.probes_sent = 0
    send_probe(ctx, mlist, member)
    _tell_moderators(ctx, mlist, "moderator/bounce-suspended", member,
                     {"score": current, "detail": detail})


def send_probe(ctx: Context, mlist: ListConfig, member: Member) -> None:
    """A short message the member can simply reply to; its envelope is its own VERP
    address, so that its bounce (if any) is told apart from the list's mail."""
    token = new_token()
    member.probe_token, member.probe_sent_at = token, ctx.now
    member.probe_state, member.probes_sent = "waiting", member.probes_sent + 1
    ctx.send(mlist, "member/bounce-probe", ctx.language_of(mlist, member.email),
             {"email": member.email, "probe_wait_days": _days(mlist.rules.bounces.probe_wait)},
             to=member.email, purpose="probe", reply_token=token,
             bounce_token=token)


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
        ctx.send(mlist, "member/bounce-resumed", ctx.language_of(mlist, member.email),
             {"why": why}, to=member.email, purpose="notice")


def find_probe(ctx: Context, mlist: ListConfig, token: str) -> Member | None:
    return ctx.session.scalar(select(Member).where(
        Member.list_name == mlist.name, Member.probe_token == token))


def run_due(ctx: Context) -> int:
    """Lift suspensions whose probe was not bounced, send probes that are due again."""
    done = 0
    for mlist in ctx.config.lists:
        waiting = ctx.session.scalars(select(Member).where(
            Member.list_name == mlist.name, Member.suspended_at.is_not(None),
            Member.probe_state.in_(("waiting", "bounced"))).with_for_update(skip_locked=True))
        for member in waiting:
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
        ctx.send(mlist, template, ctx.language_of(mlist, moderator), {**common, **values},
                 to=moderator, purpose="notice")


def _days(delta: timedelta) -> int:
    return max(1, round(delta.total_seconds() / 86400))
