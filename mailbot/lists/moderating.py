"""What moderators do to a member, once decided: moderate and free them, ban and unban,
remind them of the charter; and how the moderators hear of every change to the roster
(`membership.notify`: each at once, in one summary a day, or never).

Who may ask, and the confirmation of a ban, are the request and confirm handlers' work;
here is only what each act does. The daily summary and the end of a moderation period are
database timers (timers/due.py), run with the injected clock.
"""

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from mailbot.config import ListConfig
from mailbot.digests.schedule import next_digest_at, previous_digest_at
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_when
from mailbot.storage.members import Member

CHARTER_FILE = {"fr": "charte.txt", "en": "charter.txt"}


def today(ctx: Context) -> str:
    """The day it is in the list's timezone, as YYYY-MM-DD (the flood brake counts by it)."""
    return ctx.now.astimezone(ZoneInfo(ctx.config.server.timezone)).date().isoformat()


def charter_attachment(mlist: ListConfig, language: str) -> list[tuple[str, str]]:
    return [(CHARTER_FILE.get(language, "charter.txt"), mlist.charter)] if mlist.charter else []


# --- telling the moderators -----------------------------------------------------------------

def note(ctx: Context, mlist: ListConfig, kind: str, email: str, *, name: str = "",
         by: str = "", detail: str = "") -> None:
    """Record a change to the roster; with `notify = "each"` every moderator but the one
    who did it is told at once, with "daily" it waits for the day's summary."""
    notify = mlist.rules.membership.notify
    ctx.stores.log.record(mlist.name, kind, email, now=ctx.now, name=name, by=by,
                          detail=detail, reported=notify != "daily")
    if notify == "each":
        tell_moderators(ctx, mlist, kind, email, name=name, by=by, detail=detail)


def tell_moderators(ctx: Context, mlist: ListConfig, kind: str, email: str, *, name: str,
                    by: str, detail: str) -> None:
    values = {"event": {"kind": kind, "email": email, "name": name, "detail": detail,
                        "by": ctx.outbox.name_of(mlist, by) if by else ""}}
    for moderator in mlist.moderators:
        if moderator != by:
            ctx.outbox.send(mlist, "moderator/membership-change",
                            ctx.outbox.language_of(mlist, moderator), values, to=moderator,
                            purpose="notice")


def send_summaries_due(ctx: Context) -> int:
    """For each list whose moderators hear once a day: at `digest.time`, one summary of
    what changed since the last one (none when nothing did); how many were sent. The
    events are locked, so two daemons never send the same summary."""
    sent = 0
    for mlist in ctx.config.lists:
        if mlist.rules.membership.notify != "daily":
            continue
        due = previous_digest_at("daily", mlist.rules.digest, ctx.config.server.timezone,
                                 ctx.now)
        events = ctx.stores.log.unreported(mlist.name, due) if due is not None else []
        if not events:
            continue
        for moderator in mlist.moderators:
            language = ctx.outbox.language_of(mlist, moderator)
            lines = [{"kind": e.kind, "email": e.email, "name": e.name, "detail": e.detail,
                      "by": ctx.outbox.name_of(mlist, e.by) if e.by else "",
                      "when": format_when(e.at, ctx.config.server.timezone, language, ctx.now)}
                     for e in events]
            ctx.outbox.send(mlist, "moderator/membership-summary", language,
                            {"events": lines, "count": len(lines)}, to=moderator,
                            purpose="notice")
        for event in events:
            event.reported_at = ctx.now
        sent += 1
    return sent


def next_summary_at(config_lists: Sequence[ListConfig], timezone: str,
                    now: datetime) -> datetime | None:
    times = [next_digest_at("daily", m.rules.digest, timezone, now) for m in config_lists
             if m.rules.membership.notify == "daily"]
    return min([t for t in times if t is not None], default=None)


# --- moderation -----------------------------------------------------------------------------

def moderate(ctx: Context, mlist: ListConfig, member: Member, by: str) -> bool:
    """Hold the member's posts for the moderators (for `moderation.moderated_for`, if
    set); they are told once, privately, with the charter. False: they were already."""
    if member.moderated_at is not None:
        return False
    period = mlist.rules.moderation.moderated_for
    member.moderated_at = ctx.now
    member.moderated_until = ctx.now + period if period is not None else None
    language = member.language or mlist.language
    until = format_when(member.moderated_until, ctx.config.server.timezone, language, ctx.now) \
        if member.moderated_until else ""
    ctx.outbox.send(mlist, "member/moderated", language, {"until": until}, to=member.email,
                    purpose="notice", reply_to=ctx.outbox.address(mlist, "owner"),
                    attachments=charter_attachment(mlist, language))
    for_moderators = format_when(member.moderated_until, ctx.config.server.timezone,
                                 mlist.language, ctx.now) if member.moderated_until else ""
    note(ctx, mlist, "moderate", member.email, name=member.name, by=by,
         detail=for_moderators)
    return True


def unmoderate(ctx: Context, mlist: ListConfig, member: Member, by: str) -> bool:
    """Let the member's posts go straight out again; `by` "" when the period ended."""
    if member.moderated_at is None:
        return False
    member.moderated_at = member.moderated_until = None
    ctx.outbox.send(mlist, "member/unmoderated", member.language or mlist.language, {},
                    to=member.email, purpose="notice")
    note(ctx, mlist, "unmoderate", member.email, name=member.name, by=by,
         detail="" if by else "period-over")
    return True


def lift_due(ctx: Context) -> int:
    """Free the members whose moderation period is over."""
    done = 0
    for mlist in ctx.config.lists:
        for member in ctx.stores.log.moderated_due(mlist.name, ctx.now):
            done += unmoderate(ctx, mlist, member, by="")
    return done


# --- bans and reminders ---------------------------------------------------------------------

def ban(ctx: Context, mlist: ListConfig, email: str, by: str) -> bool:
    """Remove the address from the list (no goodbye) and refuse its later mail; False
    when it was banned already."""
    member = ctx.stores.members.get(mlist.name, email)
    name = member.name if member is not None else ""
    if not ctx.stores.bans.add(mlist.name, email, by, ctx.now):
        return False
    ctx.stores.members.remove(mlist.name, email)
    note(ctx, mlist, "ban", email, name=name, by=by)
    return True


def unban(ctx: Context, mlist: ListConfig, email: str, by: str) -> bool:
    """Lift a ban: the address may write and join again (it is not put back on the list)."""
    if not ctx.stores.bans.remove(mlist.name, email):
        return False
    note(ctx, mlist, "unban", email, by=by)
    return True


def remind(ctx: Context, mlist: ListConfig, member: Member, by: str) -> None:
    """Send the member the charter with a kind word from the moderators as a group (the
    one who asked is not named; a reply reaches them all), and tell the other moderators
    at once."""
    language = member.language or mlist.language
    ctx.outbox.send(mlist, "member/reminder", language, {"charter": mlist.charter},
                    to=member.email, purpose="notice",
                    reply_to=ctx.outbox.address(mlist, "owner"))
    ctx.stores.log.record(mlist.name, "remind", member.email, now=ctx.now, name=member.name,
                          by=by, reported=True)
    tell_moderators(ctx, mlist, "remind", member.email, name=member.name, by=by, detail="")
