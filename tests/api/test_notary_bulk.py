"""POST /v1/notarizations:bulk: many records queued for Merkle batches in one request, each signed by
its submitter as a single batch notarization is; all or nothing, the refused record named by index."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tracechain.chain.notary import NotaryClient
from tracechain.hashing import document_hash, to_hex
from tracechain.services.notary import NotaryService
from tracechain.types import Role

BULK = "/v1/notarizations:bulk"


@pytest.fixture
def operator_is_notary(runtime, net) -> None:  # noqa: ANN001
    """The server's operator anchors batches, so it must be an active notary."""
    net.actors.register_actor(net.accounts["governance"], runtime.operator.address, "Platform", [Role.NOTARY])


def client(net) -> NotaryClient:  # noqa: ANN001
    return NotaryClient(net.contract("Notary"), net.tx)


def deadline(net, seconds: int = 3600) -> int:  # noqa: ANN001
    return int(net.chain.w3.eth.get_block("latest")["timestamp"]) + seconds


def note(i: int) -> dict:
    return {"type": "delivery", "note": f"DN-{i}"}


def item(net, record, signer="logistics", *, kind="delivery", full=True, expires=None) -> dict:  # noqa: ANN001
    """A bulk record signed by `signer`: the record itself (`full`) or only its hash."""
    account, d = net.accounts[signer], expires if expires is not None else deadline(net)
    h = document_hash(record)
    body = {"kind": kind, "submitter": account.address, "deadline": d}
    body["signature"] = client(net).sign_batch_record(account, h, kind, d)
    return {**body, "record": record} if full else {**body, "record_hash": to_hex(h)}


def nothing_queued(api: TestClient, runtime, records) -> None:  # noqa: ANN001
    assert NotaryService(runtime).pending_count() == 0
    for record in records:
        h = to_hex(document_hash(record))
        assert api.get(f"/v1/notarizations/{h}").status_code == 404
        assert runtime.store.get_document(h) is None


# ---------------------------------------------------------------- accepted
def test_bulk_records_are_queued_full_batches_anchored_and_their_receipts_verify(
    api: TestClient, runtime, net, operator_is_notary
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"batch_max_records": 4})
    records = [note(i) for i in range(6)]
    signers = ["logistics", "retailer", "logistics", "manufacturer", "logistics", "retailer"]
    body = {
        "records": [item(net, r, s, full=i % 2 == 0) for i, (r, s) in enumerate(zip(records, signers, strict=True))]
    }
    response = api.post(BULK, json=body)
    assert response.status_code == 202, response.text  # four anchored in a full batch, two still queued
    answer = response.json()
    assert (answer["count"], answer["new"], answer["notarized"], answer["queued"]) == (6, 6, 4, 2)
    items = answer["items"]
    assert [i["index"] for i in items] == list(range(6)) and all(i["new"] for i in items)
    assert [i["record_hash"] for i in items] == [to_hex(document_hash(r)) for r in records]
    assert [i["status"] for i in items] == ["notarized"] * 4 + ["queued"] * 2
    (batch,) = answer["batches"]  # told once, not per record
    assert {i["id"] for i in items[:4]} == {batch["id"]} and {i["batch_root"] for i in items[:4]} == {batch["root"]}
    assert (batch["status"], batch["notary"]) == ("notarized", runtime.operator.address)
    assert batch["tx_hash"] and batch["block_number"] and batch["time"].endswith("Z")
    assert [i["batch_root"] for i in items[4:]] == [None, None]
    for i in items[:4]:
        receipt = api.get(i["receipt_url"].removeprefix("http://testserver")).json()
        verdict = api.post("/v1/verify", json={"receipt": receipt}).json()
        assert verdict["ok"], verdict["reason"]
        assert verdict["merkle_root"] == i["batch_root"]
    pending = api.get(f"/v1/notarizations/{items[5]['record_hash']}/receipt")
    assert pending.status_code == 404 and pending.json()["error"]["code"] == "receipt_not_ready"

    (outcome,) = NotaryService(runtime).flush()  # the partial batch, once due
    assert outcome.record_count == 2
    for record in records[4:]:
        verdict = api.post("/v1/verify", json={"record": record}).json()
        assert verdict["ok"], verdict["reason"]
    kept = [runtime.store.get_document(to_hex(document_hash(r))) for r in records]
    assert kept == [r if i % 2 == 0 else None for i, r in enumerate(records)]  # documents given in full


def test_records_queued_before_are_listed_with_their_status_not_queued_again(
    api: TestClient, runtime, net, operator_is_notary
) -> None:
    """As a single request for a queued record answers its status, so does a bulk request."""
    single = {"method": "batch", **item(net, note(0))}
    assert api.post("/v1/notarizations", json=single).status_code == 202
    again = api.post(BULK, json={"records": [item(net, note(0), "retailer"), item(net, note(1))]})
    assert again.status_code == 202, again.text
    first, second = again.json()["items"]
    assert (first["new"], first["status"], second["new"], second["status"]) == (False, "queued", True, "queued")
    assert again.json()["new"] == 1

    NotaryService(runtime).flush()
    anchored = api.post(BULK, json={"records": [item(net, note(1), full=False), item(net, note(0))]})
    assert anchored.status_code == 201, anchored.text  # every record notarized
    assert [(i["new"], i["status"]) for i in anchored.json()["items"]] == [(False, "notarized")] * 2
    assert NotaryService(runtime).pending_count() == 0


