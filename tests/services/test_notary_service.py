"""NotaryService: single, co-signed and queued notarization; the durable batch queue and its crash
recovery; every notarization of a record, receipts and the index of notary events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tracechain import errors
from tracechain.chain.notary import NotaryClient, single_record_id
from tracechain.chain.transact import ForwardRequest
from tracechain.hashing import document_hash, to_hex
from tracechain.services.notary import (
    NotarizationNotFoundError,
    NotaryService,
    QueueSignatureError,
    ReceiptNotReadyError,
    RecordHashMismatchError,
)
from tracechain.services.receipts import verify_receipt
from tracechain.services.runtime import Runtime
from tracechain.store.db import Activity
from tracechain.store.notary import ANCHORED, SEALED, NotaryBatchRow, NotaryPartyRow, NotaryQueueRow

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
    assert (status.status, status.method, status.notary) == ("notarized", "single", n.address)
    assert status.id == to_hex(single_record_id(document_hash(ORDER), "purchase_order", n.address))
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
    assert status.notary == n.address


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
    assert svc.client.get_record(single_record_id(document_hash(ORDER), "purchase_order", auditor.address)) is None


def test_cosigned_is_submitted_by_the_operator_and_belongs_to_the_parties(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    a, b = net.accounts["retailer"], net.accounts["manufacturer"]
    h, parties, deadline = document_hash(ORDER), [a.address, b.address], 2_000_000_000
    sigs = [svc.client.cosign(s, h, "purchase_order", parties, deadline) for s in (a, b)]
    status = svc.notarize_cosigned(h, "purchase_order", parties, deadline, sigs)
    assert (status.method, status.parties, status.notary) == ("cosigned", tuple(parties), None)
    receipt = svc.receipt(h)
    assert (receipt.id, receipt.parties, receipt.notary) == (status.id, tuple(parties), None)
    assert verify_receipt(net.chain, receipt, ORDER).ok


def test_cosigned_retry_after_the_deadline_reports_the_existing_record(runtime, net, clock) -> None:
    """The contract checks the deadline before it looks for the record: the service still tells a
    late retry that the first submission went through (not that the signatures expired)."""
    svc = service(runtime, net, clock)
    a = net.accounts["retailer"]
    h, parties = document_hash(ORDER), [a.address]
    # An hour: the embedded chain estimates gas at wall-clock time, which may run ahead of its manual clock.
    deadline = int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    sigs = [svc.client.cosign(a, h, "purchase_order", parties, deadline)]
    first = svc.notarize_cosigned(h, "purchase_order", parties, deadline, sigs)
    net.chain.increase_time(7200)
    with pytest.raises(errors.NotaryRecordExists) as info:
        svc.notarize_cosigned(h, "purchase_order", parties, deadline, sigs)
    assert info.value.error_args == {"id": first.id, "blockNumber": first.block_number, "timestamp": first.timestamp}
    other = [svc.client.cosign(a, document_hash({"n": 2}), "purchase_order", parties, deadline)]
    with pytest.raises(errors.NotarySignaturesExpired):  # a genuinely expired, never-submitted record
        svc.notarize_cosigned(document_hash({"n": 2}), "purchase_order", parties, deadline, other)


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
        assert (status.id, status.notary) == (outcome.id, net.accounts["notary"].address)
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


def test_enqueue_is_idempotent(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    (h,) = deliveries(1)
    first = svc.enqueue(h, "delivery")
    assert svc.enqueue(h, "delivery") == first
    assert svc.pending_count() == 1
    with pytest.raises(errors.InvalidInputError):
        svc.enqueue(document_hash({"k": 1}), "Not A Kind")


def test_nobody_who_saw_the_hash_can_keep_a_record_out_of_the_queue(runtime, net, clock) -> None:
    """v1 refused to queue a record notarized on its own, or queued before under another kind:
    an onlooker's single notarization or junk-kind queue entry kept the real record out."""
    svc = service(runtime, net, clock)
    (h,) = deliveries(1)
    onlooker = net.accounts["logistics"]
    parties, deadline = [onlooker.address], 2_000_000_000
    own = [svc.client.cosign(onlooker, h, "delivery", parties, deadline)]
    svc.notarize_cosigned(h, "delivery", parties, deadline, own)
    svc.enqueue(h, "junk", onlooker.address)
    assert svc.enqueue(h, "delivery").status == "queued"  # v1: RecordAlreadyNotarizedError
    (outcome,) = svc.flush()
    assert outcome.record_count == 2
    batched = svc.status(h, outcome.id)
    assert (batched.kind, batched.method, batched.notary) in {
        ("delivery", "batched", net.accounts["notary"].address),
        ("junk", "batched", net.accounts["notary"].address),
    }
    kinds = {(n.kind, n.method) for n in svc.notarizations(h)}
    assert kinds == {("delivery", "cosigned"), ("delivery", "batched"), ("junk", "batched")}


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
        assert (row.status, row.attempts, row.notary) == (SEALED, 1, net.accounts["retailer"].address)
        assert row.last_error
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
    sig = svc.client.sign_batch_record(logistics, h, "delivery", deadline)
    assert svc.check_queue_signature(h, "delivery", logistics.address, deadline, sig) == logistics.address
    cosignature = svc.client.cosign(logistics, h, "delivery", [logistics.address], deadline)
    with pytest.raises(QueueSignatureError):  # a co-signature is not a queue request (v1 took it)
        svc.check_queue_signature(h, "delivery", logistics.address, deadline, cosignature)
    with pytest.raises(QueueSignatureError):  # signed another kind
        svc.check_queue_signature(h, "invoice", logistics.address, deadline, sig)
    with pytest.raises(QueueSignatureError):  # someone else's signature
        svc.check_queue_signature(h, "delivery", net.accounts["retailer"].address, deadline, sig)
    with pytest.raises(QueueSignatureError):
        svc.check_queue_signature(h, "delivery", logistics.address, deadline, "0xdead")
    stranger = svc.client.sign_batch_record(outsider, h, "delivery", deadline)
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
        cosigners = [(r.party, r.position) for r in s.scalars(select(NotaryPartyRow).order_by(NotaryPartyRow.position))]
    assert kinds == {  # the submitter of co-signatures is nobody's activity: it is not recorded
        (n.address, "notary.single", to_hex(document_hash(ORDER))),
        (n.address, "notary.batch", batch.root),
    }
    assert cosigners == [(a.address, 0), (b.address, 1)]


