"""GS1's EPCIS 2.0 REST bindings, the query side, over one recorded story (captured through the API's
capture jobs): a query per parameter with an event that matches and one that does not, each served event
exactly as captured with a proof that checks against the chain's own logs, lookup by Event Hash ID or
eventID with its error declarations, and the discovery lists and their sub-resources.

The story is recorded once for the module (the chain is reverted after it); the tests only read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.api.test_epcis_rest import assert_proof_holds, capture, results
from tests.services.test_provenance_service import epcis_document
from tracechain.api.app import create_app
from tracechain.chain.provenance import EntryKind
from tracechain.epcis import (
    event_hash_id,
    make_aggregation_event,
    make_object_event,
    make_transaction_event,
    make_transformation_event,
    parse_identifier,
    prepare_document,
)
from tracechain.hashing import to_hex
from tracechain.services.runtime import Runtime
from tracechain.settings import Settings
from tracechain.store.db import Store

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
LINK = "https://id.example.com"
A1_LINK = f"{LINK}/01/09506000134352/21/A1"
A1_URN = "urn:epc:id:sgtin:9506000.013435.A1"
A2_URN = "urn:epc:id:sgtin:9506000.013435.A2"
A3_URN = "urn:epc:id:sgtin:9506000.013435.A3"
B1_LINK = f"{LINK}/01/09506000134369/21/B1"
P1_URN = "urn:epc:id:sscc:9506000.0000000001"
P1_LINK = f"{LINK}/00/095060000000000015"
L1 = "urn:epc:class:lgtin:9506000.013435.L1"  # a lot of A's GTIN
M1 = "urn:epc:class:lgtin:9506000.013437.M1"  # a milk lot
C1 = "urn:epc:class:lgtin:9506000.013436.C1"  # a cheese lot (B's GTIN)
RP1_URN, RP1_LINK = "urn:epc:id:sgln:9506000.13435.1", "https://id.gs1.org/414/9506000134352/254/1"
BL1_LINK, BL1_URN = f"{LINK}/414/9506000134352", "urn:epc:id:sgln:9506000.13435.0"
RP2, BL2 = "urn:epc:id:sgln:9506000.13435.2", "urn:epc:id:sgln:9506000.13435.9"
CORRECTION_ID = "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
TRANSFORMATION_ID = "urn:uuid:7d444840-9dc0-11d1-b245-5ffdce74fad2"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def story() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two documents, recorded an hour apart: e1-e4, then e5-e9 (e7 declared erroneous by e8, corrected by e9)."""
    e1 = make_object_event(
        product_ids=[A1_LINK, A2_URN],
        event_time=at(0),
        action="ADD",
        biz_step="commissioning",
        disposition="active",
        read_point=RP1_URN,
        biz_location=BL1_LINK,
    )
    e2 = make_object_event(
        product_ids=[A1_LINK],
        event_time=at(1),
        biz_step="shipping",
        disposition="in_transit",
        read_point=RP2,
        biz_location=BL2,
    )
    e3 = make_aggregation_event(
        parent_id=P1_URN,
        child_ids=[A1_LINK, A2_URN],
        child_quantities=[(L1, 5, None)],
        event_time=at(2),
        biz_step="packing",
        read_point=RP2,
    )
    e4 = make_transformation_event(
        event_time=at(3),
        input_ids=[A3_URN],
        input_quantities=[(M1, 100, "LTR")],
        output_ids=[B1_LINK],
        output_quantities=[(C1, 1, None)],
        transformation_id=TRANSFORMATION_ID,
        biz_step="commissioning",
        read_point=RP2,
    )
    e5 = make_object_event(
        product_ids=[],
        quantities=[(L1, 2, "KGM")],
        event_time=at(4),
        read_point=RP2,
        biz_step="https://ref.gs1.org/cbv/BizStep-receiving",
        disposition="in_progress",
    )
    e6 = make_transaction_event(
        biz_transactions=[("po", "urn:epcglobal:cbv:bt:9506000134352:PO-1")],
        product_ids=[A2_URN],
        event_time=at(5),
        biz_step="accepting",
    )
    e7 = make_object_event(product_ids=[A1_LINK], event_time=at(6), biz_step="storing", read_point=RP2)
    e8 = {
        **e7,
        "errorDeclaration": {
            "declarationTime": "2026-05-04T13:00:00.000Z",
            "reason": "incorrect_data",
            "correctiveEventIDs": [CORRECTION_ID],
        },
    }
    e9 = {
        "eventID": CORRECTION_ID,
        **make_object_event(product_ids=[A1_LINK], event_time=at(6.1), biz_step="storing", read_point=RP2),
    }
    return [e1, e2, e3, e4], [e5, e6, e7, e8, e9]  # fmt: skip


