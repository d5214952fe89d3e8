"""Provenance service: EPCIS events to chain and index, traces verified page by page against the chain,
tampering and gaps detected, documents imported in as many transactions as they need and resumed,
each event recorded once (also under races and after a rollback), pre-signed requests checked before
anything is stored or relayed."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from tracechain import errors
from tracechain.chain.provenance import subject_key_of
from tracechain.epcis import EPCIS_CONTEXT, make_object_event
from tracechain.hashing import document_hash, to_hex
from tracechain.services.provenance import ProvenanceService, TraceReader
from tracechain.services.provenance import events as events_module
from tracechain.store.db import Activity, Document, Store
from tracechain.store.indexer import Indexer
from tracechain.store.provenance import HANDLERS, EntryRow, ReservationRow, SubjectRow

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


def _sign(service: ProvenanceService, signer, call) -> Any:  # noqa: ANN001
    """Prepare the forward request for `call` as the API does, and sign it as a wallet would."""
    (request,) = service.unsigned_requests(signer.address, [call])
    return service.runtime.transactor.sign(signer, request)


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
def reader(runtime) -> TraceReader:  # noqa: ANN001
    return TraceReader(runtime)


@pytest.fixture
def any_runtime(any_net, tmp_path):  # noqa: ANN001, ANN201 - Runtime
    """A Runtime with a fresh store over the deployment on the embedded chain and on Anvil."""
    from tracechain.services.runtime import Runtime
    from tracechain.settings import Settings

    store = Store(f"sqlite:///{tmp_path / 'any.db'}")
    store.bind_chain(any_net.chain.chain_id, any_net.deployment.anchor_hash)
    settings = Settings(data_dir=tmp_path, public_base_url="http://testserver")
    return Runtime(settings, any_net.chain, any_net.deployment, store, any_net.accounts["relayer"])


# ---------------------------------------------------------------- traces
def test_full_history_traces_and_verifies_with_custody_in_the_chain(any_net, any_runtime) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    service = ProvenanceService(runtime)
    history(net, service)
    trace = TraceReader(runtime).trace(f"https://id.example.com/01/{GTIN}/21/SN-0001?linkType=all")

    assert trace.product_id == PID and trace.status == "active" and not trace.recalled
    assert (trace.originator_name, trace.custodian_name) == ("Manufacturer", "Retailer")
    assert trace.metadata == {"name": "Organic whole milk 1 L", "gtin": GTIN}
    assert [e.kind for e in reversed(trace.entries)] == [
        "event",
        "event",
        "custody",
        "event",
        "event",
        "custody",
        "event",
    ]
    assert [e.biz_step for e in trace.events] == [
        "commissioning",
        "shipping",
        "inspecting",
        "receiving",
        "retail_selling",
    ]
    assert trace.events[2].actor_name == "Inspector"
    assert trace.events[0].document["acme:lot"] == "L-42"  # type: ignore[index]
    assert all(e.document_verified and (e.event_hash_id or "").startswith("ni:///sha-256;") for e in trace.events)
    assert [(c.actor_name, c.custodian_name) for c in trace.custody] == [
        ("Manufacturer", "Logistics"),
        ("Logistics", "Retailer"),
    ]
    v = trace.verification
    assert v.verdict == "verified" and v.problems == ()
    chain = service.client.get_subject(subject_key_of(PID))
    assert chain is not None and v.chain_head == chain.head == v.recomputed_head and v.entry_count == 7


def test_unknown_and_invalid_identifiers(reader) -> None:  # noqa: ANN001
    with pytest.raises(errors.ProductNotFoundError) as info:
        reader.trace("opaque:never-made")
    assert info.value.code == "product_not_found"
    with pytest.raises(errors.InvalidInputError):
        reader.trace(f"01/{GTIN[:-1]}9/21/X")  # bad check digit


def test_pages_cost_what_they_hold_and_each_is_verified(net, service, reader) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    service.register(m, PID)
    service.import_epcis(m, epcis_document([event_doc([PID], "storing", i) for i in range(23)]))
    first = reader.trace(PID, limit=10)
    assert [e.index for e in first.entries] == list(range(22, 12, -1)) and first.next_cursor == 13
    second = reader.trace(PID, limit=10, before=first.next_cursor)
    assert [e.index for e in second.entries] == list(range(12, 2, -1))
    last = reader.trace(PID, limit=10, before=second.next_cursor)
    assert [e.index for e in last.entries] == [2, 1, 0] and last.next_cursor is None
    assert all(t.verification.verified and t.verification.entry_count == 23 for t in (first, second, last))


def test_altered_document_is_detected_and_named(any_net, any_runtime) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    history(net, ProvenanceService(runtime))
    reader = TraceReader(runtime)
    target = reader.trace(PID).events[1]
    with runtime.store.session() as s:
        row = s.get(Document, target.document_hash)
        row.body = row.body.replace("in_transit", "damaged")
    v = reader.trace(PID).verification
    assert v.verdict == "tampered"
    (problem,) = v.problems
    assert (problem.code, problem.event_index, problem.event_id) == ("document_altered", target.index, target.ref)


def test_missing_document_and_missing_entry_are_reported(net, service, reader, runtime) -> None:  # noqa: ANN001
    history(net, service)
    trace = reader.trace(PID)
    with runtime.store.session() as s:
        s.execute(delete(Document).where(Document.hash == trace.events[0].document_hash))
    v = reader.trace(PID).verification
    assert v.verdict == "incomplete" and [(p.code, p.event_index) for p in v.problems] == [("document_missing", 0)]
    with runtime.store.session() as s:
        s.execute(delete(EntryRow).where(EntryRow.seq == 4))
    assert "event_missing" in {p.code for p in reader.trace(PID).verification.problems}


def test_altered_index_row_is_detected_and_named(net, service, reader, runtime) -> None:  # noqa: ANN001
    history(net, service)
    with runtime.store.session() as s:
        s.execute(update(EntryRow).where(EntryRow.seq == 3).values(actor=net.accounts["retailer"].address))
    v = reader.trace(PID).verification
    assert v.verdict == "tampered"
    assert [(p.code, p.event_index) for p in v.problems] == [("event_altered", 3)]


def test_a_rewritten_index_chain_still_disagrees_with_the_contract(net, service, reader, runtime) -> None:  # noqa: ANN001
    """Someone who edits an entry and recomputes every later head in the index cannot match the
    contract's head: the page links hold, the whole-history check does not."""
    from tracechain.chain.provenance import next_head
    from tracechain.hashing import parse_bytes32

    history(net, service)
    with runtime.store.session() as s:
        rows = list(s.scalars(select(EntryRow).order_by(EntryRow.seq)))
        rows[1].code = 24  # "shipping" becomes "receiving"
        head = parse_bytes32(rows[0].head)
        for row in rows[1:]:
            head = next_head(
                head,
                row.kind,
                parse_bytes32(row.ref),
                parse_bytes32(row.document_hash),
                row.code,
                row.actor,
                row.timestamp,
            )
            row.head = to_hex(head)
        s.execute(update(SubjectRow).values(head=to_hex(head)))
    v = reader.trace(PID).verification
    assert v.verdict == "tampered"
    assert [(p.code, p.event_index) for p in v.problems][-1] == ("event_altered", 1)


