"""The exchange's books: the append-only journal and the offers and requests.
The only door to the `ledger_entry` and `exchange_item` tables."""

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from mailbot.storage.counters import next_number
from mailbot.storage.models import ExchangeItem, LedgerEntry

__all__ = ["ExchangeItem", "Items", "Ledger", "LedgerEntry"]

ACTIVE = "active"  # an item's status while it is offered or requested (exchange/items.py)
EXPIRED = "expired"  # hidden after its lifetime, until its author renews it

# Asked for posts and requests (built once: building a statement costs more than running it).
_RENEWABLE = (select(ExchangeItem)
              .where(ExchangeItem.list_name == bindparam("list_name"),
                     ExchangeItem.status.in_((ACTIVE, EXPIRED)))
              .order_by(ExchangeItem.number))


class Ledger:
    def __init__(self, session: Session) -> None:
        self.session = session

    def balance(self, list_name: str, email: str) -> int:
        received = self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.list_name == list_name, LedgerEntry.payee == email))
        paid = self.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.list_name == list_name, LedgerEntry.payer == email))
        return int(received or 0) - int(paid or 0)

    def statement(self, list_name: str, email: str, limit: int = 20) -> Sequence[LedgerEntry]:
        """The member's latest entries, newest first."""
        return self.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.list_name == list_name,
                or_(LedgerEntry.payer == email, LedgerEntry.payee == email))
            .order_by(LedgerEntry.id.desc()).limit(limit)).all()

    def journal(self, list_name: str) -> Iterator[LedgerEntry]:
        """Every entry of the list, oldest first."""
        yield from self.session.scalars(select(LedgerEntry).where(
            LedgerEntry.list_name == list_name).order_by(LedgerEntry.id))

    def between(self, list_name: str, email: str, start: datetime,
                end: datetime) -> Sequence[LedgerEntry]:
        """The member's entries recorded in [start, end), oldest first."""
        return self.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.list_name == list_name,
                or_(LedgerEntry.payer == email, LedgerEntry.payee == email),
                LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
            .order_by(LedgerEntry.id)).all()

    def balance_before(self, list_name: str, email: str, moment: datetime) -> int:
        """The member's balance as it stood at `moment`."""
        signed = [(e.amount if e.payee == email else -e.amount) for e in self.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.list_name == list_name,
                or_(LedgerEntry.payer == email, LedgerEntry.payee == email),
                LedgerEntry.created_at < moment))]
        return sum(signed)

    def accounts(self, list_name: str) -> list[str]:
        """Every address the journal names (past members and system accounts too)."""
        payers = self.session.scalars(select(LedgerEntry.payer).where(
            LedgerEntry.list_name == list_name).distinct()).all()
        payees = self.session.scalars(select(LedgerEntry.payee).where(
            LedgerEntry.list_name == list_name).distinct()).all()
        return sorted(set(payers) | set(payees))

    def recorded_between(self, list_name: str, start: datetime,
                         end: datetime) -> Sequence[LedgerEntry]:
        """Every entry of the list recorded in [start, end), oldest first."""
        return self.session.scalars(select(LedgerEntry).where(
            LedgerEntry.list_name == list_name, LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end).order_by(LedgerEntry.id)).all()

    def record(self, entry: LedgerEntry) -> LedgerEntry:
        self.session.add(entry)
        self.session.flush()
        return entry

    def latest(self, list_name: str) -> LedgerEntry:
        """The newest entry of the list (the one just recorded)."""
        return self.session.scalars(select(LedgerEntry).where(
            LedgerEntry.list_name == list_name).order_by(LedgerEntry.id.desc()).limit(1)).one()

    def entry(self, entry_id: int) -> LedgerEntry | None:
        return self.session.get(LedgerEntry, entry_id)

    def reversal_of(self, entry_id: int) -> int | None:
        """The id of the entry that reverses `entry_id`, if any."""
        return self.session.scalar(select(LedgerEntry.id).where(
            LedgerEntry.reverses_id == entry_id))


class Items:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, item: ExchangeItem) -> ExchangeItem:
        """Give a new item its list's next number and store it."""
        item.number = next_number(self.session, f"{item.list_name}:item")
        self.session.add(item)
        self.session.flush()
        return item

    def by_number(self, list_name: str, number: int) -> ExchangeItem | None:
        return self.session.scalar(select(ExchangeItem).where(
            ExchangeItem.list_name == list_name, ExchangeItem.number == number))

    def active(self, list_name: str, kind: str, category: str = "") -> Sequence[ExchangeItem]:
        query = select(ExchangeItem).where(ExchangeItem.list_name == list_name,
                                           ExchangeItem.kind == kind,
                                           ExchangeItem.status == ACTIVE)
        if category:
            query = query.where(ExchangeItem.category == category)
        return self.session.scalars(query.order_by(ExchangeItem.number)).all()

    def renewable(self, list_name: str) -> Sequence[ExchangeItem]:
        """Items their author may still renew or close: active or expired, by number."""
        return self.session.scalars(_RENEWABLE, {"list_name": list_name}).all()

    def ending_by(self, list_name: str, moment: datetime) -> Sequence[ExchangeItem]:
        """Active items that expire by `moment`, soonest first, locked."""
        return self.session.scalars(
            select(ExchangeItem).where(ExchangeItem.list_name == list_name,
                                       ExchangeItem.status == ACTIVE,
                                       ExchangeItem.expires_at <= moment)
            .order_by(ExchangeItem.expires_at).with_for_update(skip_locked=True)).all()

    def new_between(self, list_name: str, since: datetime,
                    until: datetime) -> Sequence[ExchangeItem]:
        """Items recorded in (since, until] and still active."""
        return self.session.scalars(
            select(ExchangeItem).where(ExchangeItem.list_name == list_name,
                                       ExchangeItem.created_at > since,
                                       ExchangeItem.created_at <= until,
                                       ExchangeItem.status == ACTIVE)
            .order_by(ExchangeItem.number)).all()
