"""Notary gas guards: what each way of notarizing costs, so a regression shows up as a failure.

Measured on the embedded chain (py-evm, Cancun rules); the receipt's gasUsed includes the 21,000
base cost and calldata. Bounds sit a few percent above the measured values noted beside them.
Protocol v2 stores each record or batch in one slot under its id (v1 used three to five).
"""

from __future__ import annotations

from tracechain.chain.notary import LEAF_ENCODING, NotaryClient, leaf_values
from tracechain.hashing import document_hash
from tracechain.merkle import StandardMerkleTree


def test_single_notarization_gas(net) -> None:
    client = NotaryClient(net.contract("Notary"), net.tx)
    result = client.notarize(net.accounts["notary"], document_hash({"po": 1}), "purchase_order")
    assert result.gas_used < 55_000  # measured 52,890 (v1: 77,192)


def test_two_party_cosigned_notarization_gas(net) -> None:
    client = NotaryClient(net.contract("Notary"), net.tx)
    a, b = net.accounts["retailer"], net.accounts["manufacturer"]
    record_hash, parties, deadline = document_hash({"po": 2}), [a.address, b.address], 2_000_000_000
    sigs = [client.cosign(s, record_hash, "purchase_order", parties, deadline) for s in (a, b)]
    result = client.notarize_cosigned(a, record_hash, "purchase_order", parties, deadline, sigs)
    assert result.gas_used < 78_000  # measured 75,079 (v1: 132,478)


def test_ten_thousand_records_anchor_in_one_transaction(net) -> None:
    client = NotaryClient(net.contract("Notary"), net.tx)
    count = 10_000
    hashes = [document_hash({"type": "delivery", "n": i}) for i in range(count)]
    tree = StandardMerkleTree.of([leaf_values(h, "delivery") for h in hashes], LEAF_ENCODING)
    result = client.notarize_batch(net.accounts["notary"], tree.root, count, document_hash({"records": count}))
    assert result.gas_used < 56_000  # measured 53,329, about 5 gas a record (v1: 99,545)
    for i in (0, 4_999, count - 1):
        assert client.verify_inclusion(tree.root, net.accounts["notary"].address, hashes[i], "delivery", tree.proof(i))
