"""Queue signatures checked in bulk: ECDSA recovery through eth-keys accepts exactly what
eth-account's recovery accepts, and a checker reads the chain once per submitter, not per record."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak

from tracechain import errors
from tracechain.hashing import document_hash
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
    real = runtime.actors.get_actor
    monkeypatch.setattr(runtime.actors, "get_actor", lambda a: asked.append(a) or real(a))
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
