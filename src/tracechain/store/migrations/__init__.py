"""The store's schema as Alembic migrations (SQLite and PostgreSQL alike); `Store` applies them when
it opens a database. A schema change is a new revision in `versions/`:

    .venv/bin/python -m tracechain.store.migrations revision "what changes"

which autogenerates it against a database at head; read it and test it before committing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, inspect

BASELINE = "0001"  # the schema of stores created before migrations existed


def config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, bound to `connection`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection) -> None:
    """Bring the database behind `connection` to the newest schema (inside its transaction). A store
    created before migrations existed gets the baseline's tables and indexes it lacks, is marked at
    the baseline, and is migrated from there."""
    from tracechain.store.db import Base

    cfg = config(connection)
    tables = set(inspect(connection).get_table_names())
    if tables and "alembic_version" not in tables:
        baseline = _baseline_tables()
        for table in Base.metadata.sorted_tables:
            if table.name in baseline:
                table.create(connection, checkfirst=True)
                for index in table.indexes:
                    index.create(connection, checkfirst=True)
        command.stamp(cfg, BASELINE)
    command.upgrade(cfg, "head")


def _baseline_tables() -> set[str]:
    """The tables of the baseline revision (a scratch in-memory database migrated to it)."""
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        command.upgrade(config(connection), BASELINE)
        return set(inspect(connection).get_table_names()) - {"alembic_version"}
