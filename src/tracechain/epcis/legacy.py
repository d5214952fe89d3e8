"""The ObjectEvent-only API the provenance services were written against, kept until they move to
`prepare_event`/`prepare_document` (then delete this module).

Its rules are the old ones - an ObjectEvent with a non-empty epcList, bizStep, disposition, readPoint and
bizLocation, returned as a copy with bare CBV vocabulary - but the checks and the Event Hash ID are the
package's: the ID no longer depends on JSON key order, so a stored, re-serialised document verifies.
"""

from __future__ import annotations

import copy
from typing import Any

from tracechain.epcis.events import check_event
from tracechain.epcis.identifiers import Identifier, parse_identifier
from tracechain.epcis.vocabulary import EPCIS_CONTEXT, EVENT_TYPES
from tracechain.errors import InvalidInputError
from tracechain.hashing import canonical_json, document_hash

UNSUPPORTED_EVENT_TYPES = tuple(t for t in EVENT_TYPES if t != "ObjectEvent")


def validate_object_event(doc: Any) -> dict[str, Any]:
    """Check an EPCIS 2.0 ObjectEvent under the services' rules and return a normalised deep copy
    (bare CBV vocabulary).

    Raises:
        InvalidInputError: not an ObjectEvent, a missing required field, or an invalid event.
    """
    if not isinstance(doc, dict):
        raise InvalidInputError("event must be a JSON object")
    kind = doc.get("type")
    if kind in UNSUPPORTED_EVENT_TYPES:
        raise InvalidInputError(f"event: {kind} is not supported yet", hint="only ObjectEvent is supported here")
    if kind != "ObjectEvent":
        raise InvalidInputError(f"event: type must be 'ObjectEvent', got {kind!r}")
    for field in ("epcList", "bizStep", "disposition", "readPoint", "bizLocation"):
        if field not in doc:
            raise InvalidInputError(f"{field} is required")
    if not isinstance(doc["epcList"], list) or not doc["epcList"]:
        raise InvalidInputError("epcList must be a non-empty list of product IDs")
    facts = check_event(doc)
    canonical_json(doc)  # plain JSON values only
    if len(facts.epcs) != len(doc["epcList"]):
        raise InvalidInputError("epcList names the same product twice", hint="an EPC listed twice is one record")
    event = copy.deepcopy(doc)
    event["bizStep"] = facts.biz_step
    event["disposition"] = facts.disposition
    return event


def event_document_hash(doc: dict[str, Any]) -> bytes:
    """keccak256 of the RFC 8785 canonical JSON of the whole normalised event (extensions included)."""
    return document_hash(validate_object_event(doc))


def object_events_from_document(epcis_doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The validated ObjectEvents of an EPCISDocument, in order; document namespaces are copied into
    each event without its own @context, so it hashes the same on its own.

    Raises:
        InvalidInputError: not an EPCISDocument, another event type, or an invalid event (named by index).
    """
    if not isinstance(epcis_doc, dict) or epcis_doc.get("type") != "EPCISDocument":
        raise InvalidInputError("expected an EPCIS document with type 'EPCISDocument'")
    body = epcis_doc.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise InvalidInputError("EPCIS document has no epcisBody.eventList")
    context = epcis_doc.get("@context")
    namespaces = [c for c in (context if isinstance(context, list) else [context]) if isinstance(c, dict)]
    result = []
    for i, event in enumerate(events):
        kind = event.get("type") if isinstance(event, dict) else None
        if kind != "ObjectEvent":
            raise InvalidInputError(
                f"eventList[{i}] is a {kind!r}, not an ObjectEvent", hint="only ObjectEvents are supported here"
            )
        if namespaces and "@context" not in event:
            event = {"@context": [EPCIS_CONTEXT, *copy.deepcopy(namespaces)], **event}
        try:
            result.append(validate_object_event(event))
        except InvalidInputError as exc:
            raise InvalidInputError(f"eventList[{i}]: {exc.message}", hint=exc.hint) from exc
    return result


def product_ids_of(event: dict[str, Any]) -> list[Identifier]:
    """The parsed identifiers of an event's epcList.

    Raises:
        InvalidInputError: no epcList, or an entry that is not a valid identifier (named by index).
    """
    epcs = event.get("epcList") if isinstance(event, dict) else None
    if not isinstance(epcs, list):
        raise InvalidInputError("event has no epcList")
    ids = []
    for i, epc in enumerate(epcs):
        try:
            ids.append(parse_identifier(epc, any_uri=True))
        except InvalidInputError as exc:
            raise InvalidInputError(f"epcList[{i}]: {exc.message}", hint=exc.hint) from exc
    return ids
