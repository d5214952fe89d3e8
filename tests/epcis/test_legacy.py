"""The ObjectEvent-only API the provenance services still use (tracechain.epcis.legacy): its old rules,
now on the package's validation and native Event Hash IDs."""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import json
import re
import warnings
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from epcis_event_hash_generator import hash_generator, json_to_py

from tracechain.epcis import (
    BIZ_STEPS,
    DISPOSITIONS,
    EPCIS_CONTEXT,
    event_document_hash,
    event_hash_id,
    event_hash_id_digest,
    make_object_event,
    object_events_from_document,
    product_ids_of,
    validate_object_event,
)
from tracechain.epcis.identifiers import parse_product_id
from tracechain.errors import InvalidInputError
from tracechain.hashing import document_hash

SGLN = "urn:epc:id:sgln:9506000.00000.0"
ACME = {"acme": "https://acme.example/ns/"}


def event(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": "2024-03-01T10:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": [
            "urn:epc:id:sgtin:9506000.013435.ABC123",
            "https://id.example.com/01/09506000134352/21/XYZ",
        ],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": SGLN},
        "bizLocation": {"id": "https://id.example.com/414/9506000000008"},
    }
    doc.update(overrides)
    return doc


def epcis_document(events: list[dict[str, Any]], context: list[Any] | None = None) -> dict[str, Any]:
    return {
        "@context": context or [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T12:00:00Z",
        "epcisBody": {"eventList": events},
    }


def library_hashes(doc: dict[str, Any]) -> list[str]:
    """What GS1's generator says for a whole document, computed directly (fresh namespace state)."""
    json_to_py._namespaces.clear()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="open_text is deprecated", category=DeprecationWarning)
        events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(doc))
    return list(hash_generator.epcis_hashes_from_events(events))


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value


# ---------------------------------------------------------------- vocabulary
def bundled_context_terms(field: str) -> set[str]:
    files = importlib.resources.files("epcis_event_hash_generator")
    name = "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"  # the 2.0.0 context
    context = json.loads(files.joinpath(name).read_text())["@context"]
    return set(context[field]["@context"])


def test_vocabulary_matches_the_epcis_2_context() -> None:
    assert bundled_context_terms("bizStep") == BIZ_STEPS
    assert bundled_context_terms("disposition") == DISPOSITIONS
    assert {"commissioning", "shipping", "receiving", "retail_selling", "decommissioning"} <= BIZ_STEPS


# ---------------------------------------------------------------- validation
def test_validate_normalises_vocabulary_and_copies() -> None:
    raw = event(bizStep="urn:epcglobal:cbv:bizstep:receiving", disposition="https://ref.gs1.org/cbv/Disp-in_progress")
    before = copy.deepcopy(raw)
    valid = validate_object_event(raw)
    assert valid["bizStep"] == "receiving"
    assert valid["disposition"] == "in_progress"
    assert raw == before
    valid["readPoint"]["id"] = "changed"
    assert raw == before


def test_validate_allows_namespaced_extensions_and_optional_fields() -> None:
    raw = event(**{"acme:batch": {"acme:note": "ok"}, "eventID": "urn:uuid:1", "@context": [EPCIS_CONTEXT, ACME]})
    assert validate_object_event(raw)["acme:batch"] == {"acme:note": "ok"}


@pytest.mark.parametrize(
    "field",
    [
        "type",
        "eventTime",
        "eventTimeZoneOffset",
        "epcList",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
    ],
)
def test_required_fields(field: str) -> None:
    raw = event()
    del raw[field]
    with pytest.raises(InvalidInputError):
        validate_object_event(raw)