def test_altered_metadata_is_detected(net, service, reader, runtime) -> None:  # noqa: ANN001
    history(net, service)
    with runtime.store.session() as s:
        meta_hash = s.scalar(select(SubjectRow.metadata_hash))
        s.execute(update(Document).where(Document.hash == meta_hash).values(body='{"name":"Premium milk"}'))
    assert [p.code for p in reader.trace(PID).verification.problems] == ["metadata_altered"]


def test_recall_is_prominent_and_its_notice_verified(net, service, reader, runtime) -> None:  # noqa: ANN001
    history(net, service)
    notice = {"reason": "Listeria found in lot L-42", "authority": "Food Safety Agency", "action": "return to store"}
    service.recall(net.accounts["manufacturer"], PID, notice)
    trace = reader.trace(PID)
    assert trace.recalled and trace.status == "recalled" and trace.entries[0].kind == "recall"
    assert trace.recall is not None and trace.recall.reason == notice and trace.recall.reason_verified
    assert trace.recall.by_name == "Manufacturer" and trace.verification.verified
    with runtime.store.session() as s:
        s.execute(update(Document).where(Document.hash == trace.recall.reason_hash).values(body='{"reason":"none"}'))
    codes = {p.code for p in reader.trace(PID).verification.problems}
    assert "recall_notice_altered" in codes


