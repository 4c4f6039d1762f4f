"""Per-list numbers (proposal n°12, offer n°7): one atomic increment of a counter row, so
two daemons never hand out the same number."""

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailbot.storage.models import Counter

# Built once: building an UPDATE and its cache key costs several times more than running it
# on SQLite (a post takes an archive number).
_BUMP = update(Counter).where(Counter.name == bindparam("counter")).values(
    value=Counter.value + bindparam("by"))
_BUMP_RETURNING = _BUMP.returning(Counter.value)
_VALUE = select(Counter.value).where(Counter.name == bindparam("counter"))


def next_number(session: Session, name: str, count: int = 1) -> int:
    """`UPDATE … SET value = value + count` takes the row's lock itself (RETURNING where
    the database has it), on the session's connection: no ORM object, no flush of
    whatever else the transaction changed (nor for the first number: no savepoint, whose
    flush would fail for another's fault and be taken for a race). Returns the last of
    the `count` numbers taken (the first is `last - count + 1`)."""
    value = _bump(session, name, count)
    if value is None:  # the first number of its kind (another daemon may create it too)
        connection = session.connection()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(dialect.insert(Counter).values(name=name, value=0)
                           .on_conflict_do_nothing(index_elements=["name"]))
        value = _bump(session, name, count)
        assert value is not None
    return value


def _bump(session: Session, name: str, count: int) -> int | None:
    connection, named = session.connection(), {"counter": name, "by": count}
    if connection.dialect.update_returning:
        found: int | None = connection.execute(_BUMP_RETURNING, named).scalar()
        return found
    if not connection.execute(_BUMP, named).rowcount:
        return None
    return connection.execute(_VALUE, {"counter": name}).scalar_one()
