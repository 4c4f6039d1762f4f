"""Received messages: stored at intake, claimed by the worker, kept for the record and for
replay. The only door to the `inbound_message` table."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from mailbot.storage.counters import next_number
from mailbot.storage.models import InboundMessage

__all__ = ["InboundMessage", "Messages"]

PEEK_BYTES = 16384  # enough for the header of nearly every message

# The worker's claim (built once: building it costs more than running it).
_OLDEST_NEW = (select(InboundMessage)
               .where(InboundMessage.status == "new", InboundMessage.id > bindparam("after"),
                      InboundMessage.id <= bindparam("up_to"))
               .order_by(InboundMessage.id).limit(bindparam("limit"))
               .with_for_update(skip_locked=True))
# The same for a worker process that takes a share of them (SQLite, `Service.take_share`).
_OLDEST_NEW_OF_SHARE = _OLDEST_NEW.where(
    InboundMessage.id % bindparam("count") == bindparam("number"))
# New posts of a share, to read ahead (`new_posts`).
_NEW_POSTS = (select(InboundMessage.id, InboundMessage.list_name, InboundMessage.mail_from,
                     InboundMessage.raw)
              .where(InboundMessage.status == "new", InboundMessage.role == "post",
                     InboundMessage.id > bindparam("after"),
                     InboundMessage.id <= bindparam("up_to"),
                     InboundMessage.id % bindparam("count") == bindparam("number"))
              .order_by(InboundMessage.id).limit(bindparam("limit")))


@dataclass(frozen=True)
class Peek:
    id: int
    role: str
    token: str | None
    mail_from: str
    head: bytes


class Messages:
    def __init__(self, session: Session) -> None:
        self.session = session

    def store_new(self, rows: list[dict[str, Any]]) -> None:
        """INSERT the rows; a (recipient, message) already stored, or twice among them, is
        skipped by the database itself: no read first, no race between two daemons. The
        rows are parameters (executemany), not part of the statement: it is compiled once,
        whatever their number."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.connection().execute(
            insert(InboundMessage)
            .on_conflict_do_nothing(index_elements=["rcpt", "message_key"]), rows)

    def claim(self, up_to: int, limit: int, share: tuple[int, int] | None = None, *,
              after: int = 0) -> Sequence[InboundMessage]:
        """The oldest new messages with an id after `after` and up to `up_to`, at most
        `limit`, locked (another daemon's claims are skipped): one statement for several
        messages. `share` (number, count): only those whose id is `number` modulo
        `count`. What the transaction changed is not written first (no autoflush): the
        messages it handled are all at or before `after`."""
        values = {"after": after, "up_to": up_to, "limit": limit}
        with self.session.no_autoflush:
            if share is None:
                return self.session.scalars(_OLDEST_NEW, values).all()
            return self.session.scalars(_OLDEST_NEW_OF_SHARE, {
                **values, "number": share[0], "count": share[1]}).all()

    def new_posts(self, after: int, up_to: int, share: tuple[int, int],
                  limit: int) -> list[tuple[int, str, str, bytes]]:
        """The oldest new posts of a share (see `claim`) after `after` and up to `up_to`:
        (id, list, envelope sender, raw message), to be read ahead."""
        rows = self.session.execute(_NEW_POSTS, {
            "after": after, "up_to": up_to, "limit": limit, "number": share[0],
            "count": share[1]}).all()
        return [(r[0], r[1], r[2] or "", bytes(r[3])) for r in rows]

    def peek_new(self, limit: int, share: tuple[int, int] | None = None) -> list[Peek]:
        """The oldest new messages' ids (of a `share`, see `claim`), address kinds, tokens,
        senders and first bytes (their header, mostly), without claiming them: for a look
        ahead."""
        query = (select(InboundMessage.id, InboundMessage.role, InboundMessage.token,
                        InboundMessage.mail_from,
                        func.substr(InboundMessage.raw, 1, PEEK_BYTES))
                 .where(InboundMessage.status == "new")
                 .order_by(InboundMessage.id).limit(limit))
        if share is not None:
            query = query.where(InboundMessage.id % share[1] == share[0])
        rows = self.session.execute(query).all()
        return [Peek(r[0], r[1], r[2], r[3], bytes(r[4] or b"")) for r in rows]

    def peek(self, message_id: int) -> Peek | None:
        """The same look at one message."""
        row = self.session.execute(
            select(InboundMessage.id, InboundMessage.role, InboundMessage.token,
                   InboundMessage.mail_from, func.substr(InboundMessage.raw, 1, PEEK_BYTES))
            .where(InboundMessage.id == message_id)).first()
        return Peek(row[0], row[1], row[2], row[3], bytes(row[4] or b"")) if row else None

    def savepoint(self) -> SessionTransaction:
        """A nested transaction: what fails inside it is undone, the rest is kept."""
        return self.session.begin_nested()

    def pass_on(self, row: InboundMessage, *, role: str, rcpt: str, token: str,
                now: datetime) -> None:
        """Store the same message again for another address of its list (a request sent
        to the list goes to the robot): the worker handles it in its turn."""
        self.store_new([{"received_at": now, "mail_from": row.mail_from, "rcpt": rcpt,
                         "list_name": row.list_name, "role": role, "token": token,
                         "message_key": row.message_key, "raw": row.raw, "size": row.size,
                         "status": "new"}])

    def get(self, message_id: int) -> InboundMessage | None:
        return self.session.get(InboundMessage, message_id)

    def quarantined(self) -> Sequence[InboundMessage]:
        return self.session.scalars(
            select(InboundMessage).where(InboundMessage.status == "quarantined")
            .order_by(InboundMessage.id)).all()

    def posts_between(self, list_name: str, since: datetime,
                      until: datetime) -> Sequence[InboundMessage]:
        """Posts distributed in (since, until], in the order they went out."""
        return self.session.scalars(
            select(InboundMessage).where(
                InboundMessage.list_name == list_name, InboundMessage.role == "post",
                InboundMessage.distributed_at > since, InboundMessage.distributed_at <= until)
            .order_by(InboundMessage.distributed_at, InboundMessage.id)).all()

    # --- the archive: distributed posts, numbered per list --------------------------------
    def archive(self, row: InboundMessage) -> None:
        """Give a distributed post the next number of its list's archive, as the
        transaction commits (`number_archived`)."""
        if row.archive_number is None:
            self.session.info.setdefault(_TO_NUMBER, []).append(row)

    def archived(self, list_name: str, limit: int | None = None) -> Sequence[InboundMessage]:
        """The list's archived posts, the latest `limit` (all when None), oldest first."""
        number_archived(self.session)  # this transaction's posts too
        query = (select(InboundMessage)
                 .where(InboundMessage.list_name == list_name,
                        InboundMessage.archive_number.is_not(None))
                 .order_by(InboundMessage.archive_number.desc()))
        if limit is not None:
            query = query.limit(limit)
        return list(reversed(self.session.scalars(query).all()))

    def archived_post(self, list_name: str, number: int) -> InboundMessage | None:
        number_archived(self.session)
        return self.session.scalars(select(InboundMessage).where(
            InboundMessage.list_name == list_name,
            InboundMessage.archive_number == number)).first()


