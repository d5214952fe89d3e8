"""The EPCIS 2.0 query index: the facts of captured event documents that queries read and the index of
`provenance` does not hold (canonical read point and business location, declared eventID,
transformationID, error declaration), and the SQL of EPCIS queries over recorded events.

An event is *recorded* when the chain appended it (an EVENT or ERROR_DECLARATION entry with its document
hash in `subject_entries`); its *record position* is the (block, log index) of its first entry, its
record time that block's timestamp. Queries answer in record order (or by event time), keyset-paged on
that position, so a page once served never changes and events recorded later come after it.

`epcis_query_facts` is derived from the stored documents of `epcis_events` (one row each, written by the
EPCIS repository service when it finds documents it has not read yet); it is not chain-derived, so it
needs no rewind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Select,
    String,
    and_,
    exists,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from tracechain.chain.provenance import EntryKind
from tracechain.epcis.query import ErrorDeclarations, EventQuery, IdentifierMatch
from tracechain.hashing import keccak_text, to_hex
from tracechain.store.db import Base, Document, IndexedBlock, _json_int
from tracechain.store.provenance import EntryRow, EventFactsRow, EventSubjectRow, SubjectRow

RECORD_KINDS = (int(EntryKind.EVENT), int(EntryKind.ERROR_DECLARATION))


class EpcisQueryFactsRow(Base):
    """What an event document says that queries match on and `epcis_events` does not keep."""

    __tablename__ = "epcis_query_facts"
    __table_args__ = (
        Index("ix_epcis_query_facts_read_point", "read_point"),
        Index("ix_epcis_query_facts_biz_location", "biz_location"),
        Index("ix_epcis_query_facts_declared_id", "declared_id"),
        Index("ix_epcis_query_facts_transformation_id", "transformation_id"),
        Index("ix_epcis_query_facts_declaration", "error_reason", "declaration_time_ms"),
    )
    document_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    read_point: Mapped[str | None] = mapped_column(String(512), nullable=True)  # canonical identifier
    biz_location: Mapped[str | None] = mapped_column(String(512), nullable=True)  # canonical identifier
    declared_id: Mapped[str | None] = mapped_column(String(512), nullable=True)  # the event's own eventID
    transformation_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    error_reason: Mapped[str | None] = mapped_column(String(256), nullable=True)  # bare CBV reason or URI
    declaration_time_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


@dataclass(frozen=True)
class RecordedEvent:
    """An event document the chain recorded, with the position and time of its first entry."""

    document_hash: str
    event_id: str  # 0x-hex sha-256 digest of its Event Hash ID
    event_type: str
    error_declaration: bool
    event_time_ms: int
    block_number: int
    log_index: int
    timestamp: int  # the block's: the event's record time
    tx_hash: str
    kind: int

    def sort_key(self, order_by: str | None) -> tuple[int, ...]:
        """Its position in a query's order (what a page token carries)."""
        if order_by == "eventTime":
            return (self.event_time_ms, self.block_number, self.log_index)
        return (self.block_number, self.log_index)


@dataclass(frozen=True)
class ProofEntry:
    """One entry of a recorded document in a subject's hash chain."""

    document_hash: str
    subject_key: str
    identifier: str
    seq: int
    kind: int
    ref: str
    code: int
    actor: str
    timestamp: int
    head: str
    tx_hash: str
    log_index: int
    block_number: int


@dataclass(frozen=True)
class Declaration:
    """A recorded error declaration of an event (its first entry)."""

    event_id: str
    document_hash: str
    tx_hash: str
    block_number: int
    timestamp: int


# ---------------------------------------------------------------- facts of documents
def unread_documents(session: Session, limit: int) -> list[str]:
    """Up to `limit` document hashes of `epcis_events` without a query-facts row (cheap when none: the
    two tables' counts are compared first)."""
    events = session.scalar(select(func.count()).select_from(EventFactsRow)) or 0
    facts = session.scalar(select(func.count()).select_from(EpcisQueryFactsRow)) or 0
    if facts >= events:
        return []
    missing = ~exists().where(EpcisQueryFactsRow.document_hash == EventFactsRow.document_hash)
    return list(session.scalars(select(EventFactsRow.document_hash).where(missing).limit(limit)))


