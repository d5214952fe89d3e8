"""EPCIS documents in, prepared events out: what the services commit to and index.

`prepare_event` turns one JSON event into a `PreparedEvent`: the document as committed (the event as
captured, with its document's @context - and ignoreFields declaration - carried into it so it hashes the
same on its own), its Event Hash ID, its document hash (keccak256 of its RFC 8785 canonical JSON, computed
once) and everything the services index (business step and its code, disposition, times, subjects with
roles, error declaration, business transactions, sources/destinations, sensor readings, ilmd), normalised
on the side.

`prepare_document` does the same for every event of an EPCISDocument or EPCISQueryDocument (or a single
event), after GS1's JSON schema, and parses the header master data. Errors name the event
(``eventList[i]``) and carry a JSON pointer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eth_utils import keccak

from tracechain.epcis.events import (
    BizTransaction,
    ErrorDeclaration,
    EventFacts,
    SensorReading,
    SourceDestination,
    Subject,
    check_context,
    check_event,
)
from tracechain.epcis.hash_ids import (
    IGNORE_FIELDS_NAMESPACE,
    context_namespaces,
    declared_ignore_fields,
    event_hash_id,
    event_hash_id_digest,
)
from tracechain.epcis.identifiers import Identifier, parse_identifier
from tracechain.epcis.schema import check_document_schema, check_event_schema
from tracechain.epcis.vocabulary import EVENT_TYPES, biz_step_code
from tracechain.errors import EpcisDocumentError, EpcisSchemaError, InvalidInputError
from tracechain.hashing import canonical_json


@dataclass(frozen=True)
class PreparedEvent:
    """A validated EPCIS 2.0 event with everything the chain commits to and the index needs."""

    document: dict[str, Any]  # as committed: the event as captured (+ its document's @context)
    canonical_json: bytes = field(repr=False)  # RFC 8785 bytes of `document`
    document_hash: bytes  # keccak256(canonical_json)
    event_type: str
    event_hash_id: str  # ni:///sha-256;<hex>?ver=CBV2.0
    event_id: bytes  # the 32-byte sha-256 digest of the Event Hash ID
    biz_step: str | None  # bare CBV step or extension URI; None when absent
    biz_step_code: int  # 1-41 CBV, 255 extension, 0 none
    disposition: str | None  # bare CBV disposition or extension URI
    action: str | None  # ADD / OBSERVE / DELETE (None for a TransformationEvent)
    event_time: datetime  # aware
    event_time_zone_offset: str
    subjects: tuple[Subject, ...]
    error_declaration: ErrorDeclaration | None
    biz_transactions: tuple[BizTransaction, ...]
    sources: tuple[SourceDestination, ...]
    destinations: tuple[SourceDestination, ...]
    sensor_readings: tuple[SensorReading, ...]
    ilmd: Mapping[str, Any] | None
    facts: EventFacts = field(repr=False)
    index: int | None = None  # position in its document's eventList

    @property
    def is_error_declaration(self) -> bool:
        """The event declares itself erroneous (an EPCIS errorDeclaration)."""
        return self.error_declaration is not None

    @property
    def error_reason(self) -> str | None:
        return self.error_declaration.reason if self.error_declaration else None

    @property
    def declaration_time(self) -> datetime | None:
        return self.error_declaration.declaration_time if self.error_declaration else None

    @property
    def corrective_event_ids(self) -> tuple[str, ...]:
        return self.error_declaration.corrective_event_ids if self.error_declaration else ()

    @property
    def identifiers(self) -> tuple[Identifier, ...]:
        """The subjects' identifiers, in subject order."""
        return tuple(s.identifier for s in self.subjects)


@dataclass(frozen=True)
class VocabularyElement:
    """A master-data element from a document header: its vocabulary type, ID and attributes
    (attribute ID -> value; a list when the attribute is repeated)."""

    type: str
    id: str
    kind: str  # "product" (EPCClass), "location", "party" or "other"
    attributes: Mapping[str, Any]
    children: tuple[str, ...] = ()
    identifier: Identifier | None = None  # the parsed ID, when it is an identifier


@dataclass(frozen=True)
class PreparedDocument:
    """A validated EPCIS document: its events in order and its header master data (by element ID)."""

    document_type: str  # EPCISDocument, EPCISQueryDocument, or the event type of a single event
    events: tuple[PreparedEvent, ...]
    master_data: Mapping[str, VocabularyElement]
    context: tuple[Any, ...]
    ignore_fields: tuple[str, ...] = ()
    creation_date: str | None = None

    def master_data_of(self, identifier: Identifier) -> VocabularyElement | None:
        """The master data of an identifier (matched by canonical form, so URN and Digital Link agree)."""
        for element in self.master_data.values():
            if element.identifier == identifier:
                return element
        return None


