"""The store's schema as Alembic migrations (SQLite and PostgreSQL alike); `Store` applies them when
it opens a database. A schema change is a new revision in `versions/`:

    .venv/bin/python -m tracechain.store.migrations revision "what changes"

which autogenerates it against a database at head; read it and test it before committing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect


def config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, bound to `connection`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection) -> None:
    """Bring the database behind `connection` to the newest schema (inside its transaction). A store
    created before migrations existed has no version yet: the baseline completes it (see IfMissing)
    and the later revisions follow."""
    command.upgrade(config(connection), "head")


class IfMissing:
    """Alembic's `op` for the baseline revision: creates a table or an index only where the database
    lacks it, so that a store `create_all` made before migrations existed is completed, not failed."""

    def __init__(self, op: Any) -> None:
        self._op = op

    def _inspector(self) -> Any:
        return inspect(self._op.get_bind())

    def create_table(self, name: str, *columns: Any, **kw: Any) -> None:
        if not self._inspector().has_table(name):
            self._op.create_table(name, *columns, **kw)

    @contextmanager
    def batch_alter_table(self, table: str, **kw: Any) -> Iterator[Any]:
        present = {index["name"] for index in self._inspector().get_indexes(table)}
        with self._op.batch_alter_table(table, **kw) as batch:
            yield _IndexesIfMissing(batch, present)


class _IndexesIfMissing:
    """A batch operation that creates only the indexes not `present`."""

    def __init__(self, batch: Any, present: set[str]) -> None:
        self._batch, self._present = batch, present

    def f(self, name: str) -> Any:
        return self._batch.f(name)

    def create_index(self, name: str, *args: Any, **kw: Any) -> None:
        if str(name) not in self._present:
            self._batch.create_index(name, *args, **kw)
