"""EPCIS 2.0 event rules per type and the subjects of an event (every identifier, in every role)."""

from __future__ import annotations

from typing import Any

import pytest

from tracechain.epcis.events import SubjectRole, check_event, subjects_of
from tracechain.errors import InvalidInputError

T = {"eventTime": "2024-03-01T10:00:00.000+01:00", "eventTimeZoneOffset": "+01:00"}
SGTIN = "urn:epc:id:sgtin:0614141.107346.2017"
SSCC = "urn:epc:id:sscc:0614141.1234567890"
LOT = "urn:epc:class:lgtin:4012345.012345.998877"
SGLN = "urn:epc:id:sgln:0614141.00777.0"


def roles(event: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(s.identifier.canonical, s.role.value, tuple(r.value for r in s.roles)) for s in subjects_of(event)]


# ---------------------------------------------------------------- subjects
def test_aggregation_subjects_parent_first_then_children_and_classes() -> None:
    event = {**T, "type": "AggregationEvent", "action": "ADD", "parentID": SSCC,
             "childEPCs": [SGTIN, "https://id.example.com/01/10614141073464/21/2018"],
             "childQuantityList": [{"epcClass": LOT, "quantity": 5}]}  # fmt: skip
    assert roles(event) == [
        ("00/106141412345678908", "parent", ("parent",)),
        ("01/10614141073464/21/2017", "child", ("child",)),
        ("01/10614141073464/21/2018", "child", ("child",)),
        ("01/04012345123456/10/998877", "child_quantity", ("child_quantity",)),
    ]


def test_transformation_subjects_inputs_outputs_and_quantities() -> None:
    event = {**T, "type": "TransformationEvent", "inputEPCList": [SGTIN],
             "inputQuantityList": [{"epcClass": LOT, "quantity": 1000, "uom": "LTR"}],
             "outputQuantityList": [{"epcClass": "urn:epc:idpat:sgtin:4012345.012346.*", "quantity": 95.5,
                                     "uom": "KGM"}],
             "outputEPCList": [SGTIN]}  # fmt: skip
    assert roles(event) == [
        ("01/10614141073464/21/2017", "input", ("input", "output")),  # the same item in and out: one subject
        ("01/04012345123456/10/998877", "input_quantity", ("input_quantity",)),
        ("01/04012345123463", "output_quantity", ("output_quantity",)),
    ]


def test_urn_and_digital_link_of_one_item_are_one_subject() -> None:
    event = {**T, "type": "ObjectEvent", "action": "OBSERVE",
             "epcList": [SGTIN, "https://other.example/01/10614141073464/21/2017"]}  # fmt: skip
    assert roles(event) == [("01/10614141073464/21/2017", "epc", ("epc",))]


def test_a_sensor_only_event_falls_back_to_its_location() -> None:
    sensors = [{"sensorReport": [{"type": "Temperature", "value": 4.1, "uom": "CEL"}]}]
    event = {**T, "type": "ObjectEvent", "action": "OBSERVE", "sensorElementList": sensors, "readPoint": {"id": SGLN}}
    assert roles(event) == [("414/0614141007776", "location", ("location",))]
    event["bizLocation"] = {"id": "geo:52.52,13.40"}
    assert roles(event) == [("opaque:geo:52.52,13.40", "location", ("location",))]
    quantity_only = {**T, "type": "ObjectEvent", "action": "OBSERVE", "quantityList": [{"epcClass": LOT}]}
    assert roles(quantity_only)[0][1] == SubjectRole.QUANTITY


def test_an_event_naming_nothing_is_refused() -> None:
    event = {**T, "type": "ObjectEvent", "action": "OBSERVE", "epcList": []}
    with pytest.raises(InvalidInputError, match="names no identifier"):
        subjects_of(event)


# ---------------------------------------------------------------- rules per type
GOOD = {
    "ObjectEvent": {"action": "OBSERVE", "epcList": [SGTIN]},
    "AggregationEvent": {"action": "ADD", "parentID": SSCC, "childEPCs": [SGTIN]},
    "TransactionEvent": {"action": "ADD", "epcList": [SGTIN],
                         "bizTransactionList": [{"bizTransaction": "urn:epc:id:gdti:0614141.00001.1"}]},
    "TransformationEvent": {"inputQuantityList": [{"epcClass": LOT, "quantity": 1}]},
    "AssociationEvent": {"action": "ADD", "parentID": SGLN, "childEPCs": ["urn:epc:id:giai:4000001.111"]},
}  # fmt: skip


@pytest.mark.parametrize("kind", list(GOOD))
def test_every_event_type_is_accepted_with_optional_fields_absent(kind: str) -> None:
    facts = check_event({**T, "type": kind, **GOOD[kind]})
    assert facts.event_type == kind and facts.biz_step is None and facts.read_point is None
    assert facts.disposition is None and facts.biz_location is None


