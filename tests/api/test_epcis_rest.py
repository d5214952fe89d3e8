"""GS1's EPCIS 2.0 REST bindings, the capture side, on a real chain: a capture job from its document
through the signer's signatures to success, pre-signed captures and single events, a malformed document
per schema rule group refused whole (nothing stored or sent), a job interrupted mid-way resumed with each
event recorded once, jobs answered by a restarted server, negotiation and limits, stable pages."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.services.test_provenance_service import GTIN, epcis_document, event_doc
from tracechain import errors
from tracechain.api.app import create_app
from tracechain.chain.provenance import EntryKind, genesis_head, next_head
from tracechain.epcis import event_hash_id, parse_identifier, prepare_event, subjects_of
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.services.capture_jobs import CaptureJobs
from tracechain.services.provenance import ProvenanceService, TraceReader
from tracechain.services.runtime import Runtime
from tracechain.settings import Settings
from tracechain.store.capture_jobs import CaptureJobRow, CaptureRequestRow
from tracechain.store.db import Document, Store
from tracechain.store.provenance import EntryRow, EventFactsRow
from tracechain.types import to_address

SIGNER = "TraceChain-Signer"
SIGNED_CAPTURE = "application/vnd.tracechain.signed-capture+json"
SIGNED_EVENT = "application/vnd.tracechain.signed-event+json"


# ---------------------------------------------------------------- helpers (also used by the query tests)
def sign_all(job: dict[str, Any], account) -> list[str]:  # noqa: ANN001
    """The signer's EIP-712 signatures of a job's requests, as a wallet makes them."""
    return [
        "0x" + bytes(Account.sign_message(encode_typed_data(full_message=r["typedData"]), account.key).signature).hex()
        for r in job["tracechain:signing"]["requests"]
    ]


def capture(api: TestClient, document: dict[str, Any], account, path: str = "/epcis/capture") -> dict[str, Any]:  # noqa: ANN001
    """Capture `document` as `account`: post it naming the signer, sign the job's requests, post them;
    returns the job as it ends."""
    created = api.post(path, json=document, headers={SIGNER: account.address})
    assert created.status_code == 202, created.text
    job = created.json()
    if job["running"]:
        signed = api.post(job["tracechain:signing"]["signaturesURL"], json={"signatures": sign_all(job, account)})
        assert signed.status_code == 202, signed.text
    return api.get(created.headers["location"]).json()


def results(body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(eventList, tracechain:proofs) of an EPCISQueryDocument."""
    found = body["epcisBody"]["queryResults"]["resultsBody"]
    return found["eventList"], found["tracechain:proofs"]


def assert_proof_holds(net, event: dict[str, Any], proof: dict[str, Any], kind: EntryKind = EntryKind.EVENT) -> None:  # noqa: ANN001
    """Check a served event and its proof against the chain alone, as docs/PROTOCOL.md says a client does."""
    w3 = net.chain.w3
    registry = net.deployment.contract(net.chain, "ProvenanceRegistry")
    start = net.deployment.start_block
    assert to_hex(document_hash(event)) == proof["documentHash"] and proof["documentVerified"]
    assert event_hash_id(event) == proof["eventHashID"]  # recomputed from what is served
    block = w3.eth.get_block(proof["blockNumber"])
    assert to_hex(block["hash"]) == proof["blockHash"]
    assert proof["recordTime"] == datetime.fromtimestamp(block["timestamp"], UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")  # fmt: skip
    assert proof["contract"] == registry.address and proof["chainID"] == net.chain.chain_id
    assert {e["identifier"] for e in proof["entries"]} == {s.identifier.canonical for s in subjects_of(event)}
    assert proof["entryKind"] == kind.label
    for entry in proof["entries"]:
        key = entry["subjectKey"]
        assert to_hex(parse_identifier(entry["identifier"], any_uri=True).key) == key
        topic = {"subjectKey": parse_bytes32(key)}
        logs = registry.events.EntryAppended().get_logs(from_block=start, argument_filters=topic)
        logs = sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))
        log = logs[entry["index"]]  # the index-th entry of this identifier's chain is this event
        assert (to_hex(log["transactionHash"]), log["blockNumber"], log["logIndex"]) == (
            proof["transactionHash"], proof["blockNumber"], entry["logIndex"])  # fmt: skip
        assert to_hex(log["args"]["ref"]) == "0x" + proof["eventHashID"].split(";")[1][:64]
        assert to_hex(log["args"]["documentHash"]) == proof["documentHash"]
        assert log["args"]["kind"] == kind and to_address(log["args"]["actor"]) == proof["actor"]
        assert log["args"]["code"] == proof["bizStepCode"]
        created = registry.events.SubjectCreated().get_logs(from_block=start, argument_filters=topic)[0]["args"]
        head = genesis_head(parse_bytes32(key), created["originator"], bytes(created["metadataHash"]))
        for earlier in logs[: entry["index"] + 1]:  # fold the chain's own logs up to this entry
            a = earlier["args"]
            stamp = int(w3.eth.get_block(earlier["blockNumber"])["timestamp"])
            head = next_head(head, a["kind"], bytes(a["ref"]), bytes(a["documentHash"]), a["code"], a["actor"], stamp)
        assert to_hex(head) == entry["head"]
        if entry["index"] == len(logs) - 1:
            assert to_hex(registry.functions.headOf(parse_bytes32(key)).call()) == entry["head"]


