"""The EPCIS 2.0 repository over the chain's index (GS1's REST bindings, the read side): recorded events
by query and by ID, each served exactly as captured with its proof beside it, and the discovery lists.

An event's proof names the transaction and block that recorded it and, for every identifier the event
names, its entry in that identifier's hash chain: its 0-based index, the log that appended it and the
head after it. Whoever holds the served event can check it against any node (docs/PROTOCOL.md, "EPCIS
2.0 REST"): the event's RFC 8785 keccak is the committed document hash, its Event Hash ID is the
committed event id, and each entry is the index-th EntryAppended log of its subject.

Page tokens are opaque to clients but carry no secret: the query (so a next page needs no other
parameter) and the position of the last event served. Positions are chain positions, so a page once
served never changes, and events recorded later come after every page already served.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError

from tracechain import errors
from tracechain.chain.provenance import EntryKind
from tracechain.epcis.events import EventFacts, check_event
from tracechain.epcis.hash_ids import hash_id_of
from tracechain.epcis.identifiers import parse_identifier
from tracechain.epcis.query import ErrorDeclarations, EventQuery, parse_event_query
from tracechain.epcis.vocabulary import EVENT_TYPES
from tracechain.hashing import document_hash, to_hex
from tracechain.services.runtime import Runtime
from tracechain.store import epcis_query as store

CONTRACT = "ProvenanceRegistry"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
MAX_EVENTS_BY_ID = 100
PAGING_PARAMETERS = ("perPage", "nextPageToken")
_TOKEN_VERSION = 1
_DIGEST = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")
# An Event Hash ID, also cut at its '?' by a client that did not percent-encode it.
_HASH_ID = re.compile(r"ni:///sha-256;([0-9a-fA-F]{64})(?:\?ver=CBV2\.0)?")


@dataclass(frozen=True)
class ChainEntryProof:
    """The served event's entry in one identifier's hash chain."""

    identifier: str  # canonical
    subject_key: str
    roles: tuple[str, ...]  # how the event names it (epc, parent, child, input, output, quantity, ...)
    index: int  # 0-based position in the identifier's chain: the index-th EntryAppended log of its key
    log_index: int
    head: str  # the chain's head after this entry


@dataclass(frozen=True)
class DeclarationProof:
    """A recorded error declaration of the served event."""

    document_hash: str
    tx_hash: str
    block_number: int
    record_time: int


@dataclass(frozen=True)
class EventProof:
    """Where and how the chain recorded a served event document."""

    event_hash_id: str
    document_hash: str  # keccak256 of the RFC 8785 canonical JSON of the event as served
    document_verified: bool  # the served event hashes to `document_hash`
    entry_kind: str  # "event" | "error_declaration"
    record_time: int  # block timestamp, seconds
    chain_id: int
    contract: str
    tx_hash: str
    block_number: int
    block_hash: str | None
    actor: str
    biz_step_code: int
    entries: tuple[ChainEntryProof, ...]
    declared_erroneous: tuple[DeclarationProof, ...] = ()


@dataclass(frozen=True)
class ServedEvent:
    """A recorded event document as captured (None if the store lost it) and its proof."""

    document: dict[str, Any] | None
    proof: EventProof


@dataclass(frozen=True)
class EventPage:
    events: tuple[ServedEvent, ...]
    next_token: str | None


@dataclass(frozen=True)
class ValuePage:
    """One page of a discovery list (URIs or vocabulary values)."""

    members: tuple[str, ...]
    next_token: str | None


# ---------------------------------------------------------------- tokens
def encode_token(content: Mapping[str, Any]) -> str:
    """An opaque page token: the content as compact JSON, deflated, base64url without padding."""
    raw = zlib.compress(json.dumps(content, separators=(",", ":"), sort_keys=True).encode(), 9)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, resource: str) -> dict[str, Any]:
    """The content of a token this repository gave for `resource`.

    Raises:
        EpcisQueryParameterError: not such a token.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        content = json.loads(zlib.decompress(raw))
    except (binascii.Error, zlib.error, ValueError, UnicodeDecodeError):
        content = None
    if not isinstance(content, dict) or content.get("v") != _TOKEN_VERSION or content.get("r") != resource:
        raise errors.EpcisQueryParameterError(
            "nextPageToken: not a page token of this resource", hint="pass the token a previous page gave, as given"
        )
    return content