# ---------------------------------------------------------------- refused, and nothing kept
def test_an_unregistered_submitter_refuses_the_whole_request(api: TestClient, runtime, net) -> None:
    records = [note(i) for i in range(4)]
    body = {"records": [item(net, r, "outsider" if i == 2 else "logistics") for i, r in enumerate(records)]}
    response = api.post(BULK, json=body)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "actor_registry_unknown_actor" and error["message"].startswith("records[2]: ")
    assert error["details"] == {"account": net.accounts["outsider"].address, "index": 2}
    nothing_queued(api, runtime, records)


def test_a_suspended_submitter_refuses_the_whole_request(api: TestClient, runtime, net) -> None:
    net.actors.suspend_actor(net.accounts["governance"], net.accounts["retailer"].address)
    records = [note(i) for i in range(2)]
    response = api.post(BULK, json={"records": [item(net, records[0]), item(net, records[1], "retailer")]})
    assert response.status_code == 403 and response.json()["error"]["code"] == "actor_registry_actor_suspended"
    assert response.json()["error"]["details"]["index"] == 1
    nothing_queued(api, runtime, records)


def test_a_forged_signature_refuses_the_whole_request(api: TestClient, runtime, net) -> None:
    records = [note(i) for i in range(3)]
    body = {"records": [item(net, r) for r in records]}
    body["records"][1]["submitter"] = net.accounts["retailer"].address  # logistics signed it
    response = api.post(BULK, json=body)
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_queue_signature" and error["details"] == {"index": 1}
    nothing_queued(api, runtime, records)


@pytest.mark.parametrize("forgery", ["cosignature", "other record", "other kind", "garbage", "expired"])
def test_a_signature_that_is_not_this_records_batch_request_is_401(api: TestClient, runtime, net, forgery) -> None:  # noqa: ANN001
    records = [note(i) for i in range(2)]
    body = {"records": [item(net, r) for r in records]}
    bad, account = body["records"][1], net.accounts["logistics"]
    h = document_hash(records[1])
    if forgery == "cosignature":  # the submitter's co-signature of the record, not a queue request
        bad["signature"] = client(net).cosign(account, h, "delivery", [account.address], bad["deadline"])
    elif forgery == "other record":
        bad["signature"] = body["records"][0]["signature"]
    elif forgery == "other kind":
        bad["kind"] = "invoice"
    elif forgery == "garbage":
        bad["signature"] = "0x" + "ab" * 65
    else:
        body["records"][1] = item(net, records[1], expires=deadline(net, -1))
    response = api.post(BULK, json=body)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_queue_signature"
    assert response.json()["error"]["details"] == {"index": 1}
    nothing_queued(api, runtime, records)


def test_one_record_that_does_not_hash_to_its_hash_refuses_the_whole_request(api: TestClient, runtime, net) -> None:
    records = [note(i) for i in range(5)]
    body = {"records": [item(net, r) for r in records]}
    body["records"][3]["record_hash"] = to_hex(document_hash({"other": True}))
    response = api.post(BULK, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("record_hash_mismatch", {"index": 3})
    nothing_queued(api, runtime, records)


def test_a_malformed_record_is_refused_by_its_position(api: TestClient, runtime, net) -> None:
    records = [note(i) for i in range(3)]
    body = {"records": [item(net, r) for r in records]}
    body["records"][2]["kind"] = "Not A Kind"
    response = api.post(BULK, json=body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["message"].startswith("body.records.2.kind")
    too_big = {"records": [item(net, records[0]), {**item(net, records[1]), "record": {"n": 2**60}}]}
    response = api.post(BULK, json=too_big)  # not canonical JSON (an integer beyond 2^53)
    assert response.status_code == 422 and response.json()["error"]["details"] == {"index": 1}
    nothing_queued(api, runtime, records)


def test_the_same_record_twice_in_one_request_is_refused(api: TestClient, runtime, net) -> None:
    records = [note(0), note(1)]
    body = {"records": [item(net, records[0]), item(net, records[1]), item(net, records[0], "retailer", full=False)]}
    response = api.post(BULK, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "duplicate_record" and error["details"] == {"index": 2, "duplicate_of": 0}
    nothing_queued(api, runtime, records)
    other_kind = {"records": [item(net, records[0]), item(net, records[0], kind="invoice")]}  # another record
    assert api.post(BULK, json=other_kind).status_code == 202


def test_more_records_than_the_bound_is_413_and_none_is_422(api: TestClient, runtime, net) -> None:
    runtime.settings = runtime.settings.model_copy(update={"bulk_max_records": 3})
    records = [note(i) for i in range(4)]
    response = api.post(BULK, json={"records": [item(net, r) for r in records]})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_many_records"
    assert "at most 3" in response.json()["error"]["message"]
    nothing_queued(api, runtime, records)
    assert api.post(BULK, json={"records": [item(net, r) for r in records[:3]]}).status_code == 202
    empty = api.post(BULK, json={"records": []})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "invalid_request"


def test_the_bulk_operation_is_documented(api: TestClient) -> None:
    op = api.get("/openapi.json").json()["paths"]["/v1/notarizations:bulk"]["post"]
    assert {"201", "202", "401", "403", "413", "422"} <= set(op["responses"])
    assert "too_many_records" in op["responses"]["413"]["description"]
