"""Provenance service: EPCIS events to chain and index, traces verified against the chain, tampering
and gaps detected, EPCIS documents imported in one batch, pre-signed requests checked before relay."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from tracechain import errors
from tracechain.chain.provenance import product_key_of
from tracechain.epcis import EPCIS_CONTEXT, make_object_event
from tracechain.hashing import to_hex
from tracechain.services.provenance import ProvenanceService
from tracechain.store.db import Activity, Document, Store
from tracechain.store.indexer import Indexer
from tracechain.store.provenance import HANDLERS, ProductEventRow, ProductRow

GTIN = "09506000134352"
PID = f"01/{GTIN}/21/SN-0001"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def event_doc(pids: list[str], step: str, minutes: int = 0, disposition: str = "in_progress", **extra: Any) -> dict:
    """A realistic ObjectEvent for `pids` at START + minutes."""
    return make_object_event(
        product_ids=pids,
        biz_step=step,
        disposition=disposition,
        read_point="urn:epc:id:sgln:9506000.13435.1",
        biz_location="urn:epc:id:sgln:9506000.13435.0",
        event_time=START + timedelta(minutes=minutes),
        digital_link_base="https://id.example.com",
        extensions={f"acme:{k}": v for k, v in extra.items()},
        namespaces={"acme": "https://acme.example/ns/"} if extra else None,
    )


def epcis_document(events: list[dict]) -> dict:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-02T00:00:00.000Z",
        "epcisBody": {"eventList": events},
    }


def history(net, service: ProvenanceService, pid: str = PID) -> None:  # noqa: ANN001
    """Register `pid` and walk it from factory to shop."""
    m, logistics, retailer = (net.accounts[n] for n in ("manufacturer", "logistics", "retailer"))
    service.register(m, pid, {"name": "Organic whole milk 1 L", "gtin": GTIN})
    service.record_events(m, [event_doc([pid], "commissioning", 0, "active", lot="L-42")])
    service.record_events(m, [event_doc([pid], "shipping", 60, "in_transit")])
    service.transfer(m, pid, logistics.address)
    service.record_events(net.accounts["inspector"], [event_doc([pid], "inspecting", 90, "conformant")])
    service.record_events(logistics, [event_doc([pid], "receiving", 120, "in_progress")])
    service.transfer(logistics, pid, retailer.address)
    service.record_events(retailer, [event_doc([pid], "retail_selling", 300, "retail_sold")])
    service.runtime.sync()


@pytest.fixture
def service(runtime) -> ProvenanceService:  # noqa: ANN001
    return ProvenanceService(runtime)


@pytest.fixture
def any_runtime(any_net, tmp_path):  # noqa: ANN001, ANN201 - Runtime
    """A Runtime with a fresh store over the deployment on the embedded chain and on Anvil."""
    from tracechain.services.runtime import Runtime
    from tracechain.settings import Settings

    store = Store(f"sqlite:///{tmp_path / 'any.db'}")
    store.bind_chain(any_net.chain.chain_id, any_net.chain.genesis_hash)
    settings = Settings(data_dir=tmp_path, public_base_url="http://testserver")
    return Runtime(settings, any_net.chain, any_net.deployment, store, any_net.accounts["relayer"])


def test_full_history_traces_and_verifies(any_net, any_runtime) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    service = ProvenanceService(runtime)
    history(net, service)
    trace = service.trace(f"https://id.example.com/01/{GTIN}/21/SN-0001?linkType=all")

    assert trace.product_id == PID and trace.status == "active" and not trace.recalled
    assert (trace.manufacturer_name, trace.custodian_name) == ("Manufacturer", "Retailer")
    assert trace.metadata == {"name": "Organic whole milk 1 L", "gtin": GTIN}
    assert [e.biz_step for e in trace.events] == [
        "commissioning",
        "shipping",
        "inspecting",
        "receiving",
        "retail_selling",
    ]
    assert [e.actor_name for e in trace.events][2] == "Inspector"
    assert trace.events[0].document["acme:lot"] == "L-42"  # type: ignore[index]
    assert all(e.document_verified and e.event_hash_id.startswith("ni:///sha-256;") for e in trace.events)
    assert [(c.from_name, c.to_name) for c in trace.custody] == [
        ("Manufacturer", "Logistics"),
        ("Logistics", "Retailer"),
    ]
    v = trace.verification
    assert v.verdict == "verified" and v.problems == ()
    chain = service.client.get_product(product_key_of(PID))
    assert chain is not None and (v.chain_head, v.chain_event_count) == (chain.head, 5) == (v.recomputed_head, 5)


def test_unknown_and_invalid_products(service) -> None:  # noqa: ANN001
    with pytest.raises(errors.ProductNotFoundError) as info:
        service.trace("opaque:never-made")
    assert info.value.code == "product_not_found"
    with pytest.raises(errors.InvalidInputError):
        service.trace(f"01/{GTIN[:-1]}9/21/X")  # bad check digit


def test_altered_document_is_detected_and_named(any_net, any_runtime) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    service = ProvenanceService(runtime)
    history(net, service)
    target = service.trace(PID).events[1]
    with runtime.store.session() as s:
        row = s.get(Document, target.document_hash)
        row.body = row.body.replace("in_transit", "damaged")
    v = service.trace(PID).verification
    assert v.verdict == "tampered"
    (problem,) = v.problems
    assert (problem.code, problem.event_index, problem.event_id) == ("document_altered", 1, target.event_id)


def test_missing_document_and_missing_event_are_incomplete(net, service, runtime) -> None:  # noqa: ANN001
    history(net, service)
    trace = service.trace(PID)
    with runtime.store.session() as s:
        s.execute(delete(Document).where(Document.hash == trace.events[0].document_hash))
        s.execute(delete(ProductEventRow).where(ProductEventRow.seq == 4))
    v = service.trace(PID).verification
    assert v.verdict == "incomplete"
    assert {(p.code, p.event_index) for p in v.problems} == {("document_missing", 0), ("event_missing", 4)}


def test_altered_index_row_is_detected_and_named(net, service, runtime) -> None:  # noqa: ANN001
    history(net, service)
    with runtime.store.session() as s:
        s.execute(
            update(ProductEventRow).where(ProductEventRow.seq == 2).values(actor=net.accounts["retailer"].address)
        )
    v = service.trace(PID).verification
    assert v.verdict == "tampered"
    assert [(p.code, p.event_index) for p in v.problems] == [("event_altered", 2)]


def test_altered_metadata_is_detected(net, service, runtime) -> None:  # noqa: ANN001
    history(net, service)
    with runtime.store.session() as s:
        meta_hash = s.scalar(select(ProductRow.metadata_hash))
        s.execute(update(Document).where(Document.hash == meta_hash).values(body='{"name":"Premium milk"}'))
    assert [p.code for p in service.trace(PID).verification.problems] == ["metadata_altered"]


def test_recall_is_prominent_and_its_notice_verified(net, service, runtime) -> None:  # noqa: ANN001
    history(net, service)
    notice = {"reason": "Listeria found in lot L-42", "authority": "Food Safety Agency", "action": "return to store"}
    service.recall(net.accounts["manufacturer"], PID, notice)
    trace = service.trace(PID)
    assert trace.recalled and trace.status == "recalled"
    assert trace.recall is not None and trace.recall.reason == notice and trace.recall.reason_verified
    assert trace.recall.by_name == "Manufacturer" and trace.verification.verified
    with runtime.store.session() as s:
        s.execute(update(Document).where(Document.hash == trace.recall.reason_hash).values(body='{"reason":"none"}'))
    assert [p.code for p in service.trace(PID).verification.problems] == ["recall_notice_altered"]


def test_epcis_document_imports_in_one_batch(any_net, any_runtime) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    service = ProvenanceService(runtime)
    m = net.accounts["manufacturer"]
    pids = [f"01/{GTIN}/21/B-{i}" for i in range(3)]
    for pid in pids:
        service.register(m, pid)
    doc = epcis_document(
        [
            event_doc(pids, "commissioning", 0, "active"),
            event_doc(pids[:2], "packing", 10),
            event_doc([pids[2]], "storing", 20, temperature=4.5),
        ]
    )
    receipt = service.import_epcis(m, doc)
    assert len(receipt.event_hash_ids) == 3 and receipt.product_ids == tuple(pids)
    traces = [service.trace(pid) for pid in pids]
    assert [len(t.events) for t in traces] == [2, 2, 2]
    assert {e.tx_hash for t in traces for e in t.events} == {receipt.tx.tx_hash}  # one transaction
    assert all(t.verification.verified for t in traces)
    assert traces[0].events[0].event_id == traces[1].events[0].event_id  # one EPCIS event, many products


def test_import_refuses_unsupported_types_and_unknown_products(net, service) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    service.register(m, PID)
    aggregation = {**event_doc([PID], "packing"), "type": "AggregationEvent"}
    with pytest.raises(errors.InvalidInputError, match="AggregationEvent"):
        service.import_epcis(m, epcis_document([event_doc([PID], "commissioning"), aggregation]))
    with pytest.raises(errors.ProductNotFoundError, match="SN-404"):
        service.import_epcis(
            m, epcis_document([event_doc([PID], "commissioning"), event_doc([f"01/{GTIN}/21/SN-404"], "commissioning")])
        )
    assert service.client.get_product(product_key_of(PID)).event_count == 0  # type: ignore[union-attr]


def test_unauthorised_event_is_refused_and_nothing_is_indexed(net, service) -> None:  # noqa: ANN001
    service.register(net.accounts["manufacturer"], PID)
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        service.record_events(net.accounts["logistics"], [event_doc([PID], "shipping")])
    assert service.trace(PID).events == ()


# ---------------------------------------------------------------- indexer
def test_indexer_resumes_without_duplicates_or_gaps(any_net, any_runtime, tmp_path) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    service = ProvenanceService(runtime)
    history(net, service)
    history(net, service, f"01/{GTIN}/21/SN-0002")
    store = Store(f"sqlite:///{tmp_path / 'resume.db'}")
    head = int(net.chain.w3.eth.block_number)
    middle = (net.deployment.start_block + head) // 2
    Indexer(net.chain, net.deployment, store, chunk_blocks=2).sync(to_block=middle)  # stopped part-way

    class Crash(Exception):
        pass

    calls = {"n": 0}

    def crashing(session, log) -> None:  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        HANDLERS[("ProvenanceRegistry", "ProductEventRecorded")](session, log)

    handlers = {
        **Indexer(net.chain, net.deployment, store).handlers,
        ("ProvenanceRegistry", "ProductEventRecorded"): crashing,
    }
    before = store.checkpoint("contracts")
    with pytest.raises(Crash):
        Indexer(net.chain, net.deployment, store, handlers, chunk_blocks=1000).sync()  # dies mid-chunk
    assert store.checkpoint("contracts") == before  # the chunk rolled back whole

    assert Indexer(net.chain, net.deployment, store, chunk_blocks=3).sync() > 0  # a new process resumes
    assert Indexer(net.chain, net.deployment, store).sync() == 0  # nothing applied twice
    with store.session() as s:
        for key in (to_hex(product_key_of(PID)), to_hex(product_key_of(f"01/{GTIN}/21/SN-0002"))):
            seqs = list(
                s.scalars(
                    select(ProductEventRow.seq).where(ProductEventRow.product_key == key).order_by(ProductEventRow.seq)
                )
            )
            assert seqs == [0, 1, 2, 3, 4]
        assert s.scalar(select(func.count()).select_from(Activity).where(Activity.kind == "product.event")) == 10


# ---------------------------------------------------------------- pre-signed requests
def test_relayed_events_must_match_their_documents(any_net, any_runtime) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    service = ProvenanceService(runtime)
    m = net.accounts["manufacturer"]
    service.register(m, PID)
    doc = event_doc([PID], "commissioning", 0, "active")
    request = runtime.transactor.sign_request(m, service.events_call([doc]))

    other = event_doc([PID], "commissioning", 5, "active")
    with pytest.raises(errors.RequestMismatchError):
        service.relay_events(request, [other], PID)
    wrong_call = runtime.transactor.sign_request(m, service.register_call("opaque:x"))
    with pytest.raises(errors.RequestMismatchError, match="registerProduct"):
        service.relay_events(wrong_call, [doc], PID)
    with pytest.raises(errors.RequestMismatchError, match="targets"):
        service.relay_events(replace(request, to=net.deployment.address("ActorRegistry")), [doc], PID)
    with pytest.raises(errors.RequestMismatchError, match="also concern"):
        service.relay_events(request, [doc], "opaque:another")

    receipt = service.relay_events(request, [doc], PID)
    trace = service.trace(PID)
    assert [e.event_hash_id for e in trace.events] == list(receipt.event_hash_ids)
    assert trace.events[0].actor == m.address  # the signer, not the relaying operator
    with pytest.raises(errors.EventAlreadyRecordedError):
        service.relay_events(request, [doc], PID)  # replay: the event is already there
    transfer = runtime.transactor.sign_request(m, service.transfer_call(PID, net.accounts["logistics"].address))
    service.relay_transfer(transfer, PID)
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        service.relay_transfer(transfer, PID)  # replay: the nonce is spent


def test_relayed_register_transfer_and_recall_are_checked(net, service, runtime) -> None:  # noqa: ANN001
    m, tx = net.accounts["manufacturer"], runtime.transactor
    meta = {"name": "Cheese"}
    signed = tx.sign_request(m, service.register_call(PID, meta))
    with pytest.raises(errors.RequestMismatchError, match="metadata"):
        service.relay_register(signed, PID, {"name": "Better cheese"})
    with pytest.raises(errors.RequestMismatchError, match="registers"):
        service.relay_register(signed, "opaque:other", meta)
    service.relay_register(signed, PID, meta)

    logistics = net.accounts["logistics"].address
    transfer = tx.sign_request(m, service.transfer_call(PID, logistics))
    service.relay_transfer(transfer, PID)
    notice = {"reason": "mislabelled allergen"}
    recall = tx.sign_request(m, service.recall_call(PID, notice))
    with pytest.raises(errors.RequestMismatchError, match="reason hash"):
        service.relay_recall(recall, PID, {"reason": "other"})
    service.relay_recall(recall, PID, notice)
    trace = service.trace(PID)
    assert (trace.custodian, trace.status, trace.metadata) == (logistics, "recalled", meta)
    assert trace.verification.verified


def test_an_event_enters_a_history_once(net, service) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    service.register(m, PID)
    doc = event_doc([PID], "commissioning", 0, "active")
    service.record_events(m, [doc])
    with pytest.raises(errors.EventAlreadyRecordedError, match="as event #0") as info:
        service.record_events(m, [doc])
    assert info.value.code == "event_already_recorded"
    again = event_doc([PID], "packing", 5)
    with pytest.raises(errors.EventAlreadyRecordedError, match="twice in this batch"):
        service.import_epcis(m, epcis_document([again, again]))
    assert service.client.get_product(product_key_of(PID)).event_count == 1  # type: ignore[union-attr]


def test_oversized_batches_are_refused_before_sending(net, service, monkeypatch) -> None:  # noqa: ANN001
    import tracechain.services.provenance as module

    monkeypatch.setattr(module, "MAX_BATCH_RECORDS", 2)
    pids = [f"opaque:BIG-{i}" for i in range(3)]
    with pytest.raises(errors.InvalidInputError, match="at most 2"):
        service.record_events(net.accounts["manufacturer"], [event_doc(pids, "commissioning")])


def test_register_many_in_one_transaction(net, service) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    receipt = service.register_many(m, [(f"https://id.example.com/01/{GTIN}/21/M-{i}", {"n": i}) for i in range(3)])
    assert receipt.product_ids == tuple(f"01/{GTIN}/21/M-{i}" for i in range(3))
    assert [service.trace(pid).metadata for pid in receipt.product_ids] == [{"n": 0}, {"n": 1}, {"n": 2}]
    with pytest.raises(errors.InvalidInputError, match="twice"):
        service.register_many(m, [("opaque:a", None), ("opaque:a", None)])
    with pytest.raises(errors.ProvenanceRegistryProductExists):
        service.register_many(m, [("opaque:new", None), (receipt.product_ids[0], None)])
    with pytest.raises(errors.ProductNotFoundError):
        service.trace("opaque:new")  # all or none


def _direct_event(net, service: ProvenanceService, doc: dict, *, event_id: bytes | None = None,  # noqa: ANN001
                  biz_step: str | None = None, pid: str = PID) -> None:
    """A writer that skips the service: stores `doc` and commits whatever record it likes on-chain."""
    from tracechain.chain.provenance import EventInput, ProvenanceRegistryClient, biz_step_code
    from tracechain.epcis import event_hash_id, event_hash_id_digest
    from tracechain.hashing import document_hash

    service.runtime.store.put_document(doc)
    client = ProvenanceRegistryClient(service.runtime.contract("ProvenanceRegistry"), service.runtime.transactor)
    record = EventInput(
        product_key_of(pid),
        event_id or event_hash_id_digest(event_hash_id(doc)),
        document_hash(doc),
        biz_step_code(biz_step or doc["bizStep"]),
    )
    client.record_event(net.accounts["retailer"], record)
    service.runtime.sync()


@pytest.mark.parametrize(
    ("claim", "code"),
    [("event_id", "event_id_mismatch"), ("biz_step", "biz_step_mismatch"), ("product", "product_mismatch")],
)
def test_records_that_contradict_their_documents_are_not_verified(net, service, claim, code) -> None:  # noqa: ANN001
    history(net, service)
    other = f"01/{GTIN}/21/SN-0999"
    doc = event_doc([other if claim == "product" else PID], "storing", 400, "in_progress")
    kwargs: dict[str, Any] = {"event_id": b"\x11" * 32} if claim == "event_id" else {}
    if claim == "biz_step":
        kwargs["biz_step"] = "shipping"
    _direct_event(net, service, doc, **kwargs)
    trace = service.trace(PID)
    assert trace.verification.verdict == "tampered"
    (problem,) = trace.verification.problems
    assert problem.code == code and problem.event_index == len(trace.events) - 1
    assert not trace.events[-1].document_verified


def test_an_honest_direct_write_still_verifies(net, service) -> None:  # noqa: ANN001
    history(net, service)
    _direct_event(net, service, event_doc([PID], "storing", 400, "in_progress"))
    assert service.trace(PID).verification.verdict == "verified"
