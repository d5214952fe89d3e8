"""SQLAlchemy models shared by every feature, the Store (engine + sessions) and its chain binding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, UniqueConstraint, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from tracechain.errors import StoreChainMismatchError
from tracechain.hashing import document_hash, to_hex


class Base(DeclarativeBase):
    """Declarative base of every store table."""


class ChainBinding(Base):
    """The one chain this store indexes (a single row)."""

    __tablename__ = "chain_binding"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    genesis_hash: Mapped[str] = mapped_column(String(66))
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Checkpoint(Base):
    """The last block an indexer stream has fully processed."""

    __tablename__ = "checkpoints"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)


class Document(Base):
    """An off-chain document under the keccak-256 of its RFC 8785 canonical JSON, its body kept as
    captured (original key order), so a reader gets back the very document that was committed."""

    __tablename__ = "documents"
    hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ActorRow(Base):
    """A registered actor, rebuilt from ActorRegistry logs."""

    __tablename__ = "actors"
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    metadata_hash: Mapped[str] = mapped_column(String(66))
    roles: Mapped[str] = mapped_column(String(256), default="")  # comma-separated Role values
    suspended: Mapped[bool] = mapped_column(default=False)
    registered_block: Mapped[int] = mapped_column(BigInteger)


class Activity(Base):
    """One write an actor made (any contract), for auditors' per-actor trails."""

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index", name="uq_activity_log"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(42), index=True)
    kind: Mapped[str] = mapped_column(String(64))  # e.g. "product.event", "notary.single"
    subject: Mapped[str] = mapped_column(String(256))  # what was written: product id, record hash, ...
    contract: Mapped[str] = mapped_column(String(64))
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class Store:
    """The store's engine and session factory; tables are created on first use."""

    def __init__(self, url: str) -> None:
        connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
        self.url = url
        self.engine: Engine = create_engine(url, connect_args=connect_args)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error: no half-written state."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def bind_chain(self, chain_id: int, genesis_hash: str) -> None:
        """Record the chain this store indexes, or check it is the recorded one.

        Raises:
            StoreChainMismatchError: the store was built against another chain.
        """
        with self.session() as s:
            binding = s.get(ChainBinding, 1)
            if binding is None:
                s.add(ChainBinding(id=1, chain_id=chain_id, genesis_hash=genesis_hash, bound_at=datetime.now(UTC)))
            elif (binding.chain_id, binding.genesis_hash) != (chain_id, genesis_hash):
                raise StoreChainMismatchError(
                    f"store {self.url} indexes chain {binding.chain_id} ({binding.genesis_hash[:10]}…), "
                    f"not chain {chain_id} ({genesis_hash[:10]}…)",
                    hint="use another TRACECHAIN_DATABASE_URL or data dir for this chain",
                )

    # ---------------------------------------------------------------- documents
    def put_document(self, doc: Any) -> str:
        """Store `doc` under its canonical hash (idempotent); returns the 0x-hex hash.

        The hash is keccak256 of the RFC 8785 canonical JSON; the body keeps the document's own key order
        (tools that hash JSON by reading it in order, like GS1's Event Hash ID generator, must see the
        document as it was captured, not re-sorted).

        Raises:
            InvalidInputError: `doc` is not plain JSON (see `canonical_json`).
        """
        digest = to_hex(document_hash(doc))
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        try:
            with self.session() as s:
                if s.get(Document, digest) is None:
                    s.add(Document(hash=digest, body=body, stored_at=datetime.now(UTC)))
        except SQLAlchemyIntegrityError:
            pass  # stored by a concurrent writer meanwhile: same hash, same content
        return digest

    def get_document(self, digest: str) -> Any | None:
        """The document stored under `digest`, as stored, in its captured key order (it may have been
        altered since)."""
        with self.session() as s:
            row = s.get(Document, digest.lower())
            return None if row is None else json.loads(row.body, parse_int=_json_int)

    def checkpoint(self, name: str) -> int | None:
        """The last block processed by indexer stream `name`."""
        with self.session() as s:
            row = s.get(Checkpoint, name)
            return None if row is None else row.block_number

    def actor_names(self, addresses: list[str]) -> dict[str, str]:
        """Registry names of the given addresses (unknown ones left out)."""
        with self.session() as s:
            rows = s.scalars(select(ActorRow).where(ActorRow.address.in_(addresses)))
            return {r.address: r.name for r in rows}


def _json_int(text: str) -> int | float:
    """JCS writes large floats as plain digits (1e17 -> 100000000000000000); read those back as
    floats so the document re-hashes to the same value."""
    value = int(text)
    return value if abs(value) <= 2**53 else float(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
