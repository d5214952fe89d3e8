"""EPCIS events as the provenance service records them: each prepared event with the subjects it
names (and their roles) and the chain input it becomes, and the batches a capture is split into so
each transaction fits the chain's per-transaction gas cap."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracechain import errors
from tracechain.chain.provenance import EntryKind, EventInput, NewSubject
from tracechain.chain.transact import max_request_gas
from tracechain.epcis import PreparedEvent, Subject, prepare_document, prepare_event
from tracechain.hashing import to_hex

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


def entry_kind(event: PreparedEvent) -> EntryKind:
    """The chain entry an event becomes: an error declaration, or a plain event."""
    return EntryKind.ERROR_DECLARATION if event.is_error_declaration else EntryKind.EVENT


def record_key(event: PreparedEvent) -> str:
    """What makes a record unique: its Event Hash ID digest (an error declaration: its document hash)."""
    return to_hex(event.document_hash if event.is_error_declaration else event.event_id)


def is_open(subject: Subject) -> bool:
    """Class-level subjects (lots, classes, locations) are open: anyone may record their events."""
    return not subject.identifier.instance_level


def chain_input(event: PreparedEvent) -> EventInput:
    """The event as `recordEvents` takes it: one entry in the chain of every subject it names."""
    keys = tuple(dict.fromkeys(s.identifier.key for s in event.subjects))
    return EventInput(event.event_id, event.document_hash, event.biz_step_code, keys, entry_kind(event))


def prepare_events(documents: Sequence[dict[str, Any]]) -> list[PreparedEvent]:
    """Prepare single EPCIS events (each may carry its own @context), naming a failing one by index.

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
    """Every event of an EPCIS document, prepared, in document order.

    Raises:
        EpcisDocumentError: the document breaks GS1's schema or EPCIS 2.0 (JSON pointer of the problem).
    """
    events = list(prepare_document(epcis_doc).events)
    if not events:
        raise errors.InvalidInputError("the EPCIS document holds no events")
    return events


@dataclass
class Batch:
    """The events of one transaction and the subjects it creates first."""

    events: list[PreparedEvent] = field(default_factory=list)
    create: list[NewSubject] = field(default_factory=list)
    gas: int = GAS_PER_TX

    def chain_inputs(self) -> list[EventInput]:
        return [chain_input(e) for e in self.events]


def plan_batches(events: Iterable[PreparedEvent], existing: set[bytes], *, gas_cap: int = TX_GAS_CAP) -> list[Batch]:
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
        keys = list(dict.fromkeys(s.identifier.key for s in event.subjects))
        new = [s for s in event.subjects if s.identifier.key not in existing and s.identifier.key not in created]
        new = list({s.identifier.key: s for s in new}.values())
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
        current.create += [NewSubject(s.identifier.canonical, bytes(32), is_open(s)) for s in new]
        current.gas += cost
        created.update(s.identifier.key for s in new)
    if current.events:
        batches.append(current)
    return batches