def _signed_request(api: TestClient, account, **body: Any) -> list[dict[str, Any]]:  # noqa: ANN001
    """Requests prepared by /v1/provenance/requests and signed by `account` (a client doing it itself)."""
    prepared = api.post("/v1/provenance/requests", json={"from": account.address, **body})
    assert prepared.status_code == 200, prepared.text
    out = []
    for typed in prepared.json()["typed_data_list"]:
        signature = Account.sign_message(encode_typed_data(full_message=typed), account.key).signature
        out.append({**typed["message"], "signature": "0x" + bytes(signature).hex()})
    return out


def _items(prefix: str, n: int) -> list[str]:
    return [f"01/{GTIN}/21/{prefix}-{i}" for i in range(n)]


def _small_gas_cap(monkeypatch) -> None:  # noqa: ANN001
    """Transactions of ~300k gas: a few events each, so a document needs several."""
    monkeypatch.setattr(ProvenanceService, "_gas_cap", lambda self: 300_000)


def _counts(runtime: Runtime) -> tuple[int, int, int, int]:
    with runtime.store.session() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t)) for t in (CaptureJobRow, Document, EventFactsRow, EntryRow)
        )


# ---------------------------------------------------------------- capture jobs
def test_a_capture_job_goes_from_signatures_to_success(api: TestClient, net, runtime, monkeypatch) -> None:  # noqa: ANN001
    _small_gas_cap(monkeypatch)
    m = net.accounts["manufacturer"]
    pids = _items("J", 5)
    doc = epcis_document([event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(pids)])
    created = api.post("/epcis/capture", json=doc, headers={SIGNER: m.address})
    assert created.status_code == 202, created.text
    assert created.headers["location"] == f"/epcis/capture/{created.json()['captureID']}"
    assert created.headers["gs1-epcis-version"] == "2.0.0" and created.headers["gs1-cbv-version"] == "2.0.0"
    job = created.json()
    assert (job["running"], job["success"], job["errors"], job["tracechain:status"]) == (
        True, True, [], "awaiting_signatures")  # fmt: skip
    requests = job["tracechain:signing"]["requests"]
    assert len(requests) >= 2 and job["tracechain:progress"]["events"] == 5
    nonces = [r["request"]["nonce"] for r in requests]
    assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))  # consecutive: one per transaction
    assert all(r["typedData"]["primaryType"] == "ForwardRequest" for r in requests)
    assert all(r["request"]["from"] == m.address and r["request"]["signature"] is None for r in requests)
    assert sorted(i for r in requests for i in r["events"]) == list(range(5))
    assert api.get(created.headers["location"]).json() == job  # stored: the same job when asked again

    signed = api.post(f"/epcis/capture/{job['captureID']}/signatures", json={"signatures": sign_all(job, m)})
    assert signed.status_code == 202 and signed.json()["tracechain:status"] == "relaying"
    done = api.get(created.headers["location"]).json()
    assert (done["running"], done["success"], done["tracechain:status"]) == (False, True, "succeeded")
    assert done["finishedAt"] >= done["createdAt"]
    assert done["tracechain:progress"] == {
        "events": 5, "recorded": 5, "skipped": 0, "transactions": len(requests), "transactionsDone": len(requests),
    }  # fmt: skip
    txs = {r["transactionHash"] for r in done["tracechain:signing"]["requests"]}
    served, proofs = results(api.get("/epcis/events").json())
    assert [e["epcList"] for e in served] == [d["epcList"] for d in doc["epcisBody"]["eventList"]]
    assert {p["transactionHash"] for p in proofs} == txs and all(p["actor"] == m.address for p in proofs)

    again = capture(api, doc, m)  # every event is recorded: nothing to sign, nothing sent
    assert (again["tracechain:status"], again["tracechain:progress"]["skipped"]) == ("succeeded", 5)
    assert again["tracechain:signing"]["requests"] == []
    served_back = capture(api, api.get("/epcis/events").json(), m)  # an EPCISQueryDocument is captured too
    assert (served_back["tracechain:status"], served_back["tracechain:progress"]["skipped"]) == ("succeeded", 5)
    assert len(results(api.get("/epcis/events").json())[0]) == 5


