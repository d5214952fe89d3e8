"""Queue signatures checked in bulk: ECDSA recovery through eth-keys accepts exactly what
eth-account's recovery accepts, and a checker reads the chain once per submitter, not per record."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from tracechain import errors
from tracechain.hashing import document_hash, to_hex
from tracechain.services.notary import NotaryService
from tracechain.services.notary.signatures import QueueRequest, QueueSignatures, recovers_to

KEY = Account.from_key(keccak(text="bulk signer"))


def _eth_account_says(digest: bytes, signature: bytes, signer: str) -> bool:
    try:
        return bool(Account._recover_hash(digest, signature=signature) == signer)
    except Exception:
        return False


def _variants(digest: bytes) -> list[bytes]:
    signed = Account._sign_hash(digest, KEY.key)
    rs, v = signed.signature[:64], signed.signature[64]
    other = Account._sign_hash(keccak(b"another message"), KEY.key).signature
    return [
        signed.signature,  # v = 27/28
        rs + bytes([v - 27]),  # v = 0/1
        rs + bytes([v + 10]),  # EIP-155 style v
        rs + bytes([v ^ 1]),  # the other recovery id: another key
        rs + bytes([2]),
        rs + bytes([29]),
        rs + bytes([34]),
        signed.signature[:64],  # too short
        signed.signature + b"\0",  # too long
        bytes(65),
        b"\xff" * 64 + bytes([27]),  # r, s beyond the curve order
        other,  # a signature of another digest
        b"",
    ]


@pytest.mark.parametrize("index", range(13))
def test_recovery_accepts_what_eth_account_accepts(index: int) -> None:
    digest = keccak(text="BatchRecord digest")
    signature = _variants(digest)[index]
    assert recovers_to(digest, signature, KEY.address) == _eth_account_says(digest, signature, KEY.address)


def test_a_checker_reads_the_registry_once_per_submitter(runtime, net, monkeypatch) -> None:  # noqa: ANN001
    svc = NotaryService(runtime)
    logistics, outsider = net.accounts["logistics"], net.accounts["outsider"]
    deadline = int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 600
    checker = QueueSignatures(runtime, svc.client)
    asked: list[str] = []
    real = runtime.actors.standing
    monkeypatch.setattr(runtime.actors, "standing", lambda a: asked.append(a) or real(a))
    for i in range(5):
        h = document_hash({"n": i})
        request = QueueRequest(
            h, "delivery", logistics.address, deadline, svc.client.sign_batch_record(logistics, h, "delivery", deadline)
        )
        assert checker.check(request) == logistics.address
    h = document_hash({"n": "outsider"})
    stranger = QueueRequest(
        h, "delivery", outsider.address, deadline, svc.client.sign_batch_record(outsider, h, "delivery", deadline)
    )
    for _ in range(2):
        with pytest.raises(errors.ActorRegistryUnknownActor):
            checker.check(stranger)
    assert asked == [logistics.address, outsider.address]


# ---------------------------------------------------------------- bulk: checked as single requests are
def _signed(svc: NotaryService, account, record: dict, deadline: int, kind: str = "delivery", submitter=None):  # noqa: ANN001, ANN202
    from tracechain.services.notary import SignedRecord

    signature = svc.client.sign_batch_record(account, document_hash(record), kind, deadline)
    return SignedRecord(kind, submitter or account.address, deadline, signature, record=record)


def test_the_first_refused_record_is_named_whatever_check_refuses_it(runtime, net) -> None:  # noqa: ANN001
    """Signers are recovered ahead, on threads, for many records at once; the refusal is still
    the first record's in request order, whichever check refuses it."""
    svc = NotaryService(runtime)
    logistics, retailer = net.accounts["logistics"], net.accounts["retailer"]
    deadline = int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 600
    records = [_signed(svc, logistics, {"n": i}, deadline) for i in range(300)]  # over the threads' threshold
    forged = _signed(svc, logistics, {"n": 250}, deadline, submitter=retailer.address)
    mismatch = _signed(svc, logistics, {"n": 280}, deadline)
    mismatch = type(mismatch)(**{**mismatch.__dict__, "record_hash": to_hex(document_hash({"other": 1}))})
    batch = [*records[:250], forged, *records[251:280], mismatch, *records[281:]]
    with pytest.raises(errors.RecordRefusedError) as refused:
        svc.enqueue_signed(batch)
    assert refused.value.index == 250 and isinstance(refused.value.cause, errors.QueueSignatureError)
    with pytest.raises(errors.RecordRefusedError) as refused:
        svc.enqueue_signed([*records[:250], records[250], *records[251:280], mismatch, *records[281:]])
    assert refused.value.index == 280 and isinstance(refused.value.cause, errors.RecordHashMismatchError)
    assert svc.pending_count() == 0
    queued = svc.enqueue_signed(records)
    assert [q.index for q in queued] == list(range(300)) and all(q.new for q in queued)
    assert [svc.status(document_hash({"n": i})).status for i in (0, 299)] == ["queued", "queued"]


def test_a_contract_wallet_queues_in_bulk_through_erc1271(runtime, net) -> None:  # noqa: ANN001
    from tests.chain.test_notary_interop import _deploy_wallet

    svc = NotaryService(runtime)
    owner, gov, logistics = net.accounts["outsider"], net.accounts["governance"], net.accounts["logistics"]
    wallet = _deploy_wallet(net, owner.address)
    net.actors.register_actor(gov, wallet, "Harbor Logistics (multisig)", [])
    deadline = int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 600
    ok = [_signed(svc, owner, {"w": 1}, deadline, submitter=wallet), _signed(svc, logistics, {"w": 2}, deadline)]
    stranger = _signed(svc, logistics, {"w": 3}, deadline, submitter=wallet)  # the wallet's owner did not sign
    with pytest.raises(errors.RecordRefusedError) as refused:
        svc.enqueue_signed([*ok, stranger])
    assert refused.value.index == 2 and isinstance(refused.value.cause, errors.QueueSignatureError)
    assert [q.new for q in svc.enqueue_signed(ok)] == [True, True]
