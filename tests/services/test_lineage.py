"""Lineage and recall propagation on a real chain: milk lots made into cheese, cheese packed into a
case on a pallet, a recall of one farm's lot reaching every cheese made from it (and only those), the
pallet's events inherited by the items inside it, and what an error declaration takes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tracechain.epcis import (
    make_aggregation_event,
    make_object_event,
    make_transformation_event,
    parse_identifier,
)
from tracechain.hashing import to_hex
from tracechain.services.provenance import ProvenanceService, TraceReader
from tracechain.services.provenance.lineage import LineageReader

T0 = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
BASE = "https://id.example.com"
MILK, CHEESE = "09506000134352", "09506000134369"
LOT_A, LOT_B = f"01/{MILK}/10/FARM-A-17", f"01/{MILK}/10/FARM-B-03"
CHEESE_LOT = f"01/{CHEESE}/10/C-0601"
WHEELS = [f"01/{CHEESE}/21/W-{i}" for i in range(3)]
OTHER_WHEEL = f"01/{CHEESE}/21/W-OTHER"
CASE = "00/095060000000000015"
PALLET = "00/095060000000000022"
DAIRY = "urn:epc:id:sgln:9506000.13435.0"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def key(identifier: str) -> str:
    return to_hex(parse_identifier(identifier).key)


def dairy_story(net, service: ProvenanceService) -> None:  # noqa: ANN001
    """Two farms' milk lots -> cheese (a lot and three wheels) -> a case -> a pallet -> shipped."""
    m = net.accounts["manufacturer"]
    events: list[dict[str, Any]] = [
        make_object_event(product_ids=[], quantities=[(LOT_A, 1000, "LTR"), (LOT_B, 800, "LTR")],
                          event_time=at(0), biz_step="receiving", read_point=DAIRY, digital_link_base=BASE),
        make_transformation_event(event_time=at(2), input_quantities=[(LOT_A, 1000, "LTR"), (LOT_B, 800, "LTR")],
                                  output_ids=WHEELS, output_quantities=[(CHEESE_LOT, 3, None)],
                                  biz_step="commissioning", read_point=DAIRY, digital_link_base=BASE),
        make_aggregation_event(parent_id=CASE, child_ids=WHEELS[:2], event_time=at(3), biz_step="packing",
                               read_point=DAIRY, digital_link_base=BASE),
        make_aggregation_event(parent_id=PALLET, child_ids=[CASE], event_time=at(4), biz_step="packing",
                               read_point=DAIRY, digital_link_base=BASE),
        make_object_event(product_ids=[PALLET], event_time=at(5), biz_step="shipping", disposition="in_transit",
                          read_point=DAIRY, digital_link_base=BASE),
        make_object_event(product_ids=[OTHER_WHEEL], event_time=at(5), action="ADD", biz_step="commissioning",
                          read_point=DAIRY, digital_link_base=BASE),
    ]  # fmt: skip
    for event in events:
        service.record_events(m, [event])


def test_lineage_names_inputs_outputs_containers_and_contents(net, runtime) -> None:  # noqa: ANN001
    service = ProvenanceService(runtime)
    dairy_story(net, service)
    reader = LineageReader(runtime)

    wheel = reader.lineage(key(WHEELS[0]))
    assert {link.identifier for link in wheel.inputs} == {LOT_A, LOT_B}
    assert [link.identifier for link in wheel.containers] == [CASE]
    assert all(link.verdict == "verified" for link in (*wheel.inputs, *wheel.containers))
    lot = reader.lineage(key(LOT_A))
    assert {link.identifier for link in lot.outputs} == {*WHEELS, CHEESE_LOT}
    case = reader.lineage(key(CASE))
    assert [link.identifier for link in case.contents] == WHEELS[:2]
    assert [link.identifier for link in case.containers] == [PALLET]


