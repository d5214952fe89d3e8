"""Nothing acknowledged is reported as anchored when the chain does not have it (issue 8, section 3):
the chain forgets the blocks that anchored a batch or held a notarization — rolled back with
snapshot/revert on the embedded chain and on Anvil — and the service says so, serves no receipt for
it, and the next flush anchors the same batch again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tracechain.hashing import document_hash
from tracechain.services.notary import NotarizationNotFoundError, NotaryService, ReceiptNotReadyError
from tracechain.services.receipts import NotaryReceipt, verify_receipt
from tracechain.services.runtime import Runtime
from tracechain.settings import Settings
from tracechain.store.db import Store
from tracechain.store.notary import ANCHORED, SEALED, NotaryBatchRow

NOTES = [{"type": "delivery", "note": f"DN-{i}"} for i in range(3)]


@pytest.fixture
def runtime(any_net, tmp_path: Path) -> Iterator[Runtime]:  # noqa: ANN001
    """A fresh store over the deployment on the embedded chain and on Anvil (reverted after the test)."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.bind_chain(any_net.chain.chain_id, any_net.deployment.anchor_hash)
    yield Runtime(Settings(data_dir=tmp_path), any_net.chain, any_net.deployment, store, any_net.accounts["relayer"])


def _service(runtime: Runtime, net) -> NotaryService:  # noqa: ANN001
    return NotaryService(runtime, anchor=net.accounts["notary"])


def _move_on(net, blocks: int = 4) -> None:  # noqa: ANN001
    """Mine blocks after a rollback: the forgotten block numbers now hold other blocks."""
    for _ in range(blocks):
        net.chain.increase_time(1)


def _batch(runtime: Runtime) -> NotaryBatchRow:
    with runtime.store.session() as s:
        (row,) = s.query(NotaryBatchRow).all()
        return row


def test_a_batch_whose_anchor_is_rolled_back_is_sealed_again_and_reanchored(any_net, runtime) -> None:
    svc = _service(runtime, any_net)
    hashes = [svc.record_hash_of(n) for n in NOTES]
    svc.enqueue_many([(h, "delivery") for h in hashes])
    before = any_net.chain.snapshot()
    (first,) = svc.flush()
    assert first.action == "anchored"
    runtime.sync()  # the index has seen the anchor
    assert (_batch(runtime).status, _batch(runtime).indexed) == (ANCHORED, True)
    old_receipt = svc.receipt(hashes[1]).to_json()
    assert verify_receipt(any_net.chain, NotaryReceipt.from_json(old_receipt)).ok

    any_net.chain.revert(before)  # the chain forgets the anchoring block
    _move_on(any_net)
    runtime.sync()
    assert runtime.indexer.rewinds == 1
    row = _batch(runtime)
    assert (row.status, row.root, row.tx_hash, row.block_number) == (SEALED, first.root, None, None)
    assert "rolled back" in (row.last_error or "")
    for h in hashes:  # status says sealed again, and no receipt is served
        status = svc.status(h)
        assert (status.status, status.batch_root, status.id) == ("sealed", first.root, None)
        with pytest.raises(ReceiptNotReadyError):
            svc.receipt(h)
    assert not verify_receipt(any_net.chain, NotaryReceipt.from_json(old_receipt)).ok

    (again,) = svc.flush()  # the same root, anchored again in a new block
    assert (again.action, again.root, again.id) == ("anchored", first.root, first.id)
    assert again.block_number != first.block_number
    for h in hashes:
        receipt = svc.receipt(h)
        assert receipt.block_number == again.block_number
        verdict = verify_receipt(any_net.chain, receipt)
        assert verdict.ok, verdict.reason


def test_an_anchor_the_index_never_saw_is_checked_on_the_chain(any_net, runtime) -> None:
    """The rollback happens before the indexer reaches the anchoring block, so no rewind tells the
    store: status, receipt and the next flush still ask the chain."""
    svc = _service(runtime, any_net)
    hashes = [svc.record_hash_of(n) for n in NOTES]
    svc.enqueue_many([(h, "delivery") for h in hashes])
    before = any_net.chain.snapshot()
    (first,) = svc.flush()  # indexed up to the block before the anchor, then anchored
    assert (_batch(runtime).status, _batch(runtime).indexed) == (ANCHORED, False)

    any_net.chain.revert(before)
    _move_on(any_net)
    assert svc.status(hashes[0]).status == "sealed"
    with pytest.raises(ReceiptNotReadyError):
        svc.receipt(hashes[0])
    assert runtime.indexer.rewinds == 0  # the index's own blocks were all kept

    (again,) = svc.flush()
    assert (again.action, again.root) == ("anchored", first.root)
    assert svc.status(hashes[0]).block_number == again.block_number
    assert verify_receipt(any_net.chain, svc.receipt(hashes[2])).ok


def test_a_flush_after_the_chain_kept_the_anchor_sends_nothing(any_net, runtime) -> None:
    svc = _service(runtime, any_net)
    svc.enqueue(svc.record_hash_of(NOTES[0]), "delivery")
    (first,) = svc.flush()
    nonce = any_net.chain.w3.eth.get_transaction_count(any_net.accounts["notary"].address)
    assert svc.flush() == []  # not indexed yet, checked on the chain, nothing to report
    runtime.sync()
    assert _batch(runtime).indexed and svc.flush() == []
    assert any_net.chain.w3.eth.get_transaction_count(any_net.accounts["notary"].address) == nonce
    assert svc.status(svc.record_hash_of(NOTES[0])).block_number == first.block_number


def test_a_notarization_lost_in_a_rollback_is_forgotten_and_can_be_sent_again(any_net, runtime) -> None:
    svc = _service(runtime, any_net)
    n, a = any_net.accounts["notary"], any_net.accounts["retailer"]
    h = document_hash({"type": "invoice", "number": "INV-1"})
    before = any_net.chain.snapshot()
    single = svc.notarize_single(n, h, "invoice")
    deadline = int(any_net.chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    signature = svc.client.cosign(a, h, "invoice", [a.address], deadline)
    cosigned = svc.notarize_cosigned(h, "invoice", [a.address], deadline, [signature])
    assert {x.id for x in svc.notarizations(h)} == {single.id, cosigned.id}

    any_net.chain.revert(before)
    _move_on(any_net)
    with pytest.raises(NotarizationNotFoundError):
        svc.notarizations(h)
    with pytest.raises(NotarizationNotFoundError):
        svc.receipt(h, single.id)

    again = svc.notarize_single(n, h, "invoice")  # the same id is free again: the write can be redone
    assert again.id == single.id and again.block_number != single.block_number
    assert [x.id for x in svc.notarizations(h)] == [single.id]
    assert verify_receipt(any_net.chain, svc.receipt(h)).ok
