"""The monthly letter of a member without email: their balance, the month's exchanges,
open proposals and their deadlines, the month's new offers and requests, and how to answer
through their buddy. Written from `templates/letter/monthly.*.txt`, laid out in large type
(letters/pdf.py), mailed to the buddy as an attachment once the month is over, and written
to files by `mailbot letters` for printing.
"""

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.config import ListConfig
from mailbot.exchange import items
from mailbot.exchange.payments import money
from mailbot.letters.pdf import render_pdf
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_date, format_when
from mailbot.storage.members import Member

MONTH_NAMES = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


def parse_month(text: str) -> tuple[int, int]:
    """"2026-12" → (2026, 12); ValueError otherwise."""
    found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(f"not a month: {text!r} (write YYYY-MM, e.g. 2026-12)")
    return int(found.group(1)), int(found.group(2))


def bounds(year: int, month: int, timezone: str) -> tuple[datetime, datetime]:
    """The month in the list's timezone, as [start, end) in UTC."""
    zone = ZoneInfo(timezone)
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    return (datetime(year, month, 1, tzinfo=zone).astimezone(UTC),
            datetime(*after, 1, tzinfo=zone).astimezone(UTC))


def previous_month(now: datetime, timezone: str) -> tuple[int, int]:
    local = now.astimezone(ZoneInfo(timezone))
    return (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)


def letter_values(ctx: Context, mlist: ListConfig, member: Member, year: int, month: int,
                  language: str) -> dict[str, Any]:
    tz = ctx.config.server.timezone
    start, end = bounds(year, month, tz)
    ledger, me = ctx.stores.ledger, member.email
    lines = []
    for e in ledger.between(mlist.name, me, start, end):
        signed = e.amount if e.payee == me else -e.amount
        day = e.done_on or e.created_at.astimezone(ZoneInfo(tz)).date()
        lines.append({"date": f"{day.day:02d}/{day.month:02d}", "signed": money(mlist, signed),
                      "other": ctx.outbox.name_of(mlist, e.payer if signed > 0 else e.payee),
                      "memo": e.memo})
    proposals = [{"number": p.number, "title": p.title,
                  "deadline": format_when(p.deadline, tz, language, ctx.now)}
                 for p in ctx.stores.proposals.still_open(mlist.name)]
    news = [items.describe(ctx, mlist, i, language)
            for i in ctx.stores.items.new_between(mlist.name, start, end)]
    buddy = member.buddy or ""
    return {"member_name": member.name, "month_name": f"{MONTH_NAMES[language][month - 1]} {year}",
            "balance": money(mlist, ledger.balance_before(mlist.name, me, end)),
            "lines": lines, "proposals": proposals, "items": news,
            "buddy": buddy, "buddy_name": ctx.outbox.name_of(mlist, buddy),
            "first_name": member.name.split()[0] if member.name.split() else member.name,
            "written": format_date(ctx.now, tz, language)}


def build_letter(ctx: Context, mlist: ListConfig, member: Member, year: int,
                 month: int) -> tuple[str, bytes]:
    """(file name, PDF) of one member's letter for the month."""
    language = member.language or mlist.language
    values = letter_values(ctx, mlist, member, year, month, language)
    title, body = ctx.outbox.composer.render(
        "letter/monthly", language, {"list": ctx.outbox.list_vars(mlist), **values})
    local = member.email.split("@")[0]
    name = f"{mlist.name}-{year}-{month:02d}-{local}.pdf"
    return name, render_pdf(title, body, author=mlist.title)


def send_letter(ctx: Context, mlist: ListConfig, member: Member, year: int, month: int) -> None:
    """Mail the letter to the member's buddy, as an attachment."""
    assert member.buddy is not None
    name, pdf = build_letter(ctx, mlist, member, year, month)
    language = ctx.outbox.language_of(mlist, member.buddy)
    values = {"member_name": member.name,
              "month_name": f"{MONTH_NAMES[language][month - 1]} {year}",
              "first_name": member.name.split()[0] if member.name.split() else member.name}
    ctx.outbox.send(mlist, "member/letter-buddy", language, values, to=member.buddy,
                    purpose="notice", attachments=[(name, "application/pdf", pdf)])


def send_due(ctx: Context) -> int:
    """Once a month is over, each buddy gets the letters of the members in their care
    (once: a mark per member and month, so two daemons never send it twice)."""
    sent = 0
    for mlist in ctx.config.lists:
        year, month = previous_month(ctx.now, ctx.config.server.timezone)
        _, end = bounds(year, month, ctx.config.server.timezone)
        for member in ctx.stores.members.without_email(mlist.name):
            if member.joined_at < end and ctx.stores.members.first_mark(
                    f"{mlist.name}:letter:{member.email}:{year}-{month:02d}"):
                send_letter(ctx, mlist, member, year, month)
                sent += 1
    return sent