def test_enqueue_many_is_all_or_nothing_and_idempotent(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    hashes = deliveries(5)
    assert svc.enqueue_many([(h, "delivery") for h in hashes[:3]]) == 3
    assert svc.enqueue_many([(h, "delivery") for h in hashes]) == 2  # the first three were queued already
    with pytest.raises(errors.InvalidInputError):  # one bad kind refuses the whole call
        svc.enqueue_many([(document_hash({"fresh": 1}), "delivery"), (hashes[0], "Not A Kind")])
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
    assert outcome.gas_used < 56_000
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
    signature = svc.client.sign_batch_record(owner, h, "delivery", deadline)
    assert svc.check_queue_signature(h, "delivery", wallet, deadline, signature) == wallet
    stranger = svc.client.sign_batch_record(net.accounts["retailer"], h, "delivery", deadline)
    with pytest.raises(QueueSignatureError):
        svc.check_queue_signature(h, "delivery", wallet, deadline, stranger)


# ---------------------------------------------------------------- every notarization of a record
def test_every_notarization_of_a_record_is_listed_and_the_receipt_is_the_earliest(runtime, net, clock) -> None:
    svc = service(runtime, net, clock)
    n, a, b = net.accounts["notary"], net.accounts["retailer"], net.accounts["manufacturer"]
    h = document_hash(ORDER)
    svc.enqueue(h, "purchase_order")
    single = svc.notarize_single(n, h, "purchase_order")
    parties, deadline = [a.address, b.address], 2_000_000_000
    sigs = [svc.client.cosign(s, h, "purchase_order", parties, deadline) for s in (a, b)]
    cosigned = svc.notarize_cosigned(h, "purchase_order", parties, deadline, sigs)
    listed = svc.notarizations(h)
    assert [(x.status, x.method) for x in listed] == [
        ("queued", "batched"),
        ("notarized", "cosigned"),
        ("notarized", "single"),
    ]
    (outcome,) = svc.flush()
    listed = svc.notarizations(h)
    assert [x.id for x in listed] == [outcome.id, cosigned.id, single.id]  # newest first
    assert svc.status(h) == single and svc.receipt(h).id == single.id  # the earliest
    for chosen in listed:
        receipt = svc.receipt(h, chosen.id)
        assert (receipt.id, receipt.method) == (chosen.id, chosen.method)
        verdict = verify_receipt(net.chain, receipt, ORDER)
        assert verdict.ok, verdict.reason
    with pytest.raises(NotarizationNotFoundError):
        svc.receipt(h, to_hex(document_hash({"no": "such id"})))
