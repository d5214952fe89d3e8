"""Prepared events and documents: what is committed, the Event Hash ID of the committed document, the
facts on the side, errors with the event index and JSON pointer, header master data - and the round trip
through the store (capture -> store -> read back) that used to raise a false tamper alarm."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from tests.epcis.oracle import FIXTURES, corpus, events_of, load, reference_hashes, wrap
from tracechain.epcis import (
    EPCIS_CONTEXT,
    event_hash_id,
    prepare_document,
    prepare_event,
)
from tracechain.epcis.hash_ids import context_namespaces, declared_ignore_fields
from tracechain.errors import EpcisDocumentError, EpcisSchemaError, InvalidInputError
from tracechain.hashing import canonical_json, document_hash, to_hex
from tracechain.store.db import Store

ACME = {"acme": "https://acme.example/ns/"}
SGLN = "urn:epc:id:sgln:0614141.00777.0"
BASE: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2024-03-01T10:00:00.000+01:00",
    "eventTimeZoneOffset": "+01:00",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": SGLN},
}

# GS1's examples that break GS1's own JSON schema (their twins in JSON/ are valid): refused, with the
# pointer of the first problem.
SCHEMA_INVALID = {
    "epcis/JSON-simple-context/Example-TransactionEvents-2020_07_03y.jsonld": "/epcisBody/eventList/1/sourceList",
    # (its sourceList and destinationList are objects, not lists)
    "epcis/JSON-simple-context/WithFullCombinationOfFields/object_event_all_possible_fields.jsonld": (
        "/epcisBody/eventList/0/ilmd"  # ilmd in an OBSERVE event
    ),
    "epcis/JSON-simple-context/WithSensorData/SensorDataExample12.jsonld": "",  # no schemaVersion
    "epcis/JSON-simple-context/WithSensorData/SensorDataExample17.jsonld": "/schemaVersion",  # a number
}


def _case(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


# ---------------------------------------------------------------- the example corpus
@pytest.mark.parametrize("path", corpus(), ids=_case)
def test_every_example_document_is_captured(path: Path) -> None:
    doc = load(path)
    name = _case(path)
    if name in SCHEMA_INVALID:
        with pytest.raises(EpcisSchemaError) as caught:
            prepare_document(doc)
        assert caught.value.pointer == SCHEMA_INVALID[name]
        return
    prepared = prepare_document(doc)
    assert len(prepared.events) == len(events_of(doc))
    namespaces = context_namespaces(doc["@context"])
    ignored = declared_ignore_fields(doc["epcisBody"].get("queryResults", doc), namespaces)
    for i, (event, original) in enumerate(zip(prepared.events, events_of(doc), strict=True)):
        # the committed document hashes on its own to the ID the event has inside its document
        assert event.event_hash_id == event_hash_id(original, namespaces=namespaces, ignore_fields=ignored)
        assert event.event_hash_id == event_hash_id(json.loads(json.dumps(event.document)))
        assert event.document_hash == keccak(canonical_json(event.document)) and event.index == i
        assert event.subjects


# ---------------------------------------------------------------- prepared events
def test_prepared_event_facts() -> None:
    event = {
        **BASE,
        "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
        "bizLocation": {"id": "urn:epc:id:sgln:0614141.00888.0"},
        "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.1234"}],
        "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00001"}],
        "destinationList": [{"type": "location", "destination": SGLN}],
        "sensorElementList": [
            {
                "sensorMetadata": {"time": "2024-03-01T09:59:00Z", "deviceID": "urn:epc:id:giai:4000001.111"},
                "sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL"}],
            }
        ],
    }
    prepared = prepare_event(event, schema=False)  # (the URN bizStep is outside GS1's JSON schema)
    assert prepared.document == event  # committed as captured: no vocabulary rewritten
    assert (prepared.biz_step, prepared.biz_step_code, prepared.disposition) == ("shipping", 33, "in_transit")
    assert prepared.action == "OBSERVE" and prepared.event_type == "ObjectEvent"
    assert prepared.event_time.isoformat() == "2024-03-01T10:00:00+01:00"
    assert [(b.type, b.id) for b in prepared.biz_transactions] == [("po", "urn:epc:id:gdti:0614141.00001.1234")]
    assert [(s.type, s.id) for s in prepared.sources] == [("owning_party", "urn:epc:id:pgln:0614141.00001")]
    assert [(d.type, d.id) for d in prepared.destinations] == [("location", SGLN)]
    (reading,) = prepared.sensor_readings
    assert (reading.type, reading.value, reading.uom, reading.device_id) == (
        "Temperature", 4.5, "CEL", "urn:epc:id:giai:4000001.111"
    )  # fmt: skip
    assert reading.time is not None and reading.time.isoformat() == "2024-03-01T09:59:00+00:00"
    assert [s.identifier.canonical for s in prepared.subjects] == ["01/10614141073464/21/2017"]
    assert prepared.event_hash_id == reference_hashes(wrap([event]))[0]
    assert prepared.event_id == bytes.fromhex(prepared.event_hash_id[14:78])
    assert not prepared.is_error_declaration and prepared.corrective_event_ids == ()


def test_error_declaration_facts() -> None:
    event = {
        **BASE,
        "errorDeclaration": {
            "declarationTime": "2024-03-02T08:00:00.000+01:00",
            "reason": "incorrect_data",
            "correctiveEventIDs": ["ni:///sha-256;" + "ab" * 32 + "?ver=CBV2.0"],
        },
    }
    prepared = prepare_event(event)
    assert prepared.is_error_declaration and prepared.error_reason == "incorrect_data"
    assert prepared.declaration_time is not None and prepared.declaration_time.hour == 8
    assert prepared.corrective_event_ids == ("ni:///sha-256;" + "ab" * 32 + "?ver=CBV2.0",)
    # the declaration is not part of the Event Hash ID: it names the erroneous event itself
    assert prepared.event_hash_id == prepare_event(BASE).event_hash_id


def test_no_biz_step_is_code_zero_and_extension_steps_255() -> None:
    assert prepare_event({k: v for k, v in BASE.items() if k != "bizStep"}).biz_step_code == 0
    prepared = prepare_event({**BASE, "bizStep": "https://acme.example/steps/milking"})
    assert (prepared.biz_step, prepared.biz_step_code) == ("https://acme.example/steps/milking", 255)


def test_document_context_is_carried_into_each_event() -> None:
    events = [{**BASE, "acme:note": "a"}, {**BASE, "acme:note": "b", "bizStep": "receiving"}]
    doc = wrap(events, [EPCIS_CONTEXT, ACME])
    prepared = prepare_document(doc)
    assert [e.document["@context"] for e in prepared.events] == [[EPCIS_CONTEXT, ACME]] * 2
    assert [{k: v for k, v in e.document.items() if k != "@context"} for e in prepared.events] == events
    assert [e.event_hash_id for e in prepared.events] == reference_hashes(doc)
    assert [event_hash_id(e.document) for e in prepared.events] == reference_hashes(doc)


def test_ignore_fields_declaration_is_carried_into_each_event() -> None:
    doc = load(FIXTURES / "hash-generator" / "epcisDocHavingEventWithIgnoreFields.jsonld")
    prepared = prepare_document(doc)
    assert prepared.ignore_fields == ("repository-x:hash", "example:captureID")
    first, second = prepared.events
    assert first.document["repository-x:ignoreFields"] == ["repository-x:hash", "example:captureID"]
    assert first.event_hash_id == second.event_hash_id == event_hash_id(first.document)
    assert first.event_hash_id == (FIXTURES / "hash-generator" / "epcisDocHavingEventWithIgnoreFields.hashes"
                                   ).read_text().split()[0]  # fmt: skip


def test_a_single_event_and_a_query_document() -> None:
    single = prepare_document({"@context": [EPCIS_CONTEXT], **BASE})
    assert single.document_type == "ObjectEvent" and len(single.events) == 1
    query = prepare_document(load(FIXTURES / "hash-generator" / "epcisQueryDocument.jsonld"))
    assert query.document_type == "EPCISQueryDocument" and len(query.events) == 2


def test_header_master_data() -> None:
    doc = wrap([BASE])
    doc["epcisHeader"] = {
        "epcisMasterData": {
            "vocabularyList": [
                {
                    "type": "urn:epcglobal:epcis:vtype:EPCClass",
                    "vocabularyElementList": [
                        {
                            "id": "urn:epc:idpat:sgtin:0614141.107346.*",
                            "attributes": [
                                {"id": "urn:epcglobal:cbv:mda#regulatedProductName", "attribute": "Milk"},
                                {"id": "urn:epcglobal:cbv:mda#countryOfOrigin", "attribute": "DE"},
                                {"id": "urn:epcglobal:cbv:mda#countryOfOrigin", "attribute": "AT"},
                            ],
                        }
                    ],
                },
                {
                    "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                    "vocabularyElementList": [
                        {
                            "id": SGLN,
                            "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "Dock 7"}],
                            "children": ["urn:epc:id:sgln:0614141.00777.1"],
                        }
                    ],
                },
            ]
        }
    }
    prepared = prepare_document(doc)
    product = prepared.master_data["urn:epc:idpat:sgtin:0614141.107346.*"]
    assert product.kind == "product"
    assert product.attributes == {
        "urn:epcglobal:cbv:mda#regulatedProductName": "Milk",
        "urn:epcglobal:cbv:mda#countryOfOrigin": ["DE", "AT"],
    }
    location = prepared.master_data[SGLN]
    assert location.kind == "location" and location.children == ("urn:epc:id:sgln:0614141.00777.1",)
    # looked up by identifier: the Digital Link of the same GLN finds it
    from tracechain.epcis import parse_identifier

    assert prepared.master_data_of(parse_identifier("https://id.example.com/414/0614141007776")) == location


# ---------------------------------------------------------------- errors name the event and the field
@pytest.mark.parametrize(
    ("change", "pointer", "message"),
    [
        ({"epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "https://x.example/01/10614141073465/21/2017"]},
         "/epcisBody/eventList/1/epcList/1", "check digit"),
        ({"readPoint": {"id": "urn:epc:id:sgln:0614141.0077.0"}}, "/epcisBody/eventList/1/readPoint/id", "SGLN"),
        ({"bizStep": "flying"}, "/epcisBody/eventList/1/bizStep", "bizStep"),
        ({"eventTime": "2024-02-30T10:00:00Z"}, "/epcisBody/eventList/1/eventTime", "not a valid date-time"),
        ({"sourceList": [{"type": "owning_party", "source": "not a uri"}]},
         "/epcisBody/eventList/1/sourceList/0/source", "URI"),
    ],
)  # fmt: skip
def test_document_errors_name_the_event_and_pointer(change: dict[str, Any], pointer: str, message: str) -> None:
    doc = wrap([BASE, {**BASE, **change}])
    with pytest.raises(EpcisDocumentError, match=message) as caught:
        prepare_document(doc, schema=False)
    assert caught.value.event_index == 1 and caught.value.pointer == pointer
    assert caught.value.message.startswith(pointer + ": eventList[1]: ")


def test_schema_errors_carry_the_pointer() -> None:
    doc = wrap([BASE, {**BASE, "action": "UPDATE"}])
    with pytest.raises(EpcisSchemaError) as caught:
        prepare_document(doc)
    assert caught.value.pointer == "/epcisBody/eventList/1/action" and caught.value.event_index == 1
    assert caught.value.code == "epcis_schema_violation" and isinstance(caught.value, InvalidInputError)


def test_values_that_are_not_plain_json_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="canonical JSON"):
        prepare_event({**BASE, "acme:price": float("nan")}, schema=False)


# ---------------------------------------------------------------- capture -> store -> read back
LIST_FIELDS: dict[str, dict[str, Any]] = {
    "bizTransactionList": {"bizTransactionList": [
        {"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.1234"},
        {"type": "desadv", "bizTransaction": "http://transaction.acme.com/desadv/77"},
    ]},
    "sourceList": {"sourceList": [
        {"type": "possessing_party", "source": "urn:epc:id:pgln:0614141.00001"},
        {"type": "location", "source": "urn:epc:id:sgln:0614141.00777.0"},
    ]},
    "destinationList": {"destinationList": [
        {"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00002"},
        {"type": "location", "destination": "urn:epc:id:sgln:0614141.00888.0"},
    ]},
    "epcList": {"epcList": ["urn:epc:id:sgtin:0614141.107346.2018", "urn:epc:id:sgtin:0614141.107346.2017"]},
    "quantityList": {"quantityList": [
        {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"},
        {"uom": "EA", "quantity": 1.5e1, "epcClass": "urn:epc:idpat:sgtin:4012345.012345.*"},
    ]},
    "sensorElementList": {"sensorElementList": [{
        "sensorReport": [{"value": 4.5, "type": "Temperature", "uom": "CEL"},
                         {"type": "RelativeHumidity", "value": 58}],
        "sensorMetadata": {"time": "2024-03-01T09:59:00Z", "deviceID": "urn:epc:id:giai:4000001.111"},
    }]},
    "persistentDisposition": {"persistentDisposition": {"unset": ["completeness_verified"],
                                                        "set": ["completeness_inferred", "active"]}},
    "certificationInfo": {"certificationInfo": ["https://cert.example.org/2", "https://cert.example.org/1"]},
    "ilmd": {"action": "ADD", "ilmd": {"acme:bestBefore": "2024-04-01", "acme:lotList": ["L2", "L1"]}},
    "errorDeclaration.correctiveEventIDs": {"errorDeclaration": {
        "reason": "incorrect_data", "declarationTime": "2024-03-02T00:00:00Z",
        "correctiveEventIDs": ["urn:uuid:2", "urn:uuid:1"],
    }},
}  # fmt: skip
OTHER_TYPES: dict[str, dict[str, Any]] = {
    "childEPCs": {"type": "AggregationEvent", "action": "ADD", "parentID": "urn:epc:id:sscc:0614141.1234567890",
                  "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2018", "urn:epc:id:sgtin:0614141.107346.2017"],
                  "bizStep": "packing"},
    "childQuantityList": {"type": "AggregationEvent", "action": "ADD", "parentID": "urn:epc:id:sscc:0614141.1234567890",
                          "childQuantityList": [{"quantity": 3, "epcClass": "urn:epc:class:lgtin:4012345.012345.L1"}]},
    "inputEPCList/outputEPCList": {"type": "TransformationEvent", "inputEPCList": [
        "urn:epc:id:sgtin:4012345.011122.25", "urn:epc:id:sgtin:4012345.011122.24"],
        "outputEPCList": ["urn:epc:id:sgtin:4012345.077889.26"], "transformationID": "urn:acme:x:1"},
    "inputQuantityList/outputQuantityList": {"type": "TransformationEvent", "inputQuantityList": [
        {"uom": "LTR", "quantity": 1000, "epcClass": "urn:epc:class:lgtin:4012345.012345.MILK-17"}],
        "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012346.CHEESE-3", "quantity": 95.5,
                                "uom": "KGM"}]},
}  # fmt: skip


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases = [(name, {**BASE, **change}) for name, change in LIST_FIELDS.items()]
    for name, body in OTHER_TYPES.items():
        event = {k: v for k, v in BASE.items() if k in ("eventTime", "eventTimeZoneOffset", "readPoint")}
        cases.append((name, {**event, **body}))
    return cases


@pytest.mark.parametrize(("field", "event"), _cases(), ids=[name for name, _ in _cases()])
def test_capture_store_read_back_keeps_the_event_hash_id(tmp_path: Path, field: str, event: dict[str, Any]) -> None:
    store = Store(f"sqlite:///{tmp_path / 'round.db'}")
    captured = prepare_event(event)
    digest = store.put_document(captured.document)
    assert digest == to_hex(captured.document_hash)
    back = store.get_document(digest)
    again = prepare_event(back)
    assert (again.event_hash_id, again.document_hash) == (captured.event_hash_id, captured.document_hash)
    # GS1's own generator agrees on the document a reader gets back (it is kept in captured key order)...
    assert reference_hashes(wrap([back]))[0] == captured.event_hash_id
    # ...and the native ID does not even depend on key order (canonical JSON re-sorts every object)
    resorted = json.loads(canonical_json(back))
    assert prepare_event(resorted).event_hash_id == captured.event_hash_id
    assert document_hash(resorted) == captured.document_hash


def test_document_events_round_trip_in_a_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'doc.db'}")
    doc = load(FIXTURES / "epcis" / "JSON" / "Example_9.6.1-ObjectEvent.jsonld")
    for event in prepare_document(doc).events:
        back = store.get_document(store.put_document(copy.deepcopy(event.document)))
        assert prepare_event(back).event_hash_id == event.event_hash_id
        # GS1's generator reads namespaces from the document level only: lift the event's @context there
        context = back.pop("@context")
        assert reference_hashes(wrap([back], context))[0] == event.event_hash_id