def test_events_another_capture_recorded_meanwhile_are_not_sent_twice(
    api: TestClient,
    net,
    runtime,
    monkeypatch,  # noqa: ANN001
) -> None:
    _small_gas_cap(monkeypatch)
    m = net.accounts["manufacturer"]
    pids = _items("D", 4)
    events = [event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(pids)]
    job = api.post("/epcis/capture", json=epcis_document(events), headers={SIGNER: m.address}).json()
    assert [r["events"] for r in job["tracechain:signing"]["requests"]] == [[0, 1], [2, 3]]
    # Another capture records the first two meanwhile (sent directly: the job's nonces stay unused).
    ProvenanceService(runtime, runtime.transactor).import_epcis(m, epcis_document(events[:2]))
    api.post(job["tracechain:signing"]["signaturesURL"], json={"signatures": sign_all(job, m)})
    failed = api.get(f"/epcis/capture/{job['captureID']}").json()
    assert failed["tracechain:status"] == "failed"
    (problem,) = failed["errors"]
    assert (problem["error"]["code"], problem["pointer"]) == ("event_already_recorded", "/epcisBody/eventList/0")
    assert problem["type"] == "epcisException:ResourceAlreadyExistsException"
    rest = capture(api, epcis_document(events), m)  # a new capture signs only what is left
    assert (rest["tracechain:status"], rest["tracechain:progress"]) == ("succeeded", {
        "events": 4, "recorded": 2, "skipped": 2, "transactions": 1, "transactionsDone": 1})  # fmt: skip
    assert all(len(TraceReader(runtime).trace(pid).events) == 1 for pid in pids)


def test_the_signatures_are_the_signers_or_nothing_happens(api: TestClient, net, runtime) -> None:  # noqa: ANN001
    m, other = net.accounts["manufacturer"], net.accounts["logistics"]
    doc = epcis_document([event_doc(_items("S", 1), "commissioning", 0, "active")])
    job = api.post("/epcis/capture", json=doc, headers={SIGNER: m.address}).json()
    url = job["tracechain:signing"]["signaturesURL"]
    forged = api.post(url, json={"signatures": sign_all(job, other)})
    assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"
    assert forged.json()["type"] == "epcisException:SecurityException"
    assert forged.json()["error"]["code"] == "invalid_signature"
    assert api.post(url, json={"signatures": []}).status_code == 400
    assert api.post(url, json={"signatures": ["0x12"]}).status_code == 400
    assert api.get(f"/epcis/capture/{job['captureID']}").json()["tracechain:status"] == "awaiting_signatures"
    assert api.post(url, json={"signatures": sign_all(job, m)}).status_code == 202
    twice = api.post(url, json={"signatures": sign_all(job, m)})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "capture_job_state"
    unknown = api.get("/epcis/capture/nope")
    assert unknown.status_code == 404 and unknown.json()["type"] == "epcisException:NoSuchNameException"