# ---------------------------------------------------------------- events
def _committed(event: dict[str, Any], context: Sequence[Any], ignore_key: str | None,
               ignore_fields: Sequence[str]) -> dict[str, Any]:  # fmt: skip
    """The event as committed: the document's @context (and ignoreFields declaration) carried into it."""
    if not context and not ignore_fields:
        return event
    committed = dict(event)
    if context:
        own = event.get("@context")
        if own is None:
            merged: list[Any] = list(context)
        else:
            own_list = own if isinstance(own, list) else [own]
            merged = list(context) + [c for c in own_list if c not in context]
        if merged != own:
            committed = {"@context": merged, **{k: v for k, v in event.items() if k != "@context"}}
    if ignore_key and ignore_fields and ignore_key not in committed:
        committed[ignore_key] = list(ignore_fields)
    return committed


def prepare_event(
    event: Mapping[str, Any],
    *,
    context: Sequence[Any] = (),
    ignore_fields: Sequence[str] = (),
    schema: bool = True,
    index: int | None = None,
) -> PreparedEvent:
    """Validate one EPCIS 2.0 JSON event and compute what the chain commits to.

    `context` is the @context of the event's document (carried into the committed document when it
    declares namespaces); `ignore_fields` the document's ignoreFields declaration. With `schema`, the
    event is first checked against its type's definition in GS1's JSON schema.

    Raises:
        EpcisSchemaError: the event breaks GS1's JSON schema.
        InvalidInputError: the event breaks EPCIS 2.0 (the message names the field), holds values that
            are not plain JSON, or names no identifier and no location.
    """
    if not isinstance(event, Mapping):
        raise InvalidInputError("an EPCIS event must be a JSON object")
    event = dict(event)
    if schema:
        check_event_schema(event)
    facts = check_event(event)
    carried = [c for c in context if isinstance(c, dict)] and list(context)
    namespaces = context_namespaces(list(context))
    ignore_key = next((f"{p}:ignoreFields" for p, iri in namespaces.items() if iri == IGNORE_FIELDS_NAMESPACE), None)
    document = _committed(event, carried or (), ignore_key, ignore_fields)
    canonical = canonical_json(document)
    hash_id = event_hash_id(document)
    return PreparedEvent(
        document=document,
        canonical_json=canonical,
        document_hash=keccak(canonical),
        event_type=facts.event_type,
        event_hash_id=hash_id,
        event_id=event_hash_id_digest(hash_id),
        biz_step=facts.biz_step,
        biz_step_code=biz_step_code(facts.biz_step),
        disposition=facts.disposition,
        action=facts.action,
        event_time=facts.event_time,
        event_time_zone_offset=facts.event_time_zone_offset,
        subjects=facts.subjects,
        error_declaration=facts.error_declaration,
        biz_transactions=facts.biz_transactions,
        sources=facts.sources,
        destinations=facts.destinations,
        sensor_readings=facts.sensor_readings,
        ilmd=facts.ilmd,
        facts=facts,
        index=index,
    )


# ---------------------------------------------------------------- documents
_KEY = r"[A-Za-z@_][\w@-]*(?::[\w@-]+)?"
_FIELD_PATH = re.compile(rf"({_KEY})((?:\[\d+\]|\.{_KEY})*)(?=[ :]|$)")


def _field_pointer(event: Mapping[str, Any], message: str) -> str:
    """The JSON pointer of the field an error message starts with (e.g. 'sourceList[0].type'), or ''."""
    match = _FIELD_PATH.match(message)
    if match is None or match.group(1) not in event:
        return ""
    parts = [match.group(1)] + re.findall(rf"\[(\d+)\]|\.({_KEY})", match.group(2))
    pointer = ""
    for part in parts:
        token = part if isinstance(part, str) else (part[0] or part[1])
        pointer += "/" + token.replace("~", "~0").replace("/", "~1")
    return pointer


def _events_of(document: Mapping[str, Any]) -> tuple[list[Any], str, Mapping[str, Any]]:
    """(events, JSON pointer of the event list, the object that may declare ignoreFields)."""
    body = document.get("epcisBody")
    if not isinstance(body, dict):
        raise EpcisDocumentError("an EPCIS document needs an epcisBody object", pointer="/epcisBody")
    if document.get("type") == "EPCISQueryDocument":
        results = body.get("queryResults")
        events = results.get("resultsBody", {}).get("eventList") if isinstance(results, dict) else None
        pointer = "/epcisBody/queryResults/resultsBody/eventList"
        holder: Mapping[str, Any] = results if isinstance(results, dict) else {}
    else:
        events, pointer, holder = body.get("eventList"), "/epcisBody/eventList", document
    if not isinstance(events, list):
        raise EpcisDocumentError("the document has no event list", pointer=pointer)
    return events, pointer, holder


