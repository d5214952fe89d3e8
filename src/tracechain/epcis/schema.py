"""GS1's EPCIS 2.0 JSON schema (shipped beside this module, see NOTICE) and validation against it.

The validators are built once, on first use. A document's envelope and each of its events are checked
separately - each event against its own type's definition, as the schema's if/then on ``type`` would -
so a 10,000-event document does not pay for the schema's dispatch on every event, and the error names
the event. Formats (``uri``, ``date-time``) are annotations here, as in JSON Schema's default: GS1's own
examples use JSON-LD blank-node IDs (``_:document1``) a strict URI check refuses; `events.check_event`
checks the identifiers and times that matter.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from tracechain.errors import EpcisSchemaError

SCHEMA_FILE = "EPCIS-JSON-Schema.json"
_EVENT_DEFINITIONS = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")


@lru_cache(maxsize=1)
def epcis_schema() -> dict[str, Any]:
    """GS1's EPCIS 2.0 JSON schema, as shipped."""
    text = resources.files("tracechain.epcis").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _inline(node: Any, definitions: dict[str, Any], depth: int = 0) -> Any:
    """`node` with its local $refs replaced by the definitions they name (the schema has no cycles)."""
    if depth > 64:
        raise RecursionError("the EPCIS schema's $refs nest too deeply")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/") and len(node) == 1:
            return _inline(definitions[unquote(ref.removeprefix("#/definitions/"))], definitions, depth + 1)
        return {k: _inline(v, definitions, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, definitions, depth) for v in node]
    return node


@lru_cache(maxsize=1)
def _validators() -> tuple[Draft7Validator, dict[str, Draft7Validator], Draft7Validator]:
    schema = epcis_schema()
    definitions = schema["definitions"]
    envelope = json.loads(json.dumps(schema))
    envelope["definitions"]["eventList"] = {"type": "array", "items": {"type": "object"}}
    by_type = {name: Draft7Validator(_inline(definitions[name], definitions)) for name in _EVENT_DEFINITIONS}
    extended = Draft7Validator(_inline(definitions["Extended-Event"], definitions))
    return Draft7Validator(envelope), by_type, extended


def _pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _first_problem(errors: Any) -> ValidationError | None:
    """The most specific error: GS1's schema wraps rules in allOf/anyOf, so the deepest path (through
    the sub-errors of each alternative) names the offending value best; best_match breaks no ties."""
    best = best_match(errors)
    if best is None:
        return None
    candidates = [best]
    stack = list(best.context or [])
    while stack:
        error = stack.pop(0)
        candidates.append(error)
        stack.extend(error.context or [])
    return max(candidates, key=lambda e: len(e.absolute_path))


def _raise(error: ValidationError, prefix: str, event_index: int | None) -> None:
    pointer = prefix + _pointer(error.absolute_path)
    raise EpcisSchemaError(
        f"{error.message[:300]} (GS1 EPCIS 2.0 JSON schema: {'/'.join(map(str, error.absolute_schema_path))})",
        pointer=pointer,
        event_index=event_index,
    )


def check_event_schema(event: Any, *, pointer: str = "", event_index: int | None = None) -> None:
    """Check one event against its type's definition in GS1's EPCIS 2.0 JSON schema.

    Raises:
        EpcisSchemaError: the event breaks the schema (`pointer` prefixes the error's pointer).
    """
    if not isinstance(event, dict):
        raise EpcisSchemaError("an event must be a JSON object", pointer=pointer or "/", event_index=event_index)
    if not isinstance(event.get("type"), str):
        raise EpcisSchemaError("'type' is a required string", pointer=pointer + "/type", event_index=event_index)
    _, by_type, extended = _validators()
    validator = by_type.get(event["type"], extended)
    error = _first_problem(validator.iter_errors(event))
    if error is not None:
        _raise(error, pointer, event_index)


def check_document_schema(document: Any) -> None:
    """Check an EPCISDocument or EPCISQueryDocument (or a single event with its @context) against GS1's
    EPCIS 2.0 JSON schema, event by event.

    Raises:
        EpcisSchemaError: the first problem found, with its JSON pointer (and event index).
    """
    if isinstance(document, dict) and document.get("type") in _EVENT_DEFINITIONS:
        if "@context" not in document:
            raise EpcisSchemaError("'@context' is a required property", pointer="/")
        check_event_schema(document)
        return
    envelope, _, _ = _validators()
    error = _first_problem(envelope.iter_errors(document))
    if error is not None:
        _raise(error, "", None)
    if not isinstance(document, dict):
        return
    body = document.get("epcisBody", {})
    if document.get("type") == "EPCISQueryDocument":
        events = body["queryResults"]["resultsBody"]["eventList"]
        prefix = "/epcisBody/queryResults/resultsBody/eventList"
    else:
        events, prefix = body.get("eventList", []), "/epcisBody/eventList"
    for i, event in enumerate(events):
        check_event_schema(event, pointer=f"{prefix}/{i}", event_index=i)
