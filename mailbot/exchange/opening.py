"""Opening balances brought from another ledger (`mailbot ledger import`), and the journal
written out for the association's accounts (`mailbot ledger export`).

An import is all or nothing: every line is checked (an address of a member, an amount,
no one twice) and the balances must sum to zero, or be balanced against a system account
the operator names; then one entry per member moves the points between that account and
the member, so the ledger still sums to zero.
"""

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TextIO

from mailbot.config import ListConfig
from mailbot.core.errors import MailbotError
from mailbot.reading.amounts import as_hours, parse_amount
from mailbot.storage.exchange import LedgerEntry
from mailbot.storage.stores import Stores

OPENING = "opening-balances"  # the transit account of an import that sums to zero
_HEADER = {"email", "e-mail", "mail", "courriel", "adresse", "address"}


def parse_balances(rows: Iterable[Sequence[str]], mlist: ListConfig,
                   where: str) -> list[tuple[str, int]]:
    """CSV rows `email,points` (a header line first) → (address, signed points); a
    MailbotError names the first bad line."""
    rules = mlist.rules.exchange
    found: list[tuple[str, int]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or (number == 1 and row[0].strip().lower()
                                                    in _HEADER):
            continue
        if len(row) < 2:
            raise MailbotError(f"{where}:{number}: expected email,points, got {row!r}")
        email, text = row[0].strip().lower(), row[1].strip()
        negative = text.startswith(("-", "−"))
        points = parse_amount(text.lstrip("+-− "), rules.points_per_hour, rules.unit)
        if "@" not in email or (points is None and text.lstrip("+-− ") not in ("0", "")):
            raise MailbotError(f"{where}:{number}: not an address and an amount: {row!r}")
        if email in seen:
            raise MailbotError(f"{where}:{number}: {email} appears twice")
        seen.add(email)
        found.append((email, -(points or 0) if negative else (points or 0)))
    return found


def import_balances(stores: Stores, mlist: ListConfig, balances: Sequence[tuple[str, int]],
                    *, against: str | None, recorded_by: str, now: datetime) -> int:
    """Record the opening balances (nothing when a check fails); returns the entries
    written."""
    total = sum(points for _, points in balances)
    if total != 0 and against is None:
        raise MailbotError(
            f"the balances sum to {total:+d} {mlist.rules.exchange.unit}, not 0: nothing "
            "imported (fix the file, or name a system account to balance them with "
            "--against ACCOUNT)")
    strangers = [e for e, _ in balances if stores.members.get(mlist.name, e) is None]
    if strangers:
        raise MailbotError(f"not members of {mlist.address}: {', '.join(strangers)}; nothing "
                           "imported (add them first: mailbot members import)")
    account = against or OPENING
    written = 0
    for email, points in balances:
        if points == 0:
            continue
        payer, payee = (account, email) if points > 0 else (email, account)
        stores.ledger.record(LedgerEntry(
            list_name=mlist.name, payer=payer, payee=payee, amount=abs(points),
            memo="opening balance", created_at=now, recorded_by=recorded_by))
        written += 1
    return written


def export_journal(stores: Stores, mlist: ListConfig, out: TextIO) -> int:
    """Every entry, oldest first, as CSV with a header; returns how many."""
    names = {m.email: m.name for m in stores.members.roster(mlist.name)}
    pph, unit = mlist.rules.exchange.points_per_hour, mlist.rules.exchange.unit
    writer = csv.writer(out)
    writer.writerow(["id", "recorded_at", "done_on", "payer", "payer_name", "payee",
                     "payee_name", unit, "hours", "memo", "recorded_by", "reverses"])
    count = 0
    for e in stores.ledger.journal(mlist.name):
        writer.writerow([e.id, e.created_at.isoformat(), e.done_on or "", e.payer,
                         names.get(e.payer, ""), e.payee, names.get(e.payee, ""), e.amount,
                         as_hours(e.amount, pph), e.memo, e.recorded_by, e.reverses_id or ""])
        count += 1
    return count