def test_pre_signed_requests_are_checked_and_relayed(api: TestClient, net, runtime, monkeypatch) -> None:  # noqa: ANN001
    _small_gas_cap(monkeypatch)
    m = net.accounts["manufacturer"]
    doc = epcis_document([event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(_items("P", 4))])
    requests = _signed_request(api, m, action="epcis", document=doc)
    assert len(requests) >= 2
    other = epcis_document([event_doc(_items("Q", 1), "commissioning", 0, "active")])
    mismatch = api.post("/epcis/capture", json={"document": other, "requests": requests},
                        headers={"Content-Type": SIGNED_CAPTURE})  # fmt: skip
    assert mismatch.status_code == 400 and mismatch.json()["error"]["code"] == "request_mismatch"
    partial = api.post("/epcis/capture", json={"document": doc, "requests": requests[:-1]},
                       headers={"Content-Type": SIGNED_CAPTURE})  # fmt: skip
    assert partial.status_code == 400
    assert _counts(runtime)[0] == 0  # no job for a refused capture

    created = api.post("/epcis/capture", json={"document": doc, "requests": requests},
                       headers={"Content-Type": SIGNED_CAPTURE})  # fmt: skip
    assert created.status_code == 202, created.text
    job = api.get(created.headers["location"]).json()
    assert (job["tracechain:status"], job["tracechain:progress"]["recorded"]) == ("succeeded", 4)
    assert len(results(api.get("/epcis/events").json())[0]) == 4


def test_one_event_is_recorded_at_once_when_signed_or_through_a_job(api: TestClient, net, runtime) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    event = {"@context": doc_context(), **event_doc(_items("E", 1), "commissioning", 0, "active")}
    (request,) = _signed_request(api, m, action="events", events=[event])
    signed_type = {"Content-Type": SIGNED_EVENT}
    created = api.post("/epcis/events", json={"event": event, "request": request}, headers=signed_type)
    assert created.status_code == 201, created.text
    hash_id = prepare_event(event).event_hash_id
    assert created.headers["location"] == f"/epcis/events/{quote(hash_id, safe='')}" and created.json() == event
    found = api.get(created.headers["location"])
    assert found.status_code == 200 and results(found.json())[0] == [event]
    (again,) = _signed_request(api, m, action="events", events=[event])
    duplicate = api.post("/epcis/events", json={"event": event, "request": again}, headers=signed_type)
    assert duplicate.status_code == 409
    assert duplicate.json()["type"] == "epcisException:ResourceAlreadyExistsException"

    second = {"@context": doc_context(), **event_doc(_items("E", 2)[1:], "commissioning", 5, "active")}
    job = capture(api, second, m, path="/epcis/events")
    assert (job["tracechain:status"], job["tracechain:progress"]["recorded"]) == ("succeeded", 1)
    assert len(results(api.get("/epcis/events").json())[0]) == 2
    wrong = api.post("/epcis/events", json=epcis_document([event_doc(_items("E", 1), "storing", 9)]),
                     headers={SIGNER: m.address})  # fmt: skip
    assert wrong.status_code == 400 and wrong.json()["error"]["pointer"] == "/type"


def doc_context() -> list[Any]:
    return epcis_document([])["@context"]


# ---------------------------------------------------------------- refused whole
GOOD = event_doc(["urn:epc:id:sgtin:9506000.013435.M-1"], "commissioning", 0, "active")
EVENT_AT = "/epcisBody/eventList/1"


def _malformed(path: list[Any], value: Any, delete: bool = False) -> dict[str, Any]:
    doc = epcis_document([copy.deepcopy(GOOD), event_doc(["urn:epc:id:sgtin:9506000.013435.M-2"], "storing", 5)])
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


E = ["epcisBody", "eventList", 1]