_TO_NUMBER = "mailbot.archive.to_number"  # in Session.info: posts archived, not numbered yet


def numbered(session: Session) -> None:
    """The posts of the transaction are numbered (it commits): forget them."""
    session.info.pop(_TO_NUMBER, None)


def number_archived(session: Session) -> None:
    """Number the posts this transaction archived, in the order it archived them, as it
    commits (or when the archive is read before): one `UPDATE counter` a list for all of
    them, whose row lock is then held for the commit only. Taken when each post went out,
    it was held for the whole turn, and two workers on PostgreSQL took their turns one
    after the other. A post whose savepoint was rolled back (not distributed after all)
    gets no number; one whose number was rolled back (the archive read in a savepoint
    undone) is numbered again."""
    rows = session.info.get(_TO_NUMBER)
    if not rows:
        return
    by_list: dict[str, list[InboundMessage]] = {}
    for row in dict.fromkeys(rows):
        state = inspect(row)
        if state.detached or state.was_deleted or row.archive_number is not None or \
                row.distributed_at is None:
            continue
        by_list.setdefault(row.list_name, []).append(row)
    for list_name, listed in by_list.items():
        last = next_number(session, f"{list_name}:post", len(listed))
        for number, row in enumerate(listed, start=last - len(listed) + 1):
            row.archive_number = number
