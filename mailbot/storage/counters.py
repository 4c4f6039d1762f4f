"""Per-list numbers (proposal n°12, offer n°7): a locked counter row, so two daemons never
hand out the same number."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.storage.models import Counter


def next_number(session: Session, name: str) -> int:
    row = session.get(Counter, name, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(Counter(name=name, value=0))
        except IntegrityError:  # another daemon created it at the same moment
            pass
        row = session.get(Counter, name, with_for_update=True, populate_existing=True)
        assert row is not None
    row.value += 1
    return row.value
