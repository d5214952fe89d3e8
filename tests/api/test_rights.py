"""Data-rights routes over a real chain: signed writes relayed by the server, live statuses,
rights checks, uses, and every refusal as the JSON error shape."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CAST
from tracechain import errors
from tracechain.chain.connect import dev_accounts
from tracechain.chain.rights import Right, dataset_id_of
from tracechain.chain.transact import ForwardRequest
from tracechain.hashing import document_hash, to_hex

DAY = 86_400
MANIFEST = {"dataset": "FreshMart sales 2026-10", "rows": 48_211, "schema": "sales/v2", "sha256": "ab" * 32}
METADATA = {"title": "Store sales, October", "format": "csv"}
TERMS = {"licence": "demand forecasting only", "fee_eur": 1200}
CONTENT_HASH = to_hex(document_hash(MANIFEST))
DATASET_ID = dataset_id_of(CONTENT_HASH, dev_accounts(10)[CAST["retailer"][0]].address)  # registered by the retailer


def _signed(runtime, signer, fn) -> dict[str, Any]:  # noqa: ANN001
    """A request signed by `signer` without simulating it first (so refusals reach the server)."""
    forwarder = runtime.contract("TraceChainForwarder")
    now = int(runtime.chain.w3.eth.get_block("latest")["timestamp"])
    request = ForwardRequest(
        sender=signer.address,
        to=fn.address,
        value=0,
        gas=400_000,
        nonce=int(forwarder.functions.nonces(signer.address).call()),
        deadline=now + 3600,
        data=fn._encode_transaction_data(),
    )
    r = runtime.transactor.sign(signer, request)
    return {"from": r.sender, "to": r.to, "value": r.value, "gas": r.gas, "nonce": r.nonce,
            "deadline": r.deadline, "data": r.data, "signature": r.signature}  # fmt: skip


def _fns(runtime):  # noqa: ANN001, ANN202
    return runtime.contract("DataRightsRegistry").functions


def _now(runtime) -> int:  # noqa: ANN001
    return int(runtime.chain.w3.eth.get_block("latest")["timestamp"])


def _register(api: TestClient, runtime, net) -> dict[str, Any]:  # noqa: ANN001
    fn = _fns(runtime).registerDataset(document_hash(MANIFEST), document_hash(METADATA))
    body = {"manifest": MANIFEST, "metadata": METADATA, "request": _signed(runtime, net.accounts["retailer"], fn)}
    response = api.post("/v1/datasets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _grant(api: TestClient, runtime, net, grantee="manufacturer", right=Right.PROCESSING, days=30, start=0):  # noqa: ANN001, ANN202
    expires = (start or _now(runtime)) + days * DAY
    fn = _fns(runtime).grantCertificate(
        DATASET_ID, net.accounts[grantee].address, right.code, start, expires, document_hash(TERMS)
    )
    body = {"terms": TERMS, "request": _signed(runtime, net.accounts["retailer"], fn)}
    return api.post(f"/v1/datasets/{DATASET_ID}/certificates", json=body)


def _use(api: TestClient, runtime, net, cid: str, who="manufacturer", right=Right.PROCESSING, purpose=None):  # noqa: ANN001, ANN202
    purpose = purpose or {"purpose": "weekly demand forecast"}
    fn = _fns(runtime).recordUse(bytes.fromhex(cid[2:]), right.code, document_hash(purpose))
    body = {"purpose": purpose, "request": _signed(runtime, net.accounts[who], fn)}
    return api.post(f"/v1/certificates/{cid}/uses", json=body)


def _revoke(api: TestClient, runtime, net, cid: str, who="retailer", reason=None):  # noqa: ANN001, ANN202
    reason = reason or {"reason": "contract ended early"}
    fn = _fns(runtime).revokeCertificate(bytes.fromhex(cid[2:]), document_hash(reason))
    body = {"reason": reason, "request": _signed(runtime, net.accounts[who], fn)}
    return api.post(f"/v1/certificates/{cid}/revoke", json=body)


def test_dataset_lifecycle_through_the_api(api: TestClient, runtime, net) -> None:
    retailer, analyst = net.accounts["retailer"], net.accounts["manufacturer"]
    balance = runtime.chain.w3.eth.get_balance(retailer.address)
    written = _register(api, runtime, net)
    assert written["id"] == DATASET_ID and written["tx"]["gas_used"] > 0
    assert runtime.chain.w3.eth.get_balance(retailer.address) == balance  # the server relayed and paid

    granted = _grant(api, runtime, net)
    assert granted.status_code == 201, granted.text
    cid = granted.json()["id"]
    used = _use(api, runtime, net, cid)
    assert used.status_code == 201, used.text
    assert used.json()["use_index"] == 0

    dataset = api.get(f"/v1/datasets/{DATASET_ID}").json()
    assert dataset["holder"] == dataset["registrant"] == retailer.address
    assert (dataset["dataset_id"], dataset["content_hash"]) == (DATASET_ID, CONTENT_HASH)
    assert dataset["token_id"] == str(int(DATASET_ID, 16))
    assert dataset["manifest"] == MANIFEST and dataset["metadata"] == METADATA
    assert [(h["from_address"], h["to_address"]) for h in dataset["holders"]] == [("0x" + "00" * 20, retailer.address)]
    (cert,) = dataset["certificates"]
    assert (cert["certificate_id"], cert["status"], cert["use_count"]) == (cid, "valid", 1)

    live = api.get(f"/v1/certificates/{cid}").json()
    assert live["live"] and live["status"] == "valid" and live["terms"] == TERMS
    assert (live["grantee"], live["grantor"], live["right"]) == (analyst.address, retailer.address, "processing")
    assert live["reasons"][0].startswith("valid until")

    check = api.get(f"/v1/datasets/{DATASET_ID}/rights", params={"account": analyst.address, "right": "processing"})
    assert check.json()["has_right"] and check.json()["basis"] == "certificate"
    check = api.get(f"/v1/datasets/{DATASET_ID}/rights", params={"account": retailer.address, "right": "holding"})
    assert check.json()["has_right"] and check.json()["basis"] == "holder"

    uses = api.get(f"/v1/certificates/{cid}/uses").json()
    assert uses["complete"] and uses["use_count_on_chain"] == 1
    assert uses["uses"][0]["purpose"] == {"purpose": "weekly demand forecast"}

    revoked = _revoke(api, runtime, net, cid)
    assert revoked.status_code == 200, revoked.text
    live = api.get(f"/v1/certificates/{cid}").json()
    assert live["status"] == "revoked"
    assert live["revocation"]["revoked_by"] == retailer.address
    assert live["revocation"]["reason_hash"] == to_hex(document_hash({"reason": "contract ended early"}))
    assert live["reasons"][0].startswith("revoked at")
    check = api.get(f"/v1/datasets/{DATASET_ID}/rights", params={"account": analyst.address, "right": "processing"})
    assert not check.json()["has_right"] and check.json()["certificate_status"] == "revoked"
    refused = _use(api, runtime, net, cid)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "data_rights_registry_certificate_revoked"


def test_status_follows_chain_time(api: TestClient, runtime, net) -> None:
    _register(api, runtime, net)
    start = _now(runtime) + DAY
    cid = _grant(api, runtime, net, start=start, days=2).json()["id"]
    assert api.get(f"/v1/certificates/{cid}").json()["status"] == "not_yet_valid"
    early = _use(api, runtime, net, cid)
    assert (
        early.status_code == 403 and early.json()["error"]["code"] == "data_rights_registry_certificate_not_yet_valid"
    )
    net.chain.increase_time(DAY + 1)
    assert api.get(f"/v1/certificates/{cid}").json()["status"] == "valid"
    net.chain.increase_time(2 * DAY)
    body = api.get(f"/v1/certificates/{cid}").json()
    assert body["status"] == "expired" and body["reasons"][0].startswith("expired at")
    assert api.get(f"/v1/datasets/{DATASET_ID}").json()["certificates"][0]["status"] == "expired"
    late = _use(api, runtime, net, cid)
    assert late.status_code == 403 and late.json()["error"]["code"] == "data_rights_registry_certificate_expired"


def test_unauthorised_writes_are_refused(api: TestClient, runtime, net) -> None:
    fn = _fns(runtime).registerDataset(document_hash(MANIFEST), bytes(32))
    outsider = api.post(
        "/v1/datasets", json={"manifest": MANIFEST, "request": _signed(runtime, net.accounts["outsider"], fn)}
    )
    assert outsider.status_code == 403 and outsider.json()["error"]["code"] == "actor_registry_unknown_actor"

    _register(api, runtime, net)
    fn = _fns(runtime).grantCertificate(
        DATASET_ID, net.accounts["logistics"].address, 1, 0, _now(runtime) + DAY, document_hash(TERMS)
    )
    body = {"terms": TERMS, "request": _signed(runtime, net.accounts["manufacturer"], fn)}
    not_holder = api.post(f"/v1/datasets/{DATASET_ID}/certificates", json=body)
    assert not_holder.status_code == 403 and not_holder.json()["error"]["code"] == "data_rights_registry_not_holder"

    cid = _grant(api, runtime, net).json()["id"]
    wrong_user = _use(api, runtime, net, cid, who="logistics")
    assert wrong_user.status_code == 403
    assert wrong_user.json()["error"]["code"] == "data_rights_registry_not_grantee"
    wrong_right = _use(api, runtime, net, cid, right=Right.OPERATION)
    assert wrong_right.status_code == 403
    assert wrong_right.json()["error"]["details"] == {"certificateId": cid, "granted": 1, "used": 2}
    not_revoker = _revoke(api, runtime, net, cid, who="logistics")
    assert not_revoker.status_code == 403
    assert not_revoker.json()["error"]["code"] == "data_rights_registry_not_revoker"
    open_again = _grant(api, runtime, net)
    assert open_again.status_code == 409


def test_signed_call_must_match_the_documents_and_path(api: TestClient, runtime, net) -> None:
    retailer = net.accounts["retailer"]
    fn = _fns(runtime).registerDataset(document_hash({"other": "manifest"}), bytes(32))
    body = {"manifest": MANIFEST, "request": _signed(runtime, retailer, fn)}
    response = api.post("/v1/datasets", json=body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "request_mismatch"

    _register(api, runtime, net)
    fn = _fns(runtime).grantCertificate(
        DATASET_ID, net.accounts["manufacturer"].address, 1, 0, _now(runtime) + DAY, document_hash(TERMS)
    )
    body = {"terms": {"licence": "something else"}, "request": _signed(runtime, retailer, fn)}
    response = api.post(f"/v1/datasets/{DATASET_ID}/certificates", json=body)
    assert response.status_code == 422 and "termsHash" in response.json()["error"]["message"]

    wrong_fn = _fns(runtime).registerDataset(document_hash({"x": 1}), bytes(32))
    body = {"terms": TERMS, "request": _signed(runtime, retailer, wrong_fn)}
    response = api.post(f"/v1/datasets/{DATASET_ID}/certificates", json=body)
    assert response.status_code == 422 and "calls registerDataset" in response.json()["error"]["message"]

    # a request signed by someone else than its `from` is refused by signature check
    request = _signed(runtime, net.accounts["manufacturer"], fn)
    request["from"] = retailer.address
    response = api.post(f"/v1/datasets/{DATASET_ID}/certificates", json={"terms": TERMS, "request": request})
    assert response.status_code == 401


def test_unknown_ids_are_404_but_a_right_on_an_unknown_dataset_is_no(api: TestClient, net) -> None:
    missing = "0x" + "11" * 32
    assert api.get(f"/v1/datasets/{missing}").json()["error"]["code"] == "dataset_not_found"
    assert api.get(f"/v1/certificates/{missing}").json()["error"]["code"] == "certificate_not_found"
    assert api.get(f"/v1/certificates/{missing}/uses").status_code == 404
    params = {"account": net.accounts["retailer"].address, "right": "processing"}
    answer = api.get(f"/v1/datasets/{missing}/rights", params=params)  # v1: 404; hasRight says false
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["has_right"], body["dataset_registered"], body["basis"], body["certificate_id"]) == (
        False, False, None, None
    )  # fmt: skip
    assert api.get("/v1/datasets/not-a-hash").status_code == 422
    assert api.get(f"/v1/datasets/{missing}/rights", params={**params, "right": "flying"}).status_code == 422


@pytest.mark.parametrize("route", ["/v1/datasets", f"/v1/datasets/{DATASET_ID}/certificates"])
def test_malformed_bodies_are_422(api: TestClient, route: str) -> None:
    response = api.post(route, json={"manifest": {}, "terms": {}, "request": {"from": "nope"}})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_refused_write_stores_no_document(api: TestClient, runtime, net) -> None:
    fn = _fns(runtime).registerDataset(document_hash(MANIFEST), document_hash(METADATA))
    body = {"manifest": MANIFEST, "metadata": METADATA, "request": _signed(runtime, net.accounts["outsider"], fn)}
    assert api.post("/v1/datasets", json=body).status_code == 403
    assert runtime.store.get_document(CONTENT_HASH) is None
    assert runtime.store.get_document(to_hex(document_hash(METADATA))) is None
    _register(api, runtime, net)
    assert runtime.store.get_document(CONTENT_HASH) == MANIFEST


def test_replayed_request_is_refused(api: TestClient, runtime, net) -> None:
    fn = _fns(runtime).registerDataset(document_hash(MANIFEST), bytes(32))
    body = {"manifest": MANIFEST, "request": _signed(runtime, net.accounts["retailer"], fn)}
    assert api.post("/v1/datasets", json=body).status_code == 201
    again = api.post("/v1/datasets", json=body)
    assert again.status_code == 401  # the nonce is spent


def test_holding_transfer_through_the_api(api: TestClient, runtime, net) -> None:
    retailer, logistics = net.accounts["retailer"], net.accounts["logistics"]
    _register(api, runtime, net)
    cid = _grant(api, runtime, net).json()["id"]
    token = int(DATASET_ID, 16)
    other = _fns(runtime).safeTransferFrom(retailer.address, logistics.address, token + 1)
    body = {"request": _signed(runtime, retailer, other)}
    assert api.post(f"/v1/datasets/{DATASET_ID}/transfer", json=body).json()["error"]["code"] == "request_mismatch"
    outsider = _fns(runtime).safeTransferFrom(retailer.address, net.accounts["outsider"].address, token)
    refused = api.post(f"/v1/datasets/{DATASET_ID}/transfer", json={"request": _signed(runtime, retailer, outsider)})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "actor_registry_unknown_actor"
    thief = _fns(runtime).transferFrom(retailer.address, logistics.address, token)
    refused = api.post(f"/v1/datasets/{DATASET_ID}/transfer", json={"request": _signed(runtime, logistics, thief)})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == errors.ERC721InsufficientApproval.code

    fn = _fns(runtime).safeTransferFrom(retailer.address, logistics.address, token)
    moved = api.post(f"/v1/datasets/{DATASET_ID}/transfer", json={"request": _signed(runtime, retailer, fn)})
    assert moved.status_code == 200, moved.text
    dataset = api.get(f"/v1/datasets/{DATASET_ID}").json()
    assert dataset["holder"] == logistics.address and dataset["registrant"] == retailer.address
    assert [h["to_address"] for h in dataset["holders"]] == [retailer.address, logistics.address]
    assert api.get(f"/v1/certificates/{cid}").json()["status"] == "valid"  # the licence survives the sale


def test_the_same_manifest_registered_by_another_actor_is_another_dataset(api: TestClient, runtime, net) -> None:
    onlooker = net.accounts["logistics"]
    fn = _fns(runtime).registerDataset(document_hash(MANIFEST), bytes(32))
    first = api.post("/v1/datasets", json={"manifest": MANIFEST, "request": _signed(runtime, onlooker, fn)})
    assert first.status_code == 201 and first.json()["id"] == dataset_id_of(CONTENT_HASH, onlooker.address)
    assert _register(api, runtime, net)["id"] == DATASET_ID  # v1: 409 data_rights_registry_dataset_exists
    assert api.get(f"/v1/datasets/{DATASET_ID}").json()["holder"] == net.accounts["retailer"].address
