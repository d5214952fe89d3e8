"""EPCIS 2.0 query parameters (the SimpleEventQuery of EPCIS 2.0 §8.2.7, in the REST bindings' URI form)
turned into an `EventQuery`: what the store must match, every value normalised to the form the store
keeps - CBV terms bare, identifiers and locations canonical (an EPC URN, a Digital Link on any host and
an ``urn:epc:idpat:`` pattern of the same thing are one value), times in epoch milliseconds.

Values of list parameters are pipe-delimited (``EQ_bizStep=shipping|receiving``) or repeated; values
within one parameter are alternatives (OR), different parameters all apply (AND). A class-level
identifier (an ``urn:epc:idpat:`` pattern, or the Digital Link of a GTIN, GRAI, GDTI, ... without
serial) matches itself and every instance of the class.

A name that is not an EPCIS query parameter raises `EpcisQueryParameterError`; a standard one this
repository does not support raises `EpcisNotImplementedError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from tracechain.epcis.events import SubjectRole, parse_time
from tracechain.epcis.hash_ids import event_hash_id_digest
from tracechain.epcis.identifiers import Identifier, parse_identifier
from tracechain.epcis.vocabulary import ACTIONS, Vocabulary, bare_value
from tracechain.errors import EpcisNotImplementedError, EpcisQueryParameterError, InvalidInputError

_R = SubjectRole
# MATCH_* parameters: the roles (see `SubjectRole`) whose identifiers each one matches.
MATCH_ROLES: dict[str, tuple[SubjectRole, ...]] = {
    "MATCH_epc": (_R.EPC, _R.CHILD),
    "MATCH_parentID": (_R.PARENT,),
    "MATCH_inputEPC": (_R.INPUT,),
    "MATCH_outputEPC": (_R.OUTPUT,),
    "MATCH_anyEPC": (_R.PARENT, _R.EPC, _R.CHILD, _R.INPUT, _R.OUTPUT),
    "MATCH_epcClass": (_R.QUANTITY, _R.CHILD_QUANTITY),
    "MATCH_inputEPCClass": (_R.INPUT_QUANTITY,),
    "MATCH_outputEPCClass": (_R.OUTPUT_QUANTITY,),
    "MATCH_anyEPCClass": (_R.QUANTITY, _R.CHILD_QUANTITY, _R.INPUT_QUANTITY, _R.OUTPUT_QUANTITY),
}
_LISTS = {
    "eventType", "EQ_action", "EQ_bizStep", "EQ_disposition", "EQ_readPoint", "EQ_bizLocation",
    "EQ_transformationID", "EQ_eventID", "EQ_errorReason", *MATCH_ROLES,
}  # fmt: skip
_TIMES = {"GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime", "GE_errorDeclarationTime",
          "LT_errorDeclarationTime"}  # fmt: skip
_SINGLE = {"EXISTS_errorDeclaration", "orderBy", "orderDirection", "eventCountLimit", "maxEventCount"}
SUPPORTED_PARAMETERS: frozenset[str] = frozenset(_LISTS | _TIMES | _SINGLE)
# Standard parameters of EPCIS 2.0 this repository does not evaluate (answered 501, not ignored).
UNSUPPORTED_PARAMETERS: frozenset[str] = frozenset(
    {
        "EQ_persistentDisposition_set", "EQ_persistentDisposition_unset", "WD_readPoint", "WD_bizLocation",
        "EQ_quantity", "GT_quantity", "GE_quantity", "LT_quantity", "LE_quantity", "EQ_correctiveEventID",
        "GE_startTime", "LT_startTime", "GE_endTime", "LT_endTime", "EQ_type", "EQ_deviceID",
        "EQ_dataProcessingMethod", "EQ_microorganism", "EQ_chemicalSubstance", "EQ_bizRules", "EQ_stringValue",
        "EQ_hexBinaryValue", "EQ_uriValue", "EQ_booleanValue", "EQ_requestedEventTypes",
    }
)  # fmt: skip
# Parameter families with names built from a field, type or unit (EQ_ILMD_..., GE_{uom}, EQATTR_...).
_STANDARD_FAMILY = re.compile(
    r"(EQ|GT|GE|LT|LE|EXISTS|HASATTR|EQATTR|MATCH|WD|EQ_INNER|GT_INNER|GE_INNER|LT_INNER|LE_INNER)_.+"
)
_HASH_ID = re.compile(r"ni:///sha-256;[0-9a-fA-F]{64}\?ver=CBV2\.0")


class ErrorDeclarations(StrEnum):
    """Which recorded documents a query considers, by error declaration."""

    EXCLUDE = "exclude"  # default: events not declared erroneous (and no declarations)
    ONLY = "only"  # EXISTS_errorDeclaration=true: the declarations (events with an errorDeclaration)
    ANY = "any"  # EXISTS_errorDeclaration=false: every recorded document, declared or not


@dataclass(frozen=True)
class IdentifierMatch:
    """One MATCH_* parameter: events naming, in one of `roles`, an identifier whose canonical form is
    one of `canonicals` or starts with one of `prefixes` (class-level values)."""

    parameter: str
    roles: tuple[str, ...]
    canonicals: tuple[str, ...]
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class EventQuery:
    """A SimpleEventQuery, normalised; `None` (or empty) means the parameter was not given."""

    event_types: tuple[str, ...] = ()
    ge_event_time_ms: int | None = None
    lt_event_time_ms: int | None = None
    ge_record_time_ms: int | None = None
    lt_record_time_ms: int | None = None
    actions: tuple[str, ...] = ()
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    read_points: tuple[str, ...] = ()  # canonical identifiers
    biz_locations: tuple[str, ...] = ()  # canonical identifiers
    transformation_ids: tuple[str, ...] = ()
    event_digests: tuple[str, ...] = ()  # EQ_eventID values that are Event Hash IDs: 0x-hex digests
    declared_ids: tuple[str, ...] = ()  # EQ_eventID values as declared in events' eventID
    matches: tuple[IdentifierMatch, ...] = ()
    error_declarations: ErrorDeclarations = ErrorDeclarations.EXCLUDE
    ge_declaration_time_ms: int | None = None
    lt_declaration_time_ms: int | None = None
    error_reasons: tuple[str, ...] = ()
    order_by: Literal["eventTime", "recordTime"] | None = None
    descending: bool = False
    event_count_limit: int | None = None
    max_event_count: int | None = None

    @property
    def needs_query_facts(self) -> bool:
        """True when a filter reads what only the documents say (locations, eventID, declarations)."""
        return bool(
            self.read_points or self.biz_locations or self.transformation_ids or self.declared_ids
            or self.error_reasons or self.ge_declaration_time_ms is not None
            or self.lt_declaration_time_ms is not None
        )  # fmt: skip


# ---------------------------------------------------------------- values
def split_values(raw: Sequence[str]) -> list[str]:
    """Every value of a (possibly repeated) pipe-delimited parameter, empty ones dropped."""
    return [v.strip() for value in raw for v in value.split("|") if v.strip()]


def _fail(name: str, message: str, hint: str | None = None) -> EpcisQueryParameterError:
    return EpcisQueryParameterError(f"{name}: {message}", hint=hint)


def _time_ms(name: str, raw: Sequence[str]) -> int:
    if len(raw) != 1:
        raise _fail(name, "give one date-time")
    # A '+' in an unencoded query string arrives as a space: an offset like +01:00 is meant.
    value = raw[0].strip().replace(" ", "+")
    try:
        return int(parse_time(value, name).timestamp() * 1000)
    except InvalidInputError as exc:
        raise _fail(name, exc.message, "e.g. 2026-03-01T10:00:00.000+01:00 (encode '+' as %2B)") from exc


def _integer(name: str, raw: Sequence[str]) -> int:
    if len(raw) != 1 or not raw[0].strip().isdigit() or int(raw[0]) < 1:
        raise _fail(name, f"must be a positive integer, got {'|'.join(raw)!r}")
    return int(raw[0])


def _vocabulary(name: str, values: list[str], vocabulary: Vocabulary) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(bare_value(vocabulary, v, name) for v in values))
    except InvalidInputError as exc:
        raise _fail(name, exc.message, exc.hint) from exc


def _identifier(name: str, value: str) -> Identifier:
    try:
        return parse_identifier(value, any_uri=True)
    except InvalidInputError as exc:
        hint = exc.hint or "use an EPC URN, a Digital Link URI or an urn:epc:idpat: pattern"
        raise _fail(name, exc.message, hint) from exc


def class_prefix(identifier: Identifier) -> str | None:
    """For a class-level GS1 identifier (a GTIN, or a GRAI/GDTI/SGCN/CPI/ITIP without serial): the
    prefix every canonical identifier of an instance of it starts with; None for anything else."""
    if identifier.kind != "gs1" or identifier.category != "class":
        return None
    if identifier.scheme in ("grai", "gdti", "sgcn"):  # the serial follows the fixed-length key directly
        return identifier.canonical
    return identifier.canonical + "/"


def _match(name: str, values: list[str]) -> IdentifierMatch:
    canonicals: list[str] = []
    prefixes: list[str] = []
    for value in values:
        identifier = _identifier(name, value)
        canonicals.append(identifier.canonical)
        prefix = class_prefix(identifier)
        if prefix is not None:
            prefixes.append(prefix)
    return IdentifierMatch(
        name,
        tuple(str(r) for r in MATCH_ROLES[name]),
        tuple(dict.fromkeys(canonicals)),
        tuple(dict.fromkeys(prefixes)),
    )


def _boolean(name: str, raw: Sequence[str]) -> bool:
    value = raw[0].strip().lower() if len(raw) == 1 else ""
    if value not in ("true", "false"):
        raise _fail(name, f"must be true or false, got {'|'.join(raw)!r}")
    return value == "true"


# ---------------------------------------------------------------- the query
def check_parameter_names(names: Sequence[str]) -> None:
    """Refuse names that are not EPCIS query parameters, and standard ones this repository cannot answer.

    Raises:
        EpcisQueryParameterError: an unknown name.
        EpcisNotImplementedError: a standard parameter not supported here.
    """
    for name in names:
        if name in SUPPORTED_PARAMETERS:
            continue
        if name in UNSUPPORTED_PARAMETERS or _STANDARD_FAMILY.fullmatch(name):
            raise EpcisNotImplementedError(
                f"the query parameter {name} is not supported by this repository",
                hint=f"supported: {', '.join(sorted(SUPPORTED_PARAMETERS))}",
            )
        raise _fail(name, "not an EPCIS query parameter", "see EPCIS 2.0 §8.2.7.1 (SimpleEventQuery)")


def parse_event_query(params: Mapping[str, Sequence[str]]) -> EventQuery:
    """An `EventQuery` from EPCIS query parameters (each name with its raw values, as given).

    Raises:
        EpcisQueryParameterError: an unknown parameter, a malformed value, or parameters that contradict.
        EpcisNotImplementedError: a standard parameter this repository does not support.
    """
    check_parameter_names(list(params))
    values = {name: split_values(raw) for name, raw in params.items() if name in _LISTS}
    for name, found in values.items():
        if not found:
            raise _fail(name, "give at least one value")
    actions = tuple(dict.fromkeys(values.get("EQ_action", [])))
    for action in actions:
        if action not in ACTIONS:
            raise _fail("EQ_action", f"must be one of {', '.join(ACTIONS)}, got {action!r}")
    event_ids = values.get("EQ_eventID", [])
    digests = []
    for value in event_ids:
        if _HASH_ID.fullmatch(value):
            digests.append("0x" + event_hash_id_digest(value).hex())
    times = {name: _time_ms(name, params[name]) for name in _TIMES if name in params}

    declarations = ErrorDeclarations.EXCLUDE
    if "EXISTS_errorDeclaration" in params:
        only = _boolean("EXISTS_errorDeclaration", params["EXISTS_errorDeclaration"])
        declarations = ErrorDeclarations.ONLY if only else ErrorDeclarations.ANY
    reasons = _vocabulary("EQ_errorReason", values["EQ_errorReason"], Vocabulary.ERROR_REASON) if (
        "EQ_errorReason" in values) else ()  # fmt: skip
    if reasons or "GE_errorDeclarationTime" in times or "LT_errorDeclarationTime" in times:
        declarations = ErrorDeclarations.ONLY  # these parameters select events with an errorDeclaration

    order_by: Literal["eventTime", "recordTime"] | None = None
    if "orderBy" in params:
        raw = params["orderBy"]
        if len(raw) != 1 or raw[0] not in ("eventTime", "recordTime"):
            raise EpcisNotImplementedError(
                f"orderBy {'|'.join(raw)!r} is not supported", hint="order by eventTime or recordTime"
            )
        order_by = "eventTime" if raw[0] == "eventTime" else "recordTime"
    descending = False
    if "orderDirection" in params:
        raw = params["orderDirection"]
        if len(raw) != 1 or raw[0] not in ("ASC", "DESC"):
            raise _fail("orderDirection", f"must be ASC or DESC, got {'|'.join(raw)!r}")
        if order_by is None:
            raise _fail("orderDirection", "needs orderBy")
        descending = raw[0] == "DESC"
    elif order_by is not None:
        descending = True  # EPCIS: orderDirection defaults to DESC
    limit = _integer("eventCountLimit", params["eventCountLimit"]) if "eventCountLimit" in params else None
    most = _integer("maxEventCount", params["maxEventCount"]) if "maxEventCount" in params else None
    if limit is not None and most is not None:
        raise _fail("eventCountLimit", "eventCountLimit and maxEventCount exclude each other")
    if limit is not None and order_by is None:
        raise _fail("eventCountLimit", "needs orderBy (the first N events in which order?)")

    def locations(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_identifier(name, v).canonical for v in values.get(name, [])))

    return EventQuery(
        event_types=tuple(dict.fromkeys(values.get("eventType", []))),
        ge_event_time_ms=times.get("GE_eventTime"),
        lt_event_time_ms=times.get("LT_eventTime"),
        ge_record_time_ms=times.get("GE_recordTime"),
        lt_record_time_ms=times.get("LT_recordTime"),
        actions=actions,
        biz_steps=_vocabulary("EQ_bizStep", values["EQ_bizStep"], Vocabulary.BIZ_STEP)
        if ("EQ_bizStep" in values)
        else (),  # fmt: skip
        dispositions=_vocabulary("EQ_disposition", values["EQ_disposition"], Vocabulary.DISPOSITION)
        if ("EQ_disposition" in values)
        else (),  # fmt: skip
        read_points=locations("EQ_readPoint"),
        biz_locations=locations("EQ_bizLocation"),
        transformation_ids=tuple(dict.fromkeys(values.get("EQ_transformationID", []))),
        event_digests=tuple(dict.fromkeys(digests)),
        declared_ids=tuple(dict.fromkeys(event_ids)),
        matches=tuple(_match(name, values[name]) for name in MATCH_ROLES if name in values),
        error_declarations=declarations,
        ge_declaration_time_ms=times.get("GE_errorDeclarationTime"),
        lt_declaration_time_ms=times.get("LT_errorDeclarationTime"),
        error_reasons=reasons,
        order_by=order_by,
        descending=descending,
        event_count_limit=limit,
        max_event_count=most,
    )