@pytest.mark.parametrize(
    "overrides",
    [
        {"eventTime": "2024-03-01T10:00:00"},  # no offset
        {"eventTime": "2024-03-01"},
        {"eventTime": "2024-02-30T10:00:00Z"},
        {"eventTime": 1709283600},
        {"eventTimeZoneOffset": "+1:00"},
        {"eventTimeZoneOffset": "Z"},
        {"epcList": []},
        {"epcList": "urn:epc:id:sgtin:9506000.013435.ABC123"},
        {"epcList": ["SKU-1"]},  # not a URI: opaque IDs go in as opaque:SKU-1
        {"epcList": ["urn:epc:id:sgtin:9506000.013435.ABC124", "urn:epc:id:sgtin:bad"]},
        {
            "epcList": [
                "urn:epc:id:sgtin:9506000.013435.ABC123",
                "https://x.example/01/9506000134352/21/ABC123",
            ]
        },
        {"action": "UPDATE"},
        {"bizStep": "flying"},
        {"bizStep": "urn:epcglobal:cbv:bizstep:recalling"},  # not a CBV 2.0 business step
        {"disposition": "urn:epcglobal:cbv:bizstep:in_transit"},
        {"readPoint": {"id": ""}},
        {"readPoint": SGLN},
        {"bizLocation": {}},
        {"note": "extensions must be namespaced"},
        {"@context": ["https://example.com/remote-context.jsonld"]},
        {"acme:price": float("nan")},
    ],
)
def test_invalid_events(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        validate_object_event(event(**overrides))


@pytest.mark.parametrize("kind", ["AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"])
def test_other_event_types_not_supported_yet(kind: str) -> None:
    with pytest.raises(InvalidInputError, match="not supported yet"):
        validate_object_event(event(type=kind))
    # The Event Hash ID itself is defined for every event type (it used to refuse these, through the
    # old ObjectEvent-only validation): it equals GS1's generator.
    assert event_hash_id(event(type=kind)) == library_hashes(epcis_document([event(type=kind)]))[0]


@pytest.mark.parametrize("bad", [None, [], "ObjectEvent", {"type": "Nonsense"}])
def test_non_events(bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        validate_object_event(bad)


# ---------------------------------------------------------------- Event Hash ID
def test_event_hash_id_is_what_the_gs1_library_gives() -> None:
    hash_id = event_hash_id(event())
    assert re.fullmatch(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0", hash_id)
    assert library_hashes(epcis_document([event()])) == [hash_id]
    assert event_hash_id_digest(hash_id) == bytes.fromhex(hash_id[14:78])


def test_event_hash_id_matches_the_cbv_pre_hash_string() -> None:
    pre_hash = (
        "eventType=ObjectEvent"
        "eventTime=2024-03-01T09:00:00.000ZeventTimeZoneOffset=+01:00"
        "epcListepc=https://id.gs1.org/01/09506000134352/21/ABC123"
        "action=OBSERVE"
        "bizStep=https://ref.gs1.org/cbv/BizStep-shipping"
        "disposition=https://ref.gs1.org/cbv/Disp-in_transit"
        "readPointid=https://id.gs1.org/414/9506000000008"
        "bizLocationid=https://id.gs1.org/414/9506000000008"
    )
    digest = hashlib.sha256(pre_hash.encode()).hexdigest()
    doc = event(epcList=["urn:epc:id:sgtin:9506000.013435.ABC123"], bizLocation={"id": SGLN})
    assert event_hash_id(doc) == f"ni:///sha-256;{digest}?ver=CBV2.0"


def test_event_hash_id_stable_under_key_reordering() -> None:
    doc = event(**{"acme:batch": {"acme:a": 1, "acme:b": "x"}, "@context": [EPCIS_CONTEXT, ACME]})
    assert event_hash_id(reversed_keys(doc)) == event_hash_id(doc)
    assert event_document_hash(reversed_keys(doc)) == event_document_hash(doc)


def test_event_hash_id_changes_with_biz_step() -> None:
    assert event_hash_id(event(bizStep="receiving")) != event_hash_id(event())
    assert event_hash_id(event(disposition="damaged")) != event_hash_id(event())
    assert event_hash_id(event(eventTime="2024-03-01T10:00:00.001+01:00")) != event_hash_id(event())


def test_event_hash_id_ignores_representation() -> None:
    base = event_hash_id(event())
    assert event_hash_id(event(bizStep="urn:epcglobal:cbv:bizstep:shipping")) == base
    assert event_hash_id(event(eventTime="2024-03-01T09:00:00Z")) == base
    same_items = [
        "https://id.example.com/01/09506000134352/21/XYZ",
        "https://other.example/01/9506000134352/21/ABC123",
    ]
    assert event_hash_id(event(epcList=same_items)) == base


def test_fields_outside_the_event_hash_still_change_the_document_hash() -> None:
    base = event()
    reordered = event(bizStep="urn:epcglobal:cbv:bizstep:shipping", epcList=list(reversed(base["epcList"])))
    for changed in (event(eventID="urn:uuid:42"), event(recordTime="2024-03-02T00:00:00Z"), reordered):
        assert event_hash_id(changed) == event_hash_id(base)
        assert event_document_hash(changed) != event_document_hash(base)


def test_extension_fields_change_both_hashes() -> None:
    # CBV 2.0 puts user extensions into the Event Hash pre-hash string, so they change the ID too.
    with_ext = event(**{"acme:note": "fragile"}, **{"@context": [EPCIS_CONTEXT, ACME]})
    other_ext = event(**{"acme:note": "sturdy"}, **{"@context": [EPCIS_CONTEXT, ACME]})
    assert event_document_hash(with_ext) != event_document_hash(other_ext)
    assert event_hash_id(with_ext) != event_hash_id(other_ext) != event_hash_id(event())


def test_event_context_is_lifted_to_the_document() -> None:
    inner = event(**{"acme:note": "fragile"})
    with_ctx = {"@context": [EPCIS_CONTEXT, ACME], **inner}
    assert event_hash_id(with_ctx) == library_hashes(epcis_document([inner], [EPCIS_CONTEXT, ACME]))[0]
    # Without the namespace the key stays 'acme:note' and the hash differs - and no state leaks between calls.
    bare = event_hash_id(inner)
    assert bare != event_hash_id(with_ctx)
    assert event_hash_id(inner) == bare == library_hashes(epcis_document([inner]))[0]


def test_event_hash_id_refuses_what_the_generator_drops() -> None:
    # The generator rounds to ms with round(): .9996 s becomes 1_000_000 µs and it drops the event.
    assert library_hashes(epcis_document([event(eventTime="2024-03-01T10:00:00.9996+01:00")])) == []
    with pytest.raises(InvalidInputError, match="whole second"):
        event_hash_id(event(eventTime="2024-03-01T10:00:00.9996+01:00"))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ni:///sha-256;abc?ver=CBV2.0",
        "ni:///sha3-256;" + "0" * 64 + "?ver=CBV2.0",
        "ni:///sha-256;" + "0" * 64,
        "0x" + "0" * 64,
        None,
    ],
)
def test_event_hash_id_digest_rejects(bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        event_hash_id_digest(bad)


def test_event_document_hash_is_document_hash_of_normalised_event() -> None:
    raw = event(bizStep="urn:epcglobal:cbv:bizstep:shipping")
    assert event_document_hash(raw) == document_hash(validate_object_event(raw)) == event_document_hash(event())
    assert len(event_document_hash(raw)) == 32


# ---------------------------------------------------------------- documents
def test_document_with_three_object_events() -> None:
    events = [
        event(bizStep="commissioning", action="ADD", disposition="active"),
        event(bizStep="urn:epcglobal:cbv:bizstep:shipping"),
        event(bizStep="receiving", disposition="in_progress", eventID="urn:uuid:3"),
    ]
    doc = epcis_document(events)
    result = object_events_from_document(doc)
    assert [e["bizStep"] for e in result] == ["commissioning", "shipping", "receiving"]
    assert result == [validate_object_event(e) for e in events]
    assert [event_hash_id(e) for e in result] == library_hashes(doc)


def test_document_namespaces_are_kept_with_each_event() -> None:
    events = [event(**{"acme:note": "a"}), event(**{"acme:note": "b"}, bizStep="receiving")]
    doc = epcis_document(events, [EPCIS_CONTEXT, ACME])
    result = object_events_from_document(doc)
    assert all(e["@context"] == [EPCIS_CONTEXT, ACME] for e in result)
    assert [event_hash_id(e) for e in result] == library_hashes(doc)


def test_document_with_other_event_type() -> None:
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2024-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "action": "ADD",
    }
    with pytest.raises(InvalidInputError, match=r"eventList\[1\].*AggregationEvent"):
        object_events_from_document(epcis_document([event(), aggregation, event()]))


def test_document_errors_name_the_event() -> None:
    with pytest.raises(InvalidInputError, match=r"eventList\[2\]: action"):
        object_events_from_document(epcis_document([event(), event(), event(action="NOPE")]))


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"type": "EPCISDocument"},
        {"type": "EPCISDocument", "epcisBody": {"eventList": {}}},
        [],
        None,
        {**epcis_document([event()]), "type": "EPCISQueryDocument"},
    ],
)
def test_bad_documents(bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        object_events_from_document(bad)


def test_empty_document() -> None:
    assert object_events_from_document(epcis_document([])) == []


def test_product_ids_of() -> None:
    ids = product_ids_of(event(epcList=["urn:epc:id:sgtin:0614141.812345.6789", "opaque:SKU-2024-000123"]))
    assert [p.canonical for p in ids] == ["01/80614141123458/21/6789", "opaque:SKU-2024-000123"]
    with pytest.raises(InvalidInputError, match=r"epcList\[0\]"):
        product_ids_of({"epcList": ["urn:epc:id:sgtin:bad"]})


# ---------------------------------------------------------------- make_object_event
def test_make_object_event() -> None:
    made = make_object_event(
        product_ids=[
            "urn:epc:id:sgtin:0614141.812345.6789",
            "SKU-2024-000123",
            parse_product_id("/01/96385074/21/7"),
        ],
        biz_step="urn:epcglobal:cbv:bizstep:commissioning",
        disposition="active",
        read_point=SGLN,
        biz_location=SGLN,
        event_time=datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        action="ADD",
        extensions={"acme:lot": "L-7"},
        namespaces=ACME,
        digital_link_base="https://id.example.com/",
    )
    assert made == {
        "@context": [EPCIS_CONTEXT, ACME],
        "type": "ObjectEvent",
        "eventTime": "2024-03-01T10:00:00.123-05:30",
        "eventTimeZoneOffset": "-05:30",
        "epcList": [
            "urn:epc:id:sgtin:0614141.812345.6789",
            "opaque:SKU-2024-000123",
            "https://id.example.com/01/00000096385074/21/7",
        ],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": SGLN},
        "bizLocation": {"id": SGLN},
        "acme:lot": "L-7",
    }
    assert validate_object_event(made) == made
    event_hash_id(made)


def test_make_object_event_utc_and_epc_urns() -> None:
    made = make_object_event(
        product_ids=[parse_product_id("urn:epc:id:sgtin:0614141.812345.6789")],
        biz_step="storing",
        disposition="sellable_accessible",
        read_point=SGLN,
        biz_location=SGLN,
        event_time=datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert made["eventTime"] == "2024-03-01T00:00:00.000Z"
    assert made["eventTimeZoneOffset"] == "+00:00"
    assert made["epcList"] == ["urn:epc:id:sgtin:0614141.812345.6789"]
    assert "@context" not in made


@pytest.mark.parametrize(
    "overrides",
    [
        {"event_time": datetime(2024, 3, 1)},  # naive
        {"product_ids": ["/01/09506000134352/21/A"]},  # GS1 without host, no digital_link_base
        {"product_ids": []},
        {"product_ids": ["not an id"]},
        {"biz_step": "recalling"},
        {"extensions": {"bizStep": "receiving"}},
        {"extensions": {"plain": 1}},
    ],
)
def test_make_object_event_rejects(overrides: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {
        "product_ids": ["SKU-1"],
        "biz_step": "shipping",
        "disposition": "in_transit",
        "read_point": SGLN,
        "biz_location": SGLN,
        "event_time": datetime(2024, 3, 1, tzinfo=UTC),
        **overrides,
    }
    with pytest.raises(InvalidInputError):
        make_object_event(**kwargs)
