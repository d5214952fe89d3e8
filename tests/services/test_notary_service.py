"""NotaryService: single, co-signed and queued notarization; the durable batch queue and its crash
recovery; status, receipts and the index of notary events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tracechain import errors
from tracechain.chain.notary import NotaryClient
from tracechain.chain.transact import ForwardRequest
from tracechain.hashing import document_hash, to_hex
from tracechain.services.notary import (
    NotarizationNotFoundError,
    NotaryService,
    QueueSignatureError,
    ReceiptNotReadyError,
    RecordAlreadyNotarizedError,
    RecordHashMismatchError,
)
from tracechain.services.receipts import verify_receipt
from tracechain.services.runtime import Runtime
from tracechain.store.db import Activity
from tracechain.store.notary import ANCHORED, SEALED, NotaryBatchRow, NotaryCosignerRow, NotaryQueueRow

ORDER = {"type": "purchase_order", "number": "PO-7", "lines": [{"sku": "A1", "qty": 3}]}


class Clock:
    """A settable clock for the batch age trigger."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def service(runtime: Runtime, net, clock: Clock, **settings) -> NotaryService:  # noqa: ANN001
    if settings:
        runtime.settings = runtime.settings.model_copy(update=settings)
    return NotaryService(runtime, anchor=net.accounts["notary"], clock=clock)


def deliveries(count: int, start: int = 0) -> list[bytes]:
    return [document_hash({"type": "delivery", "note": f"DN-{i}"}) for i in range(start, start + count)]


def anchor_events(net, root: str) -> int:  # noqa: ANN001
    event = net.contract("Notary").events.BatchAnchored()
    return len(event.get_logs(from_block=0, argument_filters={"root": bytes.fromhex(root[2:])}))


