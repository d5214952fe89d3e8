"""Lineage and recall propagation: what a subject was made from and made into, what it was packed in
and what it holds, the events it inherits from its containers, and whether a recall upstream
reaches it — each link verified against the chain.

Edges come from recorded EPCIS events (store/lineage.py): aggregations (a parent holds its children
from an ADD until a DELETE), transformations (inputs made into outputs), commissioning with a lot in
ILMD (the lot holds the item). A recall reaches everything made from the recalled subject (through
any depth of transformations and lots) and everything inside it at the time of the recall.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tracechain.epcis import Identifier, PreparedEvent, SubjectRole, parse_identifier
from tracechain.epcis.vocabulary import biz_step_name
from tracechain.hashing import document_hash, to_hex
from tracechain.services.provenance.trace import TraceReader
from tracechain.services.runtime import Runtime
from tracechain.store import lineage as graph
from tracechain.store.provenance import SubjectRow, recall_entry

# Relations as a reader sees them from the subject.
CONTAINED_IN, CONTAINS = "contained_in", "contains"
MADE_FROM, MADE_INTO = "made_from", "made_into"
IN_LOT, LOT_OF = "in_lot", "lot_of"
MAX_LINKS = 200  # links of one kind served with a trace; a recall's reach is paged separately
MAX_INHERITED = 200
MAX_CONTAINMENT_DEPTH = 5  # a wheel in a case on a pallet in a container on a ship...
ILMD_LOT_KEYS = ("cbvmda:lotNumber", "urn:epcglobal:cbv:mda:lotNumber", "https://ref.gs1.org/cbv/lotNumber",
                 "gs1:lotNumber", "lotNumber")  # fmt: skip


# ---------------------------------------------------------------- edges of one event
@dataclass(frozen=True)
class StatedEdge:
    """A relation an event states between two identifiers (`to` None: every child of `from`)."""

    kind: str
    from_id: Identifier
    to_id: Identifier | None


def edges_of(event: PreparedEvent) -> list[StatedEdge]:
    """The lineage relations an EPCIS event states."""
    by_role: dict[SubjectRole, list[Identifier]] = {}
    for subject in event.subjects:
        for role in subject.roles:
            by_role.setdefault(role, []).append(subject.identifier)
    parents = by_role.get(SubjectRole.PARENT, [])
    children = by_role.get(SubjectRole.CHILD, []) + by_role.get(SubjectRole.CHILD_QUANTITY, [])
    edges: list[StatedEdge] = []
    if event.event_type in ("AggregationEvent", "AssociationEvent"):
        joining = event.action in ("ADD", "OBSERVE")
        if event.event_type == "AggregationEvent":
            kind = graph.CONTAINS if joining else graph.RELEASES
        else:
            kind = graph.ASSOCIATES if joining else graph.DISSOCIATES
        for parent in parents:
            if children:
                edges += [StatedEdge(kind, parent, child) for child in children]
            elif not joining:
                edges.append(StatedEdge(kind, parent, None))  # a DELETE naming no children: all of them
    elif event.event_type == "TransformationEvent":
        inputs = by_role.get(SubjectRole.INPUT, []) + by_role.get(SubjectRole.INPUT_QUANTITY, [])
        outputs = by_role.get(SubjectRole.OUTPUT, []) + by_role.get(SubjectRole.OUTPUT_QUANTITY, [])
        edges += [StatedEdge(graph.MADE_INTO, i, o) for i in inputs for o in outputs if i != o]
    if event.event_type in ("ObjectEvent", "TransformationEvent") and event.ilmd:
        lot = _ilmd_lot(event.ilmd)
        made = by_role.get(SubjectRole.EPC, []) + by_role.get(SubjectRole.OUTPUT, [])
        for item in made:
            if lot and item.gtin and item.serial and (event.event_type != "ObjectEvent" or event.action == "ADD"):
                lot_id = parse_identifier(f"01/{item.gtin}/10/{lot}")
                edges.append(StatedEdge(graph.LOT_OF, lot_id, item))
    return edges


def edge_rows(event: PreparedEvent, document_hash: str) -> Iterator[graph.LineageEdgeRow]:
    """The rows the capture stores for an event's relations."""
    for edge in edges_of(event):
        to_key = to_hex(edge.to_id.key) if edge.to_id else graph.ALL_CHILDREN
        yield graph.LineageEdgeRow(
            document_hash=document_hash,
            kind=edge.kind,
            from_key=to_hex(edge.from_id.key),
            from_id=edge.from_id.canonical,
            to_key=to_key,
            to_id=edge.to_id.canonical if edge.to_id else graph.ALL_CHILDREN,
        )


