"""Master data over HTTP: prepare, sign, publish, look up; attachments only for their subject."""

from __future__ import annotations

from eth_account.messages import encode_typed_data
from fastapi.testclient import TestClient

from tests.services.test_masterdata import MILK, _products
from tracechain.demo import masterdata as md

SHOP = "urn:epc:id:sgln:9506030.00042.0"


def _publish(api: TestClient, account, doc: dict) -> dict:  # noqa: ANN001
    prepared = api.post("/v1/masterdata/requests", json={"document": doc}).json()
    signed = account.sign_message(encode_typed_data(full_message=prepared["typed_data"]))
    body = {"document": doc, "signer": account.address, "deadline": prepared["deadline"],
            "signature": "0x" + signed.signature.hex().removeprefix("0x")}  # fmt: skip
    response = api.post("/v1/masterdata", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_publish_and_look_up(api: TestClient, net) -> None:  # noqa: ANN001
    m, shop = net.accounts["manufacturer"], net.accounts["retailer"]
    published = _publish(api, m, _products())
    assert published["records"][0]["key"] == MILK and published["records"][0]["provider_name"] == "Manufacturer"
    places = md.master_document([(md.BUSINESS_LOCATION, [md.location(
        SHOP, name=md.text("FreshMart Malmö", "FreshMart 马尔默"), street="Södergatan 15", city="Malmö",
        postal="211 34", lat=55.6, lon=13.0, kind="203")])])  # fmt: skip
    _publish(api, shop, places)

    found = api.get("/v1/masterdata", params=[("id", "01/09506000134352/21/A"), ("id", SHOP), ("id", "opaque:x")])
    assert found.status_code == 200
    items = found.json()["items"]
    assert items["01/09506000134352/21/A"]["attributes"]["name"]["zh-CN"] == "有机全脂牛奶 1 升"
    assert items[SHOP]["attributes"]["city"] == "Malmö" and items["opaque:x"] is None
    assert api.get(f"/v1/masterdata/products/{MILK}").json()["attributes"]["brand"] == "Acme Dairy"
    assert api.get("/v1/masterdata/locations/414/9506030000429").json()["kind"] == "location"
    missing = api.get("/v1/masterdata/products/09506000134369")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "masterdata_not_found"


def test_a_forged_signature_is_refused(api: TestClient, net) -> None:  # noqa: ANN001
    doc = _products()
    prepared = api.post("/v1/masterdata/requests", json={"document": doc}).json()
    body = {"document": doc, "signer": net.accounts["manufacturer"].address, "deadline": prepared["deadline"],
            "signature": "0x" + "11" * 65}  # fmt: skip
    response = api.post("/v1/masterdata", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_masterdata_signature"


def test_attachments_are_served_only_for_the_subject_naming_them(api: TestClient, runtime, net) -> None:  # noqa: ANN001
    from tracechain.demo.provenance import MILK_LAB_REPORT, _event
    from tracechain.services.provenance import ProvenanceService

    service = ProvenanceService(runtime)
    m = net.accounts["manufacturer"]
    pid, other = "01/09506000134352/21/ATT-1", "01/09506000134352/21/ATT-2"
    service.register_many(m, [(pid, None), (other, None)])
    digest = runtime.store.put_document(MILK_LAB_REPORT)
    secret = runtime.store.put_document({"type": "purchase_order", "total": "1000000"})
    report = {"name": "Lab report", "documentHash": digest}
    service.record_events(m, [_event([pid], "commissioning", 0, "active", "urn:epc:id:sgln:9506000.13435.7",
                                     labReport=report)])  # fmt: skip
    ok = api.get(f"/v1/attachments/{digest}", params={"subject": pid})
    assert ok.status_code == 200 and ok.json()["number"] == "LR-2611-0042"
    assert api.get(f"/v1/attachments/{digest}", params={"subject": other}).status_code == 404
    leak = api.get(f"/v1/attachments/{secret}", params={"subject": pid})
    assert leak.status_code == 404 and leak.json()["error"]["code"] == "document_not_found"


def test_an_epcis_capture_records_the_master_data_in_its_header(api: TestClient, net) -> None:  # noqa: ANN001
    from tests.api.test_products import _signed
    from tests.services.test_provenance_service import GTIN, epcis_document, event_doc

    m = net.accounts["manufacturer"]
    doc = epcis_document([event_doc([f"01/{GTIN}/21/MD-1"], "commissioning", 0, "active")])
    doc["epcisHeader"] = md.master_document([(md.BUSINESS_LOCATION, [md.location(
        SHOP, name=md.text("Shop", "商店"), street="S 1", city="Malmö", postal="1", lat=1.0, lon=2.0, kind="203")])]
    )["epcisHeader"]  # fmt: skip
    response = api.post(
        "/v1/epcis/capture", json={"requests": [_signed(api, m, action="epcis", document=doc)], "document": doc}
    )
    assert response.status_code == 201, response.text
    place = api.get(f"/v1/masterdata/locations/{SHOP}").json()
    assert place["attributes"]["name"] == {"en": "Shop", "zh-CN": "商店"}
    assert (place["source"], place["signed"], place["provider"]) == ("epcis_capture", False, m.address)

    bad = epcis_document([event_doc([f"01/{GTIN}/21/MD-2"], "commissioning", 0, "active")])
    bad["epcisHeader"] = {"epcisMasterData": {"vocabularyList": [{"vocabularyElementList": []}]}}
    prepared = api.post("/v1/provenance/requests", json={"from": m.address, "action": "epcis", "document": bad})
    assert prepared.status_code == 422  # malformed master data: refused before anything is signed or relayed
    request = _signed(api, m, action="epcis", document=dict(bad, epcisHeader={}))
    refused = api.post("/v1/epcis/capture", json={"requests": [request], "document": bad})
    assert refused.status_code == 422
    assert api.get(f"/v1/products/01/{GTIN}/21/MD-2").status_code == 404


def test_a_reader_re_checks_a_card_s_signature_from_the_served_answer(api: TestClient, net) -> None:  # noqa: ANN001
    """PROTOCOL.md §11: the served statement, its document and web3 alone give the provider."""
    from eth_account import Account

    from tracechain.hashing import document_hash, to_hex

    m = net.accounts["manufacturer"]
    _publish(api, m, _products())
    card = api.get(f"/v1/masterdata/products/{MILK}").json()
    assert card["signed"] and card["signature"] and card["deadline"] > 0
    document = api.get(f"/v1/masterdata/documents/{card['document_hash']}").json()
    assert to_hex(document_hash(document)) == card["document_hash"]
    registry = api.get("/v1/deployment").json()["contracts"]["ActorRegistry"]
    typed = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "MasterData": [{"name": "documentHash", "type": "bytes32"}, {"name": "deadline", "type": "uint256"}],
        },
        "primaryType": "MasterData",
        "domain": {"name": "TraceChain master data", "version": "1", "chainId": net.chain.chain_id,
                   "verifyingContract": registry},
        "message": {"documentHash": card["document_hash"], "deadline": card["deadline"]},
    }  # fmt: skip
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=card["signature"]) == m.address
    unknown = api.get(f"/v1/masterdata/documents/0x{'ab' * 32}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "document_not_found"


def test_a_signature_for_another_deployment_is_refused(api: TestClient, net) -> None:  # noqa: ANN001
    doc = _products()
    prepared = api.post("/v1/masterdata/requests", json={"document": doc}).json()
    elsewhere = {**prepared["typed_data"], "domain": {**prepared["typed_data"]["domain"],
                                                      "verifyingContract": "0x" + "12" * 20}}  # fmt: skip
    m = net.accounts["manufacturer"]
    signed = m.sign_message(encode_typed_data(full_message=elsewhere))
    body = {"document": doc, "signer": m.address, "deadline": prepared["deadline"],
            "signature": "0x" + signed.signature.hex().removeprefix("0x")}  # fmt: skip
    response = api.post("/v1/masterdata", json=body)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_masterdata_signature"
