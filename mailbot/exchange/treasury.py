"""The treasurer's ledger: transfers recorded from paper slips by a moderator or a
treasurer, corrections by reversing entries, yearly statements.

A message may carry several slips; they are confirmed together by one reply and written
all or none: the limits are checked for the whole batch, in order, before anything is
written. Both members get a receipt that names who recorded it.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.config import ListConfig
from mailbot.exchange.ledger import Limits, refuse_transfer
from mailbot.exchange.payments import minimum_for, money, reverse, send_ledger_receipt
from mailbot.outbound.context import Context
from mailbot.outbound.dates import format_date
from mailbot.storage.exchange import LedgerEntry
from mailbot.storage.stores import Stores

Slip = dict[str, Any]  # payer, payee, points, memo, day ("YYYY-MM-DD" or "")


def slip_day(day: str, now: datetime, timezone: str) -> date | None:
    """"2026-11-12" or "11-12" (the latest such day not after today) → a date; None when
    there is no such day."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    parts = [int(p) for p in day.split("-")]
    try:
        if len(parts) == 3:
            return date(parts[0], parts[1], parts[2])
        found = date(today.year, parts[0], parts[1])
        return found if found <= today else date(today.year - 1, parts[0], parts[1])
    except (ValueError, IndexError):
        return None


def batch_refusal(stores: Stores, mlist: ListConfig, slips: Sequence[Slip],
                  now: datetime) -> tuple[int, str] | None:
    """The first slip of the batch the limits refuse (its index, the reason), each checked
    after the ones before it; None when all may be written."""
    change: dict[str, int] = {}
    ledger, rules = stores.ledger, mlist.rules.exchange
    for index, slip in enumerate(slips):
        payer, payee, points = slip["payer"], slip["payee"], int(slip["points"])
        refused = refuse_transfer(
            payer, payee, points, ledger.balance(mlist.name, payer) + change.get(payer, 0),
            ledger.balance(mlist.name, payee) + change.get(payee, 0),
            Limits(minimum_for(stores, mlist, payer, now), rules.max_balance))
        if refused is not None:
            return index, refused
        change[payer] = change.get(payer, 0) - points
        change[payee] = change.get(payee, 0) + points
    return None


def record_slips(ctx: Context, mlist: ListConfig, slips: Sequence[Slip], *, recorded_by: str,
                 language: str, inbound_id: int | None = None) -> str:
    """Write a confirmed batch (checked again, under lock), send the receipts and the
    recorder a summary. Returns what happened, for the record."""
    people = {s["payer"] for s in slips} | {s["payee"] for s in slips}
    ctx.stores.members.lock(mlist.name, people)
    refused = batch_refusal(ctx.stores, mlist, slips, ctx.now)
    lines = [describe(ctx, mlist, s, language) for s in slips]
    if refused is not None:
        values = {"lines": lines, "index": refused[0] + 1, "reason": refused[1]}
        ctx.outbox.send(mlist, "member/slips-refused", language, values, to=recorded_by,
                        purpose="notice", inbound_id=inbound_id)
        return f"slips refused: no. {refused[0] + 1} {refused[1]}"
    entries = [_write(ctx, mlist, s, recorded_by) for s in slips]
    for slip, entry in zip(slips, entries, strict=True):
        send_receipts(ctx, mlist, entry, recorded_by, inbound_id)
        slip["entry"] = entry.id
    ctx.outbox.send(mlist, "member/slips-recorded", language,
                    {"lines": [describe(ctx, mlist, s, language) for s in slips],
                     "correction": None},
                    to=recorded_by, purpose="notice", inbound_id=inbound_id)
    return f"{len(entries)} slip(s) recorded by {recorded_by}: " + \
        ", ".join(f"no. {e.id}" for e in entries)


def _write(ctx: Context, mlist: ListConfig, slip: Slip, recorded_by: str) -> LedgerEntry:
    day = slip_day(slip["day"], ctx.now, ctx.config.server.timezone) if slip["day"] else None
    return ctx.stores.ledger.record(LedgerEntry(
        list_name=mlist.name, payer=slip["payer"], payee=slip["payee"],
        amount=int(slip["points"]), memo=str(slip["memo"])[:500], created_at=ctx.now,
        recorded_by=recorded_by, done_on=day))


def describe(ctx: Context, mlist: ListConfig, slip: Slip, language: str) -> dict[str, Any]:
    """A slip as templates show it: names, amount, what for, which day."""
    day = slip_day(slip["day"], ctx.now, ctx.config.server.timezone) if slip["day"] else None
    return {"payer": ctx.outbox.name_of(mlist, slip["payer"]),
            "payee": ctx.outbox.name_of(mlist, slip["payee"]),
            "amount": money(mlist, int(slip["points"])), "memo": slip["memo"],
            "day": _day_text(day, language), "entry": slip.get("entry")}


def _day_text(day: date | None, language: str) -> str:
    if day is None:
        return ""
    return format_date(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), "UTC", language)


def send_receipts(ctx: Context, mlist: ListConfig, entry: LedgerEntry, recorded_by: str,
                  inbound_id: int | None) -> None:
    """Both members are told what was written on their account, and by whom."""
    for person in (entry.payer, entry.payee):
        send_ledger_receipt(ctx, mlist, entry, person, recorded_by, inbound_id)


def reverse_entry(ctx: Context, mlist: ListConfig, entry_id: int, *, recorded_by: str,
                  inbound_id: int | None = None) -> LedgerEntry | None:
    """A correction: the reversing entry, with both members told; None when there is no
    such entry or it was corrected already (or is itself a correction)."""
    correction = reverse(ctx, mlist, entry_id, recorded_by=recorded_by)
    if correction is not None:
        send_receipts(ctx, mlist, correction, recorded_by, inbound_id)
    return correction


def yearly(ctx: Context, mlist: ListConfig, email: str, year: int,
           language: str) -> dict[str, Any]:
    """A member's year: balance on 1 January, each entry, totals, balance on 31 December."""
    zone = ZoneInfo(ctx.config.server.timezone)
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    ledger = ctx.stores.ledger
    opening = ledger.balance_before(mlist.name, email, start)
    entries = ledger.between(mlist.name, email, start, end)
    signed = [e.amount if e.payee == email else -e.amount for e in entries]
    lines = [{"id": e.id, "date": (e.done_on or e.created_at.astimezone(zone).date()).isoformat(),
              "signed": money(mlist, s),
              "other": ctx.outbox.name_of(mlist, e.payer if s > 0 else e.payee),
              "memo": e.memo} for e, s in zip(entries, signed, strict=True)]
    return {"year": year, "who": ctx.outbox.name_of(mlist, email), "lines": lines,
            "opening": money(mlist, opening),
            "received": money(mlist, sum(s for s in signed if s > 0)),
            "paid": money(mlist, -sum(s for s in signed if s < 0)),
            "closing": money(mlist, opening + sum(signed))}