# ---------------------------------------------------------------- capture
def test_epcis_document_imports_in_one_transaction_creating_new_identifiers(any_net, any_runtime) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    service, reader = ProvenanceService(runtime), TraceReader(runtime)
    m = net.accounts["manufacturer"]
    pids = [f"01/{GTIN}/21/B-{i}" for i in range(3)]
    service.register(m, pids[0])  # the others are seen for the first time in the document
    doc = epcis_document(
        [
            event_doc(pids, "commissioning", 0, "active"),
            event_doc(pids[:2], "packing", 10),
            event_doc([pids[2]], "storing", 20, temperature=4.5),
        ]
    )
    report = service.import_epcis(m, doc)
    assert (report.recorded, report.skipped, len(report.receipts)) == (3, 0, 1)
    traces = [reader.trace(pid) for pid in pids]
    assert [len(t.events) for t in traces] == [2, 2, 2]
    assert {e.tx_hash for t in traces for e in t.events} == {report.receipts[0].tx.tx_hash}
    assert all(t.verification.verified and t.originator == m.address for t in traces)
    assert traces[0].events[0].ref == traces[1].events[0].ref  # one EPCIS event, many identifiers


def test_a_large_import_is_split_to_fit_and_resumes_where_it_stopped(net, service, reader, monkeypatch) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    monkeypatch.setattr(events_module, "TX_GAS_CAP", 300_000)
    pids = [f"opaque:R-{i}" for i in range(6)]
    doc = epcis_document([event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(pids)])
    monkeypatch.setattr(type(service), "_gas_cap", lambda self: 300_000)

    sent = {"n": 0}
    original = service.client.tx.send

    def failing_third(sender, call, **kw):  # noqa: ANN001, ANN202 - a node that dies mid-import
        sent["n"] += 1
        if sent["n"] == 3:
            raise errors.ChainUnavailableError("the node stopped answering")
        return original(sender, call, **kw)

    monkeypatch.setattr(service.client.tx, "send", failing_third)
    with pytest.raises(errors.ChainUnavailableError):
        service.import_epcis(m, doc)
    monkeypatch.setattr(service.client.tx, "send", original)
    done = [pid for pid in pids if _exists(reader, pid)]
    assert 0 < len(done) < len(pids)

    report = service.import_epcis(m, doc)  # run again: the rest, nothing twice
    assert report.skipped == len(done) and report.recorded == len(pids) - len(done)
    assert report.receipts  # in as many transactions as the rest needs
    assert all(len(reader.trace(pid).events) == 1 for pid in pids)


def _exists(reader: TraceReader, pid: str) -> bool:
    try:
        return bool(reader.trace(pid).events)
    except errors.ProductNotFoundError:
        return False


def test_unauthorised_event_is_refused_and_nothing_is_stored(net, service, reader, runtime) -> None:  # noqa: ANN001
    service.register(net.accounts["manufacturer"], PID)
    doc = event_doc([PID], "shipping", 5)
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        service.record_events(net.accounts["logistics"], [doc])
    assert reader.trace(PID).events == ()
    assert runtime.store.get_document(to_hex(document_hash(doc))) is None
    with runtime.store.session() as s:
        assert s.scalar(select(func.count()).select_from(ReservationRow)) == 0


# ---------------------------------------------------------------- once, and only once
def test_an_event_enters_a_history_once(net, service) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    service.register(m, PID)
    doc = event_doc([PID], "commissioning", 0, "active")
    service.record_events(m, [doc])
    with pytest.raises(errors.EventAlreadyRecordedError) as info:
        service.record_events(m, [doc])
    assert info.value.code == "event_already_recorded"
    again = event_doc([PID], "packing", 5)
    with pytest.raises(errors.EventAlreadyRecordedError, match="twice"):
        service.record_events(m, [again, again])


def test_the_same_event_posted_at_once_is_recorded_once(net, runtime, reader) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    ProvenanceService(runtime).register(m, PID)
    doc = event_doc([PID], "commissioning", 0, "active")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        service = ProvenanceService(runtime)
        barrier.wait()
        try:
            service.record_events(m, [doc])
            outcomes.append("recorded")
        except errors.ConflictError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("recorded") == 1, outcomes
    assert set(outcomes) - {"recorded"} <= {"event_already_recorded", "event_being_recorded"}
    assert len(reader.trace(PID).events) == 1