# ---------------------------------------------------------------- inputs
def test_record_and_hash_must_agree(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    assert svc.record_hash_of(ORDER) == document_hash(ORDER)
    assert runtime.store.get_document(to_hex(document_hash(ORDER))) is None  # kept only once notarized
    svc.keep(ORDER)
    assert runtime.store.get_document(to_hex(document_hash(ORDER))) == ORDER
    assert svc.record_hash_of(record_hash=to_hex(document_hash(ORDER))) == document_hash(ORDER)
    with pytest.raises(RecordHashMismatchError):
        svc.record_hash_of(ORDER, to_hex(document_hash({"other": 1})))
    with pytest.raises(errors.InvalidInputError):
        svc.record_hash_of()
    with pytest.raises(errors.InvalidInputError):
        svc.record_hash_of(record_hash="0x1234")


# ---------------------------------------------------------------- single and co-signed
def test_single_is_relayed_for_the_notary_and_has_a_verified_receipt(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    n = net.accounts["notary"]
    before = net.chain.w3.eth.get_balance(n.address)
    status = svc.notarize_single(n, document_hash(ORDER), "purchase_order")
    assert (status.status, status.method, status.notarized_by) == ("notarized", "single", n.address)
    assert net.chain.w3.eth.get_balance(n.address) == before  # the operator paid
    verdict = verify_receipt(net.chain, svc.receipt(document_hash(ORDER)), ORDER)
    assert verdict.ok, verdict.reason


def test_single_by_non_notary_is_refused(runtime, net, clock) -> None:
    with pytest.raises(errors.ActorRegistryMissingRole):
        service(runtime, net, clock).notarize_single(net.accounts["retailer"], document_hash(ORDER), "purchase_order")


def test_relayed_request_must_call_notarize_for_this_record(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    n = net.accounts["notary"]
    call = svc.client.contract.functions.notarize(document_hash(ORDER), b"purchase_order".ljust(32, b"\0"))
    request = runtime.relaying.sign_request(n, call)
    with pytest.raises(errors.InvalidInputError):
        svc.relay_single(request, document_hash({"other": 1}), "purchase_order")
    with pytest.raises(errors.InvalidInputError):
        svc.relay_single(request, document_hash(ORDER), "invoice")
    status = svc.relay_single(request, document_hash(ORDER), "purchase_order")
    assert status.notarized_by == n.address


def test_relayed_request_by_non_notary_is_refused(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    call = svc.client.contract.functions.notarize(document_hash(ORDER), b"purchase_order".ljust(32, b"\0"))
    auditor = net.accounts["auditor"]
    forwarder = net.contract("TraceChainForwarder")
    unsigned = ForwardRequest(
        sender=auditor.address,
        to=svc.client.address,
        value=0,
        gas=200_000,
        nonce=forwarder.functions.nonces(auditor.address).call(),
        deadline=int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 600,
        data=call._encode_transaction_data(),
    )
    request = runtime.relaying.sign(auditor, unsigned)
    with pytest.raises(errors.ActorRegistryMissingRole):
        svc.relay_single(request, document_hash(ORDER), "purchase_order")
    assert not svc.client.is_notarized(document_hash(ORDER))


def test_cosigned_is_submitted_by_the_operator(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    a, b = net.accounts["retailer"], net.accounts["manufacturer"]
    h, parties, deadline = document_hash(ORDER), [a.address, b.address], 2_000_000_000
    sigs = [svc.client.cosign(s, h, "purchase_order", parties, deadline) for s in (a, b)]
    status = svc.notarize_cosigned(h, "purchase_order", parties, deadline, sigs)
    assert (status.method, status.parties, status.notarized_by) == (
        "cosigned",
        tuple(parties),
        runtime.operator.address,
    )
    receipt = svc.receipt(h)
    assert receipt.parties == tuple(parties)
    assert verify_receipt(net.chain, receipt, ORDER).ok


def test_cosigned_with_a_non_party_signature_is_refused(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    a, b, x = net.accounts["retailer"], net.accounts["manufacturer"], net.accounts["outsider"]
    h, parties, deadline = document_hash(ORDER), [a.address, b.address], 2_000_000_000
    sigs = [svc.client.cosign(s, h, "purchase_order", parties, deadline) for s in (a, x)]
    with pytest.raises(errors.NotaryInvalidSignature):
        svc.notarize_cosigned(h, "purchase_order", parties, deadline, sigs)
    with pytest.raises(NotarizationNotFoundError):
        svc.status(h)


# ---------------------------------------------------------------- queue and batches
def test_partial_batch_waits_for_its_age(runtime, net, clock) -> None:
    svc = service(runtime, net, clock, batch_max_records=100, batch_max_age_seconds=300)
    hashes = deliveries(5)
    for h in hashes:
        assert svc.enqueue(h, "delivery").status == "queued"
    assert svc.flush_due() == [] and svc.pending_count() == 5
    with pytest.raises(ReceiptNotReadyError):
        svc.receipt(hashes[0])
    clock.advance(299)
    assert svc.flush_due() == []
    clock.advance(1)
    (outcome,) = svc.flush_due()
    assert (outcome.action, outcome.record_count) == ("anchored", 5)
    assert svc.pending_count() == 0
    for h in hashes:
        status = svc.status(h)
        assert (status.status, status.method, status.batch_root) == ("notarized", "batched", outcome.root)
        verdict = verify_receipt(net.chain, svc.receipt(h))
        assert verdict.ok, verdict.reason


def test_full_batches_anchor_at_their_size(runtime, net, clock) -> None:
    svc = service(runtime, net, clock, batch_max_records=3, batch_max_age_seconds=3600)
    for h in deliveries(7):
        svc.enqueue(h, "delivery")
    outcomes = svc.flush_due()
    assert [o.record_count for o in outcomes] == [3, 3]
    assert svc.pending_count() == 1
    (last,) = svc.flush(force=True)
    assert last.record_count == 1


def test_enqueue_is_idempotent_and_refuses_conflicts(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    (h,) = deliveries(1)
    first = svc.enqueue(h, "delivery")
    assert svc.enqueue(h, "delivery") == first
    assert svc.pending_count() == 1
    with pytest.raises(RecordAlreadyNotarizedError):
        svc.enqueue(h, "invoice")
    svc.notarize_single(net.accounts["notary"], document_hash(ORDER), "purchase_order")
    with pytest.raises(RecordAlreadyNotarizedError):
        svc.enqueue(document_hash(ORDER), "purchase_order")
    with pytest.raises(errors.InvalidInputError):
        svc.enqueue(document_hash({"k": 1}), "Not A Kind")


def test_unknown_record_has_no_status_or_receipt(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    with pytest.raises(NotarizationNotFoundError):
        svc.status(document_hash({"nobody": 1}))
    with pytest.raises(NotarizationNotFoundError):
        svc.receipt(document_hash({"nobody": 1}))


def test_crash_after_sealing_loses_nothing(runtime, net, clock) -> None:
    """The process stops after the batch is sealed and before anything is sent."""
    svc = service(runtime, net, clock)
    hashes = deliveries(4)
    for h in hashes:
        svc.enqueue(h, "delivery")
    batch_id = svc._seal_next(force=True)
    assert batch_id is not None
    del svc  # "crash"

    restarted = service(runtime, net, clock)
    assert restarted.status(hashes[0]).status == "sealed"
    (outcome,) = restarted.flush()
    assert outcome.action == "anchored"
    assert anchor_events(net, outcome.root) == 1
    assert all(verify_receipt(net.chain, restarted.receipt(h)).ok for h in hashes)


def test_crash_after_sending_anchors_nothing_twice(runtime, net, clock) -> None:
    """The anchoring transaction is mined but the process stops before noting it."""
    svc = service(runtime, net, clock)
    hashes = deliveries(4)
    for h in hashes:
        svc.enqueue(h, "delivery")
    batch_id = svc._seal_next(force=True)
    with runtime.store.session() as s:
        row = s.get(NotaryBatchRow, batch_id)
        root, count, meta = row.root, row.record_count, row.metadata_hash
    NotaryClient(net.contract("Notary"), net.tx).notarize_batch(
        net.accounts["notary"], bytes.fromhex(root[2:]), count, bytes.fromhex(meta[2:])
    )
    del svc  # "crash" before the batch row is marked anchored
    notary_nonce = net.chain.w3.eth.get_transaction_count(net.accounts["notary"].address)

    restarted = service(runtime, net, clock)
    (outcome,) = restarted.flush()
    assert outcome.action == "confirmed" and outcome.tx_hash is not None
    assert net.chain.w3.eth.get_transaction_count(net.accounts["notary"].address) == notary_nonce  # nothing sent
    assert anchor_events(net, root) == 1
    with runtime.store.session() as s:
        assert s.get(NotaryBatchRow, batch_id).status == ANCHORED
    assert all(verify_receipt(net.chain, restarted.receipt(h)).ok for h in hashes)


def test_failed_send_keeps_the_batch_sealed_until_a_later_flush(runtime, net, clock) -> None:
    svc = NotaryService(runtime, anchor=net.accounts["retailer"], clock=clock)  # not a notary
    hashes = deliveries(3)
    for h in hashes:
        svc.enqueue(h, "delivery")
    (failed,) = svc.flush()
    assert failed.action == "failed" and "ActorRegistryMissingRole" in failed.error
    with runtime.store.session() as s:
        (row,) = s.scalars(select(NotaryBatchRow)).all()
        assert (row.status, row.attempts) == (SEALED, 1) and row.last_error
        assert {q.batch_id for q in s.scalars(select(NotaryQueueRow))} == {row.id}
    (again,) = svc.flush()  # retried, still refused, still the same sealed batch
    assert again.action == "failed" and again.root == failed.root
    fixed = service(runtime, net, clock)
    (outcome,) = fixed.flush()
    assert outcome.action == "anchored" and outcome.root == failed.root
    assert verify_receipt(net.chain, fixed.receipt(hashes[2])).ok


def test_queue_signature_must_be_the_submitters(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    h = document_hash(ORDER)
    logistics, outsider = net.accounts["logistics"], net.accounts["outsider"]
    deadline = int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 600
    sig = svc.client.cosign(logistics, h, "delivery", [logistics.address], deadline)
    assert svc.check_queue_signature(h, "delivery", logistics.address, deadline, sig) == logistics.address
    with pytest.raises(QueueSignatureError):  # signed another kind
        svc.check_queue_signature(h, "invoice", logistics.address, deadline, sig)
    with pytest.raises(QueueSignatureError):  # someone else's signature
        svc.check_queue_signature(h, "delivery", net.accounts["retailer"].address, deadline, sig)
    with pytest.raises(QueueSignatureError):
        svc.check_queue_signature(h, "delivery", logistics.address, deadline, "0xdead")
    stranger = svc.client.cosign(outsider, h, "delivery", [outsider.address], deadline)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        svc.check_queue_signature(h, "delivery", outsider.address, deadline, stranger)
    net.chain.increase_time(1200)
    with pytest.raises(QueueSignatureError):
        svc.check_queue_signature(h, "delivery", logistics.address, deadline, sig)


# ---------------------------------------------------------------- index
def test_indexer_records_activity_and_cosigners(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    n, a, b = net.accounts["notary"], net.accounts["retailer"], net.accounts["manufacturer"]
    svc.notarize_single(n, document_hash(ORDER), "purchase_order")
    h, parties, deadline = document_hash({"contract": 1}), [a.address, b.address], 2_000_000_000
    svc.notarize_cosigned(
        h, "contract", parties, deadline, [svc.client.cosign(s, h, "contract", parties, deadline) for s in (a, b)]
    )
    for d in deliveries(2):
        svc.enqueue(d, "delivery")
    (batch,) = svc.flush()
    runtime.sync()
    with runtime.store.session() as s:
        kinds = {(r.actor, r.kind, r.subject) for r in s.scalars(select(Activity).where(Activity.contract == "Notary"))}
        cosigners = [
            (r.party, r.position) for r in s.scalars(select(NotaryCosignerRow).order_by(NotaryCosignerRow.position))
        ]
    assert (n.address, "notary.single", to_hex(document_hash(ORDER))) in kinds
    assert (runtime.operator.address, "notary.cosigned", to_hex(h)) in kinds
    assert (n.address, "notary.batch", batch.root) in kinds
    assert cosigners == [(a.address, 0), (b.address, 1)]


def test_enqueue_many_is_all_or_nothing_and_idempotent(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    hashes = deliveries(5)
    assert svc.enqueue_many([(h, "delivery") for h in hashes[:3]]) == 3
    assert svc.enqueue_many([(h, "delivery") for h in hashes]) == 2  # the first three were queued already
    with pytest.raises(RecordAlreadyNotarizedError):  # one conflicting kind refuses the whole call
        svc.enqueue_many([(document_hash({"fresh": 1}), "delivery"), (hashes[0], "invoice")])
    assert svc.pending_count() == 5
    svc.notarize_single(net.accounts["notary"], document_hash(ORDER), "purchase_order")
    with pytest.raises(RecordAlreadyNotarizedError):
        svc.enqueue_many([(document_hash({"fresh": 2}), "delivery"), (document_hash(ORDER), "purchase_order")])
    assert svc.pending_count() == 5


def test_enqueue_retries_when_a_concurrent_enqueue_wins_the_race(runtime, net, clock, monkeypatch) -> None:
    from sqlalchemy.exc import IntegrityError

    svc = service(runtime, net, clock)
    real, calls = svc._insert_queued_once, []

    def racing(items, submitted_by):  # noqa: ANN001, ANN202
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: notary_queue.seq"))
        return real(items, submitted_by)

    monkeypatch.setattr(svc, "_insert_queued_once", racing)
    (h,) = deliveries(1)
    assert svc.enqueue(h, "delivery").status == "queued" and len(calls) == 2


def test_ten_thousand_queued_records_anchor_in_one_transaction(runtime, net, clock) -> None:
    svc = service(runtime, net, clock, batch_max_records=10_000)
    hashes = [document_hash({"type": "delivery", "n": i}) for i in range(10_000)]
    assert svc.enqueue_many([(h, "delivery") for h in hashes]) == 10_000
    (outcome,) = svc.flush_due()
    assert (outcome.action, outcome.record_count) == ("anchored", 10_000)
    assert outcome.gas_used < 105_000
    receipt = svc.receipt(hashes[7_777])
    assert receipt.merkle is not None and len(receipt.merkle.proof) in (13, 14)
    assert verify_receipt(net.chain, receipt).ok
    with runtime.store.session() as s:
        manifest = runtime.store.get_document(s.get(NotaryBatchRow, 1).metadata_hash)
    assert manifest["recordCount"] == 10_000 and manifest["root"] == outcome.root
    assert manifest["records"][7_777] == [to_hex(hashes[7_777]), "delivery"]


def test_queue_signature_of_a_contract_wallet_goes_through_erc1271(runtime, net, clock) -> None:
    from tests.chain.test_notary_interop import _deploy_wallet

    svc = service(runtime, net, clock)
    owner, gov = net.accounts["outsider"], net.accounts["governance"]
    wallet = _deploy_wallet(net, owner.address)
    net.actors.register_actor(gov, wallet, "Harbor Logistics (multisig)", [])
    h = document_hash({"type": "delivery", "note": "W-1"})
    deadline = int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 600
    signature = svc.client.cosign(owner, h, "delivery", [wallet], deadline)
    assert svc.check_queue_signature(h, "delivery", wallet, deadline, signature) == wallet
    stranger = svc.client.cosign(net.accounts["retailer"], h, "delivery", [wallet], deadline)
    with pytest.raises(QueueSignatureError):
        svc.check_queue_signature(h, "delivery", wallet, deadline, stranger)