@pytest.mark.parametrize(
    ("path", "value", "delete", "code", "pointer"),
    [
        # document envelope
        (["schemaVersion"], None, True, "epcis_schema_violation", ""),
        (["epcisBody"], {"events": []}, False, "epcis_schema_violation", "/epcisBody"),
        # common event fields
        ([*E, "eventTime"], None, True, "epcis_schema_violation", EVENT_AT),
        ([*E, "eventTimeZoneOffset"], "+15:00", False, "epcis_schema_violation", f"{EVENT_AT}/eventTimeZoneOffset"),
        ([*E, "errorDeclaration"], {"reason": "incorrect_data"}, False, "epcis_schema_violation",
         f"{EVENT_AT}/errorDeclaration"),
        # type-specific fields and vocabularies
        ([*E, "action"], "UPDATE", False, "epcis_schema_violation", f"{EVENT_AT}/action"),
        ([*E, "quantityList"], [{"quantity": 3}], False, "epcis_schema_violation", f"{EVENT_AT}/quantityList/0"),
        ([*E, "readPoint"], {"name": "dock"}, False, "epcis_schema_violation", f"{EVENT_AT}/readPoint"),
        ([*E, "bizTransactionList"], [{"type": "po"}], False, "epcis_schema_violation",
         f"{EVENT_AT}/bizTransactionList/0"),
        ([*E, "sensorElementList"], [{"sensorReport": []}], False, "epcis_schema_violation",
         f"{EVENT_AT}/sensorElementList/0/sensorReport"),
        # EPCIS 2.0 beyond the schema: identifiers with check digits
        ([*E, "epcList"], [f"https://id.example.com/01/{GTIN[:-1]}9/21/X"], False, "epcis_invalid",
         f"{EVENT_AT}/epcList/0"),
    ],
)  # fmt: skip
def test_a_malformed_document_per_rule_group_is_refused_whole(
    api: TestClient,
    net,
    runtime,
    path: list[Any],
    value: Any,
    delete: bool,
    code: str,
    pointer: str,  # noqa: ANN001
) -> None:
    block = net.chain.w3.eth.block_number
    signer = {SIGNER: net.accounts["manufacturer"].address}
    response = api.post("/epcis/capture", json=_malformed(path, value, delete), headers=signer)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["status"]) == ("epcisException:ValidationException", 400)
    assert (problem["error"]["code"], problem["error"]["pointer"]) == (code, pointer)
    assert problem["error"].get("event_index") == (1 if pointer.startswith(EVENT_AT) else None)
    assert _counts(runtime) == (0, 0, 0, 0) and net.chain.w3.eth.block_number == block  # nothing stored or sent


def test_negotiation_signers_and_limits(api: TestClient, net, runtime, monkeypatch) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    doc = epcis_document([event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(_items("L", 3))])
    unnamed = api.post("/epcis/capture", json=doc)
    assert unnamed.status_code == 401 and unnamed.json()["error"]["code"] == "signer_missing"
    assert api.post("/epcis/capture", json=doc, headers={SIGNER: "me"}).status_code == 400
    xml_body = {"Content-Type": "application/xml", SIGNER: m.address}
    text = api.post("/epcis/capture", content=b"<EPCISDocument/>", headers=xml_body)
    assert text.status_code == 415 and text.json()["type"] == "epcisException:UnsupportedMediaTypeException"
    xml = api.get("/epcis/events", headers={"Accept": "application/xml"})
    assert xml.status_code == 406 and xml.json()["type"] == "epcisException:NotAcceptableException"
    assert api.get("/epcis/events", headers={"GS1-EPCIS-Version": "1.2"}).status_code == 406
    assert api.get("/epcis/events", headers={"GS1-EPCIS-Min": "2.1.0"}).status_code == 406
    assert api.get("/epcis/events", headers={"GS1-EPCIS-Max": "2.0", "GS1-CBV-Min": "1.2"}).status_code == 200
    outsider = api.post("/epcis/capture", json=doc, headers={SIGNER: net.accounts["outsider"].address})
    assert outsider.status_code == 403 and outsider.json()["type"] == "epcisException:SecurityException"

    monkeypatch.setattr(runtime.settings, "max_events_per_capture", 2)
    too_many = api.post("/epcis/capture", json=doc, headers={SIGNER: m.address})
    assert too_many.status_code == 413 and too_many.json()["type"] == "epcisException:CaptureLimitExceededException"
    options = api.options("/epcis/capture")
    assert options.status_code == 204 and options.headers["gs1-epcis-capture-limit"] == "2"
    assert options.headers["allow"] == "OPTIONS, GET, POST"
    assert options.headers["gs1-capture-error-behaviour"] == "proceed"
    monkeypatch.setattr(runtime.settings, "max_events_per_capture", 100)
    _small_gas_cap(monkeypatch)
    all_or_nothing = {SIGNER: m.address, "GS1-Capture-Error-Behaviour": "rollback"}
    rollback = api.post("/epcis/capture", json=doc, headers=all_or_nothing)
    assert rollback.status_code == 501 and rollback.json()["type"] == "epcisException:ImplementationException"
    assert _counts(runtime)[0] == 0 and not api.get("/epcis/capture").json()