def test_an_event_lost_in_a_rollback_can_be_sent_again(net, service, reader) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    service.register(m, PID)
    service.runtime.sync()
    snapshot = net.chain.snapshot()
    doc = event_doc([PID], "commissioning", 0, "active")
    service.record_events(m, [doc])
    assert len(reader.trace(PID).events) == 1
    net.chain.revert(snapshot)  # the node forgets the block (a reorg, or a restart from old state)
    net.chain.increase_time(1)  # and mines another block at the same height

    trace = reader.trace(PID)
    assert trace.events == () and trace.verification.verified  # the index followed the chain back
    assert service.runtime.indexer.rewinds == 1
    service.record_events(m, [doc])  # not "already recorded": the chain does not have it
    trace = reader.trace(PID)
    assert len(trace.events) == 1 and trace.verification.verified


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
        HANDLERS[("ProvenanceRegistry", "EntryAppended")](session, log)

    handlers = {
        **Indexer(net.chain, net.deployment, store).handlers,
        ("ProvenanceRegistry", "EntryAppended"): crashing,
    }
    before = store.checkpoint("contracts")
    with pytest.raises(Crash):
        Indexer(net.chain, net.deployment, store, handlers, chunk_blocks=1000).sync()  # dies mid-chunk
    assert store.checkpoint("contracts") == before  # the chunk rolled back whole

    assert Indexer(net.chain, net.deployment, store, chunk_blocks=3).sync() > 0  # a new process resumes
    assert Indexer(net.chain, net.deployment, store).sync() == 0  # nothing applied twice
    with store.session() as s:
        for key in (to_hex(subject_key_of(PID)), to_hex(subject_key_of(f"01/{GTIN}/21/SN-0002"))):
            seqs = list(s.scalars(select(EntryRow.seq).where(EntryRow.subject_key == key).order_by(EntryRow.seq)))
            assert seqs == list(range(7))
        assert s.scalar(select(func.count()).select_from(Activity).where(Activity.kind == "subject.event")) == 10


# ---------------------------------------------------------------- pre-signed requests
def test_relayed_events_must_match_their_documents(any_net, any_runtime) -> None:  # noqa: ANN001
    net, runtime = any_net, any_runtime
    service, reader = ProvenanceService(runtime), TraceReader(runtime)
    m = net.accounts["manufacturer"]
    service.register(m, PID)
    doc = event_doc([PID], "commissioning", 0, "active")
    request = _sign(service, m, service.events_call([doc]))

    other = event_doc([PID], "commissioning", 5, "active")
    with pytest.raises(errors.RequestMismatchError):
        service.relay_events(request, [other], PID)
    wrong_call = _sign(service, m, service.register_call("opaque:x"))
    with pytest.raises(errors.RequestMismatchError, match="createSubjects"):
        service.relay_events(wrong_call, [doc], PID)
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):  # re-pointed: the signature no longer holds
        service.relay_events(replace(request, to=net.deployment.address("ActorRegistry")), [doc], PID)
    elsewhere = runtime.transactor.sign_request(
        m, net.contract("ActorRegistry").functions.updateActor(m.address, "Manufacturer", bytes(32))
    )
    with pytest.raises(errors.RequestMismatchError, match="targets"):
        service.relay_events(elsewhere, [doc], PID)
    with pytest.raises(errors.RequestMismatchError, match="do not name it"):
        service.relay_events(request, [doc], "opaque:another")

    receipt = service.relay_events(request, [doc], PID)
    trace = reader.trace(PID)
    assert [e.event_hash_id for e in trace.events] == list(receipt.event_hash_ids)
    assert trace.events[0].actor == m.address  # the signer, not the relaying operator
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        service.relay_events(request, [doc], PID)  # replay: the nonce is spent (checked first)
    again = _sign(service, m, service.events_call([doc]))
    with pytest.raises(errors.EventAlreadyRecordedError):
        service.relay_events(again, [doc], PID)  # signed anew: the event is already there
    transfer = _sign(service, m, service.transfer_call(PID, net.accounts["logistics"].address))
    service.relay_transfer(transfer, PID)
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        service.relay_transfer(transfer, PID)  # replay: the nonce is spent