def _ilmd_lot(ilmd: Mapping[str, Any]) -> str | None:
    for key in ILMD_LOT_KEYS:
        value = ilmd.get(key)
        if isinstance(value, str) and value:
            return value
    return None


# ---------------------------------------------------------------- answers
@dataclass(frozen=True)
class Link:
    """One relation of the subject, with the event that states it and the other subject's verdict."""

    relation: str  # contained_in | contains | made_from | made_into | in_lot | lot_of
    identifier: str
    subject_key: str
    event_hash_id: str
    document_hash: str
    event_type: str
    event_time_ms: int
    event_time_offset: str
    tx_hash: str
    block_number: int
    until_ms: int | None = None  # containment: when the child left (None: still inside)
    verdict: str = "unknown"  # the other subject's trace checked against the chain
    recalled: bool = False


@dataclass(frozen=True)
class InheritedEvent:
    """An event of a container while the subject was inside it."""

    container: str
    container_key: str
    index: int
    event_hash_id: str
    document_hash: str
    biz_step: str | None
    event_type: str
    event_time_ms: int
    event_time_offset: str
    actor: str
    tx_hash: str
    block_number: int
    document: dict[str, Any] | None
    document_verified: bool
    container_verdict: str


@dataclass(frozen=True)
class RecallPath:
    """Why a subject is affected by a recall: the recalled subject and the links that lead here."""

    recalled: str
    recalled_key: str
    recalled_at: int | None  # block time of the recall
    reason_hash: str | None
    links: tuple[Link, ...]  # from the recalled subject down to this one
    verified: bool  # every link's event recorded on-chain and every subject on the path verified


@dataclass(frozen=True)
class Lineage:
    """The subject's relations, the events it inherits, and the recall that reaches it (if any)."""

    containers: tuple[Link, ...]
    contents: tuple[Link, ...]
    inputs: tuple[Link, ...]
    outputs: tuple[Link, ...]
    lots: tuple[Link, ...]
    items: tuple[Link, ...]
    inherited: tuple[InheritedEvent, ...]
    recall_path: RecallPath | None


@dataclass(frozen=True)
class Affected:
    """One subject a recall reaches, and how."""

    identifier: str
    subject_key: str
    via: str  # made_into | lot_of | contains
    depth: int
    path: tuple[str, ...]  # identifiers from the recalled subject to this one


