"""Notary tables: the index of notarized records and co-signers (from Notary logs), and the durable
batch queue (records waiting for, or assigned to, a Merkle batch)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Subquery,
    Text,
    UniqueConstraint,
    and_,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracechain.chain.notary import kind_name
from tracechain.hashing import to_hex
from tracechain.store.db import Activity, Base, Store

if TYPE_CHECKING:
    from tracechain.store.indexer import ChainLog, Handler

# Batch states. A batch row is written, with its root and its records assigned, before anything
# is sent; it becomes "anchored" once the chain holds its root. See services/notary.py.
SEALED = "sealed"
ANCHORED = "anchored"


class NotaryRecordRow(Base):
    """A record notarized on its own (single or co-signed), rebuilt from Notary logs."""

    __tablename__ = "notary_records"
    record_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))  # "single" | "cosigned"
    notarized_by: Mapped[str] = mapped_column(String(42), index=True)
    parties: Mapped[str] = mapped_column(Text, default="")  # comma-separated, in signing order
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class NotaryCosignerRow(Base):
    """One party's co-signature of a record (the shared activity table keeps one row per log, so
    co-signers other than the submitter are listed here)."""

    __tablename__ = "notary_cosigners"
    __table_args__ = (UniqueConstraint("record_hash", "party", name="uq_notary_cosigner"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_hash: Mapped[str] = mapped_column(String(66), index=True)
    party: Mapped[str] = mapped_column(String(42), index=True)
    position: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class NotaryBatchRow(Base):
    """A Merkle batch: sealed (root fixed, records assigned) before it is sent, then anchored."""

    __tablename__ = "notary_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    root: Mapped[str] = mapped_column(String(66), unique=True)
    record_count: Mapped[int] = mapped_column(Integer)
    metadata_hash: Mapped[str] = mapped_column(String(66))
    status: Mapped[str] = mapped_column(String(16), index=True, default=SEALED)
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    notarized_by: Mapped[str | None] = mapped_column(String(42), nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    timestamp: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class NotaryQueueRow(Base):
    """A record queued for batch notarization; `batch_id` is set when a batch is sealed."""

    __tablename__ = "notary_queue"
    record_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)  # queue order
    submitted_by: Mapped[str | None] = mapped_column(String(42), nullable=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("notary_batches.id"), nullable=True, index=True)


# ---------------------------------------------------------------- index handlers
def _record(method: str) -> Handler:
    def handle(session: Session, log: ChainLog) -> None:
        a = log.args
        record_hash = to_hex(a["recordHash"])
        actor = a["notarizedBy"] if method == "single" else a["submittedBy"]
        parties = list(a.get("parties", ()))
        session.merge(
            NotaryRecordRow(
                record_hash=record_hash,
                kind=kind_name(bytes(a["kind"])),
                method=method,
                notarized_by=actor,
                parties=",".join(parties),
                tx_hash=log.tx_hash,
                log_index=log.log_index,
                block_number=log.block_number,
                timestamp=log.timestamp,
            )
        )
        session.add(log.activity(actor, f"notary.{method}", record_hash))
        for position, party in enumerate(parties):
            session.add(
                NotaryCosignerRow(
                    record_hash=record_hash,
                    party=party,
                    position=position,
                    tx_hash=log.tx_hash,
                    log_index=log.log_index,
                    block_number=log.block_number,
                    timestamp=log.timestamp,
                )
            )

    return handle


def _batch_anchored(session: Session, log: ChainLog) -> None:
    root = to_hex(log.args["root"])
    session.add(log.activity(log.args["notarizedBy"], "notary.batch", root))
    # A batch sealed by this store may have been anchored by a run that stopped before noting it.
    session.execute(
        update(NotaryBatchRow)
        .where(NotaryBatchRow.root == root, NotaryBatchRow.status != ANCHORED)
        .values(
            status=ANCHORED,
            notarized_by=log.args["notarizedBy"],
            tx_hash=log.tx_hash,
            block_number=log.block_number,
            timestamp=log.timestamp,
        )
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Notary", "RecordNotarized"): _record("single"),
    ("Notary", "RecordCoSigned"): _record("cosigned"),
    ("Notary", "BatchAnchored"): _batch_anchored,
}


# ---------------------------------------------------------------- queries
@dataclass(frozen=True)
class ActivityEntry:
    """One write in an actor's audit trail."""

    actor: str
    kind: str
    subject: str
    contract: str
    tx_hash: str
    log_index: int
    block_number: int
    timestamp: int


def _trail(actor: str) -> Subquery:
    """Everything `actor` wrote: the shared activity rows plus its co-signatures (kind `notary.cosign`)."""
    own = select(
        Activity.actor,
        Activity.kind,
        Activity.subject,
        Activity.contract,
        Activity.tx_hash,
        Activity.log_index,
        Activity.block_number,
        Activity.timestamp,
    ).where(Activity.actor == actor)
    cosigned = select(
        NotaryCosignerRow.party.label("actor"),
        literal("notary.cosign").label("kind"),
        NotaryCosignerRow.record_hash.label("subject"),
        literal("Notary").label("contract"),
        NotaryCosignerRow.tx_hash,
        NotaryCosignerRow.log_index,
        NotaryCosignerRow.block_number,
        NotaryCosignerRow.timestamp,
    ).where(NotaryCosignerRow.party == actor)
    return union_all(own, cosigned).subquery()


def _newest_first(trail: Subquery) -> tuple[Any, ...]:
    # A log is (block, index); one actor has at most one entry per log and kind and subject.
    c = trail.c
    return c.block_number.desc(), c.log_index.desc(), c.kind, c.subject


def actor_activity(session: Session, actor: str, limit: int | None, offset: int = 0) -> tuple[list[ActivityEntry], int]:
    """Everything `actor` wrote, newest first: the shared activity rows plus its co-signatures
    (kind `notary.cosign`). Returns one page and the total count."""
    trail = _trail(actor)
    total = int(session.scalar(select(func.count()).select_from(trail)) or 0)
    page = select(trail).order_by(*_newest_first(trail)).offset(offset).limit(limit)
    return [ActivityEntry(*row) for row in session.execute(page)], total


def actor_activity_rows(store: Store, actor: str, chunk: int) -> Iterator[list[ActivityEntry]]:
    """The actor's whole trail, newest first, `chunk` entries at a time. Each chunk is read in a
    short session of its own and continues after the last entry of the one before (keyset
    paging), so a slow reader holds no transaction open and new writes shift nothing."""
    after: ActivityEntry | None = None
    while True:
        trail = _trail(actor)
        query = select(trail).order_by(*_newest_first(trail)).limit(chunk)
        if after is not None:
            c, a = trail.c, after
            query = query.where(
                or_(
                    c.block_number < a.block_number,
                    and_(c.block_number == a.block_number, c.log_index < a.log_index),
                    and_(c.block_number == a.block_number, c.log_index == a.log_index, c.kind > a.kind),
                    and_(
                        c.block_number == a.block_number,
                        c.log_index == a.log_index,
                        c.kind == a.kind,
                        c.subject > a.subject,
                    ),
                )
            )
        with store.session() as session:
            entries = [ActivityEntry(*row) for row in session.execute(query)]
        if entries:
            yield entries
        if len(entries) < chunk:
            return
        after = entries[-1]