# ---------------------------------------------------------------- resuming
def test_an_interrupted_job_resumes_where_it_stopped_and_records_each_event_once(
    api: TestClient,
    net,
    runtime,
    monkeypatch,  # noqa: ANN001
) -> None:
    _small_gas_cap(monkeypatch)
    m = net.accounts["manufacturer"]
    pids = _items("R", 6)
    doc = epcis_document([event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(pids)])
    job = api.post("/epcis/capture", json=doc, headers={SIGNER: m.address}).json()
    assert len(job["tracechain:signing"]["requests"]) >= 3
    relay, sent = runtime.transactor.relay, {"n": 0}

    def node_dies_at_the_second(request, relayer=None, **kw):  # noqa: ANN001, ANN202
        sent["n"] += 1
        if sent["n"] == 2:
            raise errors.ChainUnavailableError("the node stopped answering")
        return relay(request, relayer, **kw)

    monkeypatch.setattr(runtime.transactor, "relay", node_dies_at_the_second)
    api.post(f"/epcis/capture/{job['captureID']}/signatures", json={"signatures": sign_all(job, m)})
    paused = CaptureJobs(runtime).get(job["captureID"])
    assert paused.status == "relaying" and paused.success and "stopped answering" in (paused.note or "")
    assert [r.status for r in paused.requests][:2] == ["recorded", "signed"]
    assert 0 < paused.events_recorded < 6

    monkeypatch.setattr(runtime.transactor, "relay", relay)  # the node is back
    assert api.get(f"/epcis/capture/{job['captureID']}").json()["running"]  # ... and this poll resumes the job
    done = api.get(f"/epcis/capture/{job['captureID']}").json()
    assert (done["tracechain:status"], done["tracechain:progress"]["recorded"], done["tracechain:note"]) == (
        "succeeded", 6, None)  # fmt: skip
    reader = TraceReader(runtime)
    assert all(len(reader.trace(pid).events) == 1 for pid in pids)  # nothing doubled, nothing lost


def test_a_worker_that_stopped_after_sending_is_not_sent_again(api: TestClient, net, runtime, monkeypatch) -> None:  # noqa: ANN001
    _small_gas_cap(monkeypatch)
    m = net.accounts["manufacturer"]
    pids = _items("W", 4)
    doc = epcis_document([event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(pids)])
    job = capture(api, doc, m)
    assert job["tracechain:status"] == "succeeded"
    block = net.chain.w3.eth.block_number
    with runtime.store.session() as s:  # as if it stopped after sending, before noting anything
        s.execute(update(CaptureRequestRow).values(status="signed", tx_hash=None, block_number=None))
        s.execute(update(CaptureJobRow).values(status="relaying", events_recorded=0, finished_ms=None))
    assert CaptureJobs(runtime).resume_all() == [job["captureID"]]
    again = api.get(f"/epcis/capture/{job['captureID']}").json()
    assert (again["tracechain:status"], again["tracechain:progress"]["recorded"]) == ("succeeded", 4)
    assert [r["transactionHash"] for r in again["tracechain:signing"]["requests"]] == [
        r["transactionHash"] for r in job["tracechain:signing"]["requests"]
    ]
    assert net.chain.w3.eth.block_number == block  # nothing sent again
    assert all(len(TraceReader(runtime).trace(pid).events) == 1 for pid in pids)


def test_a_rollback_takes_back_what_a_job_recorded_and_the_job_records_it_again(
    api: TestClient,
    net,
    runtime,
    monkeypatch,  # noqa: ANN001
) -> None:
    _small_gas_cap(monkeypatch)
    m = net.accounts["manufacturer"]
    pids = _items("B", 4)
    doc = epcis_document([event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(pids)])
    job = api.post("/epcis/capture", json=doc, headers={SIGNER: m.address}).json()
    snapshot = net.chain.snapshot()  # before anything is relayed
    api.post(f"/epcis/capture/{job['captureID']}/signatures", json={"signatures": sign_all(job, m)})
    assert api.get(f"/epcis/capture/{job['captureID']}").json()["tracechain:status"] == "succeeded"

    net.chain.revert(snapshot)  # the node forgets the job's blocks (a reorg, a node restored from a backup)
    net.chain.increase_time(1)
    runtime.sync()
    forgotten = CaptureJobs(runtime).get(job["captureID"])
    assert (forgotten.status, forgotten.events_recorded) == ("relaying", 0)  # never "succeeded" meanwhile
    assert "rolled back" in (forgotten.note or "") and {r.status for r in forgotten.requests} == {"signed"}
    for pid in pids:  # the subjects the job created are gone with its blocks
        with pytest.raises(errors.ProductNotFoundError):
            TraceReader(runtime).trace(pid)

    assert api.get(f"/epcis/capture/{job['captureID']}").json()["running"]  # this poll relays them again
    done = api.get(f"/epcis/capture/{job['captureID']}").json()
    assert (done["tracechain:status"], done["tracechain:progress"]["recorded"]) == ("succeeded", 4)
    assert all(len(TraceReader(runtime).trace(pid).events) == 1 for pid in pids)