def test_a_request_with_a_bogus_signature_stores_nothing(net, service, runtime) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    meta = {"name": "Cheese", "padding": "x" * 1000}
    signed = _sign(service, m, service.register_call(PID, meta))
    forged = replace(signed, signature="0x" + "11" * 65)
    with pytest.raises(errors.SignatureError):
        service.relay_register(forged, PID, meta)
    assert runtime.store.get_document(to_hex(document_hash(meta))) is None


def test_a_request_with_unusable_gas_is_a_client_error(net, service, runtime) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    for gas in (1, 2**63):
        request = runtime.transactor.build_request(m.address, service.register_call(PID).call)
        signed = runtime.transactor.sign(m, replace(request, gas=gas))
        with pytest.raises(errors.RequestGasError) as info:
            service.relay_register(signed, PID, None)
        assert isinstance(info.value, errors.InvalidInputError)


def test_relayed_register_transfer_and_recall_are_checked(net, service, reader, runtime) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    meta = {"name": "Cheese"}
    signed = _sign(service, m, service.register_call(PID, meta))
    with pytest.raises(errors.RequestMismatchError, match="metadata"):
        service.relay_register(signed, PID, {"name": "Better cheese"})
    with pytest.raises(errors.RequestMismatchError, match="creates"):
        service.relay_register(signed, "opaque:other", meta)
    service.relay_register(signed, PID, meta)

    logistics = net.accounts["logistics"].address
    transfer = _sign(service, m, service.transfer_call(PID, logistics))
    service.relay_transfer(transfer, PID)
    notice = {"reason": "mislabelled allergen"}
    recall = _sign(service, m, service.recall_call(PID, notice))
    with pytest.raises(errors.RequestMismatchError, match="reason hash"):
        service.relay_recall(recall, PID, {"reason": "other"})
    service.relay_recall(recall, PID, notice)
    trace = reader.trace(PID)
    assert (trace.custodian, trace.status, trace.metadata) == (logistics, "recalled", meta)
    assert trace.verification.verified


def test_a_relayed_import_of_several_transactions(net, service, reader, runtime, monkeypatch) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    monkeypatch.setattr(type(service), "_gas_cap", lambda self: 300_000)
    pids = [f"opaque:S-{i}" for i in range(5)]
    doc = epcis_document([event_doc([pid], "commissioning", i, "active") for i, pid in enumerate(pids)])
    unsigned = service.unsigned_requests(m.address, service.epcis_calls(doc))
    assert len(unsigned) >= 2 and [r.nonce for r in unsigned] == list(
        range(unsigned[0].nonce, unsigned[0].nonce + len(unsigned))
    )
    signed = [runtime.transactor.sign(m, r) for r in unsigned]
    with pytest.raises(errors.RequestMismatchError):
        service.relay_epcis(signed[:-1], doc)
    report = service.relay_epcis(signed, doc)
    assert report.recorded == 5 and len(report.receipts) == len(signed)
    assert all(reader.trace(pid).verification.verified for pid in pids)


def test_register_many_in_one_transaction(net, service, reader) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    receipt = service.register_many(m, [(f"https://id.example.com/01/{GTIN}/21/M-{i}", {"n": i}) for i in range(3)])
    assert receipt.product_ids == tuple(f"01/{GTIN}/21/M-{i}" for i in range(3))
    assert [reader.trace(pid).metadata for pid in receipt.product_ids] == [{"n": 0}, {"n": 1}, {"n": 2}]
    with pytest.raises(errors.InvalidInputError, match="twice"):
        service.register_many(m, [("opaque:a", None), ("opaque:a", None)])
    with pytest.raises(errors.ProvenanceRegistrySubjectExists):
        service.register_many(m, [("opaque:new", None), (receipt.product_ids[0], None)])
    with pytest.raises(errors.ProductNotFoundError):
        reader.trace("opaque:new")  # all or none


def _direct_event(
    net,
    service: ProvenanceService,
    doc: dict,
    *,
    event_id: bytes | None = None,  # noqa: ANN001
    biz_step: str | None = None,
    pid: str = PID,
) -> None:
    """A writer that skips the service: stores `doc` and commits whatever entry it likes on-chain."""
    from tracechain.chain.provenance import EventInput, ProvenanceRegistryClient, biz_step_code
    from tracechain.epcis import event_hash_id, event_hash_id_digest

    service.runtime.store.put_document(doc)
    client = ProvenanceRegistryClient(service.runtime.contract("ProvenanceRegistry"), service.runtime.transactor)
    record = EventInput(
        event_id or event_hash_id_digest(event_hash_id(doc)),
        document_hash(doc),
        biz_step_code(biz_step or doc["bizStep"]),
        (subject_key_of(pid),),
    )
    client.record_events(net.accounts["retailer"], [record])
    service.runtime.sync()


