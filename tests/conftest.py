"""Fixtures: every database test runs on SQLite and on the real PostgreSQL."""

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mailbot.config import Config, load_config
from mailbot.core.clock import FakeClock
from mailbot.service import Service
from mailbot.storage import db
from tests.e2e import Driver
from tests.helpers import Sink, write_config
from tests.schema_cache import SchemaCache

PG_BASE = os.environ.get("MAILBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def schema_cache() -> Iterator[SchemaCache]:
    """Empty test databases get the newest schema as a copy of the first one migrated for
    real (tests/schema_cache.py); tests/test_migrations.py runs the real migrations."""
    cache = SchemaCache(db.upgrade)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "upgrade", cache.upgrade)
        yield cache
    cache.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mailbot.db'}"
        return
    with pg_schema() as url:
        yield url


@pytest.fixture
def database(database_url: str) -> Iterator[db.Database]:
    """A `Database` on `database_url`, its schema at the newest revision (a test module
    that needs rows in it overrides this fixture and asks for it by the same name)."""
    database = db.Database(database_url)
    db.upgrade(database.engine)
    yield database
    database.close()


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL schema, dropped afterwards."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    server = Sink()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rules() -> str:
    """Override in a test module (or with parametrize) to change the list's rules."""
    return ""


@pytest.fixture
def config(tmp_path: Path, database_url: str, sink: Sink, rules: str) -> Config:
    return load_config(write_config(tmp_path, database_url, sink_port=sink.port, rules=rules))


@pytest.fixture
async def service(config: Config, clock: FakeClock) -> AsyncIterator[Service]:
    svc = Service(config, clock=clock)
    db.upgrade(svc.db.engine)
    yield svc
    svc.close()


@pytest.fixture
def members() -> list[tuple[str, str]]:
    """The roster `bot` starts with; override in a module to change it."""
    return [("marie@example.com", "Marie"), ("bob@example.net", "Bob")]


@pytest.fixture
async def bot(service: Service, sink: Sink, clock: FakeClock,
              members: list[tuple[str, str]]) -> AsyncIterator[Driver]:
    """The service listening on loopback, with its roster, and a driver to talk to it."""
    async with service.listening() as ports:
        driver = Driver(service, sink, clock, ports["smtp"])
        for email, name in members:
            await driver.add(email, name)
        yield driver
