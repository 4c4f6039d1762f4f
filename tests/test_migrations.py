"""The Alembic migrations build exactly the schema the models describe, from empty and
from an older schema holding data, on SQLite and on PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from mailbot.storage import db
from mailbot.storage.models import Base
from tests.conftest import pg_schema
from tests.schema_cache import SchemaCache


@pytest.fixture(autouse=True)
def real_migrations(schema_cache: SchemaCache, monkeypatch: pytest.MonkeyPatch) -> None:
    """Here `db.upgrade` runs the migrations, not the test suite's copy of their result."""
    monkeypatch.setattr(db, "upgrade", schema_cache.real)


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    with pg_schema() as url:
        yield url


def test_the_test_suites_copied_schema_is_the_migrated_one(database_url: str,
                                                           scratch_url: str) -> None:
    """The copy tests/schema_cache.py gives empty test databases matches the models and is
    at the newest revision, as the migrations leave it (it replays or copies them)."""
    cache = SchemaCache(db.upgrade)
    first, copy = db.make_engine(scratch_url), db.make_engine(database_url)
    try:
        cache.upgrade(first)  # migrated for real, and remembered
        assert cache.copies
        assert cache.upgrade(copy) == (None, db.head_revision())
        assert db.current_revision(copy) == db.head_revision()
        with copy.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        first.dispose()
        copy.dispose()
        cache.close()


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