class LineageReader:
    """Lineage, inherited events and recall reach from the index of one Runtime, verified on-chain."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.traces = TraceReader(runtime)

    def lineage(self, subject_key: str) -> Lineage:
        """Everything related to the subject `subject_key` (0x-hex)."""
        self.runtime.refresh()
        with self.store.session() as s:
            into = graph.edges_to(s, subject_key, (graph.CONTAINS, graph.MADE_INTO, graph.LOT_OF), MAX_LINKS * 3)
            out = graph.edges_from(s, subject_key, (graph.CONTAINS, graph.MADE_INTO, graph.LOT_OF), MAX_LINKS * 3)
            released_here = graph.releases(s, subject_key)
            windows = {edge.from_key: self._until(s, edge) for edge in into if edge.kind == graph.CONTAINS}
        containers = [self._link(CONTAINED_IN, e.from_id, e.from_key, e, windows.get(e.from_key))
                      for e in into if e.kind == graph.CONTAINS]  # fmt: skip
        contents = [self._link(CONTAINS, e.to_id, e.to_key, e, _until_released(e, released_here))
                    for e in out if e.kind == graph.CONTAINS]  # fmt: skip
        inputs = [self._link(MADE_FROM, e.from_id, e.from_key, e) for e in into if e.kind == graph.MADE_INTO]
        outputs = [self._link(MADE_INTO, e.to_id, e.to_key, e) for e in out if e.kind == graph.MADE_INTO]
        lots = [self._link(IN_LOT, e.from_id, e.from_key, e) for e in into if e.kind == graph.LOT_OF]
        items = [self._link(LOT_OF, e.to_id, e.to_key, e) for e in out if e.kind == graph.LOT_OF]
        return Lineage(
            containers=tuple(containers[:MAX_LINKS]),
            contents=tuple(contents[:MAX_LINKS]),
            inputs=tuple(inputs[:MAX_LINKS]),
            outputs=tuple(outputs[:MAX_LINKS]),
            lots=tuple(lots[:MAX_LINKS]),
            items=tuple(items[:MAX_LINKS]),
            inherited=tuple(self._inherited(containers)),
            recall_path=self.recall_path(subject_key),
        )

    def recall_path(self, subject_key: str) -> RecallPath | None:
        """The nearest recalled source of the subject (not the subject itself), if any: a breadth-
        first walk up through its inputs, lots and the containers it was inside when they were recalled."""
        seen = {subject_key}
        queue: deque[tuple[str, tuple[Link, ...]]] = deque([(subject_key, ())])
        with self.store.session() as s:
            while queue:
                key, path = queue.popleft()
                into = graph.edges_to(s, key, (graph.CONTAINS, graph.MADE_INTO, graph.LOT_OF), MAX_LINKS)
                for edge in into:
                    if edge.from_key in seen:
                        continue
                    relation = {graph.CONTAINS: CONTAINED_IN, graph.MADE_INTO: MADE_FROM, graph.LOT_OF: IN_LOT}
                    link = self._link(relation[edge.kind], edge.from_id, edge.from_key, edge, quick=True)
                    recalled_at = graph.recall_time(s, edge.from_key)
                    if edge.kind == graph.CONTAINS:
                        until = self._until(s, edge)
                        inside_then = (
                            recalled_at is not None
                            and edge.event_time_ms <= recalled_at * 1000
                            and (until is None or recalled_at * 1000 < until)
                        )
                        if recalled_at is not None and not inside_then:
                            continue  # recalled, but not while this subject was inside it
                    chain = (link, *path)
                    if recalled_at is not None:
                        return self._verified_path(edge.from_id, edge.from_key, recalled_at, chain)
                    seen.add(edge.from_key)
                    queue.append((edge.from_key, chain))
        return None

    def affected(self, subject_key: str, *, limit: int = 100, offset: int = 0) -> tuple[list[Affected], int]:
        """Everything a recall of `subject_key` reaches — outputs made from it and items of it through
        any depth, and what was inside it at the time of its recall — breadth first; one page and the
        total."""
        self.runtime.refresh()
        reached: list[Affected] = []
        seen = {subject_key}
        with self.store.session() as s:
            recalled_at = graph.recall_time(s, subject_key)
            start = s.get(SubjectRow, subject_key)
            queue: deque[tuple[str, int, tuple[str, ...], int | None]] = deque(
                [(subject_key, 0, (start.identifier if start else subject_key,), recalled_at)]
            )
            while queue:
                key, depth, path, at = queue.popleft()
                for edge in graph.edges_from(s, key, (graph.CONTAINS, graph.MADE_INTO, graph.LOT_OF)):
                    if edge.to_key in seen:
                        continue
                    if edge.kind == graph.CONTAINS:
                        until = _until_released(edge, graph.releases(s, key))
                        moment = (at or 0) * 1000
                        if at is None or edge.event_time_ms > moment or (until is not None and until <= moment):
                            continue  # not inside at the time of the recall
                    seen.add(edge.to_key)
                    reached.append(Affected(edge.to_id, edge.to_key, edge.kind, depth + 1, (*path, edge.to_id)))
                    queue.append((edge.to_key, depth + 1, (*path, edge.to_id), at))
        return reached[offset : offset + limit], len(reached)

    def current_contents(self, subject_key: str) -> list[str]:
        """The keys of everything inside the subject now (children still packed, and theirs)."""
        found: list[str] = []
        queue = deque([subject_key])
        seen = {subject_key}
        with self.store.session() as s:
            while queue:
                key = queue.popleft()
                released = graph.releases(s, key)
                for edge in graph.edges_from(s, key, (graph.CONTAINS,)):
                    if edge.to_key not in seen and _until_released(edge, released) is None:
                        seen.add(edge.to_key)
                        found.append(edge.to_key)
                        queue.append(edge.to_key)
        return found

    # ---------------------------------------------------------------- internals
    def _link(
        self,
        relation: str,
        identifier: str,
        key: str,
        edge: graph.Edge,
        until_ms: int | None = None,
        *,
        quick: bool = False,
    ) -> Link:
        verdict, recalled = ("unknown", False) if quick else self._verdict(key)
        return Link(
            relation=relation,
            identifier=identifier,
            subject_key=key,
            event_hash_id=_hash_id(edge.event_id),
            document_hash=edge.document_hash,
            event_type=edge.event_type,
            event_time_ms=edge.event_time_ms,
            event_time_offset=edge.event_time_offset,
            tx_hash=edge.tx_hash,
            block_number=edge.block_number,
            until_ms=until_ms,
            verdict=verdict,
            recalled=recalled,
        )

    def _verdict(self, key: str) -> tuple[str, bool]:
        """The other subject's whole history checked against the chain (one memoised head read)."""
        with self.store.session() as s:
            row = s.get(SubjectRow, key)
            if row is None:
                return "unknown", False
            identifier, status = row.identifier, row.status
        try:
            trace = self.traces.trace(identifier, limit=1)
        except Exception:  # an identifier the index holds but cannot trace: say so, do not fail the answer
            return "unknown", status == "recalled"
        return trace.verification.verdict, trace.recalled

    def _verified_path(self, identifier: str, key: str, recalled_at: int, links: tuple[Link, ...]) -> RecallPath:
        """The path with every subject on it checked against the chain."""
        checked = tuple(self._verified(link) for link in links)
        verdict, _ = self._verdict(key)
        ok = verdict == "verified" and all(link.verdict == "verified" for link in checked)
        with self.store.session() as s:
            entry = recall_entry(s, key)
            reason = entry.document_hash if entry is not None else None
        return RecallPath(identifier, key, recalled_at, reason, checked, ok)

    def _verified(self, link: Link) -> Link:
        verdict, recalled = self._verdict(link.subject_key)
        return replace(link, verdict=verdict, recalled=recalled)

    def _until(self, session: Any, edge: graph.Edge) -> int | None:
        return _until_released(edge, graph.releases(session, edge.from_key))

    def _inherited(self, containers: Sequence[Link]) -> Iterator[InheritedEvent]:
        """The events of every container the subject sat in — and of their containers, while both
        held — each verified against its container's own chain."""
        served = 0
        for container, start, end in self._container_windows(containers):
            if served >= MAX_INHERITED:
                return
            with self.store.session() as s:
                rows = graph.entries_between(s, container.subject_key, start, end, MAX_INHERITED - served)
                s.expunge_all()
            for entry, facts in rows:
                if entry.document_hash == container.document_hash:
                    continue  # the packing event itself is already in the subject's own history
                doc = self.store.get_document(entry.document_hash)
                served += 1
                yield InheritedEvent(
                    container=container.identifier,
                    container_key=container.subject_key,
                    index=entry.seq,
                    event_hash_id=_hash_id(entry.ref),
                    document_hash=entry.document_hash,
                    biz_step=biz_step_name(entry.code) if entry.code else None,
                    event_type=facts.event_type,
                    event_time_ms=facts.event_time_ms,
                    event_time_offset=facts.event_time_offset,
                    actor=entry.actor,
                    tx_hash=entry.tx_hash,
                    block_number=entry.block_number,
                    document=doc,
                    document_verified=doc is not None and _doc_hash(doc) == entry.document_hash,
                    container_verdict=container.verdict,
                )

    def _container_windows(self, containers: Sequence[Link]) -> Iterator[tuple[Link, int, int | None]]:
        """Each container with the time window the subject sat in it, then the containers of those
        containers with the windows intersected (a wheel in a case on a pallet rides the pallet)."""
        queue = deque((c, c.event_time_ms, c.until_ms, 0) for c in containers)
        seen: set[str] = set()
        while queue:
            container, start, end, depth = queue.popleft()
            if container.subject_key in seen:
                continue
            seen.add(container.subject_key)
            yield container, start, end
            if depth >= MAX_CONTAINMENT_DEPTH:
                continue
            with self.store.session() as s:
                outer = graph.edges_to(s, container.subject_key, (graph.CONTAINS,), MAX_LINKS)
                windows = [(edge, self._until(s, edge)) for edge in outer]
            for edge, until in windows:
                lo = max(start, edge.event_time_ms)
                hi = until if end is None else (end if until is None else min(end, until))
                if hi is None or lo < hi:
                    link = self._link(CONTAINED_IN, edge.from_id, edge.from_key, edge, until)
                    queue.append((link, lo, hi, depth + 1))


def _until_released(edge: graph.Edge, released: Sequence[graph.Edge]) -> int | None:
    """When a child left its parent: the first DELETE of this parent, after it joined, that names it
    (or names no children)."""
    for release in released:
        if release.event_time_ms >= edge.event_time_ms and release.to_key in (edge.to_key, graph.ALL_CHILDREN):
            return release.event_time_ms
    return None


def _hash_id(event_id: str) -> str:
    return f"ni:///sha-256;{event_id.removeprefix('0x')}?ver=CBV2.0"


def _doc_hash(doc: Any) -> str:
    return to_hex(document_hash(doc))
