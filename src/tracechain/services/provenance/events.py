"""EPCIS events as the provenance service records them: each prepared event with the subjects it
names (and their roles) and the chain input it becomes, and the batches a capture is split into so
each transaction fits the chain's per-transaction gas cap."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracechain import errors
from tracechain.chain.provenance import EntryKind, EventInput, NewSubject, biz_step_code
from tracechain.chain.transact import max_request_gas
from tracechain.epcis import (
    event_hash_id,
    event_hash_id_digest,
    object_events_from_document,
    product_ids_of,
    validate_object_event,
)
from tracechain.hashing import document_hash, to_hex
from tracechain.product_ids import ProductId

# EIP-7825 caps one transaction at 2^24 gas (Ethereum since Osaka; Anvil with --enable-tx-gas-limit).
TX_GAS_CAP = 2**24
# Upper bounds of the gas of each part of a recordEvents batch (scripts/benchmark.py measures the real
# figures, about a quarter lower): a transaction's fixed cost, each event, each (event, subject) entry,
# each subject created, and each byte of a created subject's identifier (calldata, log, hashing).
GAS_PER_TX = 60_000
GAS_PER_EVENT = 4_000
GAS_PER_ENTRY = 14_000
GAS_PER_NEW_SUBJECT = 60_000
GAS_PER_IDENTIFIER_BYTE = 60


@dataclass(frozen=True)
class Subject:
    """An identifier an event names, and in which role (epc, parent, child, input, output, quantity, ...)."""

    identifier: ProductId
    role: str

    @property
    def key(self) -> bytes:
        return self.identifier.key

    @property
    def open(self) -> bool:
        """Class-level subjects (lots, classes, locations) are open: anyone may record their events."""
        return not getattr(self.identifier, "instance_level", True)


@dataclass(frozen=True)
class PreparedEvent:
    """A validated EPCIS event with everything the chain commits to."""

    document: dict[str, Any]  # stored and hashed as is
    event_hash_id: str  # ni:///sha-256;...?ver=CBV2.0
    event_id: bytes  # its sha-256 digest (bytes32 on chain)
    document_hash: bytes
    biz_step: str | None
    biz_step_code: int
    subjects: tuple[Subject, ...]
    kind: EntryKind = EntryKind.EVENT

    @property
    def record_key(self) -> str:
        """What makes this record unique: its Event Hash ID (an error declaration: its document)."""
        return to_hex(self.event_id if self.kind == EntryKind.EVENT else self.document_hash)

    def chain_input(self) -> EventInput:
        """The event as `recordEvents` takes it: one entry in the chain of every subject it names."""
        keys = tuple(dict.fromkeys(s.key for s in self.subjects))
        return EventInput(self.event_id, self.document_hash, self.biz_step_code, keys, self.kind)


def prepare_event(doc: dict[str, Any]) -> PreparedEvent:
    """Validate an EPCIS 2.0 event and compute its Event Hash ID, document hash, step code and subjects.

    Raises:
        InvalidInputError: not a valid event, or an identifier it names is not valid.
    """
    event = validate_object_event(doc)
    hash_id = event_hash_id(event)
    subjects = tuple(Subject(pid, "epc") for pid in dict.fromkeys(product_ids_of(event)))
    return PreparedEvent(
        document=event,
        event_hash_id=hash_id,
        event_id=event_hash_id_digest(hash_id),
        document_hash=document_hash(event),
        biz_step=event.get("bizStep"),
        biz_step_code=biz_step_code(event["bizStep"]),
        subjects=subjects,
    )


def prepare_events(documents: Sequence[dict[str, Any]]) -> list[PreparedEvent]:
    """Prepare each event, naming the failing one by its index.

    Raises:
        InvalidInputError: no events, or an invalid one.
    """
    if not documents:
        raise errors.InvalidInputError("no events to record")
    prepared = []
    for i, doc in enumerate(documents):
        try:
            prepared.append(prepare_event(doc))
        except errors.InvalidInputError as exc:
            where = f"event {i}: " if len(documents) > 1 else ""
            raise errors.InvalidInputError(f"{where}{exc.message}", hint=exc.hint) from exc
    return prepared


def prepare_epcis_document(epcis_doc: dict[str, Any]) -> list[PreparedEvent]:
    """Every event of an EPCISDocument, prepared, in document order.

    Raises:
        InvalidInputError: not an EPCISDocument, or an invalid event (named by its index).
    """
    prepared = []
    for i, event in enumerate(object_events_from_document(epcis_doc)):
        try:
            prepared.append(prepare_event(event))
        except errors.InvalidInputError as exc:
            raise errors.InvalidInputError(f"eventList[{i}]: {exc.message}", hint=exc.hint) from exc
    if not prepared:
        raise errors.InvalidInputError("the EPCIS document holds no events")
    return prepared


@dataclass
class Batch:
    """The events of one transaction and the subjects it creates first."""

    events: list[PreparedEvent] = field(default_factory=list)
    create: list[NewSubject] = field(default_factory=list)
    gas: int = GAS_PER_TX

    def chain_inputs(self) -> list[EventInput]:
        return [e.chain_input() for e in self.events]


def plan_batches(
    events: Iterable[PreparedEvent], existing: set[bytes], *, gas_cap: int = TX_GAS_CAP
) -> list[Batch]:
    """Split `events` (in order) into transactions that each fit `gas_cap`; each subject not in
    `existing` is created by the first batch that names it.

    Raises:
        InvalidInputError: one event alone does not fit in a transaction.
    """
    budget = max_request_gas(gas_cap)  # a batch must also fit when relayed
    batches: list[Batch] = []
    current = Batch()
    created: set[bytes] = set()
    for event in events:
        keys = list(dict.fromkeys(s.key for s in event.subjects))
        new = [s for s in dict.fromkeys(event.subjects) if s.key not in existing and s.key not in created]
        new = list({s.key: s for s in new}.values())
        cost = GAS_PER_EVENT + GAS_PER_ENTRY * len(keys)
        cost += sum(GAS_PER_NEW_SUBJECT + GAS_PER_IDENTIFIER_BYTE * len(s.identifier.canonical) for s in new)
        if GAS_PER_TX + cost > budget:
            raise errors.InvalidInputError(
                f"event {event.event_hash_id} names {len(keys)} identifiers: too many for one transaction",
                hint="split it into several events",
            )
        if current.events and current.gas + cost > budget:
            batches.append(current)
            current = Batch()
        current.events.append(event)
        current.create += [NewSubject(s.identifier.canonical, bytes(32), s.open) for s in new]
        current.gas += cost
        created.update(s.key for s in new)
    if current.events:
        batches.append(current)
    return batches
