"""Per-list numbers: many transactions at once, on SQLite and PostgreSQL, each number
handed out once, none skipped, the counter's first row made once."""

import threading

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.storage import db
from mailbot.storage.counters import next_number
from mailbot.storage.models import Counter


def test_concurrent_transactions_get_each_number_once(database_url: str) -> None:
    database = db.Database(database_url, threads=4)
    try:
        db.upgrade(database.engine)
        got: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(4)

        def take() -> None:
            start.wait()  # all four ask for the first number (no row yet) together
            for _ in range(25):
                number = database.transaction(next_number, "sel:post")
                with lock:
                    got.append(number)

        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(got) == list(range(1, 101))
        assert database.transaction(next_number, "sel:proposal") == 1  # its own count
        assert database.transaction(next_number, "sel:post") == 101
    finally:
        database.close()


def test_a_number_rolled_back_is_handed_out_again(database_url: str) -> None:
    database = db.Database(database_url)
    try:
        db.upgrade(database.engine)
        assert database.transaction(next_number, "sel:item") == 1

        class Undo(Exception):
            pass

        def taken_then_undone(session: object) -> None:
            assert next_number(session, "sel:item") == 2  # type: ignore[arg-type]
            raise Undo

        with pytest.raises(Undo):
            database.transaction(taken_then_undone)
        assert database.transaction(next_number, "sel:item") == 2
    finally:
        database.close()


def test_the_first_number_writes_nothing_else(database_url: str) -> None:
    """Taking a counter's first number does not write what the transaction changed (no
    savepoint, whose flush would fail for another change's fault and be taken for
    another daemon creating the counter): the change fails later, as itself."""
    database = db.Database(database_url)
    try:
        db.upgrade(database.engine)
        database.transaction(next_number, "taken")

        def numbered_with_a_bad_change(session: Session) -> tuple[int, bool]:
            session.add(Counter(name="taken", value=5))  # its name is taken: refused
            number = next_number(session, "sel:post")
            pending = bool(session.new)
            with pytest.raises(IntegrityError):
                session.flush()
            session.rollback()
            return number, pending

        assert database.transaction(numbered_with_a_bad_change) == (1, True)
        assert database.transaction(next_number, "sel:post") == 1  # it was rolled back
    finally:
        database.close()
