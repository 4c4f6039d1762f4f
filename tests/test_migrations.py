"""The Alembic migrations build exactly the schema the models describe, from empty and
from an older schema holding data, on SQLite and on PostgreSQL."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from mailbot.storage import db
from mailbot.storage.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_upgrading_a_populated_first_schema_keeps_its_rows(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        command.upgrade(db._alembic_config(engine), "0001")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO member (list_name, email, name, delivery, nomail, verp_token,"
                " post_count, joined_at) VALUES ('sel', 'a@example.org', 'A', 'each', false,"
                " 'tok', 0, '2026-01-01 00:00:00')"))
        before, after = db.upgrade(engine)
        assert (before, after) == ("0001", db.head_revision())
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT email, digest_format FROM member")).all()
        assert [tuple(r) for r in rows] == [("a@example.org", "text")]
    finally:
        engine.dispose()
