"""Notary and auditor routes: notarize (single, co-signed, batch), every notarization of a record,
receipts, live verification and the per-actor audit trail with CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from tracechain.chain.notary import NotaryClient, cosigned_record_id, encode_kind, single_record_id
from tracechain.chain.transact import ForwardRequest
from tracechain.hashing import document_hash, to_hex
from tracechain.types import Role

ORDER = {"type": "purchase_order", "number": "PO-31", "lines": [{"sku": "B2", "qty": 40}]}


@pytest.fixture
def operator_is_notary(runtime, net) -> None:  # noqa: ANN001
    """The server's operator anchors batches, so it must be an active notary."""
    net.actors.register_actor(net.accounts["governance"], runtime.operator.address, "Platform", [Role.NOTARY])


def client(net) -> NotaryClient:  # noqa: ANN001
    return NotaryClient(net.contract("Notary"), net.tx)


def deadline(net, seconds: int = 3600) -> int:  # noqa: ANN001
    return int(net.chain.w3.eth.get_block("latest")["timestamp"]) + seconds


def single_body(runtime, net, record=ORDER, signer="notary", kind="purchase_order") -> dict:  # noqa: ANN001
    call = client(net).contract.functions.notarize(document_hash(record), encode_kind(kind))
    account = net.accounts[signer]
    # Signed without the pre-flight check sign_request makes, so a refused signer can be tested.
    unsigned = ForwardRequest(
        sender=account.address,
        to=call.address,
        value=0,
        gas=300_000,
        nonce=net.contract("TraceChainForwarder").functions.nonces(account.address).call(),
        deadline=deadline(net),
        data=call._encode_transaction_data(),
    )
    request = runtime.relaying.sign(account, unsigned)
    return {
        "method": "single",
        "kind": kind,
        "record": record,
        "request": {**request.__dict__, "from": request.sender},
    }


def batch_body(net, record, signer="logistics") -> dict:  # noqa: ANN001
    account, d = net.accounts[signer], deadline(net)
    signature = client(net).sign_batch_record(account, document_hash(record), "delivery", d)
    return {
        "method": "batch",
        "kind": "delivery",
        "record": record,
        "submitter": account.address,
        "signature": signature,
        "deadline": d,
    }


# ---------------------------------------------------------------- notarize
def test_single_notarization_round_trip(api: TestClient, runtime, net) -> None:
    response = api.post("/v1/notarizations", json=single_body(runtime, net))
    assert response.status_code == 201, response.text
    body = response.json()
    h, n = to_hex(document_hash(ORDER)), net.accounts["notary"].address
    assert (body["record_hash"], body["status"], body["method"]) == (h, "notarized", "single")
    assert (body["notary"], body["id"]) == (n, to_hex(single_record_id(h, "purchase_order", n)))
    assert body["receipt_url"] == f"http://testserver/v1/notarizations/{h}/receipt?id={body['id']}"
    listed = api.get(f"/v1/notarizations/{h}").json()
    assert listed == {
        "record_hash": h,
        "items": [body],
        "receipt_url": f"http://testserver/v1/notarizations/{h}/receipt",
    }
    receipt = api.get(f"/v1/notarizations/{h}/receipt").json()
    assert (receipt["recordHash"], receipt["method"], receipt["id"], receipt["notary"]) == (h, "single", body["id"], n)
    assert api.get(body["receipt_url"].removeprefix("http://testserver")).json() == receipt
    verdict = api.post("/v1/verify", json={"receipt": receipt, "record": ORDER}).json()
    assert verdict["ok"] and verdict["notary"] == n and verdict["id"] == body["id"]
    assert runtime.store.get_document(h) == ORDER


def test_single_by_non_notary_is_403(api: TestClient, runtime, net) -> None:
    response = api.post("/v1/notarizations", json=single_body(runtime, net, signer="auditor"))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "actor_registry_missing_role"
    assert runtime.store.get_document(to_hex(document_hash(ORDER))) is None  # nothing half-written


def test_single_request_for_another_record_is_422(api: TestClient, runtime, net) -> None:
    body = single_body(runtime, net)
    body["record"] = {**ORDER, "number": "PO-32"}
    response = api.post("/v1/notarizations", json=body)
    assert response.status_code == 422 and "does not call Notary.notarize" in response.json()["error"]["message"]


