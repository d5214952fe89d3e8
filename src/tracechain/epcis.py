"""EPCIS 2.0 ObjectEvents: validation, GS1 CBV 2.0 Event Hash IDs and the document hash the chain commits to.

Two hashes describe an event:

* `event_hash_id` - the GS1 CBV 2.0 Event Hash ID (``ni:///sha-256;<hex>?ver=CBV2.0``), computed by GS1's
  reference implementation (epcis-event-hash-generator). It identifies the event's *content* across
  representations: EPC URN vs Digital Link, bare vs URN vocabulary, time zone of eventTime all give
  the same ID. It ignores eventID, recordTime, errorDeclaration, comments and ``@context``, but it
  *does* cover user extension fields.
* `event_document_hash` - keccak256 of the RFC 8785 canonical JSON of the whole normalised event, so
  every byte of the stored document (eventID, representation choices, extensions) is committed.

Only ObjectEvents are supported for now.
"""

from __future__ import annotations

import copy
import re
import threading
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from epcis_event_hash_generator import hash_generator, json_to_py

from tracechain.errors import InvalidInputError
from tracechain.hashing import canonical_json, document_hash
from tracechain.product_ids import ProductId, parse_product_id

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
# Context URLs we accept in documents; the hash generator always gets EPCIS_CONTEXT (bundled, no network).
KNOWN_CONTEXTS = frozenset(
    {
        EPCIS_CONTEXT,
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)

# CBV 2.0 business steps (bare JSON-LD form), as in the EPCIS 2.0 JSON-LD context.
BIZ_STEPS: frozenset[str] = frozenset(
    """accepting arriving assembling collecting commissioning consigning creating_class_instance
    cycle_counting decommissioning departing destroying disassembling dispensing encoding entering_exiting
    holding inspecting installing killing loading other packing picking receiving removing repackaging
    repairing replacing reserving retail_selling sampling sensor_reporting shipping staging_outbound
    stock_taking stocking storing transporting unloading unpacking void_shipping""".split()
)
# CBV 2.0 dispositions (bare JSON-LD form).
DISPOSITIONS: frozenset[str] = frozenset(
    """active available completeness_inferred completeness_verified conformant container_closed
    container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive
    mismatch_class mismatch_instance mismatch_quantity needs_replacement no_pedigree_match non_conformant
    non_sellable_other partially_dispensed recalled reserved retail_sold returned sellable_accessible
    sellable_not_accessible stolen unavailable unknown""".split()
)
ACTIONS = ("ADD", "OBSERVE", "DELETE")
UNSUPPORTED_EVENT_TYPES = ("AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")

# Standard ObjectEvent fields; any other top-level key must be a namespaced extension ("prefix:name").
_STANDARD_FIELDS = frozenset(
    {
        "@context",
        "type",
        "eventID",
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
        "errorDeclaration",
        "certificationInfo",
        "epcList",
        "quantityList",
        "action",
        "bizStep",
        "disposition",
        "persistentDisposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "ilmd",
    }
)
_VOCAB_PREFIXES = {
    "bizStep": ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    "disposition": ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
}
_EVENT_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_TZ_OFFSET = re.compile(r"[+-](0\d|1[0-4]):[0-5]\d")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_EXTENSION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*:[^\s:]+")
_HASH_ID = re.compile(r"ni:///sha-256;([0-9a-fA-F]{64})\?ver=CBV2\.0")
# The generator keeps namespaces and its join string in module globals: one call at a time.
_HASH_LOCK = threading.Lock()


# ---------------------------------------------------------------- validation
def _normalise_vocab(field: str, value: Any, allowed: frozenset[str]) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string")
    bare = value
    for prefix in _VOCAB_PREFIXES[field]:
        if value.startswith(prefix):
            bare = value[len(prefix) :]
    if bare not in allowed:
        raise InvalidInputError(
            f"{field} {value!r} is not a CBV 2.0 value",
            hint=f"use e.g. {sorted(allowed)[0]!r} or {_VOCAB_PREFIXES[field][0]}{sorted(allowed)[0]}",
        )
    return bare


def _context_list(ctx: Any) -> list[Any]:
    """The entries of an @context, checked: known EPCIS context URLs or {prefix: namespace IRI} maps."""
    entries = ctx if isinstance(ctx, list) else [ctx]
    for entry in entries:
        if isinstance(entry, str):
            if entry not in KNOWN_CONTEXTS:
                raise InvalidInputError(
                    f"unsupported @context URL {entry!r}",
                    hint="use the EPCIS 2.0 context and inline {prefix: namespace} maps for extensions",
                )
        elif isinstance(entry, dict):
            for prefix, iri in entry.items():
                if not isinstance(iri, str) or not _URI.fullmatch(iri):
                    raise InvalidInputError(f"@context prefix {prefix!r} must map to a namespace IRI")
        else:
            raise InvalidInputError("@context entries must be URLs or {prefix: namespace IRI} maps")
    return list(entries)


def _check_type(doc: Any, where: str = "event") -> None:
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{where} must be a JSON object")
    kind = doc.get("type")
    if kind in UNSUPPORTED_EVENT_TYPES:
        raise InvalidInputError(f"{where}: {kind} is not supported yet", hint="only ObjectEvent is supported")
    if kind != "ObjectEvent":
        raise InvalidInputError(f"{where}: type must be 'ObjectEvent', got {kind!r}")


def _location(doc: dict[str, Any], field: str) -> None:
    value = doc.get(field)
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not _URI.fullmatch(value["id"]):
        raise InvalidInputError(f"{field}.id is required and must be a URI", hint=f"{field}: {{id: <URI>}}")


def validate_object_event(doc: dict[str, Any]) -> dict[str, Any]:
    """Check an EPCIS 2.0 JSON ObjectEvent and return a normalised deep copy (bare CBV vocabulary)."""
    _check_type(doc)
    canonical_json(doc)  # plain JSON values only
    event = copy.deepcopy(doc)

    time = event.get("eventTime")
    if not isinstance(time, str) or not _EVENT_TIME.fullmatch(time):
        raise InvalidInputError(
            f"eventTime must be an ISO 8601 date-time with offset, got {time!r}",
            hint="e.g. 2024-03-01T10:00:00.000+01:00",
        )
    try:
        datetime.fromisoformat(time)
    except ValueError as exc:
        raise InvalidInputError(f"eventTime {time!r} is not a valid date-time: {exc}") from exc
    offset = event.get("eventTimeZoneOffset")
    if not isinstance(offset, str) or not _TZ_OFFSET.fullmatch(offset):
        raise InvalidInputError(f"eventTimeZoneOffset must be ±HH:MM, got {offset!r}")

    epcs = event.get("epcList")
    if not isinstance(epcs, list) or not epcs:
        raise InvalidInputError("epcList must be a non-empty list of product IDs")
    seen: dict[str, int] = {}
    for i, epc in enumerate(epcs):
        if not isinstance(epc, str) or not _URI.fullmatch(epc):
            raise InvalidInputError(
                f"epcList[{i}] must be a URI, got {epc!r}",
                hint="use an EPC URN, a Digital Link URI with host, or opaque:<id>",
            )
        try:
            canonical = parse_product_id(epc).canonical
        except InvalidInputError as exc:
            raise InvalidInputError(f"epcList[{i}]: {exc.message}", hint=exc.hint) from exc
        if canonical in seen:
            raise InvalidInputError(f"epcList[{i}] is the same product as epcList[{seen[canonical]}]")
        seen[canonical] = i

    if event.get("action") not in ACTIONS:
        raise InvalidInputError(f"action must be one of {', '.join(ACTIONS)}, got {event.get('action')!r}")
    event["bizStep"] = _normalise_vocab("bizStep", event.get("bizStep"), BIZ_STEPS)
    event["disposition"] = _normalise_vocab("disposition", event.get("disposition"), DISPOSITIONS)
    _location(event, "readPoint")
    _location(event, "bizLocation")
    if "@context" in event:
        _context_list(event["@context"])
    for key in event:
        if key not in _STANDARD_FIELDS and not _EXTENSION_KEY.fullmatch(key):
            raise InvalidInputError(
                f"unknown field {key!r}", hint="extension fields must be namespaced, e.g. 'acme:batchNote'"
            )
    return event


# ---------------------------------------------------------------- hashes
def event_hash_id(doc: dict[str, Any]) -> str:
    """The GS1 CBV 2.0 Event Hash ID of an ObjectEvent, from GS1's reference implementation."""
    event = validate_object_event(doc)
    namespaces = [c for c in _context_list(event.pop("@context", [])) if isinstance(c, dict)]
    wrapped = {
        "@context": [EPCIS_CONTEXT, *namespaces],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2000-01-01T00:00:00.000Z",  # not part of the hash
        "epcisBody": {"eventList": [event]},
    }
    with _HASH_LOCK, warnings.catch_warnings():
        # The generator loads its bundled context with the deprecated importlib.resources.open_text.
        warnings.filterwarnings("ignore", message="open_text is deprecated", category=DeprecationWarning)
        json_to_py._namespaces.clear()  # else prefixes leak in from earlier documents
        try:
            events = json_to_py.event_list_from_epcis_document_json(wrapped)
            hashes = hash_generator.epcis_hashes_from_events(events)
        except Exception as exc:  # pyld raises JsonLdError on malformed JSON-LD
            raise InvalidInputError(f"event cannot be hashed: {exc}") from exc
    if len(hashes) != 1:  # the generator logs and drops events it fails on
        raise InvalidInputError(
            "the GS1 event hash generator rejected the event",
            hint="e.g. eventTime fractions that round up to a whole second; use millisecond precision",
        )
    return str(hashes[0])


def event_hash_id_digest(hash_id: str) -> bytes:
    """The 32-byte sha-256 digest inside a CBV 2.0 Event Hash ID (for a bytes32 on chain)."""
    match = _HASH_ID.fullmatch(hash_id) if isinstance(hash_id, str) else None
    if match is None:
        raise InvalidInputError(
            f"not a CBV 2.0 sha-256 Event Hash ID: {hash_id!r}",
            hint="expected ni:///sha-256;<64 hex digits>?ver=CBV2.0",
        )
    return bytes.fromhex(match.group(1))


def event_document_hash(doc: dict[str, Any]) -> bytes:
    """keccak256 of the RFC 8785 canonical JSON of the whole normalised event (extensions included)."""
    return document_hash(validate_object_event(doc))


# ---------------------------------------------------------------- documents
def object_events_from_document(epcis_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The validated ObjectEvents of an EPCISDocument, in order.

    If the document's @context declares extension namespaces, each event without its own @context gets
    a copy of them, so it hashes the same on its own as inside the document.
    """
    if not isinstance(epcis_doc, dict) or epcis_doc.get("type") != "EPCISDocument":
        raise InvalidInputError("expected an EPCIS document with type 'EPCISDocument'")
    body = epcis_doc.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise InvalidInputError("EPCIS document has no epcisBody.eventList")
    namespaces = [c for c in _context_list(epcis_doc.get("@context", [])) if isinstance(c, dict)]
    result = []
    for i, event in enumerate(events):
        kind = event.get("type") if isinstance(event, dict) else None
        if kind != "ObjectEvent":
            raise InvalidInputError(
                f"eventList[{i}] is a {kind!r}, not an ObjectEvent",
                hint="only ObjectEvents are supported yet",
            )
        if namespaces and "@context" not in event:
            event = {"@context": [EPCIS_CONTEXT, *copy.deepcopy(namespaces)], **event}
        try:
            result.append(validate_object_event(event))
        except InvalidInputError as exc:
            raise InvalidInputError(f"eventList[{i}]: {exc.message}", hint=exc.hint) from exc
    return result


def product_ids_of(event: dict[str, Any]) -> list[ProductId]:
    """The parsed product IDs of an event's epcList."""
    epcs = event.get("epcList") if isinstance(event, dict) else None
    if not isinstance(epcs, list):
        raise InvalidInputError("event has no epcList")
    ids = []
    for i, epc in enumerate(epcs):
        try:
            ids.append(parse_product_id(epc))
        except InvalidInputError as exc:
            raise InvalidInputError(f"epcList[{i}]: {exc.message}", hint=exc.hint) from exc
    return ids


def _epc_uri(item: str | ProductId, digital_link_base: str | None) -> str:
    pid = item if isinstance(item, ProductId) else parse_product_id(item)
    if pid.kind == "opaque":
        return pid.canonical
    if isinstance(item, str) and item.strip().lower().startswith(("urn:epc:", "http://", "https://")):
        return item.strip()
    if digital_link_base and pid.digital_link_path:
        return digital_link_base.rstrip("/") + pid.digital_link_path
    if pid.epc_urn:
        return pid.epc_urn
    raise InvalidInputError(
        f"cannot write {pid.canonical} as a URI for epcList",
        hint="pass a Digital Link URI or EPC URN, or digital_link_base='https://your.resolver'",
    )


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset()
    assert delta is not None
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def make_object_event(
    *,
    product_ids: Sequence[str | ProductId],
    biz_step: str,
    disposition: str,
    read_point: str,
    biz_location: str,
    event_time: datetime,
    action: str = "OBSERVE",
    extensions: Mapping[str, Any] | None = None,
    namespaces: Mapping[str, str] | None = None,
    digital_link_base: str | None = None,
) -> dict[str, Any]:
    """Build a validated ObjectEvent.

    `event_time` must be timezone-aware; it is written with millisecond precision in its own offset.
    `extensions` are top-level namespaced fields ("acme:lot": ...), their prefixes declared in
    `namespaces` ({"acme": "https://acme.example/ns/"}), which becomes the event's @context.
    GS1 IDs given without a host are written as ``{digital_link_base}/01/...`` or else as EPC URNs.
    """
    if event_time.tzinfo is None or event_time.utcoffset() is None:
        raise InvalidInputError("event_time must be timezone-aware")
    event: dict[str, Any] = {}
    if namespaces:
        event["@context"] = [EPCIS_CONTEXT, dict(namespaces)]
    event.update(
        {
            "type": "ObjectEvent",
            "eventTime": event_time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "eventTimeZoneOffset": _offset(event_time),
            "epcList": [_epc_uri(item, digital_link_base) for item in product_ids],
            "action": action,
            "bizStep": biz_step,
            "disposition": disposition,
            "readPoint": {"id": read_point},
            "bizLocation": {"id": biz_location},
        }
    )
    for key, value in (extensions or {}).items():
        if key in event:
            raise InvalidInputError(f"extension {key!r} would overwrite a standard field")
        event[key] = value
    return validate_object_event(event)