def test_a_restarted_server_still_answers_for_its_jobs(api: TestClient, net, runtime) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    doc = epcis_document([event_doc(_items("T", 2), "commissioning", 0, "active")])
    job = api.post("/epcis/capture", json=doc, headers={SIGNER: m.address}).json()
    store = Store(runtime.store.url)  # another process over the same store
    restarted = Runtime(runtime.settings, net.chain, net.deployment, store, runtime.operator)
    with TestClient(create_app(restarted)) as other:
        assert other.get(f"/epcis/capture/{job['captureID']}").json() == job
        assert [j["captureID"] for j in other.get("/epcis/capture").json()] == [job["captureID"]]
        signed = other.post(job["tracechain:signing"]["signaturesURL"], json={"signatures": sign_all(job, m)})
        assert signed.status_code == 202
    assert api.get(f"/epcis/capture/{job['captureID']}").json()["tracechain:status"] == "succeeded"


def test_a_failed_transaction_ends_the_job_with_the_offending_event(api: TestClient, net, runtime, monkeypatch) -> None:  # noqa: ANN001
    _small_gas_cap(monkeypatch)
    m, logistics = net.accounts["manufacturer"], net.accounts["logistics"]
    pids = _items("F", 4)
    ProvenanceService(runtime).register(m, pids[3])
    doc = epcis_document([event_doc([pid], "storing", i) for i, pid in enumerate(pids)])
    job = api.post("/epcis/capture", json=doc, headers={SIGNER: logistics.address}).json()
    last = job["tracechain:signing"]["requests"][-1]
    assert 3 in last["events"]  # the item logistics does not hold is in the last transaction
    api.post(job["tracechain:signing"]["signaturesURL"], json={"signatures": sign_all(job, logistics)})
    failed = api.get(f"/epcis/capture/{job['captureID']}").json()
    assert (failed["running"], failed["success"], failed["tracechain:status"]) == (False, False, "failed")
    (problem,) = failed["errors"]
    assert (problem["pointer"], problem["eventIndex"]) == ("/epcisBody/eventList/3", 3)
    assert problem["type"] == "epcisException:SecurityException" and problem["instance"] == "#/epcisBody/eventList/3"
    assert problem["error"]["code"] == "provenance_registry_not_custodian"
    assert failed["tracechain:progress"]["recorded"] == 4 - len(last["events"])  # earlier transactions stay


# ---------------------------------------------------------------- pages
def test_pages_are_stable_while_events_are_recorded(api: TestClient, net, runtime) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    capture(api, epcis_document([event_doc([p], "commissioning", i, "active") for i, p in enumerate(_items("G", 5))]),
            m)  # fmt: skip
    first = api.get("/epcis/events", params={"perPage": 2})
    events, _ = results(first.json())
    assert len(events) == 2 and 'rel="next"' in first.headers["link"]
    token = first.headers["link"].split("nextPageToken=")[1].split(">")[0]
    later = [event_doc([p], "commissioning", 9 + i, "active") for i, p in enumerate(_items("H", 2))]
    capture(api, epcis_document(later), m)
    assert results(api.get("/epcis/events", params={"perPage": 2}).json())[0] == events  # page 1 unchanged
    walked = list(events)
    url = first.headers["link"][1:].split(">")[0]
    while True:
        page = api.get(url)
        assert page.status_code == 200, page.text
        walked += results(page.json())[0]
        if "link" not in page.headers:
            break
        url = page.headers["link"][1:].split(">")[0]
    everything = results(api.get("/epcis/events", params={"perPage": 100}).json())[0]
    assert walked == everything and len(everything) == 7  # nothing twice, nothing skipped, new ones last
    once, twice = (api.get("/epcis/events", params={"perPage": 2, "nextPageToken": token}) for _ in range(2))
    assert once.json()["epcisBody"] == twice.json()["epcisBody"] and results(once.json())[0] == everything[2:4]
    assert api.get("/epcis/events", params={"nextPageToken": token, "EQ_bizStep": "shipping"}).status_code == 400
    assert api.get("/epcis/events", params={"nextPageToken": "garbage"}).status_code == 400
    assert api.get("/epcis/events", params={"perPage": 0}).status_code == 400