def test_duplicate_is_409_pointing_to_the_first(api: TestClient, runtime, net) -> None:
    first = api.post("/v1/notarizations", json=single_body(runtime, net))
    assert first.status_code == 201
    response = api.post("/v1/notarizations", json=single_body(runtime, net))  # same notary, record, kind
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "notary_record_exists"
    details = error["details"]
    assert (details["id"], details["blockNumber"]) == (first.json()["id"], first.json()["block_number"])


def test_other_notarizations_of_a_record_are_not_refused_and_all_are_listed(api: TestClient, runtime, net) -> None:
    single = api.post("/v1/notarizations", json=single_body(runtime, net)).json()
    h, a = document_hash(ORDER), net.accounts["retailer"]
    parties, d = [a.address], deadline(net)
    sig = client(net).cosign(a, h, "purchase_order", parties, d)
    body = {"method": "cosigned", "kind": "purchase_order", "record_hash": to_hex(h), "parties": parties,
            "signatures": [sig], "deadline": d}  # fmt: skip
    cosigned = api.post("/v1/notarizations", json=body)  # v1: 409 notary_record_exists
    assert cosigned.status_code == 201, cosigned.text
    assert cosigned.json()["id"] == to_hex(cosigned_record_id(h, "purchase_order", parties))
    listed = api.get(f"/v1/notarizations/{to_hex(h)}").json()
    assert [i["id"] for i in listed["items"]] == [cosigned.json()["id"], single["id"]]  # newest first
    assert api.get(f"/v1/notarizations/{to_hex(h)}/receipt").json()["id"] == single["id"]  # the earliest
    chosen = api.get(f"/v1/notarizations/{to_hex(h)}/receipt", params={"id": cosigned.json()["id"]}).json()
    assert (chosen["method"], chosen["parties"], chosen["notary"]) == ("cosigned", parties, None)
    verdict = api.post("/v1/verify", json={"record": ORDER, "id": cosigned.json()["id"]}).json()
    assert verdict["ok"] and verdict["method"] == "cosigned"
    unknown = api.get(f"/v1/notarizations/{to_hex(h)}/receipt", params={"id": "0x" + "ab" * 32})
    assert unknown.status_code == 404