NAMES = [f"e{i}" for i in range(1, 10)]


@dataclass
class Story:
    api: TestClient
    runtime: Runtime
    net: Any
    names: dict[str, str]  # document hash -> e1..e9
    events: dict[str, dict[str, Any]]  # e1..e9 -> the event as captured
    boundary: datetime  # between the two documents' record times

    def names_of(self, body: dict[str, Any]) -> list[str]:
        events, proofs = results(body)
        assert len(events) == len(proofs)
        return [self.names[p["documentHash"]] for p in proofs]

    def query(self, **params: Any) -> list[str]:
        response = self.api.get("/epcis/events", params={"perPage": 100, **params})
        assert response.status_code == 200, response.text
        return self.names_of(response.json())


@pytest.fixture(scope="module")
def recorded(embedded_net, tmp_path_factory) -> Iterator[Story]:  # noqa: ANN001
    net = embedded_net
    snapshot = net.chain.snapshot()
    tmp = tmp_path_factory.mktemp("epcis-query")
    store = Store(f"sqlite:///{tmp / 'store.db'}")
    store.bind_chain(net.chain.chain_id, net.deployment.anchor_hash)
    settings = Settings(data_dir=tmp, public_base_url="http://testserver")
    runtime = Runtime(settings, net.chain, net.deployment, store, net.accounts["relayer"])
    first, second = story()
    documents = [epcis_document(first), epcis_document(second)]
    names: dict[str, str] = {}
    for event in (*prepare_document(documents[0]).events, *prepare_document(documents[1]).events):
        names[to_hex(event.document_hash)] = NAMES[len(names)]
    try:
        with TestClient(create_app(runtime)) as api:
            m = net.accounts["manufacturer"]
            assert capture(api, documents[0], m)["tracechain:status"] == "succeeded"
            boundary = net.chain.increase_time(3600)
            assert capture(api, documents[1], m)["tracechain:status"] == "succeeded"
            yield Story(api, runtime, net, names, dict(zip(NAMES, first + second, strict=True)),
                        datetime.fromtimestamp(boundary, UTC))  # fmt: skip
    finally:
        net.chain.revert(snapshot)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------- a query per parameter
