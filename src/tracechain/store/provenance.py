"""Index of provenance: subjects and the entries of their hash chains (rebuilt from ProvenanceRegistry
logs by the indexer, with the running head after every entry), the EPCIS facts of captured event
documents (written by the capture service, keyed by document hash), and the reservations that make
"record this event once" atomic across threads and processes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracechain.chain.provenance import EntryKind, genesis_head, next_head
from tracechain.errors import IntegrityError
from tracechain.hashing import parse_bytes32, to_hex
from tracechain.store.db import Base
from tracechain.types import to_address

if TYPE_CHECKING:
    from tracechain.store.indexer import ChainLog, Handler, Rewind

CONTRACT = "ProvenanceRegistry"


class SubjectRow(Base):
    """A subject (item, lot, logistic unit, asset, location) and its current state, as its logs tell it."""

    __tablename__ = "subjects"
    subject_key: Mapped[str] = mapped_column(String(66), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(512), index=True)  # canonical identifier as created
    originator: Mapped[str] = mapped_column(String(42), index=True)
    custodian: Mapped[str | None] = mapped_column(String(42), index=True, nullable=True)  # None when open
    open: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # "active" | "recalled"
    metadata_hash: Mapped[str] = mapped_column(String(66))
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(66))  # head after `entry_count` entries
    created_block: Mapped[int] = mapped_column(BigInteger, index=True)
    created_tx: Mapped[str] = mapped_column(String(66))
    created_at: Mapped[int] = mapped_column(BigInteger)


class EntryRow(Base):
    """One entry of a subject's hash chain; `seq` is its 0-based position, `head` the head after it."""

    __tablename__ = "subject_entries"
    __table_args__ = (
        UniqueConstraint("subject_key", "seq", name="uq_subject_entry_seq"),
        Index("ix_subject_entries_ref_kind", "ref", "kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_key: Mapped[str] = mapped_column(String(66))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[int] = mapped_column(Integer)  # EntryKind
    ref: Mapped[str] = mapped_column(String(66))  # event id, new custodian (as bytes32) or zero
    document_hash: Mapped[str] = mapped_column(String(66), index=True)
    code: Mapped[int] = mapped_column(Integer)  # bizStep code of events
    actor: Mapped[str] = mapped_column(String(42), index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)


class EventFactsRow(Base):
    """What a captured EPCIS event document says, for queries and lineage (written at capture, before
    the event is sent; whether it was recorded is what `subject_entries` says)."""

    __tablename__ = "epcis_events"
    document_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(66), index=True)  # sha-256 digest of the Event Hash ID
    event_type: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    biz_step: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)
    disposition: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)
    read_point: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    biz_location: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    event_time_ms: Mapped[int] = mapped_column(BigInteger, index=True)  # epoch milliseconds
    event_time_offset: Mapped[str] = mapped_column(String(8))
    error_declaration: Mapped[bool] = mapped_column(Boolean, default=False)
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EventSubjectRow(Base):
    """One identifier an event names, in one role (epc, parent, child, input, output, quantity, ...)."""

    __tablename__ = "epcis_event_subjects"
    __table_args__ = (
        UniqueConstraint("document_hash", "subject_key", "role", name="uq_event_subject_role"),
        Index("ix_event_subjects_subject_role", "subject_key", "role"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_hash: Mapped[str] = mapped_column(String(66), index=True)
    subject_key: Mapped[str] = mapped_column(String(66))
    identifier: Mapped[str] = mapped_column(String(512))
    role: Mapped[str] = mapped_column(String(16))


class ReservationRow(Base):
    """An event being recorded: taken (unique by event id) before the transaction is sent, so two
    captures of the same event cannot both be relayed; `tx_hash` is set once it is sent."""

    __tablename__ = "event_reservations"
    event_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    document_hash: Mapped[str] = mapped_column(String(66))
    reserved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True, index=True)


# ---------------------------------------------------------------- handlers
def _key(log: ChainLog) -> str:
    return to_hex(bytes(log.args["subjectKey"]))


def _created(session: Session, log: ChainLog) -> None:
    a = log.args
    key = _key(log)
    originator = to_address(a["originator"])
    metadata_hash = to_hex(bytes(a["metadataHash"]))
    session.add(
        SubjectRow(
            subject_key=key,
            identifier=str(a["identifier"]),
            originator=originator,
            custodian=None if a["open"] else originator,
            open=bool(a["open"]),
            status="active",
            metadata_hash=metadata_hash,
            entry_count=0,
            head=to_hex(genesis_head(parse_bytes32(key), originator, parse_bytes32(metadata_hash))),
            created_block=log.block_number,
            created_tx=log.tx_hash,
            created_at=log.timestamp,
        )
    )
    session.add(log.activity(originator, "subject.create", str(a["identifier"])))


_ACTIVITY_KIND: dict[int, str] = {
    EntryKind.EVENT: "subject.event",
    EntryKind.ERROR_DECLARATION: "subject.error_declaration",
    EntryKind.CUSTODY: "subject.custody",
    EntryKind.FORCED_CUSTODY: "subject.forced_custody",
    EntryKind.RECALL: "subject.recall",
}


def _appended(session: Session, log: ChainLog) -> None:
    a = log.args
    key = _key(log)
    subject = session.get(SubjectRow, key)
    if subject is None:  # the contract emits nothing for unknown subjects: the index lost a creation
        raise IntegrityError(f"an entry in tx {log.tx_hash} names subject {key} the index does not hold")
    # No replay check per log: a chunk is applied once, with its checkpoint, in one transaction.
    kind, ref = int(a["kind"]), to_hex(bytes(a["ref"]))
    actor = to_address(a["actor"])
    document_hash = to_hex(bytes(a["documentHash"]))
    code = int(a["code"])
    head = to_hex(
        next_head(
            parse_bytes32(subject.head),
            kind,
            parse_bytes32(ref),
            parse_bytes32(document_hash),
            code,
            actor,
            log.timestamp,
        )
    )
    session.add(
        EntryRow(
            subject_key=key,
            seq=subject.entry_count,
            kind=kind,
            ref=ref,
            document_hash=document_hash,
            code=code,
            actor=actor,
            timestamp=log.timestamp,
            head=head,
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
        )
    )
    subject.entry_count += 1
    subject.head = head
    if kind in (EntryKind.CUSTODY, EntryKind.FORCED_CUSTODY):
        subject.custodian = to_address("0x" + ref[-40:])
    elif kind == EntryKind.RECALL:
        subject.status = "recalled"
    session.add(log.activity(actor, _ACTIVITY_KIND.get(kind, "subject.entry"), subject.identifier))


HANDLERS: dict[tuple[str, str], Handler] = {
    (CONTRACT, "SubjectCreated"): _created,
    (CONTRACT, "EntryAppended"): _appended,
}


def rewind(context: Rewind) -> None:
    """Forget entries and subjects from blocks after `context.to_block` and recompute the state of
    the subjects whose entries were forgotten from the entries that remain."""
    s, to_block = context.session, context.to_block
    touched = set(s.scalars(select(EntryRow.subject_key).where(EntryRow.block_number > to_block).distinct()))
    s.execute(delete(EntryRow).where(EntryRow.block_number > to_block))
    s.execute(delete(SubjectRow).where(SubjectRow.created_block > to_block))
    s.flush()
    for key in touched:
        subject = s.get(SubjectRow, key)
        if subject is not None:
            restate(s, subject)


def restate(session: Session, subject: SubjectRow) -> None:
    """Recompute a subject's custodian, status, count and head from its indexed entries."""
    entries = entries_of(session, subject.subject_key)
    subject.custodian = None if subject.open else subject.originator
    subject.status = "active"
    subject.entry_count = len(entries)
    subject.head = (
        entries[-1].head
        if entries
        else to_hex(
            genesis_head(parse_bytes32(subject.subject_key), subject.originator, parse_bytes32(subject.metadata_hash))
        )
    )
    for entry in entries:
        if entry.kind in (EntryKind.CUSTODY, EntryKind.FORCED_CUSTODY):
            subject.custodian = to_address("0x" + entry.ref[-40:])
        elif entry.kind == EntryKind.RECALL:
            subject.status = "recalled"


# ---------------------------------------------------------------- queries
def known_subjects(session: Session, keys: list[str]) -> dict[str, SubjectRow]:
    """The indexed subjects among `keys` (0x-hex), by key."""
    found: dict[str, SubjectRow] = {}
    for chunk in _chunks(keys):
        for row in session.scalars(select(SubjectRow).where(SubjectRow.subject_key.in_(chunk))):
            found[row.subject_key] = row
    return found


def known_facts(session: Session, document_hashes: list[str]) -> set[str]:
    """Of `document_hashes`, those whose EPCIS facts are stored."""
    found: set[str] = set()
    for chunk in _chunks(document_hashes):
        found.update(session.scalars(select(EventFactsRow.document_hash).where(EventFactsRow.document_hash.in_(chunk))))
    return found


def recorded_events(session: Session, event_ids: list[str]) -> dict[str, int]:
    """Of `event_ids` (0x-hex digests), those the index holds as recorded events, with the block."""
    found: dict[str, int] = {}
    for chunk in _chunks(event_ids):
        rows = session.execute(
            select(EntryRow.ref, EntryRow.block_number).where(EntryRow.kind == 1, EntryRow.ref.in_(chunk))
        )
        for ref, block in rows:
            found.setdefault(ref, int(block))
    return found


def reservations(session: Session, record_keys: list[str]) -> dict[str, ReservationRow]:
    """The reservations held on `record_keys`, by key."""
    found: dict[str, ReservationRow] = {}
    for chunk in _chunks(record_keys):
        for row in session.scalars(select(ReservationRow).where(ReservationRow.event_id.in_(chunk))):
            found[row.event_id] = row
    return found


def entries_page(session: Session, subject_key: str, *, before: int | None, limit: int) -> list[EntryRow]:
    """Up to `limit` entries of a subject, newest first, with `seq < before` when given."""
    query = select(EntryRow).where(EntryRow.subject_key == subject_key)
    if before is not None:
        query = query.where(EntryRow.seq < before)
    return list(session.scalars(query.order_by(EntryRow.seq.desc()).limit(limit)))


def entry_at(session: Session, subject_key: str, seq: int) -> EntryRow | None:
    """Entry `seq` of a subject."""
    return session.scalar(select(EntryRow).where(EntryRow.subject_key == subject_key, EntryRow.seq == seq))


def entries_of(session: Session, subject_key: str) -> list[EntryRow]:
    """Every entry of a subject, in chain order."""
    return list(session.scalars(select(EntryRow).where(EntryRow.subject_key == subject_key).order_by(EntryRow.seq)))


def declarations_of(session: Session, subject_key: str, event_ids: list[str]) -> list[EntryRow]:
    """The ERROR_DECLARATION entries of a subject that declare any of `event_ids` erroneous."""
    if not event_ids:
        return []
    query = select(EntryRow).where(
        EntryRow.subject_key == subject_key,
        EntryRow.kind == EntryKind.ERROR_DECLARATION,
        EntryRow.ref.in_(event_ids[:900]),
    )
    return list(session.scalars(query))


def recall_entry(session: Session, subject_key: str) -> EntryRow | None:
    """The RECALL entry of a subject, if it was recalled."""
    query = select(EntryRow).where(EntryRow.subject_key == subject_key, EntryRow.kind == EntryKind.RECALL)
    return session.scalar(query)


def _chunks(values: list[str], size: int = 900) -> list[list[str]]:
    """`values` in slices small enough for any database's limit on bound parameters."""
    return [values[i : i + size] for i in range(0, len(values), size)]
