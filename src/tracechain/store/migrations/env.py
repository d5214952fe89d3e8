"""Alembic's entry point: migrations run on the connection `tracechain.store.migrations.config` binds."""

from __future__ import annotations

from alembic import context

import tracechain.store  # noqa: F401 - every table module, so the metadata is complete
from tracechain.store.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