@pytest.mark.parametrize(
    ("claim", "code"),
    [("event_id", "event_id_mismatch"), ("biz_step", "biz_step_mismatch"), ("product", "product_mismatch")],
)
def test_records_that_contradict_their_documents_are_not_verified(net, service, reader, claim, code) -> None:  # noqa: ANN001
    history(net, service)
    other = f"01/{GTIN}/21/SN-0999"
    doc = event_doc([other if claim == "product" else PID], "storing", 400, "in_progress")
    kwargs: dict[str, Any] = {"event_id": b"\x11" * 32} if claim == "event_id" else {}
    if claim == "biz_step":
        kwargs["biz_step"] = "shipping"
    _direct_event(net, service, doc, **kwargs)
    trace = reader.trace(PID)
    assert trace.verification.verdict == "tampered"
    (problem,) = trace.verification.problems
    assert problem.code == code and problem.event_index == trace.entries[0].index
    assert not trace.entries[0].document_verified


def test_an_honest_direct_write_still_verifies(net, service, reader) -> None:  # noqa: ANN001
    history(net, service)
    _direct_event(net, service, event_doc([PID], "storing", 400, "in_progress"))
    assert reader.trace(PID).verification.verdict == "verified"


def test_a_capture_with_a_bogus_signature_is_refused_before_any_event_is_hashed(
    net, service, runtime, monkeypatch
) -> None:  # noqa: ANN001, E501
    m = net.accounts["manufacturer"]
    doc = epcis_document([event_doc([f"opaque:X-{i}"], "commissioning", i, "active") for i in range(3)])
    signed = runtime.transactor.sign(m, service.unsigned_requests(m.address, service.epcis_calls(doc))[0])
    forged = replace(signed, signature="0x" + "22" * 65)

    def never(*_: Any) -> None:
        raise AssertionError("the events were hashed before the signature was checked")

    monkeypatch.setattr("tracechain.services.provenance.capture.prepare_epcis_document", never)
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        service.relay_epcis([forged], doc)


def test_a_capture_larger_than_the_cap_is_refused_before_it_is_read(net, service, runtime, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(runtime.settings, "max_events_per_capture", 2)
    doc = epcis_document([event_doc([f"opaque:Y-{i}"], "commissioning", i, "active") for i in range(3)])
    with pytest.raises(errors.InvalidInputError, match="at most 2"):
        service.import_epcis(net.accounts["manufacturer"], doc)


def test_an_error_declaration_marks_the_event_and_both_stay_in_the_chain(net, service, reader) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    service.register(m, PID)
    wrong = event_doc([PID], "shipping", 60, "in_transit")
    service.record_events(m, [wrong])
    corrected = event_doc([PID], "shipping", 65, "in_transit")
    corrected["eventID"] = "urn:uuid:6f5e9c1a-2b0a-4c7e-9a51-2f1d0c3e4b5a"
    declaration = {
        **wrong,
        "errorDeclaration": {
            "declarationTime": "2026-03-01T10:00:00.000Z",
            "reason": "incorrect_data",
            "correctiveEventIDs": [corrected["eventID"]],
        },
    }
    service.record_events(m, [declaration, corrected])
    trace = reader.trace(PID)
    kinds = [(e.kind, e.index) for e in reversed(trace.entries)]
    assert kinds == [("event", 0), ("error_declaration", 1), ("event", 2)]
    original = trace.entries[-1]
    assert original.declared_erroneous is not None
    assert (original.declared_erroneous.index, original.declared_erroneous.reason) == (1, "incorrect_data")
    assert original.declared_erroneous.corrective_event_ids == (corrected["eventID"],)
    assert trace.entries[1].ref == original.ref  # the declaration names the event it corrects
    assert trace.verification.verified
    with pytest.raises(errors.EventAlreadyRecordedError):
        service.record_events(m, [declaration])  # a declaration, too, is recorded once
