"""EPCIS 2.0 events: the rules of each event type, the facts an event states, and its subjects.

`check_event` validates one JSON event (ObjectEvent, AggregationEvent, TransactionEvent,
TransformationEvent, AssociationEvent) beyond what GS1's JSON schema can say - identifiers parse with
valid check digits, times are real dates with an offset, standard values are CBV terms or URIs - and
returns its `EventFacts` (normalised values on the side; the event itself is never rewritten).

`subjects_of` lists every identifier an event names, in every role, for the per-identifier hash chains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tracechain.epcis.hash_ids import ISO_DATE_TIME
from tracechain.epcis.identifiers import Identifier, parse_identifier
from tracechain.epcis.vocabulary import ACTIONS, EVENT_TYPES, KNOWN_CONTEXTS, Vocabulary, bare_value
from tracechain.errors import InvalidInputError

_COMMON_FIELDS = frozenset(
    {
        "@context", "id", "type", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime", "certificationInfo",
        "errorDeclaration", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation",
        "bizTransactionList", "sourceList", "destinationList", "sensorElementList", "comment",
    }
)  # fmt: skip
_TYPE_FIELDS = {
    "ObjectEvent": frozenset({"action", "epcList", "quantityList", "ilmd"}),
    "AggregationEvent": frozenset({"action", "parentID", "childEPCs", "childQuantityList"}),
    "TransactionEvent": frozenset({"action", "parentID", "epcList", "quantityList"}),
    "TransformationEvent": frozenset(
        {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "ilmd"}
    ),
    "AssociationEvent": frozenset({"action", "parentID", "childEPCs", "childQuantityList"}),
}
EXTENSION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*:[^\s:]\S*")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_TZ_OFFSET = re.compile(r"[+-]((0\d|1[0-3]):[0-5]\d|14:00)")
_UOM = re.compile(r"[A-Z0-9]{2,3}")
_HEX = re.compile(r"[0-9A-Fa-f]+")


# ---------------------------------------------------------------- facts
class SubjectRole(StrEnum):
    """The role in which an event names an identifier."""

    PARENT = "parent"
    EPC = "epc"
    CHILD = "child"
    INPUT = "input"
    OUTPUT = "output"
    QUANTITY = "quantity"
    CHILD_QUANTITY = "child_quantity"
    INPUT_QUANTITY = "input_quantity"
    OUTPUT_QUANTITY = "output_quantity"
    LOCATION = "location"  # only for events that name no other identifier


@dataclass(frozen=True)
class Subject:
    """An identifier an event names: `role` is its first role, `roles` all of them (in role order)."""

    identifier: Identifier
    role: SubjectRole
    roles: tuple[SubjectRole, ...]


@dataclass(frozen=True)
class QuantityElement:
    """One entry of a quantity list: a class of things and how much of it."""

    epc_class: Identifier
    quantity: float | int | None
    uom: str | None


@dataclass(frozen=True)
class BizTransaction:
    """A business transaction an event refers to: its type (bare CBV term, URI or None) and ID."""

    type: str | None
    id: str


@dataclass(frozen=True)
class SourceDestination:
    """A source or destination of a transfer: its type (bare CBV term or URI) and ID."""

    type: str
    id: str


@dataclass(frozen=True)
class SensorReading:
    """One sensorReport, with the sensorMetadata time or device as fallback. `type` is the bare GS1
    measurement type (e.g. 'Temperature') or a URI; `report` is the whole report as captured."""

    type: str
    value: float | int | None
    uom: str | None
    time: datetime | None
    device_id: str | None
    min_value: float | int | None = None
    max_value: float | int | None = None
    mean_value: float | int | None = None
    string_value: str | None = None
    boolean_value: bool | None = None
    exception: str | None = None
    component: str | None = None
    report: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ErrorDeclaration:
    """The event declares itself erroneous: when, why (bare CBV reason or URI), and its corrections."""

    declaration_time: datetime
    reason: str | None
    corrective_event_ids: tuple[str, ...]


@dataclass(frozen=True)
class EventFacts:
    """What a valid EPCIS 2.0 event states, normalised (bare CBV terms; times as aware datetimes)."""

    event_type: str
    action: str | None
    event_time: datetime
    event_time_zone_offset: str
    record_time: datetime | None
    event_id_field: str | None  # the event's own eventID, if any
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    parent: Identifier | None
    epcs: tuple[Identifier, ...]
    children: tuple[Identifier, ...]
    inputs: tuple[Identifier, ...]
    outputs: tuple[Identifier, ...]
    quantities: tuple[QuantityElement, ...]
    child_quantities: tuple[QuantityElement, ...]
    input_quantities: tuple[QuantityElement, ...]
    output_quantities: tuple[QuantityElement, ...]
    transformation_id: str | None
    biz_transactions: tuple[BizTransaction, ...]
    sources: tuple[SourceDestination, ...]
    destinations: tuple[SourceDestination, ...]
    sensor_readings: tuple[SensorReading, ...]
    persistent_disposition_set: tuple[str, ...]
    persistent_disposition_unset: tuple[str, ...]
    certification_info: tuple[str, ...]
    error_declaration: ErrorDeclaration | None
    ilmd: Mapping[str, Any] | None
    extensions: tuple[str, ...]  # namespaced top-level fields

    @property
    def subjects(self) -> tuple[Subject, ...]:
        """Every identifier the event names, deduplicated, in role order (see `subjects_of`)."""
        return _subjects(self)


# ---------------------------------------------------------------- checks
def _fail(where: str, message: str, hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(f"{where}: {message}" if where else message, hint=hint)


def parse_time(value: Any, field_name: str) -> datetime:
    """An ISO 8601 date-time with offset as an aware datetime (fractions beyond microseconds truncated).

    Raises:
        InvalidInputError: not a string of that form, or not a real date-time (`field_name` names it).
    """
    if not isinstance(value, str) or not ISO_DATE_TIME.fullmatch(value):
        raise InvalidInputError(
            f"{field_name} must be an ISO 8601 date-time with offset, got {value!r}",
            hint="e.g. 2024-03-01T10:00:00.000+01:00",
        )
    match = ISO_DATE_TIME.fullmatch(value)
    assert match is not None
    text = value[:10] + "T" + value[11:]
    if match.group(8):
        text = text[:-1] + "Z"
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(f"{field_name} {value!r} is not a valid date-time: {exc}") from exc


def _uri(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not _URI.fullmatch(value):
        raise InvalidInputError(f"{field_name} must be a URI, got {value!r}")
    return value


def _identifier(value: Any, field_name: str) -> Identifier:
    if not isinstance(value, str) or not _URI.fullmatch(value.strip()):
        raise InvalidInputError(
            f"{field_name} must be a URI, got {value!r}",
            hint="use an EPC URN, a Digital Link URI with host, or opaque:<id>",
        )
    try:
        return parse_identifier(value, any_uri=True)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{field_name}: {exc.message}", hint=exc.hint) from exc


def _identifiers(event: Mapping[str, Any], key: str) -> tuple[Identifier, ...]:
    values = event.get(key)
    if values is None:
        return ()
    if not isinstance(values, list):
        raise InvalidInputError(f"{key} must be a list of URIs")
    # The same identifier twice (e.g. as URN and Digital Link, as one GS1 example has it) is one subject.
    return tuple(dict.fromkeys(_identifier(value, f"{key}[{i}]") for i, value in enumerate(values)))


def _quantities(event: Mapping[str, Any], key: str) -> tuple[QuantityElement, ...]:
    values = event.get(key)
    if values is None:
        return ()
    if not isinstance(values, list):
        raise InvalidInputError(f"{key} must be a list of quantity elements")
    result = []
    for i, element in enumerate(values):
        where = f"{key}[{i}]"
        if not isinstance(element, dict) or "epcClass" not in element:
            raise InvalidInputError(f"{where} must be an object with an epcClass")
        unknown = set(element) - {"epcClass", "quantity", "uom"}
        if unknown:
            raise InvalidInputError(f"{where} has unknown fields {sorted(unknown)}")
        quantity = element.get("quantity")
        if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int | float)):
            raise InvalidInputError(f"{where}.quantity must be a number, got {quantity!r}")
        uom = element.get("uom")
        if uom is not None:
            if not isinstance(uom, str) or not _UOM.fullmatch(uom):
                raise InvalidInputError(f"{where}.uom must be a UN/CEFACT code of 2-3 capitals or digits, got {uom!r}")
            if quantity is None:
                raise InvalidInputError(f"{where}.uom needs a quantity")
        result.append(QuantityElement(_identifier(element["epcClass"], f"{where}.epcClass"), quantity, uom))
    return tuple(result)


def _location(event: Mapping[str, Any], key: str) -> str | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or "id" not in value:
        raise InvalidInputError(f"{key} must be an object with an id", hint=f"{key}: {{id: <URI>}}")
    _check_extension_keys(value, key, {"id"})
    location = _uri(value["id"], f"{key}.id")
    _identifier(location, f"{key}.id")  # a GS1 form must be a valid one (e.g. SGLN check digits)
    return location


def _check_extension_keys(obj: Mapping[str, Any], where: str, standard: Iterable[str]) -> None:
    allowed = set(standard)
    for key in obj:
        if key not in allowed and not (isinstance(key, str) and EXTENSION_KEY.fullmatch(key)):
            raise InvalidInputError(
                f"{where} has an unknown field {key!r}",
                hint="extension fields must be namespaced, e.g. 'acme:batchNote'",
            )


def _vocab(value: Any, vocabulary: Vocabulary, field_name: str) -> str | None:
    return None if value is None else bare_value(vocabulary, value, field_name)


def _pairs(event: Mapping[str, Any], key: str, id_key: str, vocabulary: Vocabulary, type_required: bool) -> list[Any]:
    values = event.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        raise InvalidInputError(f"{key} must be a list")
    result = []
    for i, entry in enumerate(values):
        where = f"{key}[{i}]"
        if not isinstance(entry, dict) or id_key not in entry:
            raise InvalidInputError(f"{where} must be an object with {id_key!r}")
        if set(entry) - {"type", id_key}:
            raise InvalidInputError(f"{where} may only hold 'type' and {id_key!r}")
        if type_required and "type" not in entry:
            raise InvalidInputError(f"{where}.type is required")
        kind = _vocab(entry.get("type"), vocabulary, f"{where}.type")
        result.append((kind, _uri(entry[id_key], f"{where}.{id_key}")))
    return result


def _number(report: Mapping[str, Any], key: str, where: str) -> float | int | None:
    value = report.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise InvalidInputError(f"{where}.{key} must be a number, got {value!r}")
    return value


_REPORT_FIELDS = frozenset(
    {
        "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "time",
        "microorganism", "chemicalSubstance", "coordinateReferenceSystem", "value", "component", "stringValue",
        "booleanValue", "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank",
        "percValue", "uom",
    }
)  # fmt: skip
_METADATA_FIELDS = frozenset(
    {"time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"}
)
_REPORT_URIS = ("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "microorganism",
                "chemicalSubstance", "coordinateReferenceSystem", "uriValue")  # fmt: skip


def _sensor_readings(event: Mapping[str, Any]) -> tuple[SensorReading, ...]:
    elements = event.get("sensorElementList")
    if elements is None:
        return ()
    if not isinstance(elements, list):
        raise InvalidInputError("sensorElementList must be a list")
    readings = []
    for i, element in enumerate(elements):
        where = f"sensorElementList[{i}]"
        if not isinstance(element, dict):
            raise InvalidInputError(f"{where} must be an object")
        _check_extension_keys(element, where, {"sensorMetadata", "sensorReport", "type"})
        metadata = element.get("sensorMetadata") or {}
        if not isinstance(metadata, dict):
            raise InvalidInputError(f"{where}.sensorMetadata must be an object")
        _check_extension_keys(metadata, f"{where}.sensorMetadata", _METADATA_FIELDS)
        meta_time = None
        for key in ("time", "startTime", "endTime"):
            if key in metadata:
                parsed = parse_time(metadata[key], f"{where}.sensorMetadata.{key}")
                meta_time = meta_time or parsed
        for key in _METADATA_FIELDS - {"time", "startTime", "endTime"}:
            if key in metadata:
                _uri(metadata[key], f"{where}.sensorMetadata.{key}")
        reports = element.get("sensorReport")
        if not isinstance(reports, list) or not reports:
            raise InvalidInputError(f"{where}.sensorReport must be a non-empty list")
        for j, report in enumerate(reports):
            rwhere = f"{where}.sensorReport[{j}]"
            if not isinstance(report, dict):
                raise InvalidInputError(f"{rwhere} must be an object")
            _check_extension_keys(report, rwhere, _REPORT_FIELDS)
            if "type" not in report:
                raise InvalidInputError(f"{rwhere}.type is required (a measurement type, e.g. 'Temperature')")
            kind = _vocab(report["type"], Vocabulary.MEASUREMENT_TYPE, f"{rwhere}.type")
            for key in _REPORT_URIS:
                if key in report:
                    _uri(report[key], f"{rwhere}.{key}")
            for key in ("sDev", "percRank", "percValue"):
                _number(report, key, rwhere)
            uom = report.get("uom")
            if uom is not None and not isinstance(uom, str):
                raise InvalidInputError(f"{rwhere}.uom must be a string")
            string_value = report.get("stringValue")
            if string_value is not None and not isinstance(string_value, str):
                raise InvalidInputError(f"{rwhere}.stringValue must be a string")
            boolean_value = report.get("booleanValue")
            if boolean_value is not None and not isinstance(boolean_value, bool):
                raise InvalidInputError(f"{rwhere}.booleanValue must be true or false")
            hex_value = report.get("hexBinaryValue")
            if hex_value is not None and (not isinstance(hex_value, str) or not _HEX.fullmatch(hex_value)):
                raise InvalidInputError(f"{rwhere}.hexBinaryValue must be hex digits")
            time = parse_time(report["time"], f"{rwhere}.time") if "time" in report else meta_time
            device = report.get("deviceID", metadata.get("deviceID"))
            readings.append(
                SensorReading(
                    type=kind or "",
                    value=_number(report, "value", rwhere),
                    uom=uom,
                    time=time,
                    device_id=device,
                    min_value=_number(report, "minValue", rwhere),
                    max_value=_number(report, "maxValue", rwhere),
                    mean_value=_number(report, "meanValue", rwhere),
                    string_value=string_value,
                    boolean_value=boolean_value,
                    exception=_vocab(report.get("exception"), Vocabulary.SENSOR_ALERT_TYPE, f"{rwhere}.exception"),
                    component=_vocab(report.get("component"), Vocabulary.COMPONENT, f"{rwhere}.component"),
                    report=report,
                )
            )
    return tuple(readings)


def _error_declaration(event: Mapping[str, Any]) -> ErrorDeclaration | None:
    value = event.get("errorDeclaration")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInputError("errorDeclaration must be an object")
    _check_extension_keys(value, "errorDeclaration", {"declarationTime", "reason", "correctiveEventIDs"})
    if "declarationTime" not in value:
        raise InvalidInputError("errorDeclaration.declarationTime is required")
    corrective = value.get("correctiveEventIDs", [])
    if not isinstance(corrective, list):
        raise InvalidInputError("errorDeclaration.correctiveEventIDs must be a list of event IDs")
    return ErrorDeclaration(
        declaration_time=parse_time(value["declarationTime"], "errorDeclaration.declarationTime"),
        reason=_vocab(value.get("reason"), Vocabulary.ERROR_REASON, "errorDeclaration.reason"),
        corrective_event_ids=tuple(
            _uri(v, f"errorDeclaration.correctiveEventIDs[{i}]") for i, v in enumerate(corrective)
        ),
    )


def _persistent_disposition(event: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    value = event.get("persistentDisposition")
    if value is None:
        return (), ()
    if not isinstance(value, dict) or not value or set(value) - {"set", "unset"}:
        raise InvalidInputError("persistentDisposition must be an object with 'set' and/or 'unset' lists")
    result = []
    for key in ("set", "unset"):
        items = value.get(key, [])
        if not isinstance(items, list) or (key in value and not items):
            raise InvalidInputError(f"persistentDisposition.{key} must be a non-empty list of dispositions")
        result.append(
            tuple(
                bare_value(Vocabulary.DISPOSITION, v, f"persistentDisposition.{key}[{i}]") for i, v in enumerate(items)
            )
        )
    return result[0], result[1]


def check_context(context: Any, where: str = "@context") -> None:
    """Check a JSON-LD @context: known EPCIS context URLs and {prefix: namespace IRI} maps (other term
    definitions are allowed and ignored).

    Raises:
        InvalidInputError: an unknown context URL or a malformed entry.
    """
    entries = context if isinstance(context, list) else [context]
    for entry in entries:
        if isinstance(entry, str):
            if entry not in KNOWN_CONTEXTS:
                raise InvalidInputError(
                    f"{where}: unsupported context URL {entry!r}",
                    hint="use the EPCIS 2.0 context and inline {prefix: namespace} maps for extensions",
                )
        elif isinstance(entry, dict):
            for prefix, iri in entry.items():
                if isinstance(iri, str) and not _URI.fullmatch(iri):
                    raise InvalidInputError(f"{where}: prefix {prefix!r} must map to a namespace IRI, got {iri!r}")
        else:
            raise InvalidInputError(f"{where} entries must be URLs or objects")


def check_event(event: Any) -> EventFacts:
    """Validate one EPCIS 2.0 JSON event and return what it states.

    Raises:
        InvalidInputError: not an event of a supported type, or a field breaks EPCIS 2.0 (the message
            names the field).
    """
    if not isinstance(event, dict):
        raise InvalidInputError("an EPCIS event must be a JSON object")
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise InvalidInputError(
            f"type must be one of {', '.join(EVENT_TYPES)}, got {kind!r}",
            hint="extension event types are not supported",
        )
    allowed = _COMMON_FIELDS | _TYPE_FIELDS[kind]
    for key in event:
        if key not in allowed and not (isinstance(key, str) and EXTENSION_KEY.fullmatch(key)):
            hint = (
                f"{key} is not a field of {kind}"
                if any(key in fields for fields in _TYPE_FIELDS.values())
                else "extension fields must be namespaced, e.g. 'acme:batchNote'"
            )
            raise InvalidInputError(f"unknown field {key!r} in a {kind}", hint=hint)
    if "@context" in event:
        check_context(event["@context"])
    if "eventTime" not in event:
        raise InvalidInputError("eventTime is required")
    event_time = parse_time(event["eventTime"], "eventTime")
    offset = event.get("eventTimeZoneOffset")
    if not isinstance(offset, str) or not _TZ_OFFSET.fullmatch(offset):
        raise InvalidInputError(f"eventTimeZoneOffset must be ±HH:MM (-14:00..+14:00), got {offset!r}")
    record_time = parse_time(event["recordTime"], "recordTime") if "recordTime" in event else None
    event_id = _uri(event["eventID"], "eventID") if "eventID" in event else None

    action = event.get("action")
    if kind == "TransformationEvent":
        if action is not None:
            raise InvalidInputError("a TransformationEvent has no action")
    elif action not in ACTIONS:
        raise InvalidInputError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")

    certification = event.get("certificationInfo", [])
    certification_list = certification if isinstance(certification, list) else [certification]
    certification_info = tuple(_uri(v, "certificationInfo") for v in certification_list)

    parent = _identifier(event["parentID"], "parentID") if "parentID" in event else None
    epcs = _identifiers(event, "epcList")
    children = _identifiers(event, "childEPCs")
    inputs = _identifiers(event, "inputEPCList")
    outputs = _identifiers(event, "outputEPCList")
    quantities = _quantities(event, "quantityList")
    child_quantities = _quantities(event, "childQuantityList")
    input_quantities = _quantities(event, "inputQuantityList")
    output_quantities = _quantities(event, "outputQuantityList")
    readings = _sensor_readings(event)
    read_point = _location(event, "readPoint")

    if kind == "ObjectEvent":
        if "epcList" not in event and not quantities and not (readings and read_point):
            raise InvalidInputError(
                "an ObjectEvent needs an epcList, a quantityList, or sensor readings at a readPoint"
            )
        if "ilmd" in event and action != "ADD":
            raise InvalidInputError("ilmd is only allowed in an ObjectEvent with action ADD")
    elif kind in ("AggregationEvent", "AssociationEvent"):
        if parent is None and (kind == "AssociationEvent" or action in ("ADD", "DELETE")):
            raise InvalidInputError(f"parentID is required in an {kind} with action {action}")
        if not children and not child_quantities and action != "DELETE":
            raise InvalidInputError(f"an {kind} with action {action} needs childEPCs or a childQuantityList")
    elif kind == "TransactionEvent":
        if not event.get("bizTransactionList"):
            raise InvalidInputError("a TransactionEvent needs a non-empty bizTransactionList")
        if "epcList" not in event and not quantities and action != "DELETE":
            raise InvalidInputError("a TransactionEvent needs an epcList or a quantityList")
    elif not (inputs or outputs or input_quantities or output_quantities):
        raise InvalidInputError("a TransformationEvent needs inputs or outputs (EPC or quantity lists)")

    ilmd = event.get("ilmd")
    if ilmd is not None:
        if not isinstance(ilmd, dict):
            raise InvalidInputError("ilmd must be an object")
        _check_extension_keys(ilmd, "ilmd", ())
    pd_set, pd_unset = _persistent_disposition(event)
    transformation_id = _uri(event["transformationID"], "transformationID") if "transformationID" in event else None
    return EventFacts(
        event_type=kind,
        action=action,
        event_time=event_time,
        event_time_zone_offset=offset,
        record_time=record_time,
        event_id_field=event_id,
        biz_step=_vocab(event.get("bizStep"), Vocabulary.BIZ_STEP, "bizStep"),
        disposition=_vocab(event.get("disposition"), Vocabulary.DISPOSITION, "disposition"),
        read_point=read_point,
        biz_location=_location(event, "bizLocation"),
        parent=parent,
        epcs=epcs,
        children=children,
        inputs=inputs,
        outputs=outputs,
        quantities=quantities,
        child_quantities=child_quantities,
        input_quantities=input_quantities,
        output_quantities=output_quantities,
        transformation_id=transformation_id,
        biz_transactions=tuple(
            BizTransaction(t, i)
            for t, i in _pairs(event, "bizTransactionList", "bizTransaction", Vocabulary.BIZ_TRANSACTION_TYPE, False)
        ),  # fmt: skip
        sources=tuple(
            SourceDestination(t, i)
            for t, i in _pairs(event, "sourceList", "source", Vocabulary.SOURCE_DESTINATION_TYPE, True)
        ),
        destinations=tuple(
            SourceDestination(t, i)
            for t, i in _pairs(event, "destinationList", "destination", Vocabulary.SOURCE_DESTINATION_TYPE, True)
        ),
        sensor_readings=readings,
        persistent_disposition_set=pd_set,
        persistent_disposition_unset=pd_unset,
        certification_info=certification_info,
        error_declaration=_error_declaration(event),
        ilmd=ilmd,
        extensions=tuple(k for k in event if k not in allowed),
    )


# ---------------------------------------------------------------- subjects
def _subjects(facts: EventFacts) -> tuple[Subject, ...]:
    named: dict[Identifier, list[SubjectRole]] = {}

    def add(ident: Identifier, role: SubjectRole) -> None:
        roles = named.setdefault(ident, [])
        if role not in roles:
            roles.append(role)

    if facts.parent is not None:
        add(facts.parent, SubjectRole.PARENT)
    for role, idents in (
        (SubjectRole.EPC, facts.epcs),
        (SubjectRole.CHILD, facts.children),
        (SubjectRole.INPUT, facts.inputs),
        (SubjectRole.OUTPUT, facts.outputs),
    ):
        for ident in idents:
            add(ident, role)
    for role, elements in (
        (SubjectRole.QUANTITY, facts.quantities),
        (SubjectRole.CHILD_QUANTITY, facts.child_quantities),
        (SubjectRole.INPUT_QUANTITY, facts.input_quantities),
        (SubjectRole.OUTPUT_QUANTITY, facts.output_quantities),
    ):
        for element in elements:
            add(element.epc_class, role)
    if not named:
        location = facts.biz_location or facts.read_point
        if location is None:
            raise InvalidInputError(
                "the event names no identifier (no EPCs, parentID, quantities) and no location",
                hint="add an epcList or quantityList, or a bizLocation/readPoint for a sensor-only event",
            )
        add(parse_identifier(location, any_uri=True), SubjectRole.LOCATION)
    return tuple(Subject(ident, roles[0], tuple(roles)) for ident, roles in named.items())


def subjects_of(event: Mapping[str, Any] | EventFacts) -> tuple[Subject, ...]:
    """Every identifier an event names, in any role (parent, epc, child, input, output, and the epcClass
    of each quantity list), deduplicated by identifier, in role order then document order; for an event
    naming none of these, its bizLocation, else its readPoint, as a location subject.

    Raises:
        InvalidInputError: an invalid event, or one that names no identifier and no location.
    """
    facts = event if isinstance(event, EventFacts) else check_event(dict(event))
    return facts.subjects
