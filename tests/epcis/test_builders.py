"""Event builders, one per event type: valid events, bare CBV values, hashed as GS1's generator does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.epcis.oracle import reference_hashes, wrap
from tracechain.epcis import (
    event_hash_id,
    make_aggregation_event,
    make_association_event,
    make_object_event,
    make_transaction_event,
    make_transformation_event,
    prepare_event,
)
from tracechain.errors import InvalidInputError

WHEN = datetime(2024, 3, 1, 10, tzinfo=UTC)
SGLN = "urn:epc:id:sgln:0614141.00777.0"
BASE = "https://id.example.com"


def test_builders_make_valid_events_of_every_type() -> None:
    events = [
        make_object_event(product_ids=["01/09506000134352/21/A1"], event_time=WHEN, action="ADD",
                          biz_step="commissioning", read_point=SGLN, digital_link_base=BASE,
                          quantities=[("01/09506000134352/10/L1", 3, "KGM")], ilmd={"acme:lot": "L1"},
                          namespaces={"acme": "https://acme.example/ns/"}),
        make_aggregation_event(parent_id="00/106141412345678908", child_ids=["01/09506000134352/21/A1"],
                               event_time=WHEN, biz_step="packing", read_point=SGLN, digital_link_base=BASE),
        make_transformation_event(input_quantities=[("01/09506000134352/10/MILK", 1000, "LTR")],
                                  output_quantities=[("01/09506000134352/10/CHEESE", 95.5, "KGM")],
                                  event_time=WHEN, biz_step="commissioning", digital_link_base=BASE),
        make_transaction_event(biz_transactions=[("po", "urn:epc:id:gdti:0614141.00001.1234")],
                               product_ids=["00/106141412345678908"], event_time=WHEN, biz_step="receiving",
                               digital_link_base=BASE, sources=[("owning_party", "urn:epc:id:pgln:0614141.00001")]),
        make_association_event(parent_id="urn:epc:id:giai:4000001.111", child_ids=["00/106141412345678908"],
                               event_time=WHEN, digital_link_base=BASE),
    ]  # fmt: skip
    assert [e["type"] for e in events] == ["ObjectEvent", "AggregationEvent", "TransformationEvent",
                                           "TransactionEvent", "AssociationEvent"]  # fmt: skip
    for event in events:
        prepared = prepare_event(event)
        context = event.get("@context")
        bare = {k: v for k, v in event.items() if k != "@context"}
        assert prepared.event_hash_id == reference_hashes(wrap([bare], context))[0] == event_hash_id(event)
    assert events[2]["inputQuantityList"][0]["epcClass"] == f"{BASE}/01/09506000134352/10/MILK"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"product_ids": []},
        {"event_time": datetime(2024, 3, 1)},
        {"product_ids": ["/01/09506000134352/21/A"]},
        {"biz_step": "recalling"},
        {"extensions": {"plain": 1}},
        {"extensions": {"epcList": []}},
    ],
)
def test_object_builder_refuses(kwargs: dict) -> None:
    args = {"product_ids": ["SKU-1"], "event_time": WHEN, **kwargs}
    with pytest.raises(InvalidInputError):
        make_object_event(**args)


def test_aggregation_builder_needs_a_parent_to_add() -> None:
    with pytest.raises(InvalidInputError, match="parentID"):
        make_aggregation_event(parent_id=None, child_ids=["opaque:x"], event_time=WHEN)
