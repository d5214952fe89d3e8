"""GS1's EPCIS 2.0 JSON schema: shipped, applied event by event, a malformed document per rule group
refused with the JSON pointer of its first problem."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.epcis.oracle import wrap
from tracechain.epcis.schema import check_document_schema, check_event_schema, epcis_schema
from tracechain.epcis.vocabulary import EPCIS_CONTEXT
from tracechain.errors import EpcisSchemaError

EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2024-03-01T10:00:00.000+01:00",
    "eventTimeZoneOffset": "+01:00",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
}


def test_the_schema_is_gs1s() -> None:
    schema = epcis_schema()
    assert schema["$id"] == "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"
    assert {"ObjectEvent", "AggregationEvent", "TransformationEvent", "epcisDocument"} <= set(schema["definitions"])


def test_a_valid_document_and_event_pass() -> None:
    check_document_schema(wrap([EVENT, EVENT]))
    check_document_schema({"@context": [EPCIS_CONTEXT], **EVENT})
    check_event_schema(EVENT)


def _doc_with(path: list[Any], value: Any, *, delete: bool = False) -> dict[str, Any]:
    doc = wrap([EVENT, copy.deepcopy(EVENT)])
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


EVENT_PATH: list[Any] = ["epcisBody", "eventList", 1]


@pytest.mark.parametrize(
    ("path", "value", "delete", "pointer"),
    [
        # document envelope
        (["schemaVersion"], None, True, ""),
        (["schemaVersion"], 2.0, False, "/schemaVersion"),
        (["epcisBody"], {"events": []}, False, "/epcisBody"),
        (["type"], "EPCISThing", False, ""),
        # common event fields
        ([*EVENT_PATH, "eventTime"], None, True, "/epcisBody/eventList/1"),
        ([*EVENT_PATH, "eventTimeZoneOffset"], "+15:00", False, "/epcisBody/eventList/1/eventTimeZoneOffset"),
        ([*EVENT_PATH, "errorDeclaration"], {"reason": "incorrect_data"}, False,
         "/epcisBody/eventList/1/errorDeclaration"),
        # type-specific fields and vocabularies
        ([*EVENT_PATH, "action"], "UPDATE", False, "/epcisBody/eventList/1/action"),
        ([*EVENT_PATH, "bizStep"], "urn:epcglobal:cbv:bizstep:shipping", False, "/epcisBody/eventList/1/bizStep"),
        ([*EVENT_PATH, "quantityList"], [{"quantity": 3}], False, "/epcisBody/eventList/1/quantityList/0"),
        ([*EVENT_PATH, "quantityList"], [{"epcClass": "urn:x:1", "quantity": 1, "uom": "kg"}], False,
         "/epcisBody/eventList/1/quantityList/0/uom"),
        ([*EVENT_PATH, "readPoint"], {"name": "dock"}, False, "/epcisBody/eventList/1/readPoint"),
        ([*EVENT_PATH, "bizTransactionList"], [{"type": "po"}], False,
         "/epcisBody/eventList/1/bizTransactionList/0"),
        ([*EVENT_PATH, "sourceList"], {"type": "location", "source": "urn:x"}, False,
         "/epcisBody/eventList/1/sourceList"),
        ([*EVENT_PATH, "sensorElementList"], [{"sensorReport": []}], False,
         "/epcisBody/eventList/1/sensorElementList/0/sensorReport"),
        ([*EVENT_PATH, "ilmd"], {"acme:lot": "L1"}, False, "/epcisBody/eventList/1/ilmd"),  # not with OBSERVE
        ([*EVENT_PATH, "persistentDisposition"], {"set": []}, False,
         "/epcisBody/eventList/1/persistentDisposition/set"),
    ],
)  # fmt: skip
def test_a_malformed_document_per_rule_group(path: list[Any], value: Any, delete: bool, pointer: str) -> None:
    with pytest.raises(EpcisSchemaError) as caught:
        check_document_schema(_doc_with(path, value, delete=delete))
    assert caught.value.pointer == pointer
    assert caught.value.event_index == (1 if pointer.startswith("/epcisBody/eventList/1") else None)


def test_a_single_event_needs_its_context() -> None:
    with pytest.raises(EpcisSchemaError, match="@context"):
        check_document_schema(EVENT)


def test_other_event_types_are_checked_against_their_definition() -> None:
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2024-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "action": "ADD",
    }
    with pytest.raises(EpcisSchemaError):  # ADD without children
        check_event_schema(aggregation)
    check_event_schema({**aggregation, "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017"]})