CASES: list[tuple[str, dict[str, str], list[str]]] = [
    ("default: not declared erroneous", {}, ["e1", "e2", "e3", "e4", "e5", "e6", "e9"]),
    ("eventType", {"eventType": "AggregationEvent"}, ["e3"]),
    ("eventType, two", {"eventType": "TransactionEvent|TransformationEvent"}, ["e4", "e6"]),
    ("eventType, none", {"eventType": "AssociationEvent"}, []),
    ("GE_eventTime", {"GE_eventTime": iso(at(3))}, ["e4", "e5", "e6", "e9"]),
    ("LT_eventTime", {"LT_eventTime": iso(at(1))}, ["e1"]),
    ("GE_eventTime in another offset", {"GE_eventTime": "2026-05-04T17:00:00.000+06:00"}, ["e6", "e9"]),
    ("EQ_action", {"EQ_action": "OBSERVE"}, ["e2", "e5", "e9"]),
    ("EQ_action, none", {"EQ_action": "DELETE"}, []),
    ("EQ_bizStep bare", {"EQ_bizStep": "receiving"}, ["e5"]),
    ("EQ_bizStep URN", {"EQ_bizStep": "urn:epcglobal:cbv:bizstep:shipping"}, ["e2"]),
    ("EQ_bizStep Web URI", {"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-accepting"}, ["e6"]),
    ("EQ_bizStep, none", {"EQ_bizStep": "void_shipping"}, []),
    ("EQ_disposition", {"EQ_disposition": "https://ref.gs1.org/cbv/Disp-in_transit"}, ["e2"]),
    ("EQ_disposition, none", {"EQ_disposition": "damaged"}, []),
    ("EQ_readPoint as Digital Link of a URN", {"EQ_readPoint": RP1_LINK}, ["e1"]),
    ("EQ_readPoint, none", {"EQ_readPoint": BL2}, []),
    ("EQ_bizLocation as URN of a Digital Link", {"EQ_bizLocation": BL1_URN}, ["e1"]),
    ("EQ_bizLocation, none", {"EQ_bizLocation": RP2}, []),
    ("MATCH_epc: epcList and childEPCs", {"MATCH_epc": A1_URN}, ["e1", "e2", "e3", "e9"]),
    ("MATCH_epc: not outputs", {"MATCH_epc": B1_LINK}, []),
    ("MATCH_epc pattern", {"MATCH_epc": "urn:epc:idpat:sgtin:9506000.013435.*"}, ["e1", "e2", "e3", "e6", "e9"]),
    ("MATCH_parentID", {"MATCH_parentID": P1_LINK}, ["e3"]),
    ("MATCH_parentID, none", {"MATCH_parentID": A1_URN}, []),
    ("MATCH_inputEPC", {"MATCH_inputEPC": A3_URN}, ["e4"]),
    ("MATCH_inputEPC, none", {"MATCH_inputEPC": B1_LINK}, []),
    ("MATCH_outputEPC", {"MATCH_outputEPC": B1_LINK}, ["e4"]),
    ("MATCH_outputEPC, none", {"MATCH_outputEPC": A3_URN}, []),
    ("MATCH_anyEPC: parent", {"MATCH_anyEPC": P1_URN}, ["e3"]),
    ("MATCH_anyEPC: output, by pattern", {"MATCH_anyEPC": "urn:epc:idpat:sgtin:9506000.013436.*"}, ["e4"]),
    ("MATCH_anyEPC, none", {"MATCH_anyEPC": "urn:epc:id:sgtin:9506000.013435.NEVER"}, []),
    ("MATCH_epcClass: quantityList and childQuantityList", {"MATCH_epcClass": L1}, ["e3", "e5"]),
    ("MATCH_epcClass: not outputs", {"MATCH_epcClass": C1}, []),
    ("MATCH_inputEPCClass", {"MATCH_inputEPCClass": M1}, ["e4"]),
    ("MATCH_inputEPCClass, none", {"MATCH_inputEPCClass": L1}, []),
    ("MATCH_outputEPCClass", {"MATCH_outputEPCClass": C1}, ["e4"]),
    ("MATCH_outputEPCClass, none", {"MATCH_outputEPCClass": M1}, []),
    ("MATCH_anyEPCClass by GTIN pattern", {"MATCH_anyEPCClass": "urn:epc:idpat:sgtin:9506000.013435.*"}, ["e3", "e5"]),
    ("MATCH_anyEPCClass by GTIN Digital Link", {"MATCH_anyEPCClass": f"{LINK}/01/09506000134376"}, ["e4"]),
    ("MATCH_anyEPCClass, none", {"MATCH_anyEPCClass": "urn:epc:idpat:sgtin:9506000.013439.*"}, []),
    ("EQ_transformationID", {"EQ_transformationID": TRANSFORMATION_ID}, ["e4"]),
    ("EQ_transformationID, none", {"EQ_transformationID": CORRECTION_ID}, []),
    ("EQ_eventID declared", {"EQ_eventID": CORRECTION_ID}, ["e9"]),
    ("EQ_eventID, none", {"EQ_eventID": TRANSFORMATION_ID}, []),
    ("EXISTS_errorDeclaration", {"EXISTS_errorDeclaration": "true"}, ["e8"]),
    ("EXISTS_errorDeclaration false: everything", {"EXISTS_errorDeclaration": "false"}, NAMES),
    ("EQ_errorReason", {"EQ_errorReason": "incorrect_data"}, ["e8"]),
    ("EQ_errorReason, none", {"EQ_errorReason": "did_not_occur"}, []),
    ("GE_errorDeclarationTime", {"GE_errorDeclarationTime": "2026-05-04T12:00:00Z"}, ["e8"]),
    ("LT_errorDeclarationTime, none", {"LT_errorDeclarationTime": "2026-05-04T12:00:00Z"}, []),
    ("parameters together", {"eventType": "ObjectEvent", "EQ_bizStep": "shipping|storing"}, ["e2", "e9"]),
    ("orderBy eventTime (DESC)", {"orderBy": "eventTime"}, ["e9", "e6", "e5", "e4", "e3", "e2", "e1"]),
    ("orderBy recordTime ASC, first 2", {"orderBy": "recordTime", "orderDirection": "ASC", "eventCountLimit": "2"},
     ["e1", "e2"]),
    ("maxEventCount not exceeded", {"maxEventCount": "7"}, ["e1", "e2", "e3", "e4", "e5", "e6", "e9"]),
]  # fmt: skip