# ---------------------------------------------------------------- the key path, on both chains
def test_a_capture_is_served_with_proofs_that_hold_on_both_chains(any_net, tmp_path) -> None:  # noqa: ANN001
    store = Store(f"sqlite:///{tmp_path / 'any.db'}")
    store.bind_chain(any_net.chain.chain_id, any_net.deployment.anchor_hash)
    settings = Settings(data_dir=tmp_path, public_base_url="http://testserver")
    runtime = Runtime(settings, any_net.chain, any_net.deployment, store, any_net.accounts["relayer"])
    m = any_net.accounts["manufacturer"]
    pids = _items("Y", 2)
    doc = epcis_document(
        [event_doc(pids, "commissioning", 0, "active"), event_doc(pids[:1], "shipping", 5, "in_transit")]
    )
    with TestClient(create_app(runtime)) as api:
        job = capture(api, doc, m)
        assert (job["tracechain:status"], job["tracechain:progress"]["recorded"]) == ("succeeded", 2)
        body = api.get("/epcis/events", params={"MATCH_epc": f"https://id.example.com/{pids[0]}"}).json()
    events, proofs = results(body)
    assert events == doc["epcisBody"]["eventList"]
    for event, proof in zip(events, proofs, strict=True):
        assert_proof_holds(any_net, event, proof)


def test_captures_and_queries_on_sqlite_and_postgresql(net, store_url: str, tmp_path) -> None:  # noqa: ANN001
    store = Store(store_url)
    store.bind_chain(net.chain.chain_id, net.deployment.anchor_hash)
    settings = Settings(data_dir=tmp_path, public_base_url="http://testserver")
    runtime = Runtime(settings, net.chain, net.deployment, store, net.accounts["relayer"])
    m = net.accounts["manufacturer"]
    items = _items("Z", 3)
    doc = epcis_document([event_doc(items[:2], "commissioning", 0, "active"), event_doc(items[2:], "shipping", 5)])
    with TestClient(create_app(runtime)) as api:
        assert capture(api, doc, m)["tracechain:status"] == "succeeded"

        def served(**params: Any) -> list[dict[str, Any]]:
            response = api.get("/epcis/events", params=params)
            assert response.status_code == 200, response.text
            return results(response.json())[0]

        assert served() == doc["epcisBody"]["eventList"]
        assert served(MATCH_epc="urn:epc:idpat:sgtin:9506000.013435.*", EQ_bizStep="shipping") == [
            doc["epcisBody"]["eventList"][1]]  # fmt: skip
        assert served(EQ_readPoint="https://id.gs1.org/414/9506000134352/254/1", perPage=1) == [
            doc["epcisBody"]["eventList"][0]]  # fmt: skip
        first = served()[0]
        assert results(api.get(f"/epcis/events/{quote(event_hash_id(first), safe='')}").json())[0] == [first]
        assert api.get("/epcis/epcs").json()["member"] == [f"https://id.gs1.org/{i}" for i in items]
        assert [j["captureID"] for j in api.get("/epcis/capture", params={"perPage": 1}).json()]


def test_a_body_too_large_for_the_bindings_is_their_problem(runtime, net, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(runtime.settings, "max_body_bytes", 4096)
    doc = epcis_document([event_doc([p], "commissioning", i, "active") for i, p in enumerate(_items("B", 12))])
    with TestClient(create_app(runtime)) as api:
        response = api.post("/epcis/capture", json=doc, headers={SIGNER: net.accounts["manufacturer"].address})
        options = api.options("/epcis/capture")
    assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "epcisException:CaptureLimitExceededException"
    assert response.json()["error"]["code"] == "body_too_large"
    assert options.headers["gs1-epcis-capture-file-size-limit"] == "4096"
