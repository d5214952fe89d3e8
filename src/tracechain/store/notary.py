"""Notary tables: the index of notarized records, their co-signers and anchored batches (rebuilt from
Notary logs, and rewound with the chain), and the durable batch queue (records waiting for, or
assigned to, a Merkle batch this service anchors)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Subquery,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracechain.chain.notary import batch_id, cosigned_record_id, kind_name, single_record_id
from tracechain.hashing import to_hex
from tracechain.store.db import Activity, Base, Store
from tracechain.types import to_address

if TYPE_CHECKING:
    from tracechain.store.indexer import ChainLog, Handler, Rewind

CONTRACT = "Notary"

# Batch states. A batch row is written, with its root and its records assigned, before anything
# is sent; it is "anchored" while the chain holds its root under the notary that sent it, and
# returns to "sealed" when the chain forgets the block that anchored it. See services/notary.py.
SEALED = "sealed"
ANCHORED = "anchored"


class NotarizationRow(Base):
    """A record notarized on its own (single or co-signed) under its record id, from Notary logs.
    One record hash may have many: by different notaries, or co-signed by different party sets."""

    __tablename__ = "notarizations"
    id: Mapped[str] = mapped_column(String(66), primary_key=True)  # the record id
    record_hash: Mapped[str] = mapped_column(String(66), index=True)
    kind: Mapped[str] = mapped_column(String(66))  # the kind name (0x-hex if not an encoded kind)
    method: Mapped[str] = mapped_column(String(16))  # "single" | "cosigned"
    notary: Mapped[str | None] = mapped_column(String(42), index=True, nullable=True)  # single only
    parties: Mapped[str] = mapped_column(Text, default="")  # co-signed: comma-separated, in signing order
    parties_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class NotaryPartyRow(Base):
    """One party's co-signature of a record, so each party's audit trail lists it."""

    __tablename__ = "notarization_parties"
    __table_args__ = (UniqueConstraint("record_id", "party", name="uq_notarization_party"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(66), index=True)
    record_hash: Mapped[str] = mapped_column(String(66))
    party: Mapped[str] = mapped_column(String(42), index=True)
    position: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class NotaryAnchorRow(Base):
    """A batch root anchored by a notary (any notary, this service's or not), from Notary logs."""

    __tablename__ = "notary_anchors"
    id: Mapped[str] = mapped_column(String(66), primary_key=True)  # the batch id
    root: Mapped[str] = mapped_column(String(66), index=True)
    notary: Mapped[str] = mapped_column(String(42), index=True)
    record_count: Mapped[int] = mapped_column(Integer)
    metadata_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class NotaryBatchRow(Base):
    """A Merkle batch of the queue: sealed (root fixed, records assigned) before it is sent, then
    anchored. `notary` is the account it was last sent as (written before sending, so a run that
    stops after sending can find it on the chain); `indexed` is true once the indexer has seen
    its `BatchAnchored` log in a block it keeps."""

    __tablename__ = "notary_queue_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    root: Mapped[str] = mapped_column(String(66), unique=True)
    record_count: Mapped[int] = mapped_column(Integer)
    metadata_hash: Mapped[str] = mapped_column(String(66))
    status: Mapped[str] = mapped_column(String(16), index=True, default=SEALED)
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    notary: Mapped[str | None] = mapped_column(String(42), nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    timestamp: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    indexed: Mapped[bool] = mapped_column(Boolean, default=False)


class NotaryQueueRow(Base):
    """A record queued for batch notarization; `batch_id` is set when a batch is sealed. Keyed by
    record hash and kind: nobody can keep a record out of the queue by queueing its hash first
    under another kind."""

    __tablename__ = "notary_queue_entries"
    record_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)  # queue order
    submitted_by: Mapped[str | None] = mapped_column(String(42), nullable=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("notary_queue_batches.id"), nullable=True, index=True)


# ---------------------------------------------------------------- index handlers
def _notarized(session: Session, log: ChainLog) -> None:
    a = log.args
    record_hash, kind, notary = to_hex(a["recordHash"]), bytes(a["kind"]), to_address(a["notary"])
    session.merge(
        NotarizationRow(
            id=to_hex(single_record_id(record_hash, kind, notary)),
            record_hash=record_hash,
            kind=kind_name(kind),
            method="single",
            notary=notary,
            parties="",
            parties_hash=None,
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
            timestamp=log.timestamp,
        )
    )
    session.add(log.activity(notary, "notary.single", record_hash))


def _cosigned(session: Session, log: ChainLog) -> None:
    a = log.args
    record_hash, kind = to_hex(a["recordHash"]), bytes(a["kind"])
    parties = [to_address(p) for p in a["parties"]]
    record_id = to_hex(cosigned_record_id(record_hash, kind, parties))
    session.merge(
        NotarizationRow(
            id=record_id,
            record_hash=record_hash,
            kind=kind_name(kind),
            method="cosigned",
            notary=None,
            parties=",".join(parties),
            parties_hash=to_hex(a["partiesHash"]),
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
            timestamp=log.timestamp,
        )
    )
    # No submitter is recorded (the signatures are the authority): each party's trail lists it.
    for position, party in enumerate(parties):
        session.add(
            NotaryPartyRow(
                record_id=record_id,
                record_hash=record_hash,
                party=party,
                position=position,
                tx_hash=log.tx_hash,
                log_index=log.log_index,
                block_number=log.block_number,
                timestamp=log.timestamp,
            )
        )


def _batch_anchored(session: Session, log: ChainLog) -> None:
    a = log.args
    root, notary = to_hex(a["root"]), to_address(a["notary"])
    session.merge(
        NotaryAnchorRow(
            id=to_hex(batch_id(root, notary)),
            root=root,
            notary=notary,
            record_count=int(a["recordCount"]),
            metadata_hash=to_hex(a["metadataHash"]),
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
            timestamp=log.timestamp,
        )
    )
    session.add(log.activity(notary, "notary.batch", root))
    # A batch sealed here and sent as this notary: anchored, as a kept block says (a run may have
    # stopped before noting it, or the chain may have re-included it in another block).
    session.execute(
        update(NotaryBatchRow)
        .where(NotaryBatchRow.root == root, NotaryBatchRow.notary == notary)
        .values(
            status=ANCHORED,
            tx_hash=log.tx_hash,
            block_number=log.block_number,
            timestamp=log.timestamp,
            indexed=True,
            last_error=None,
        )
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    (CONTRACT, "RecordNotarized"): _notarized,
    (CONTRACT, "RecordCoSigned"): _cosigned,
    (CONTRACT, "BatchAnchored"): _batch_anchored,
}


def rewind(context: Rewind) -> None:
    """Forget notarizations and anchors from blocks after `context.to_block`, and send this
    service's batches anchored there back to the queue as sealed (same root, records still
    assigned), so the next flush anchors them again. Nothing forgotten stays "anchored"."""
    s, to_block = context.session, context.to_block
    for table in (NotarizationRow, NotaryPartyRow, NotaryAnchorRow):
        s.execute(delete(table).where(table.block_number > to_block))
    vanished = list(
        s.scalars(
            select(NotaryBatchRow).where(NotaryBatchRow.status == ANCHORED, NotaryBatchRow.block_number > to_block)
        )
    )
    for batch in vanished:
        batch.last_error = f"its anchor in block {batch.block_number} was rolled back; the next flush anchors it again"
        batch.status, batch.tx_hash, batch.block_number, batch.timestamp = SEALED, None, None, None
        batch.indexed = False


# ---------------------------------------------------------------- queries
def notarizations_of(session: Session, record_hash: str) -> list[NotarizationRow]:
    """The indexed single and co-signed notarizations of `record_hash`, oldest first."""
    query = (
        select(NotarizationRow)
        .where(NotarizationRow.record_hash == record_hash.lower())
        .order_by(NotarizationRow.block_number, NotarizationRow.log_index)
    )
    return list(session.scalars(query))


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
        NotaryPartyRow.party.label("actor"),
        literal("notary.cosign").label("kind"),
        NotaryPartyRow.record_hash.label("subject"),
        literal(CONTRACT).label("contract"),
        NotaryPartyRow.tx_hash,
        NotaryPartyRow.log_index,
        NotaryPartyRow.block_number,
        NotaryPartyRow.timestamp,
    ).where(NotaryPartyRow.party == actor)
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