def test_a_wheel_inherits_the_events_of_the_pallet_it_rode_on(net, runtime) -> None:  # noqa: ANN001
    service = ProvenanceService(runtime)
    dairy_story(net, service)
    case = LineageReader(runtime).lineage(key(CASE))
    shipped = [e for e in case.inherited if e.biz_step == "shipping"]
    assert [(e.container, e.document_verified, e.container_verdict) for e in shipped] == [(PALLET, True, "verified")]


def test_recalling_a_milk_lot_reaches_the_cheese_made_from_it_and_nothing_else(net, runtime) -> None:  # noqa: ANN001
    service = ProvenanceService(runtime)
    dairy_story(net, service)
    service.recall(net.accounts["manufacturer"], LOT_A, {"reason": "Listeria in farm A's milk"})
    reader = LineageReader(runtime)

    path = reader.recall_path(key(WHEELS[2]))
    assert path is not None and path.recalled == LOT_A and path.verified
    assert [link.identifier for link in path.links] == [LOT_A]
    assert reader.recall_path(key(OTHER_WHEEL)) is None  # made from other milk: not affected
    affected, total = reader.affected(key(LOT_A))
    assert {a.identifier for a in affected} == {*WHEELS, CHEESE_LOT} and total == 4
    # The wheel's own trace stays verified; its answer says RECALLED through the path.
    trace = TraceReader(runtime).trace(WHEELS[2])
    assert trace.verification.verified and not trace.recalled


def test_recalling_a_pallet_reaches_what_was_inside_at_the_time(net, runtime) -> None:  # noqa: ANN001
    service = ProvenanceService(runtime)
    dairy_story(net, service)
    m = net.accounts["manufacturer"]
    service.recall(m, PALLET, {"reason": "cold chain broken"})
    reader = LineageReader(runtime)
    affected, _ = reader.affected(key(PALLET))
    assert {a.identifier for a in affected} == {CASE, *WHEELS[:2]}
    path = reader.recall_path(key(WHEELS[0]))
    assert path is not None and path.recalled == PALLET
    assert [link.identifier for link in path.links] == [PALLET, CASE]
    assert reader.recall_path(key(WHEELS[2])) is None  # never packed


def test_an_item_unpacked_before_the_recall_is_not_reached(net, runtime) -> None:  # noqa: ANN001
    service = ProvenanceService(runtime)
    dairy_story(net, service)
    m = net.accounts["manufacturer"]
    unpack = make_aggregation_event(parent_id=CASE, child_ids=[WHEELS[0]], event_time=at(4.5), action="DELETE",
                                    biz_step="unpacking", read_point=DAIRY, digital_link_base=BASE)  # fmt: skip
    service.record_events(m, [unpack])
    net.chain.increase_time(24 * 3600)  # the recall comes a day later (block time)
    service.recall(m, CASE, {"reason": "damaged case"})
    reader = LineageReader(runtime)
    assert {a.identifier for a in reader.affected(key(CASE))[0]} == {WHEELS[1]}
    wheel = reader.lineage(key(WHEELS[0]))
    assert wheel.containers[0].until_ms is not None and wheel.recall_path is None


@pytest.mark.parametrize("through", ["api"])
def test_the_api_says_recalled_with_the_path_and_pages_the_reach(api, net, runtime, through) -> None:  # noqa: ANN001
    service = ProvenanceService(runtime)
    dairy_story(net, service)
    service.recall(net.accounts["manufacturer"], LOT_B, {"reason": "antibiotic residue in farm B's milk"})
    body = api.get(f"/v1/products/{WHEELS[1]}").json()
    assert body["recalled"] and body["status"] == "active"  # its own chain: active; its source: recalled
    via = body["recalled_via"]
    assert via["recalled"] == LOT_B and via["verified"] and via["reason"]["reason"].startswith("antibiotic")
    assert {link["identifier"] for link in body["lineage"]["inputs"]} == {LOT_A, LOT_B}
    page = api.get(f"/v1/recalls/{LOT_B}/affected?limit=2").json()
    assert page["total"] == 4 and len(page["items"]) == 2
    csv = api.get(f"/v1/recalls/{LOT_B}/affected?format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.count("\n") == 5
