"""Lineage edges between subjects, as captured EPCIS events state them (written by the capture service
beside the event facts, keyed by document hash): containment (aggregation), transformation (made
into), lot membership (an item commissioned with its lot in ILMD) and association. An edge counts
only while its event is recorded on-chain and not declared erroneous (queries join the chain index)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Index, Integer, String, and_, exists, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from tracechain.chain.provenance import EntryKind
from tracechain.store.db import Base
from tracechain.store.provenance import EntryRow, EventFactsRow

# Edge kinds: what `from` is to `to`.
CONTAINS = "contains"  # an aggregation ADD / OBSERVE: from (parent) holds to (child) from the event on
RELEASES = "releases"  # an aggregation DELETE: from (parent) no longer holds to (child; "*" = all)
MADE_INTO = "made_into"  # a transformation: from (input) went into to (output)
LOT_OF = "lot_of"  # from (a lot) is the lot of to (an item commissioned with it)
ASSOCIATES = "associates"  # an association ADD / OBSERVE: from (parent) is associated with to (child)
DISSOCIATES = "dissociates"  # an association DELETE
ALL_CHILDREN = "*"


class LineageEdgeRow(Base):
    """One stated relation between two subjects, and the event that states it."""

    __tablename__ = "lineage_edges"
    __table_args__ = (
        Index("ix_lineage_to", "to_key", "kind"),
        Index("ix_lineage_from", "from_key", "kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_hash: Mapped[str] = mapped_column(String(66), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_key: Mapped[str] = mapped_column(String(66))
    from_id: Mapped[str] = mapped_column(String(512))
    to_key: Mapped[str] = mapped_column(String(66))
    to_id: Mapped[str] = mapped_column(String(512))


@dataclass(frozen=True)
class Edge:
    """A recorded edge with its event's time and on-chain identity."""

    kind: str
    from_key: str
    from_id: str
    to_key: str
    to_id: str
    document_hash: str
    event_id: str
    event_type: str
    event_time_ms: int
    event_time_offset: str
    block_number: int
    tx_hash: str


def _recorded_edges(session: Session, *conditions: Any, limit: int | None = None) -> list[Edge]:
    """Edges matching `conditions` whose event is recorded on-chain and not declared erroneous,
    in event-time order."""

    def first_entry(column: Any) -> Any:
        return (
            select(column)
            .where(EntryRow.document_hash == LineageEdgeRow.document_hash, EntryRow.kind == EntryKind.EVENT)
            .limit(1)
            .scalar_subquery()
        )

    declared = aliased(EntryRow)
    block, tx = first_entry(EntryRow.block_number), first_entry(EntryRow.tx_hash)
    not_declared = ~exists(
        select(declared.id).where(declared.kind == EntryKind.ERROR_DECLARATION, declared.ref == EventFactsRow.event_id)
    )
    query = (
        select(LineageEdgeRow, EventFactsRow, block, tx)
        .join(EventFactsRow, EventFactsRow.document_hash == LineageEdgeRow.document_hash)
        .where(and_(*conditions), not_declared, block.is_not(None))
        .order_by(EventFactsRow.event_time_ms, LineageEdgeRow.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        Edge(
            kind=row.kind,
            from_key=row.from_key,
            from_id=row.from_id,
            to_key=row.to_key,
            to_id=row.to_id,
            document_hash=row.document_hash,
            event_id=facts.event_id,
            event_type=facts.event_type,
            event_time_ms=facts.event_time_ms,
            event_time_offset=facts.event_time_offset,
            block_number=int(block),
            tx_hash=str(tx),
        )
        for row, facts, block, tx in session.execute(query)
    ]


def edges_to(session: Session, key: str, kinds: tuple[str, ...], limit: int | None = None) -> list[Edge]:
    """Recorded edges that end at subject `key` (its containers, inputs, lots)."""
    return _recorded_edges(session, LineageEdgeRow.to_key == key, LineageEdgeRow.kind.in_(kinds), limit=limit)


def edges_from(session: Session, key: str, kinds: tuple[str, ...], limit: int | None = None) -> list[Edge]:
    """Recorded edges that start at subject `key` (its contents, outputs, items)."""
    return _recorded_edges(session, LineageEdgeRow.from_key == key, LineageEdgeRow.kind.in_(kinds), limit=limit)


def releases(session: Session, parent_key: str) -> list[Edge]:
    """Recorded DELETE aggregations of `parent_key` (for one child, or for all: to_key "*")."""
    return _recorded_edges(session, LineageEdgeRow.from_key == parent_key, LineageEdgeRow.kind == RELEASES)


def entries_between(
    session: Session, subject_key: str, start_ms: int, end_ms: int | None, limit: int
) -> list[tuple[EntryRow, EventFactsRow]]:
    """The recorded EPCIS events of a subject whose event time lies in [start_ms, end_ms)."""
    query = (
        select(EntryRow, EventFactsRow)
        .join(EventFactsRow, EventFactsRow.document_hash == EntryRow.document_hash)
        .where(
            EntryRow.subject_key == subject_key,
            EntryRow.kind == EntryKind.EVENT,
            EventFactsRow.event_time_ms >= start_ms,
        )
        .order_by(EventFactsRow.event_time_ms, EntryRow.seq)
        .limit(limit)
    )
    if end_ms is not None:
        query = query.where(EventFactsRow.event_time_ms < end_ms)
    return [(entry, facts) for entry, facts in session.execute(query)]


def recall_time(session: Session, subject_key: str) -> int | None:
    """The block time (seconds) of a subject's RECALL entry, if it was recalled."""
    found = session.scalar(
        select(EntryRow.timestamp).where(EntryRow.subject_key == subject_key, EntryRow.kind == EntryKind.RECALL)
    )
    return int(found) if found is not None else None