def documents(session: Session, digests: Sequence[str]) -> dict[str, Any]:
    """The stored documents among `digests`, as `Store.get_document` reads them (in captured key order),
    in one query per 900."""
    found: dict[str, Any] = {}
    for chunk in _chunks(list(dict.fromkeys(digests))):
        for digest, body in session.execute(select(Document.hash, Document.body).where(Document.hash.in_(chunk))):
            found[digest] = json.loads(body, parse_int=_json_int)
    return found


# ---------------------------------------------------------------- events
_first = aliased(EntryRow, name="first_entry")
_earlier = aliased(EntryRow, name="earlier_entry")
_declaring = aliased(EntryRow, name="declaring_entry")
_E = EventFactsRow
_Q = EpcisQueryFactsRow


def _prefix(column: Any, prefix: str, dialect: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`: a range on SQLite (its binary collation makes it exact and the
    index serves it), LIKE elsewhere (a locale collation may not order by code point)."""
    if dialect == "sqlite":
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return and_(column >= prefix, column < upper)
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")


def _matches(match: IdentifierMatch, dialect: str) -> ColumnElement[bool]:
    """Some subject of the event, in one of the match's roles, is one of its identifiers (by key) or
    under one of its class prefixes."""
    named: list[ColumnElement[bool]] = []
    if match.canonicals:
        keys = [to_hex(keccak_text(c)) for c in match.canonicals]
        named.append(EventSubjectRow.subject_key.in_(keys))
    if match.prefixes:
        starts = [_prefix(SubjectRow.identifier, p, dialect) for p in match.prefixes]
        under = select(SubjectRow.subject_key).where(or_(*starts))
        named.append(EventSubjectRow.subject_key.in_(under))
    return exists().where(
        EventSubjectRow.document_hash == _E.document_hash,
        EventSubjectRow.role.in_(match.roles),
        or_(*named),
    )


def _sort_columns(query: EventQuery) -> list[Any]:
    if query.order_by == "eventTime":
        return [_E.event_time_ms, _first.block_number, _first.log_index]
    return [_first.block_number, _first.log_index]


def _recorded_events(session: Session, query: EventQuery) -> Select[*tuple[Any, ...]]:
    """The recorded documents `query` matches (unordered)."""
    dialect = session.get_bind().dialect.name
    stmt = (
        select(
            _E.document_hash,
            _E.event_id,
            _E.event_type,
            _E.error_declaration,
            _E.event_time_ms,
            _first.block_number,
            _first.log_index,
            _first.timestamp,
            _first.tx_hash,
            _first.kind,
        )  # fmt: skip
        .join(_first, _first.document_hash == _E.document_hash)
        .where(
            _first.kind.in_(RECORD_KINDS),
            ~exists().where(
                _earlier.document_hash == _first.document_hash,
                _earlier.kind.in_(RECORD_KINDS),
                _earlier.id < _first.id,
            ),
        )
    )
    if query.needs_query_facts:
        stmt = stmt.join(_Q, _Q.document_hash == _E.document_hash)
    conditions: list[ColumnElement[bool]] = []
    if query.error_declarations == ErrorDeclarations.EXCLUDE:
        conditions.append(_E.error_declaration.is_(False))
        conditions.append(
            ~exists().where(_declaring.ref == _E.event_id, _declaring.kind == int(EntryKind.ERROR_DECLARATION))
        )
    elif query.error_declarations == ErrorDeclarations.ONLY:
        conditions.append(_E.error_declaration.is_(True))
    if query.event_types:
        conditions.append(_E.event_type.in_(query.event_types))
    if query.ge_event_time_ms is not None:
        conditions.append(_E.event_time_ms >= query.ge_event_time_ms)
    if query.lt_event_time_ms is not None:
        conditions.append(_E.event_time_ms < query.lt_event_time_ms)
    # Block timestamps are whole seconds: ts*1000 >= t  <=>  ts >= ceil(t/1000), and likewise for <.
    if query.ge_record_time_ms is not None:
        conditions.append(_first.timestamp >= -(-query.ge_record_time_ms // 1000))
    if query.lt_record_time_ms is not None:
        conditions.append(_first.timestamp < -(-query.lt_record_time_ms // 1000))
    if query.actions:
        conditions.append(_E.action.in_(query.actions))
    if query.biz_steps:
        conditions.append(_E.biz_step.in_(query.biz_steps))
    if query.dispositions:
        conditions.append(_E.disposition.in_(query.dispositions))
    if query.read_points:
        conditions.append(_Q.read_point.in_(query.read_points))
    if query.biz_locations:
        conditions.append(_Q.biz_location.in_(query.biz_locations))
    if query.transformation_ids:
        conditions.append(_Q.transformation_id.in_(query.transformation_ids))
    if query.declared_ids or query.event_digests:
        conditions.append(or_(_Q.declared_id.in_(query.declared_ids), _E.event_id.in_(query.event_digests)))
    if query.error_reasons:
        conditions.append(_Q.error_reason.in_(query.error_reasons))
    if query.ge_declaration_time_ms is not None:
        conditions.append(_Q.declaration_time_ms >= query.ge_declaration_time_ms)
    if query.lt_declaration_time_ms is not None:
        conditions.append(_Q.declaration_time_ms < query.lt_declaration_time_ms)
    conditions += [_matches(m, dialect) for m in query.matches]
    return stmt.where(*conditions)


def query_events(
    session: Session, query: EventQuery, *, after: Sequence[int] | None, limit: int
) -> list[RecordedEvent]:
    """Up to `limit` recorded documents `query` matches, in its order, after the position `after`."""
    stmt = _recorded_events(session, query)
    columns = _sort_columns(query)
    if after is not None:
        position = tuple_(*columns)
        stmt = stmt.where(position < tuple_(*after) if query.descending else position > tuple_(*after))
    stmt = stmt.order_by(*(c.desc() if query.descending else c.asc() for c in columns)).limit(limit)
    return [RecordedEvent(*row) for row in session.execute(stmt)]


def count_events(session: Session, query: EventQuery) -> int:
    """How many recorded documents `query` matches."""
    return int(session.scalar(select(func.count()).select_from(_recorded_events(session, query).subquery())) or 0)


# ---------------------------------------------------------------- proofs
def proof_entries(session: Session, records: Sequence[RecordedEvent]) -> dict[str, list[ProofEntry]]:
    """The chain entries of each recorded document in its first transaction (by document hash), in
    (block, log index) order, with each subject's canonical identifier."""
    first_tx = {r.document_hash: r.tx_hash for r in records}
    found: dict[str, list[ProofEntry]] = {h: [] for h in first_tx}
    hashes = list(first_tx)
    for chunk in _chunks(hashes):
        stmt = (
            select(EntryRow, SubjectRow.identifier)
            .join(SubjectRow, SubjectRow.subject_key == EntryRow.subject_key)
            .where(EntryRow.document_hash.in_(chunk), EntryRow.kind.in_(RECORD_KINDS))
            .order_by(EntryRow.block_number, EntryRow.log_index)
        )
        for entry, identifier in session.execute(stmt):
            if entry.tx_hash != first_tx[entry.document_hash]:
                continue  # the same document recorded again later: the first recording is its proof
            found[entry.document_hash].append(
                ProofEntry(
                    entry.document_hash,
                    entry.subject_key,
                    identifier,
                    entry.seq,
                    entry.kind,
                    entry.ref,
                    entry.code,
                    entry.actor,
                    entry.timestamp,
                    entry.head,
                    entry.tx_hash,
                    entry.log_index,
                    entry.block_number,
                )  # fmt: skip
            )
    return found


def subject_roles(session: Session, document_hashes: Sequence[str]) -> dict[tuple[str, str], list[str]]:
    """The roles in which each document names each subject: (document hash, subject key) -> roles."""
    found: dict[tuple[str, str], list[str]] = {}
    for chunk in _chunks(list(document_hashes)):
        stmt = select(EventSubjectRow.document_hash, EventSubjectRow.subject_key, EventSubjectRow.role).where(
            EventSubjectRow.document_hash.in_(chunk)
        )
        for document_hash, key, role in session.execute(stmt.order_by(EventSubjectRow.id)):
            found.setdefault((document_hash, key), []).append(role)
    return found


def declarations(session: Session, event_ids: Sequence[str]) -> dict[str, list[Declaration]]:
    """The recorded error declarations of each event (by event id digest), first entry of each."""
    found: dict[str, dict[str, Declaration]] = {}
    for chunk in _chunks(list(dict.fromkeys(event_ids))):
        stmt = (
            select(EntryRow.ref, EntryRow.document_hash, EntryRow.tx_hash, EntryRow.block_number, EntryRow.timestamp)
            .where(EntryRow.ref.in_(chunk), EntryRow.kind == int(EntryKind.ERROR_DECLARATION))
            .order_by(EntryRow.block_number, EntryRow.log_index)
        )
        for ref, document_hash, tx_hash, block, timestamp in session.execute(stmt):
            declaration = Declaration(ref, document_hash, tx_hash, int(block), int(timestamp))
            found.setdefault(ref, {}).setdefault(document_hash, declaration)
    return {ref: list(by_doc.values()) for ref, by_doc in found.items()}


def block_hashes(session: Session, numbers: Sequence[int]) -> dict[int, str]:
    """The hashes of indexed blocks (every block with logs is kept)."""
    found: dict[int, str] = {}
    values = list(numbers)
    for i in range(0, len(values), 900):
        stmt = select(IndexedBlock.number, IndexedBlock.hash).where(IndexedBlock.number.in_(values[i : i + 900]))
        found.update((int(number), digest) for number, digest in session.execute(stmt))
    return found


def first_recordings(
    session: Session, *, event_refs: Sequence[str], declaration_hashes: Sequence[str]
) -> dict[str, tuple[str, int]]:
    """Where the chain first recorded each event (EVENT entries by event id digest) and each error
    declaration (ERROR_DECLARATION entries by document hash): key -> (tx hash, block)."""
    found: dict[str, tuple[str, int]] = {}
    wanted = (
        (list(dict.fromkeys(event_refs)), EntryRow.ref, int(EntryKind.EVENT)),
        (list(dict.fromkeys(declaration_hashes)), EntryRow.document_hash, int(EntryKind.ERROR_DECLARATION)),
    )
    for keys, column, kind in wanted:
        for chunk in _chunks(keys):
            stmt = (
                select(column, EntryRow.tx_hash, EntryRow.block_number)
                .where(column.in_(chunk), EntryRow.kind == kind)
                .order_by(EntryRow.block_number, EntryRow.log_index)
            )
            for key, tx_hash, block in session.execute(stmt):
                found.setdefault(key, (tx_hash, int(block)))
    return found


# ---------------------------------------------------------------- discovery
def _recorded(document_hash: Any) -> ColumnElement[bool]:
    return exists().where(EntryRow.document_hash == document_hash, EntryRow.kind.in_(RECORD_KINDS))


def distinct_event_values(session: Session, field: str, *, after: str | None, limit: int) -> list[str]:
    """Distinct values of `field` (biz_step, disposition or event_type) among recorded documents, sorted."""
    column = {"biz_step": _E.biz_step, "disposition": _E.disposition, "event_type": _E.event_type}[field]
    stmt = select(column).where(column.is_not(None), _recorded(_E.document_hash)).distinct()
    if after is not None:
        stmt = stmt.where(column > after)
    return list(session.scalars(stmt.order_by(column).limit(limit)))


def distinct_locations(session: Session, field: str, *, after: str | None, limit: int) -> list[str]:
    """Distinct canonical read points or business locations (`field`) of recorded documents, sorted."""
    column = {"read_point": _Q.read_point, "biz_location": _Q.biz_location}[field]
    stmt = select(column).where(column.is_not(None), _recorded(_Q.document_hash)).distinct()
    if after is not None:
        stmt = stmt.where(column > after)
    return list(session.scalars(stmt.order_by(column).limit(limit)))


def instance_identifiers(session: Session, *, after: str | None, limit: int) -> list[str]:
    """Canonical identifiers of instance-level subjects (EPCs: items, logistic units, assets), sorted."""
    stmt = select(SubjectRow.identifier).where(SubjectRow.open.is_(False))
    if after is not None:
        stmt = stmt.where(SubjectRow.identifier > after)
    return list(session.scalars(stmt.order_by(SubjectRow.identifier).limit(limit)))


def _chunks(values: list[str], size: int = 900) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
