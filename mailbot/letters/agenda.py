"""The meeting's agenda, for the moderators ("ordre du jour" / "agenda" to
list-request@): the contested proposals with their objections, the decisions adopted since
the last meeting, the ledger's month in figures; mailed as text with a printable PDF.

Each agenda asked for marks a meeting: the next one lists the decisions adopted since.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.config import ListConfig
from mailbot.exchange.payments import money
from mailbot.letters.monthly import MONTH_NAMES, bounds
from mailbot.letters.pdf import render_pdf
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_date

FIRST_LOOK_BACK = timedelta(days=31)  # before any meeting: the decisions of the last month


def agenda_values(ctx: Context, mlist: ListConfig, language: str,
                  since: datetime) -> dict[str, Any]:
    tz, proposals = ctx.config.server.timezone, ctx.stores.proposals
    contested = proposals.contested(mlist.name)
    objections = proposals.standing_objections([p.id for p in contested])
    local = ctx.now.astimezone(ZoneInfo(tz))
    return {
        "contested": [{"number": p.number, "title": p.title,
                       "proposer": ctx.outbox.name_of(mlist, p.proposer),
                       "settled": format_date(p.settled_at or p.deadline, tz, language),
                       "objections": [{"who": ctx.outbox.name_of(mlist, o.email),
                                       "reason": o.reason.strip()} for o in objections[p.id]]}
                      for p in contested],
        "adopted": [{"number": p.number, "title": p.title,
                     "date": format_date(p.settled_at or p.deadline, tz, language)}
                    for p in proposals.settled_between(mlist.name, since, ctx.now)
                    if p.status == "adopted"],
        "since": format_date(since, tz, language),
        "month": month_figures(ctx, mlist, local.year, local.month, language),
    }


def month_figures(ctx: Context, mlist: ListConfig, year: int, month: int,
                  language: str) -> dict[str, Any]:
    """The ledger's month so far: exchanges, time moved, members who took part,
    corrections, and members below zero now."""
    start, end = bounds(year, month, ctx.config.server.timezone)
    entries = ctx.stores.ledger.recorded_between(mlist.name, start, min(end, ctx.now))
    exchanges = [e for e in entries if e.reverses_id is None and e.memo != "opening balance"]
    people = {e.payer for e in exchanges} | {e.payee for e in exchanges}
    roster = ctx.stores.members.roster(mlist.name)
    below = sum(1 for m in roster if ctx.stores.ledger.balance(mlist.name, m.email) < 0)
    return {"name": f"{MONTH_NAMES[language][month - 1]} {year}", "count": len(exchanges),
            "moved": money(mlist, sum(e.amount for e in exchanges)),
            "members": len(people), "corrections": len(entries) - len(exchanges),
            "below_zero": below, "roster": len(roster)}


def send_agenda(ctx: Context, mlist: ListConfig, moderator: str, language: str,
                inbound_id: int | None) -> None:
    """Mail the agenda to the moderator (text and PDF), and mark the meeting."""
    last = ctx.stores.proposals.last_meeting(mlist.name)
    since = last.asked_at if last is not None else ctx.now - FIRST_LOOK_BACK
    values = agenda_values(ctx, mlist, language, since)
    context = {"list": ctx.outbox.list_vars(mlist), **values}
    title, body = ctx.outbox.composer.render("letter/agenda", language, context)
    pdf = render_pdf(title, body, author=mlist.title)
    day = ctx.now.date().isoformat()
    ctx.outbox.send(mlist, "moderator/agenda", language, {**values, "text": body},
                    to=moderator, purpose="notice", inbound_id=inbound_id,
                    attachments=[(f"{mlist.name}-agenda-{day}.pdf", "application/pdf", pdf)])
    ctx.stores.proposals.hold_meeting(mlist.name, moderator, ctx.now)
