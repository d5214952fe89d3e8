"""The store's schema comes from its migrations: a new store is at head and matches the models, a
store created before migrations existed is brought there without losing a row."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from tracechain.store import migrations
from tracechain.store.db import Base, Document, Store


def head() -> str:
    return ScriptDirectory.from_config(migrations.config()).get_current_head()


def baseline_tables() -> set[str]:
    """The tables of the first revision: what a store created before migrations existed holds."""
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        command.upgrade(migrations.config(connection), "0001")
        return set(inspect(connection).get_table_names()) - {"alembic_version"}


def schema_drift(store: Store) -> list[object]:
    with store.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_a_new_store_is_at_head_and_matches_the_models(store_url: str) -> None:
    store = Store(store_url)
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head()
    assert schema_drift(store) == []
    Store(store_url)  # opening it again changes nothing
    assert schema_drift(store) == []


def test_a_store_from_before_migrations_keeps_its_rows_and_gets_what_it_lacks(store_url: str) -> None:
    engine = create_engine(store_url)
    baseline = baseline_tables()
    legacy = [table for name, table in Base.metadata.tables.items() if name in baseline and name != "masterdata"]
    Base.metadata.create_all(engine, tables=legacy)
    documents = Base.metadata.tables[Document.__tablename__]
    newer_index = next(
        i for i in Base.metadata.tables["subject_entries"].indexes if i.name == "ix_subject_entries_block_log"
    )
    with engine.begin() as connection:
        newer_index.drop(connection)
        connection.execute(documents.insert().values(hash="0x" + "ab" * 32, body="{}", stored_at=datetime.now(UTC)))
    engine.dispose()

    store = Store(store_url)
    tables = set(inspect(store.engine).get_table_names())
    assert {"masterdata", "alembic_version", "case_steps"} <= tables
    assert "ix_subject_entries_block_log" in {i["name"] for i in inspect(store.engine).get_indexes("subject_entries")}
    assert schema_drift(store) == []
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM documents")).scalar() == 1
        assert MigrationContext.configure(connection).get_current_revision() == head()