def normalise_parameters(params: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Query parameters in one canonical form (sorted names, values in order), paging ones left out."""
    return {name: [str(v) for v in params[name]] for name in sorted(params) if name not in PAGING_PARAMETERS}


def per_page(value: int | None) -> int:
    """The page size asked for, within 1..MAX_PER_PAGE (default 30, the bindings' default).

    Raises:
        EpcisQueryParameterError: out of range.
    """
    if value is None:
        return DEFAULT_PER_PAGE
    if not 1 <= value <= MAX_PER_PAGE:
        raise errors.EpcisQueryParameterError(f"perPage: must be 1..{MAX_PER_PAGE}, got {value}")
    return value


# ---------------------------------------------------------------- facts of documents
def query_facts_row(digest: str, facts: EventFacts | None) -> store.EpcisQueryFactsRow:
    """The query-facts row of a stored event document (`facts` None: a document that no longer reads
    as an event; it matches no location, eventID or declaration filter)."""
    if facts is None:
        return store.EpcisQueryFactsRow(document_hash=digest)

    def canonical(location: str | None) -> str | None:
        return None if location is None else parse_identifier(location, any_uri=True).canonical

    declaration = facts.error_declaration
    return store.EpcisQueryFactsRow(
        document_hash=digest,
        read_point=canonical(facts.read_point),
        biz_location=canonical(facts.biz_location),
        declared_id=facts.event_id_field,
        transformation_id=facts.transformation_id,
        error_reason=declaration.reason if declaration else None,
        declaration_time_ms=int(declaration.declaration_time.timestamp() * 1000) if declaration else None,
    )


class EpcisRepository:
    """Reads of the EPCIS 2.0 REST bindings over one Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.store

    # ---------------------------------------------------------------- events
    def query(
        self,
        params: Mapping[str, Sequence[str]],
        *,
        page_size: int | None = None,
        token: str | None = None,
        fixed: Mapping[str, Sequence[str]] | None = None,
    ) -> EventPage:
        """One page of the recorded events a SimpleEventQuery matches (see `tracechain.epcis.query`),
        each with its proof. `fixed` holds the parameter a sub-resource implies (`/bizSteps/x/events`).
        With `token`, the query is the token's; parameters given too must be the same.

        Raises:
            EpcisQueryParameterError: a bad parameter, token or perPage (or a query parameter that
                contradicts the token's).
            EpcisNotImplementedError: a standard parameter this repository does not support.
            EpcisQueryTooLargeError: more matches than maxEventCount.
        """
        size = per_page(page_size)
        given = normalise_parameters(params)
        for name, values in (fixed or {}).items():
            if name in given:
                raise errors.EpcisQueryParameterError(f"{name}: already given by the resource path")
            given[name] = list(values)
        given = normalise_parameters(given)
        after: list[int] | None = None
        served = 0
        if token is not None:
            content = decode_token(token, "events")
            if any(content["q"].get(name) != values for name, values in given.items()):
                raise errors.EpcisQueryParameterError(
                    "nextPageToken: the query parameters differ from the query the token continues",
                    hint="follow the Link header, or pass only perPage and nextPageToken",
                )
            given, after, served = content["q"], content["k"], int(content["n"])
        query = parse_event_query(given)
        self.runtime.refresh()
        if query.needs_query_facts:
            self.read_new_documents()
        limit = size
        if query.event_count_limit is not None:
            limit = min(size, query.event_count_limit - served)
            if limit <= 0:
                return EventPage((), None)
        with self.store.session() as s:
            if query.max_event_count is not None and token is None:
                matches = store.count_events(s, query)
                if matches > query.max_event_count:
                    raise errors.EpcisQueryTooLargeError(
                        f"the query matches {matches} events, more than maxEventCount {query.max_event_count}"
                    )
            rows = store.query_events(s, query, after=after, limit=limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            events = self._served(s, rows)
        if query.event_count_limit is not None and served + len(rows) >= query.event_count_limit:
            more = False
        next_token = None
        if more and rows:
            key = list(rows[-1].sort_key(query.order_by))
            content = {"v": _TOKEN_VERSION, "r": "events", "q": given, "k": key, "n": served + len(rows)}
            next_token = encode_token(content)
        return EventPage(tuple(events), next_token)

    def event(self, event_id: str) -> tuple[ServedEvent, ...]:
        """The recorded documents of one event, by its Event Hash ID (also as a bare or 0x-hex digest) or
        by the eventID it declares: the event and its error declarations, in record order.

        Raises:
            EpcisEventNotFoundError: no recorded event has this ID.
        """
        digests: tuple[str, ...] = ()
        match = _HASH_ID.fullmatch(event_id) or _DIGEST.fullmatch(event_id)
        if match is not None:
            digests = ("0x" + match.group(1).lower(),)
        query = EventQuery(event_digests=digests, declared_ids=(event_id,), error_declarations=ErrorDeclarations.ANY)
        self.runtime.refresh()
        self.read_new_documents()
        with self.store.session() as s:
            rows = store.query_events(s, query, after=None, limit=MAX_EVENTS_BY_ID)
            if not rows:
                raise errors.EpcisEventNotFoundError(f"no recorded EPCIS event has the ID {event_id!r}")
            return tuple(self._served(s, rows))

    # ---------------------------------------------------------------- discovery
    def event_types(self, *, page_size: int | None = None, token: str | None = None) -> ValuePage:
        """The event types this repository captures (the five of EPCIS 2.0)."""
        size = per_page(page_size)
        start = int(decode_token(token, "eventTypes")["k"]) if token else 0
        members = EVENT_TYPES[start : start + size]
        more = start + size < len(EVENT_TYPES)
        next_token = encode_token({"v": _TOKEN_VERSION, "r": "eventTypes", "k": start + size}) if more else None
        return ValuePage(members, next_token)

    def epcs(self, *, page_size: int | None = None, token: str | None = None) -> ValuePage:
        """The EPCs (instance-level identifiers: items, logistic units, assets) the chain knows, as URIs."""
        return self._values("epcs", store.instance_identifiers, _as_uri, page_size, token)

    def biz_steps(self, *, page_size: int | None = None, token: str | None = None) -> ValuePage:
        """The business steps of recorded events (bare CBV terms, or extension URIs)."""
        return self._values("bizSteps", _distinct("biz_step"), str, page_size, token)

    def dispositions(self, *, page_size: int | None = None, token: str | None = None) -> ValuePage:
        """The dispositions of recorded events (bare CBV terms, or extension URIs)."""
        return self._values("dispositions", _distinct("disposition"), str, page_size, token)

    def read_points(self, *, page_size: int | None = None, token: str | None = None) -> ValuePage:
        """The read points of recorded events, one URI per place (GS1 locations as Digital Links)."""
        self.read_new_documents()
        return self._values("readPoints", _locations("read_point"), _as_uri, page_size, token)

    def biz_locations(self, *, page_size: int | None = None, token: str | None = None) -> ValuePage:
        """The business locations of recorded events, one URI per place (GS1 locations as Digital Links)."""
        self.read_new_documents()
        return self._values("bizLocations", _locations("biz_location"), _as_uri, page_size, token)

    def _values(
        self,
        resource: str,
        fetch: Callable[..., list[str]],
        render: Callable[[str], str],
        page_size: int | None,
        token: str | None,
    ) -> ValuePage:
        size = per_page(page_size)
        after = str(decode_token(token, resource)["k"]) if token else None
        self.runtime.refresh()
        with self.store.session() as s:
            values = fetch(s, after=after, limit=size + 1)
        more = len(values) > size
        values = values[:size]
        next_token = encode_token({"v": _TOKEN_VERSION, "r": resource, "k": values[-1]}) if more else None
        return ValuePage(tuple(render(v) for v in values), next_token)

    # ---------------------------------------------------------------- internals
    def read_new_documents(self, batch: int = 500) -> int:
        """Read the facts queries need (canonical locations, eventID, ...) from event documents captured
        since the last read, whichever path captured them; returns how many were read."""
        done = 0
        while True:
            with self.store.session() as s:
                digests = store.unread_documents(s, batch)
            if not digests:
                return done
            with self.store.session() as s:
                found = store.documents(s, digests)
            rows = [query_facts_row(d, _facts_of(found.get(d))) for d in digests]
            try:
                with self.store.session() as s:
                    s.add_all(rows)
            except DatabaseIntegrityError:  # another request read them at the same moment
                pass
            done += len(rows)

    def _served(self, session: Any, rows: Sequence[store.RecordedEvent]) -> list[ServedEvent]:
        hashes = [r.document_hash for r in rows]
        entries = store.proof_entries(session, rows)
        roles = store.subject_roles(session, hashes)
        declared = store.declarations(session, [r.event_id for r in rows if not r.error_declaration])
        blocks = store.block_hashes(session, sorted({r.block_number for r in rows}))
        chain_id = self.runtime.chain.chain_id
        contract = self.runtime.deployment.address(CONTRACT)
        found = store.documents(session, hashes)
        served = []
        for row in rows:
            document = found.get(row.document_hash)
            row_entries = entries.get(row.document_hash, [])
            first = row_entries[0] if row_entries else None
            proof = EventProof(
                event_hash_id=hash_id_of(row.event_id),
                document_hash=row.document_hash,
                document_verified=_hashes_to(document, row.document_hash),
                entry_kind=EntryKind(row.kind).label,
                record_time=row.timestamp,
                chain_id=chain_id,
                contract=contract,
                tx_hash=row.tx_hash,
                block_number=row.block_number,
                block_hash=blocks.get(row.block_number),
                actor=first.actor if first else "",
                biz_step_code=first.code if first else 0,
                entries=tuple(
                    ChainEntryProof(
                        identifier=e.identifier,
                        subject_key=e.subject_key,
                        roles=tuple(roles.get((row.document_hash, e.subject_key), ())),
                        index=e.seq,
                        log_index=e.log_index,
                        head=e.head,
                    )
                    for e in row_entries
                ),
                declared_erroneous=tuple(
                    DeclarationProof(d.document_hash, d.tx_hash, d.block_number, d.timestamp)
                    for d in declared.get(row.event_id, [])
                ),
            )
            served.append(ServedEvent(document if isinstance(document, dict) else None, proof))
        return served


def _distinct(field: str) -> Callable[..., list[str]]:
    return lambda s, after, limit: store.distinct_event_values(s, field, after=after, limit=limit)


def _locations(field: str) -> Callable[..., list[str]]:
    return lambda s, after, limit: store.distinct_locations(s, field, after=after, limit=limit)


def _as_uri(canonical: str) -> str:
    """A canonical identifier as a URI: GS1 keys as Digital Links on GS1's resolver, opaque URIs as
    they were written."""
    if canonical.startswith("opaque:"):
        body = canonical.removeprefix("opaque:")
        return body if ":" in body else canonical
    link = parse_identifier(canonical).digital_link()
    return link or canonical


def _facts_of(document: Any) -> EventFacts | None:
    if not isinstance(document, dict):
        return None
    try:
        return check_event(document)
    except errors.InvalidInputError:
        return None


def _hashes_to(document: Any, digest: str) -> bool:
    if document is None:
        return False
    try:
        return to_hex(document_hash(document)) == digest
    except errors.InvalidInputError:
        return False
