"""Procurement cases over HTTP on Anvil: a buyer opens a case with a request it signed, parties append
steps with their EIP-712 signatures, a wrong-role step is refused with nothing kept, and auditors read
the verified case, page and filter cases, export findings as CSV and print the report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from fastapi.testclient import TestClient

from tests.conftest import Net
from tests.services.cases.conftest import make_runtime
from tests.services.cases.kit import Procurement, doc, line, po
from tracechain.api.app import create_app
from tracechain.chain.transact import ForwardRequest, Transactor
from tracechain.hashing import document_hash, to_hex
from tracechain.services.cases import CaseService


@pytest.fixture(scope="module")
def site(anvil_net: Net, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    snapshot = anvil_net.chain.snapshot()
    try:
        runtime = make_runtime(anvil_net, Path(tmp_path_factory.mktemp("cases-api")))
        CaseService(runtime).register_template(anvil_net.accounts["governance"])
        short = Procurement(anvil_net, runtime, "PO-API-SHORT", quantity=12).complete(received=10, invoiced=12)
        with TestClient(create_app(runtime)) as client:
            yield {"net": anvil_net, "runtime": runtime, "api": client, "short": short}
    finally:
        anvil_net.chain.revert(snapshot)


def sign_typed(account: Any, typed: dict[str, Any]) -> str:
    message = encode_typed_data(full_message=typed)
    return "0x" + bytes(Account.sign_message(message, account.key).signature).hex()


def post_step(site: dict[str, Any], case_id: str, body: dict[str, Any], signers: list[str]) -> Any:
    api, accounts = site["api"], site["net"].accounts
    prepared = api.post(f"/v1/cases/{case_id}/steps/prepare", json=body)
    assert prepared.status_code == 200, prepared.text
    p = prepared.json()
    by_address = {accounts[n].address: accounts[n] for n in signers}
    signatures = [sign_typed(by_address[s["address"]], p["typed_data"]) for s in p["signers"]]
    return api.post(
        f"/v1/cases/{case_id}/steps",
        json={**body, "index": p["index"], "deadline": p["deadline"], "signatures": signatures},
    )


def test_open_and_append_steps_with_signed_requests(site: dict[str, Any]) -> None:
    api, net = site["api"], site["net"]
    buyer, order = net.accounts["retailer"], po("PO-API-1")
    fields = {"biz_transaction": order, "metadata": {"po": order, "title": "2 x 40 MVA"}}
    prepared = api.post("/v1/procurement/requests", json={**fields, "from": buyer.address})
    assert prepared.status_code == 200, prepared.text
    unsigned = prepared.json()["request"]
    request = ForwardRequest(unsigned["from"], unsigned["to"], unsigned["value"], unsigned["gas"], unsigned["nonce"],
                             unsigned["deadline"], unsigned["data"])  # fmt: skip
    transactor = Transactor(net.chain, forwarder=net.contract("TraceChainForwarder"))
    signed = transactor.sign(buyer, request)
    tampered = {**fields, "metadata": {"po": order, "title": "3 x 40 MVA"}}
    refused = api.post("/v1/cases", json={**tampered, "request": {**unsigned, "signature": signed.signature}})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "request_mismatch"
    opened = api.post("/v1/cases", json={**fields, "request": {**unsigned, "signature": signed.signature}})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    replayed = api.post("/v1/cases", json={**fields, "request": {**unsigned, "signature": signed.signature}})
    assert replayed.status_code == 401  # the request's nonce is spent

    approval = doc(
        "approval", order, "2026-05-01", plan="Substation 12", budget={"amount": "400000", "currency": "EUR"}
    )
    assert post_step(site, case_id, {"kind": "approval", "document": approval}, ["retailer"]).status_code == 201
    supplier = net.accounts["manufacturer"].address
    award = doc("award", order, "2026-05-03", supplier={"name": "Manufacturer", "account": supplier})
    assert (
        post_step(site, case_id, {"kind": "award", "document": award, "supplier": supplier}, ["retailer"]).status_code
        == 201
    )
    contract = doc("contract", order, "2026-05-05", [line(2, "185000.00")], currency="EUR")
    written = post_step(site, case_id, {"kind": "contract", "document": contract}, ["retailer", "manufacturer"])
    assert written.status_code == 201, written.text
    assert written.json()["index"] == 3 and written.json()["tx"]["gas_used"] > 21_000

    body = api.get(f"/v1/cases/{case_id}").json()
    assert body["verification"]["verified"] and [s["kind"] for s in body["timeline"]] == [
        "approval",
        "award",
        "contract",
    ]
    assert [s["role"] for s in body["timeline"][2]["signers"]] == ["buyer", "supplier"]
    assert {p["role"] for p in body["parties"]} == {"buyer", "supplier"}
    assert body["reconciliation"]["lines"][0]["ordered"] == "2"


def test_a_step_in_the_wrong_role_is_refused_and_nothing_is_kept(site: dict[str, Any]) -> None:
    api, short = site["api"], site["short"]
    before = api.get(f"/v1/cases/{short.case_id}").json()
    note = doc("acceptance", short.po, "2026-06-01", [line(2)], result="accepted", remarks="by the supplier")
    body = {"kind": "acceptance", "document": note, "inspector": site["net"].accounts["manufacturer"].address}
    refused = post_step(site, short.case_id, body, ["retailer", "manufacturer"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "case_registry_inspector_not_independent"
    assert site["runtime"].store.get_document(to_hex(document_hash(note))) is None
    after = api.get(f"/v1/cases/{short.case_id}").json()
    assert len(after["timeline"]) == len(before["timeline"])


def test_signatures_for_another_position_are_a_conflict(site: dict[str, Any]) -> None:
    api, short = site["api"], site["short"]
    body = {"kind": "invoice", "document": doc("invoice", short.po, "2026-06-02", [line(1, "1.00")], currency="EUR")}
    answer = api.post(f"/v1/cases/{short.case_id}/steps", json={**body, "index": 2, "deadline": 2**40,
                                                                "signatures": ["0x" + "11" * 65]})  # fmt: skip
    assert answer.status_code == 409, answer.text


def test_the_case_answer_carries_verification_reconciliation_and_findings(site: dict[str, Any]) -> None:
    short = site["short"]
    body = site["api"].get(f"/v1/cases/{short.case_id}").json()
    assert body["verification"]["verdict"] == "verified" and body["status"] == "closed"
    flagged = {f["code"]: f for f in body["findings"]}
    f = flagged["invoiced_not_received"]
    assert f["severity"] == "high" and f["values"] == {"invoiced": "12", "received": "10"} and f["evidence_verified"]
    assert {e["kind"] for e in f["evidence"]} == {"acceptance", "invoice"}
    line_ = body["reconciliation"]["lines"][0]
    assert (line_["ordered"], line_["received"], line_["invoiced"], line_["status"]) == ("12", "10", "12", "mismatch")
    assert all(s["verified"] and s["document"] for s in body["timeline"])
    assert body["report_url"].endswith(f"/v1/cases/{short.case_id}/report")


def test_pages_filter_and_unknown_filters_are_refused(site: dict[str, Any]) -> None:
    api, short = site["api"], site["short"]
    flagged = api.get("/v1/cases", params={"finding": "invoiced_not_received"}).json()
    assert [c["case_id"] for c in flagged["items"]] == [short.case_id]
    assert flagged["items"][0]["verdict"] == "verified" and "invoiced_not_received" in flagged["items"][0]["findings"]
    closed = api.get("/v1/cases", params={"status": "closed", "buyer": site["net"].accounts["retailer"].address}).json()
    assert short.case_id in [c["case_id"] for c in closed["items"]]
    none = api.get("/v1/cases", params={"supplier": site["net"].accounts["logistics"].address}).json()
    assert none["total"] == 0 and none["next_offset"] is None
    assert api.get("/v1/cases", params={"finding": "nonsense"}).status_code == 422
    assert api.get("/v1/cases", params={"status": "pending"}).status_code == 422
    assert api.get("/v1/cases/0x" + "00" * 32).json()["error"]["code"] == "case_not_found"


def test_findings_export_as_csv(site: dict[str, Any]) -> None:
    api, short = site["api"], site["short"]
    for url in (f"/v1/cases/{short.case_id}/findings.csv", "/v1/cases/findings.csv?finding=invoiced_not_received"):
        answer = api.get(url)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        row = next(r for r in rows if r["code"] == "invoiced_not_received")
        assert row["case_id"] == short.case_id and row["severity"] == "high" and row["evidence_verified"] == "true"
        assert "acceptance" in row["steps"] and "invoice" in row["steps"]


def test_printable_report_and_auditor_page(site: dict[str, Any]) -> None:
    api, short = site["api"], site["short"]
    report = api.get(f"/v1/cases/{short.case_id}/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "VERIFIED" in report.text and "invoiced_not_received" in report.text and "@media print" in report.text
    page = api.get("/cases")
    assert page.status_code == 200 and "/v1/cases" in page.text
    template = api.get("/v1/procurement/templates/default").json()
    assert [s["kind"] for s in template["steps"]][:3] == ["approval", "award", "contract"]
    assert "contract" in template["schemas"]