def test_cosigned_notarization_and_its_verdict(api: TestClient, net) -> None:
    a, b = net.accounts["retailer"], net.accounts["manufacturer"]
    h, parties, d = document_hash(ORDER), [a.address, b.address], deadline(net)
    sigs = [client(net).cosign(s, h, "purchase_order", parties, d) for s in (a, b)]
    body = {"method": "cosigned", "kind": "purchase_order", "record": ORDER, "parties": parties,
            "signatures": sigs, "deadline": d}  # fmt: skip
    response = api.post("/v1/notarizations", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["parties"] == parties
    verdict = api.post("/v1/verify", json={"record": ORDER}).json()
    assert verdict["ok"] and verdict["method"] == "cosigned" and verdict["parties"] == parties
    assert "partiesHash" in verdict["checks"]


def test_cosigned_by_a_non_party_is_401(api: TestClient, net) -> None:
    a, b, x = net.accounts["retailer"], net.accounts["manufacturer"], net.accounts["outsider"]
    h, parties, d = document_hash(ORDER), [a.address, b.address], deadline(net)
    sigs = [client(net).cosign(s, h, "purchase_order", parties, d) for s in (a, x)]
    body = {"method": "cosigned", "kind": "purchase_order", "record": ORDER, "parties": parties,
            "signatures": sigs, "deadline": d}  # fmt: skip
    response = api.post("/v1/notarizations", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["details"] == {"party": b.address, "index": 1}


def test_batch_is_queued_then_anchored_when_due(api: TestClient, runtime, net, operator_is_notary) -> None:
    runtime.settings = runtime.settings.model_copy(update={"batch_max_records": 3})
    notes = [{"type": "delivery", "note": f"DN-{i}"} for i in range(3)]
    first = api.post("/v1/notarizations", json=batch_body(net, notes[0]))
    assert first.status_code == 202 and first.json()["status"] == "queued", first.text
    h0 = first.json()["record_hash"]
    receipt = api.get(f"/v1/notarizations/{h0}/receipt")
    assert receipt.status_code == 404 and receipt.json()["error"]["code"] == "receipt_not_ready"
    api.post("/v1/notarizations", json=batch_body(net, notes[1]))
    last = api.post("/v1/notarizations", json=batch_body(net, notes[2]))
    assert last.status_code == 201 and last.json()["status"] == "notarized", last.text
    assert last.json()["notary"] == runtime.operator.address
    (status,) = api.get(f"/v1/notarizations/{h0}").json()["items"]
    assert status["status"] == "notarized" and status["batch_root"] == last.json()["batch_root"]
    assert status["id"] == last.json()["id"]
    receipt = api.get(f"/v1/notarizations/{h0}/receipt").json()
    verdict = api.post("/v1/verify", json={"receipt": receipt}).json()
    assert verdict["ok"], verdict["reason"]
    assert verdict["merkle_root"] == status["batch_root"] and verdict["proof"] == receipt["merkle"]["proof"]
    assert "Notary.verifyInclusion(root, notary, recordHash, kind, proof) accepts the proof" in verdict["checks"]


def test_batch_by_an_unregistered_submitter_is_403(api: TestClient, net) -> None:
    response = api.post("/v1/notarizations", json=batch_body(net, {"note": 1}, signer="outsider"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "actor_registry_unknown_actor"


def test_batch_with_a_forged_signature_is_401(api: TestClient, net) -> None:
    body = batch_body(net, {"note": 1})
    body["submitter"] = net.accounts["retailer"].address
    response = api.post("/v1/notarizations", json=body)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_queue_signature"


def test_batch_with_a_cosignature_instead_of_a_queue_signature_is_401(api: TestClient, net) -> None:
    account, record = net.accounts["logistics"], {"note": 2}
    body = batch_body(net, record)
    h, d = document_hash(record), body["deadline"]
    body["signature"] = client(net).cosign(account, h, "delivery", [account.address], d)
    response = api.post("/v1/notarizations", json=body)  # v1 took exactly this signature
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_queue_signature"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"method": "single", "kind": "x", "record": {}}, "single.request: Field required"),
        ({"method": "cosigned", "kind": "x", "record": {}}, "cosigned.parties: Field required"),
        ({"method": "batch", "kind": "x", "submitter": "0x" + "1" * 40, "signature": "0x", "deadline": 1}, "record"),
        ({"method": "single", "kind": "Not A Kind", "record": {}}, "single.kind"),
        ({"method": "notarize", "kind": "x", "record": {}}, "method"),
        ({"method": "batch", "kind": "x", "record_hash": "0x12"}, "record_hash"),
    ],
)
def test_malformed_bodies_are_422(api: TestClient, body, fragment) -> None:
    response = api.post("/v1/notarizations", json=body)
    assert response.status_code == 422 and fragment in response.json()["error"]["message"], response.text


def test_record_and_mismatching_hash_is_422(api: TestClient, runtime, net) -> None:
    body = single_body(runtime, net)
    body["record_hash"] = to_hex(document_hash({"other": True}))
    response = api.post("/v1/notarizations", json=body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "record_hash_mismatch"


def test_unknown_record_is_404(api: TestClient) -> None:
    h = to_hex(document_hash({"never": "notarized"}))
    assert api.get(f"/v1/notarizations/{h}").json()["error"]["code"] == "notarization_not_found"
    assert api.get(f"/v1/notarizations/{h}/receipt").status_code == 404
    assert api.post("/v1/verify", json={"record_hash": h}).status_code == 404
    assert api.get("/v1/notarizations/0x1234").status_code == 422


# ---------------------------------------------------------------- verify
def test_tampered_receipt_is_a_negative_verdict(api: TestClient, runtime, net) -> None:
    api.post("/v1/notarizations", json=single_body(runtime, net))
    receipt = api.get(f"/v1/notarizations/{to_hex(document_hash(ORDER))}/receipt").json()
    forged = {**receipt, "notary": net.accounts["outsider"].address}
    verdict = api.post("/v1/verify", json={"receipt": forged}).json()
    assert verdict["ok"] is False and "is not the id" in verdict["reason"]
    assert verdict["summary"].startswith("FAILED: ")
    wrong_record = api.post("/v1/verify", json={"receipt": receipt, "record": {**ORDER, "number": "X"}}).json()
    assert wrong_record["ok"] is False and "hashes to" in wrong_record["reason"]
    bad = api.post("/v1/verify", json={"receipt": {**receipt, "version": 7}})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_receipt"


def test_verify_needs_something(api: TestClient) -> None:
    assert api.post("/v1/verify", json={}).status_code == 422


# ---------------------------------------------------------------- activity
def test_actor_activity_pages_and_exports_csv(api: TestClient, runtime, net, operator_is_notary) -> None:
    n, a, b = net.accounts["notary"], net.accounts["retailer"], net.accounts["manufacturer"]
    for i in range(3):
        record = {**ORDER, "number": f"PO-{i}"}
        assert api.post("/v1/notarizations", json=single_body(runtime, net, record=record)).status_code == 201
    h, parties, d = document_hash({"contract": 1}), [a.address, b.address], deadline(net)
    sigs = [client(net).cosign(s, h, "contract", parties, d) for s in (a, b)]
    api.post("/v1/notarizations", json={"method": "cosigned", "kind": "contract", "record_hash": to_hex(h),
                                        "parties": parties, "signatures": sigs, "deadline": d})  # fmt: skip

    page = api.get(f"/v1/actors/{n.address}/activity", params={"limit": 2}).json()
    assert (page["total"], page["limit"], page["offset"], page["next_offset"]) == (3, 2, 0, 2)
    assert [e["kind"] for e in page["items"]] == ["notary.single"] * 2
    assert page["items"][0]["block_number"] > page["items"][1]["block_number"]  # newest first
    rest = api.get(f"/v1/actors/{n.address}/activity", params={"limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None

    party = api.get(f"/v1/actors/{b.address.lower()}/activity").json()
    assert {(e["kind"], e["subject"]) for e in party["items"]} >= {("notary.cosign", to_hex(h))}

    response = api.get(f"/v1/actors/{n.address}/activity.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3 and rows[0]["kind"] == "notary.single" and rows[0]["actor"] == n.address
    assert rows[0]["time"].endswith("Z")


@pytest.mark.parametrize("offset", [2**63, 2**64, 2**31])
def test_activity_offset_beyond_its_bound_is_422_not_500(api: TestClient, net, offset: int) -> None:  # noqa: ANN001
    response = api.get(f"/v1/actors/{net.accounts['notary'].address}/activity", params={"offset": offset})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_activity_csv_streams_the_whole_trail_in_order_in_chunks(
    api: TestClient,
    runtime,
    net,
    operator_is_notary,
    monkeypatch,  # noqa: ANN001
) -> None:
    from tracechain.api.routers import notary as router

    n = net.accounts["notary"]
    for i in range(5):
        assert api.post("/v1/notarizations", json=single_body(runtime, net, record={"n": i})).status_code == 201
    monkeypatch.setattr(router, "CSV_CHUNK_ROWS", 2)  # 5 entries: chunks of 2, 2 and 1
    listed = api.get(f"/v1/actors/{n.address}/activity").json()["items"]
    with api.stream("GET", f"/v1/actors/{n.address}/activity.csv") as response:
        assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
        assert "content-length" not in response.headers  # streamed, not built whole
        text = "".join(response.iter_text())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["subject"] for r in rows] == [e["subject"] for e in listed] and len(rows) == 5


def test_activity_csv_is_documented_as_text_csv(api: TestClient) -> None:
    op = api.get("/openapi.json").json()["paths"]["/v1/actors/{address}/activity.csv"]["get"]
    assert list(op["responses"]["200"]["content"]) == ["text/csv"]


def test_activity_of_a_bad_address_is_422_and_of_a_stranger_empty(api: TestClient, net) -> None:
    assert api.get("/v1/actors/not-an-address/activity").status_code == 422
    empty = api.get(f"/v1/actors/{net.accounts['outsider'].address}/activity").json()
    assert empty["items"] == [] and empty["total"] == 0
    assert api.get(f"/v1/actors/{net.accounts['outsider'].address}/activity", params={"limit": 0}).status_code == 422


def test_a_receipt_naming_another_contract_is_not_trusted(api: TestClient, runtime, net) -> None:
    api.post("/v1/notarizations", json=single_body(runtime, net))
    receipt = api.get(f"/v1/notarizations/{to_hex(document_hash(ORDER))}/receipt").json()
    assert api.post("/v1/verify", json={"receipt": receipt}).json()["ok"] is True
    lookalike = {**receipt, "contract": runtime.deployment.address("ProvenanceRegistry")}
    verdict = api.post("/v1/verify", json={"receipt": lookalike}).json()
    assert verdict["ok"] is False and "not the trusted Notary" in verdict["reason"]