@pytest.mark.parametrize(("params", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_query_per_parameter(recorded: Story, params: dict[str, str], expected: list[str]) -> None:
    assert recorded.query(**params) == expected


def test_record_time_is_the_recording_blocks(recorded: Story) -> None:
    assert recorded.query(GE_recordTime=iso(recorded.boundary)) == ["e5", "e6", "e9"]
    assert recorded.query(LT_recordTime=iso(recorded.boundary)) == ["e1", "e2", "e3", "e4"]
    assert recorded.query(GE_recordTime=iso(recorded.boundary + timedelta(days=1))) == []


def test_event_count_limit_pages_stop_at_the_limit(recorded: Story) -> None:
    page = recorded.api.get("/epcis/events", params={"orderBy": "eventTime", "eventCountLimit": 3, "perPage": 2})
    assert recorded.names_of(page.json()) == ["e9", "e6"]
    rest = recorded.api.get(page.headers["link"][1:].split(">")[0])
    assert recorded.names_of(rest.json()) == ["e5"] and "link" not in rest.headers


@pytest.mark.parametrize(
    ("params", "status", "kind"),
    [
        ({"bizStep": "shipping"}, 400, "QueryParameterException"),
        ({"EQ_action": "MOVE"}, 400, "QueryParameterException"),
        ({"MATCH_epc": "urn:epc:id:sgtin:9506000.013435"}, 400, "QueryParameterException"),
        ({"GE_eventTime": "yesterday"}, 400, "QueryParameterException"),
        ({"EQ_quantity": "3"}, 501, "ImplementationException"),
        ({"maxEventCount": "3"}, 413, "QueryTooLargeException"),
    ],
)
def test_bad_queries_are_problems(recorded: Story, params: dict[str, str], status: int, kind: str) -> None:
    response = recorded.api.get("/epcis/events", params=params)
    assert response.status_code == status, response.text
    problem = response.json()
    assert (problem["type"], problem["status"]) == (f"epcisException:{kind}", status)
    assert problem["instance"] == "/epcis/events" and response.headers["content-type"] == "application/problem+json"
    assert problem["error"]["code"].startswith("epcis_") and problem["error"]["message"] == problem["detail"]


# ---------------------------------------------------------------- what is served, and its proof
def test_every_served_event_is_as_captured_and_its_proof_checks_against_the_chain(recorded: Story) -> None:
    body = recorded.api.get("/epcis/events", params={"EXISTS_errorDeclaration": "false"}).json()
    assert list(prepare_document(body).events)  # the query document itself passes GS1's schema and EPCIS 2.0
    for event, proof in zip(*results(body), strict=True):
        name = recorded.names[proof["documentHash"]]
        assert event == recorded.events[name]  # byte for byte what was captured
        kind = EntryKind.ERROR_DECLARATION if name == "e8" else EntryKind.EVENT
        assert_proof_holds(recorded.net, event, proof, kind)


def test_an_event_by_its_hash_id_comes_with_its_error_declarations(recorded: Story) -> None:
    hash_id = event_hash_id(recorded.events["e7"])
    response = recorded.api.get(f"/epcis/events/{quote(hash_id, safe='')}")
    assert response.status_code == 200 and response.headers["gs1-epcis-version"] == "2.0.0"
    assert recorded.names_of(response.json()) == ["e7", "e8"]
    events, proofs = results(response.json())
    assert events[1]["errorDeclaration"]["reason"] == "incorrect_data"
    (declaration,) = proofs[0]["declaredErroneous"]
    assert declaration["documentHash"] == proofs[1]["documentHash"]
    assert declaration["transactionHash"] == proofs[1]["transactionHash"]
    by_digest = recorded.api.get(f"/epcis/events/{hash_id.split(';')[1][:64]}")
    assert recorded.names_of(by_digest.json()) == ["e7", "e8"]
    unencoded = recorded.api.get(f"/epcis/events/{hash_id}")  # '?ver=CBV2.0' arrives as a query string
    assert recorded.names_of(unencoded.json()) == ["e7", "e8"]
    assert recorded.names_of(recorded.api.get(f"/epcis/events/{CORRECTION_ID}").json()) == ["e9"]
    missing = recorded.api.get(f"/epcis/events/{TRANSFORMATION_ID}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "epcis_event_not_found"


# ---------------------------------------------------------------- discovery
def _walk(api: TestClient, path: str, per_page: int = 2) -> list[str]:
    members: list[str] = []
    url: str | None = f"{path}?perPage={per_page}"
    while url is not None:
        response = api.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["type"] == "Collection"
        members += body["member"]
        url = response.headers["link"][1:].split(">")[0] if "link" in response.headers else None
    return members


def test_discovery_lists_are_paged(recorded: Story) -> None:
    api = recorded.api
    assert _walk(api, "/epcis/eventTypes") == [
        "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]  # fmt: skip
    steps = ["accepting", "commissioning", "packing", "receiving", "shipping", "storing"]
    assert _walk(api, "/epcis/bizSteps") == steps
    assert _walk(api, "/epcis/dispositions") == ["active", "in_progress", "in_transit"]
    epcs = _walk(api, "/epcis/epcs")
    items = [A1_URN, A2_URN, A3_URN, B1_LINK, P1_URN]
    assert sorted(epcs) == sorted(parse_identifier(i).digital_link() for i in items)  # lots are classes, not EPCs
    assert _walk(api, "/epcis/readPoints", per_page=1) == [RP1_LINK, parse_identifier(RP2).digital_link()]
    assert _walk(api, "/epcis/bizLocations") == [
        parse_identifier(BL1_URN).digital_link(), parse_identifier(BL2).digital_link()]  # fmt: skip
    assert api.get("/epcis/epcs", params={"MATCH_epc": A1_URN}).status_code == 400


def test_sub_resources_are_queries_on_their_value(recorded: Story) -> None:
    api = recorded.api

    def names(path: str) -> list[str]:
        response = api.get(path)
        assert response.status_code == 200, response.text
        return recorded.names_of(response.json())

    assert names("/epcis/bizSteps/shipping/events") == ["e2"]
    assert names("/epcis/eventTypes/AggregationEvent/events?EQ_bizStep=packing") == ["e3"]
    assert names(f"/epcis/epcs/{quote(A1_LINK, safe='')}/events") == ["e1", "e2", "e3", "e9"]
    assert names(f"/epcis/readPoints/{quote(RP1_LINK, safe='')}/events") == ["e1"]
    assert names(f"/epcis/bizLocations/{quote(BL1_URN, safe='')}/events") == ["e1"]
    assert names("/epcis/dispositions/in_progress/events") == ["e5"]
    walked, url = [], "/epcis/bizSteps/storing/events?EXISTS_errorDeclaration=false&perPage=1"
    while url:  # a sub-resource with a filter of its own, a page at a time
        page = api.get(url)
        assert page.status_code == 200, page.text
        walked += recorded.names_of(page.json())
        url = page.headers["link"][1:].split(">")[0] if "link" in page.headers else ""
    assert walked == ["e7", "e8", "e9"]
    assert api.get("/epcis/bizSteps/shipping").json()["member"] == ["events"]
    assert api.get("/epcis/bizSteps/shipping/events?EQ_bizStep=packing").status_code == 400
    assert api.get("/epcis/queries/x/events").status_code == 404
    options = api.options("/epcis/events")
    assert options.status_code == 204 and options.headers["allow"] == "OPTIONS, GET, POST"
    assert options.headers["gs1-epcis-min"] == options.headers["gs1-epcis-max"] == "2.0.0"
    top = api.get("/epcis").json()
    assert top["member"] == ["capture", "events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints",
                             "dispositions"]  # fmt: skip
