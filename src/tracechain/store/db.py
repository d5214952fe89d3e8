"""SQLAlchemy models shared by every feature, the Store (engine + sessions) and its chain binding."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from eth_utils import keccak
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from tracechain.errors import StoreChainMismatchError
from tracechain.hashing import document_hash, to_hex


class Base(DeclarativeBase):
    """Declarative base of every store table."""


class ChainBinding(Base):
    """The one deployment this store indexes (a single row): its chain id and anchor block hash."""

    __tablename__ = "chain_binding"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    anchor_hash: Mapped[str] = mapped_column(String(66))
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Checkpoint(Base):
    """The last block an indexer stream has fully processed."""

    __tablename__ = "checkpoints"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)


class IndexedBlock(Base):
    """The hash of a block the indexer read (every block with logs, and each chunk's last block),
    so it notices when the chain no longer holds what it indexed."""

    __tablename__ = "indexed_blocks"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(66))


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
    """The store's engine and session factory; opening a store brings its schema to the newest
    migration (store/migrations), one process at a time."""

    def __init__(self, url: str) -> None:
        from tracechain.store import migrations

        connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
        self.url = url
        self.engine: Engine = create_engine(url, connect_args=connect_args)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._local_lock = threading.RLock()
        with self.process_lock("schema"), self.engine.begin() as connection:
            migrations.upgrade(connection)
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

    @contextmanager
    def sender_lock(self, address: str) -> Iterator[None]:
        """Held while a transaction from `address` gets its nonce and is sent, by every process
        sharing this store: several API processes relaying for one operator never reuse a nonce."""
        with self.process_lock(address.lower()):
            yield

    @contextmanager
    def process_lock(self, name: str) -> Iterator[None]:
        """Lock `name`, held by one thread of one process at a time among all sharing this store.
        SQLite: a lock file beside the database; PostgreSQL: an advisory lock."""
        with self._local_lock:
            if self.engine.dialect.name == "postgresql":
                key = int.from_bytes(keccak(text=name)[:8], "big", signed=True)
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                    try:
                        yield
                    finally:
                        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                        conn.commit()
                return
            database = self.engine.url.database
            if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
                yield
                return
            import fcntl

            lock_path = f"{database}.{name}.lock"
            with open(lock_path, "a+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def try_indexer_lease(self) -> Any | None:
        """Try to become the one process that follows the chain for this store; returns a lease to
        keep (and `release_lease` at exit), or None when another process holds it. PostgreSQL: a
        session advisory lock on a connection kept open; SQLite: an exclusive lock on a file beside
        the database; other databases and in-memory SQLite: always granted (one process)."""
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            key = int.from_bytes(keccak(text="tracechain-indexer")[:8], "big", signed=True)
            if conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
                return conn
            conn.close()
            return None
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return object()
        import fcntl

        handle = open(f"{database}.indexer.lock", "a+")  # noqa: SIM115 - held for the lease's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    @staticmethod
    def release_lease(lease: Any) -> None:
        """Give up a lease `try_indexer_lease` granted."""
        close = getattr(lease, "close", None)
        if close is not None:
            close()

    def bind_chain(self, chain_id: int, anchor_hash: str) -> None:
        """Record the deployment this store indexes (its chain id and anchor block hash, see
        `Deployment`), or check it is the recorded one.

        Raises:
            StoreChainMismatchError: the store was built for another chain or deployment.
        """
        with self.session() as s:
            binding = s.get(ChainBinding, 1)
            if binding is None:
                s.add(ChainBinding(id=1, chain_id=chain_id, anchor_hash=anchor_hash, bound_at=datetime.now(UTC)))
            elif (binding.chain_id, binding.anchor_hash) != (chain_id, anchor_hash):
                raise StoreChainMismatchError(
                    f"store {self.url} indexes a deployment on chain {binding.chain_id} ({binding.anchor_hash[:10]}…), "
                    f"not the one on chain {chain_id} ({anchor_hash[:10]}…)",
                    hint="use another TRACECHAIN_DATABASE_URL or data dir for this deployment",
                )

    # ---------------------------------------------------------------- documents
    def put_document(self, doc: Any) -> str:
        """Store `doc` under its canonical hash (idempotent); returns the 0x-hex hash."""
        return self.put_documents([doc])[0]

    def put_documents(self, docs: list[Any], digests: list[str] | None = None) -> list[str]:
        """Store each document under its canonical hash, in one database transaction (idempotent);
        returns their 0x-hex hashes in order. `digests` are those hashes when the caller has them
        already (`hashing.document_hash` of each document).

        The hash is keccak256 of the RFC 8785 canonical JSON; the body keeps the document's own key
        order (tools that hash JSON by reading it in order, like GS1's Event Hash ID generator, must
        see the document as it was captured, not re-sorted).

        Raises:
            InvalidInputError: a document is not plain JSON (see `canonical_json`).
        """
        if digests is None:
            pairs = [document_row(doc) for doc in docs]
            digests, rows = [digest for digest, _ in pairs], dict(pairs)
        else:
            rows = {digest: document_body(doc) for digest, doc in zip(digests, docs, strict=True)}
        try:
            with self.session() as s:
                self.add_documents(s, rows, datetime.now(UTC))
        except SQLAlchemyIntegrityError:
            if len(docs) == 1:
                return digests  # stored by a concurrent writer meanwhile: same hash, same content
            for doc in docs:  # a concurrent writer stored some of them: one at a time
                self.put_document(doc)
        return digests

    @staticmethod
    def add_documents(session: Session, rows: Mapping[str, str], now: datetime) -> None:
        """Add the documents (hash -> body, see `document_row`) that the store does not hold yet to
        `session`, so they are kept with whatever else it commits."""
        keys = list(rows)
        present: set[str] = set()
        for i in range(0, len(keys), 900):
            present.update(session.scalars(select(Document.hash).where(Document.hash.in_(keys[i : i + 900]))))
        missing = [{"hash": h, "body": b, "stored_at": now} for h, b in rows.items() if h not in present]
        if missing:
            session.execute(insert(cast(Table, Document.__table__)), missing)

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


def document_row(doc: Any) -> tuple[str, str]:
    """A document's store key and body: the 0x-hex keccak256 of its RFC 8785 canonical JSON, and the
    document as JSON in its own key order.

    Raises:
        InvalidInputError: the document is not plain JSON (see `canonical_json`).
    """
    digest = to_hex(document_hash(doc))
    return digest, document_body(doc)


def document_body(doc: Any) -> str:
    """How a document is kept: JSON in its own key order (what `get_document` reads back)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json_int(text: str) -> int | float:
    """JCS writes large floats as plain digits (1e17 -> 100000000000000000); read those back as
    floats so the document re-hashes to the same value. Integers are only ever within ±(2^53-1)
    (docs/PROTOCOL.md §1), so 2^53 itself was a float too."""
    value = int(text)
    return value if abs(value) < 2**53 else float(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the database and survives a process crash; only a power cut
    # may lose the last commits. FULL would sync the disk on every commit (~10 ms each here).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