def prepare_document(document: Mapping[str, Any], *, schema: bool = True) -> PreparedDocument:
    """Validate an EPCISDocument, an EPCISQueryDocument or a single event and prepare every event, in order.

    Raises:
        EpcisSchemaError: the document breaks GS1's EPCIS 2.0 JSON schema (JSON pointer of the first problem).
        EpcisDocumentError: the document or one of its events breaks EPCIS 2.0 (pointer and event index set).
    """
    if not isinstance(document, Mapping):
        raise EpcisDocumentError("an EPCIS document must be a JSON object")
    kind = document.get("type")
    if schema:
        check_document_schema(dict(document))
    if kind in EVENT_TYPES:
        try:
            event = prepare_event(document, schema=False)
        except EpcisSchemaError:
            raise
        except InvalidInputError as exc:
            raise EpcisDocumentError(exc.message, pointer=_field_pointer(document, exc.message), hint=exc.hint) from exc
        return PreparedDocument(str(kind), (event,), {}, tuple(_context_list(document.get("@context"))))
    if kind not in ("EPCISDocument", "EPCISQueryDocument"):
        raise EpcisDocumentError(
            f"type must be EPCISDocument, EPCISQueryDocument or an event type, got {kind!r}", pointer="/type"
        )
    context = _context_list(document.get("@context"))
    try:
        check_context(context)
    except InvalidInputError as exc:
        raise EpcisDocumentError(exc.message, pointer="/@context", hint=exc.hint) from exc
    events, pointer, holder = _events_of(document)
    namespaces = context_namespaces(context)
    ignore = declared_ignore_fields(holder, namespaces)
    prepared = []
    for i, event in enumerate(events):
        try:
            prepared.append(prepare_event(event, context=context, ignore_fields=ignore, schema=False, index=i))
        except InvalidInputError as exc:
            where = f"{pointer}/{i}"
            field_pointer = _field_pointer(event, exc.message) if isinstance(event, dict) else ""
            raise EpcisDocumentError(
                f"eventList[{i}]: {exc.message}", pointer=where + field_pointer, event_index=i, hint=exc.hint
            ) from exc
    return PreparedDocument(
        document_type=str(kind),
        events=tuple(prepared),
        master_data=_master_data(document),
        context=tuple(context),
        ignore_fields=tuple(ignore),
        creation_date=document.get("creationDate") if isinstance(document.get("creationDate"), str) else None,
    )


def _context_list(context: Any) -> list[Any]:
    if context is None:
        return []
    return list(context) if isinstance(context, list) else [context]


# ---------------------------------------------------------------- master data
_KINDS = {"EPCClass": "product", "BusinessLocation": "location", "ReadPoint": "location", "Location": "location",
          "Party": "party", "SourceOrDestination": "party"}  # fmt: skip


def _master_data(document: Mapping[str, Any]) -> dict[str, VocabularyElement]:
    header = document.get("epcisHeader")
    lists: list[Any] = []
    if isinstance(header, dict) and isinstance(header.get("epcisMasterData"), dict):
        lists += header["epcisMasterData"].get("vocabularyList") or []
    body = document.get("epcisBody")
    if isinstance(body, dict) and isinstance(body.get("queryResults"), dict):
        results = body["queryResults"].get("resultsBody")
        if isinstance(results, dict):
            lists += results.get("vocabularyList") or []
    found: dict[str, VocabularyElement] = {}
    for i, vocabulary in enumerate(lists):
        where = f"/epcisHeader/epcisMasterData/vocabularyList/{i}"
        if not isinstance(vocabulary, dict) or not isinstance(vocabulary.get("type"), str):
            raise EpcisDocumentError("a vocabulary needs a type", pointer=where)
        vtype = vocabulary["type"]
        kind = _KINDS.get(re.split(r"[:/#]", vtype)[-1], "other")
        for j, element in enumerate(vocabulary.get("vocabularyElementList") or []):
            if not isinstance(element, dict) or not isinstance(element.get("id"), str):
                raise EpcisDocumentError(
                    "a vocabulary element needs an id", pointer=f"{where}/vocabularyElementList/{j}"
                )
            attributes: dict[str, Any] = {}
            for attribute in element.get("attributes") or []:
                if not isinstance(attribute, dict) or not isinstance(attribute.get("id"), str):
                    raise EpcisDocumentError("an attribute needs an id", pointer=f"{where}/vocabularyElementList/{j}")
                key, value = attribute["id"], attribute.get("attribute")
                if key in attributes:
                    previous = attributes[key]
                    attributes[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
                else:
                    attributes[key] = value
            try:
                identifier: Identifier | None = parse_identifier(element["id"], any_uri=True)
            except InvalidInputError:
                identifier = None
            found[element["id"]] = VocabularyElement(
                type=vtype,
                id=element["id"],
                kind=kind,
                attributes=attributes,
                children=tuple(c for c in element.get("children") or [] if isinstance(c, str)),
                identifier=identifier,
            )
    return found
