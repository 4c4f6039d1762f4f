"""Fresh test databases at the newest schema, without running every migration each time.

Most tests start from an empty database and bring it to the newest schema (`db.upgrade`,
or `mailbot db upgrade` in-process). Running the ten migrations costs about 0.3 s a
test, on thousands of tests. Here the first empty database of each kind is migrated
for real and the next ones are copies of it: the SQLite file is copied, and on PostgreSQL
the statements the migrations ran (everything but the SELECTs) are replayed in the new
schema, in one transaction. A database that is not empty is upgraded for real, and
tests/test_migrations.py turns the cache off, so the migrations themselves stay tested.
"""

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, event

from mailbot.storage import db

Upgrade = Callable[[Engine], tuple[str | None, str]]
Statement = tuple[str, Any, bool]  # SQL, its parameters, executemany


class SchemaCache:
    def __init__(self, real: Upgrade) -> None:
        self.real = real
        self._folder = Path(tempfile.mkdtemp(prefix="mailbot-schema-"))
        self._sqlite: Path | None = None
        self._postgresql: list[Statement] | None = None

    def upgrade(self, engine: Engine) -> tuple[str | None, str]:
        if not _empty(engine):
            return self.real(engine)
        if engine.dialect.name == "sqlite":
            return self._copy_sqlite(engine)
        if engine.dialect.name == "postgresql":
            return self._replay_postgresql(engine)
        return self.real(engine)

    def _copy_sqlite(self, engine: Engine) -> tuple[str | None, str]:
        path = engine.url.database
        if not path or path == ":memory:":
            return self.real(engine)
        if self._sqlite is None:
            template = self._folder / "template.db"
            made = db.make_engine(f"sqlite:///{template}")
            self.real(made)
            made.dispose()  # closes the file: its WAL is folded back in
            self._sqlite = template
        engine.dispose()
        shutil.copyfile(self._sqlite, path)
        return None, db.head_revision()

    def _replay_postgresql(self, engine: Engine) -> tuple[str | None, str]:
        if self._postgresql is None:
            statements: list[Statement] = []

            def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any,
                     _context: Any, executemany: bool) -> None:
                if not statement.lstrip().upper().startswith(("SELECT", "SHOW")):
                    statements.append((statement, parameters, executemany))

            event.listen(engine, "before_cursor_execute", keep)
            try:
                result = self.real(engine)
            finally:
                event.remove(engine, "before_cursor_execute", keep)
            self._postgresql = statements
            return result
        with engine.begin() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            for statement, parameters, executemany in self._postgresql:
                if executemany:
                    cursor.executemany(statement, parameters)
                else:
                    cursor.execute(statement, parameters)
        return None, db.head_revision()

    @property
    def copies(self) -> bool:
        """Whether the next empty database gets a copy (one was migrated for real)."""
        return self._sqlite is not None or self._postgresql is not None

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)


def _empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not sa.inspect(conn).get_table_names()