@pytest.mark.parametrize(
    ("kind", "change", "message"),
    [
        ("ObjectEvent", {"epcList": None}, "needs an epcList"),
        ("ObjectEvent", {"ilmd": {"acme:lot": "L1"}}, "ilmd is only allowed"),
        ("ObjectEvent", {"action": "UPDATE"}, "action must be one of"),
        ("ObjectEvent", {"parentID": SSCC}, "not a field of ObjectEvent"),
        ("ObjectEvent", {"note": "x"}, "unknown field"),
        ("AggregationEvent", {"parentID": None}, "parentID is required"),
        ("AggregationEvent", {"childEPCs": None}, "needs childEPCs"),
        ("TransactionEvent", {"bizTransactionList": None}, "non-empty bizTransactionList"),
        ("TransactionEvent", {"bizTransactionList": [{"type": "po"}]}, "bizTransactionList\\[0\\]"),
        ("TransformationEvent", {"action": "ADD"}, "action is not a field of TransformationEvent"),
        ("TransformationEvent", {"inputQuantityList": None}, "needs inputs or outputs"),
        ("AssociationEvent", {"parentID": None}, "parentID is required"),
        ("ObjectEvent", {"bizStep": "flying"}, "bizStep 'flying'"),
        ("ObjectEvent", {"bizStep": "urn:epcglobal:cbv:bizstep:recalling"}, "bizStep"),
        ("ObjectEvent", {"disposition": "urn:epcglobal:cbv:bizstep:in_transit"}, "disposition"),
        ("ObjectEvent", {"readPoint": {"id": "urn:epc:id:sgln:0614141.0077.0"}}, "readPoint.id"),
        ("ObjectEvent", {"bizLocation": SGLN}, "bizLocation must be an object"),
        ("ObjectEvent", {"epcList": ["SKU-1"]}, "epcList\\[0\\] must be a URI"),
        ("ObjectEvent", {"epcList": ["https://x.example/01/10614141073465/21/1"]}, "check digit"),
        ("ObjectEvent", {"quantityList": [{"epcClass": LOT, "uom": "KGM"}]}, "needs a quantity"),
        ("ObjectEvent", {"sourceList": [{"source": SGLN}]}, "sourceList\\[0\\].type is required"),
        ("ObjectEvent", {"sensorElementList": [{"sensorReport": [{"value": 1}]}]}, "type is required"),
        ("ObjectEvent", {"sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": "4"}]}]},
         "value must be a number"),
        ("ObjectEvent", {"errorDeclaration": {"reason": "incorrect_data"}}, "declarationTime is required"),
        ("ObjectEvent", {"eventTimeZoneOffset": "+15:00"}, "eventTimeZoneOffset"),
        ("ObjectEvent", {"eventTime": "2024-03-01T10:00:00"}, "eventTime"),
        ("ObjectEvent", {"@context": ["https://example.com/ctx.jsonld"]}, "unsupported context"),
        ("ObjectEvent", {"persistentDisposition": {"set": ["in_transit"], "keep": []}}, "persistentDisposition"),
    ],
)  # fmt: skip
def test_rule_violations_name_the_field(kind: str, change: dict[str, Any], message: str) -> None:
    event = {**T, "type": kind, **GOOD[kind], **change}
    event = {k: v for k, v in event.items() if v is not None}
    with pytest.raises(InvalidInputError, match=message):
        check_event(event)


def test_delete_may_omit_children_and_observe_the_parent() -> None:
    check_event({**T, "type": "AggregationEvent", "action": "DELETE", "parentID": SSCC})
    check_event({**T, "type": "AggregationEvent", "action": "OBSERVE", "childEPCs": [SGTIN]})


def test_extension_event_types_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="type must be one of"):
        check_event({**T, "type": "https://acme.example/MilkingEvent"})


def test_facts_are_normalised_on_the_side() -> None:
    event = {**T, "type": "ObjectEvent", "action": "ADD", "epcList": [SGTIN],
             "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning", "disposition": "cbv:Disp-active",
             "persistentDisposition": {"set": ["urn:epcglobal:cbv:disp:completeness_inferred"]},
             "ilmd": {"acme:bestBefore": "2024-04-01"}, "acme:note": "x",
             "certificationInfo": "urn:cert:1"}  # fmt: skip
    facts = check_event(event)
    assert (facts.biz_step, facts.disposition) == ("commissioning", "active")
    assert facts.persistent_disposition_set == ("completeness_inferred",) and facts.persistent_disposition_unset == ()
    assert facts.ilmd == {"acme:bestBefore": "2024-04-01"} and facts.extensions == ("acme:note",)
    assert facts.certification_info == ("urn:cert:1",)
    assert event["bizStep"] == "https://ref.gs1.org/cbv/BizStep-commissioning"  # the event is not rewritten
