"""The data-rights index: rebuilt from DataRightsRegistry logs alone, resumable without duplicates,
matching the chain, with an activity row for every write, and rewound with the chain."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tracechain.chain.rights import DataRightsClient, Right, dataset_id_of
from tracechain.hashing import document_hash, keccak_text, to_hex
from tracechain.store import rights as index
from tracechain.store.db import Activity, Store
from tracechain.store.indexer import Indexer

DAY = 86_400
SALES = document_hash({"dataset": "sales"})
TERMS = document_hash({"terms": "analytics"})


def _now(net) -> int:  # noqa: ANN001
    return int(net.chain.w3.eth.get_block("latest")["timestamp"])


def test_index_rebuilds_datasets_certificates_uses_and_holders(net, tmp_path: Path) -> None:
    client = DataRightsClient(net.contract("DataRightsRegistry"), net.tx)
    a = net.accounts
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    indexer = Indexer(net.chain, net.deployment, store, chunk_blocks=2)

    dataset_id, _ = client.register_dataset(a["retailer"], SALES, keccak_text("meta"))
    processing, _ = client.grant_certificate(
        a["retailer"], dataset_id, a["manufacturer"].address, Right.PROCESSING, _now(net) + DAY, TERMS
    )
    indexer.sync()  # part-way: later writes arrive in a second run
    operation, _ = client.grant_certificate(
        a["retailer"], dataset_id, a["logistics"].address, Right.OPERATION, _now(net) + 2 * DAY, TERMS
    )
    for purpose in ("forecast", "pricing"):
        client.record_use(a["manufacturer"], processing, Right.PROCESSING, keccak_text(purpose))
    client.revoke_certificate(a["retailer"], operation, keccak_text("breach"))
    client.transfer_holding(a["retailer"], dataset_id, a["inspector"].address)
    Indexer(net.chain, net.deployment, store, chunk_blocks=2).sync()
    assert indexer.sync() == 0

    assert dataset_id == dataset_id_of(SALES, a["retailer"].address)
    with store.session() as s:
        row = index.dataset(s, dataset_id)
        assert row is not None
        assert (row.registrant, row.holder) == (a["retailer"].address, a["inspector"].address)
        assert row.content_hash == to_hex(SALES)
        assert row.metadata_hash == to_hex(keccak_text("meta"))
        holders = [(h.from_address, h.to_address) for h in index.holder_changes(s, dataset_id)]
        assert holders == [("0x" + "00" * 20, a["retailer"].address), (a["retailer"].address, a["inspector"].address)]
        certs = {c.certificate_id: c for c in index.certificates_of(s, dataset_id)}
        assert set(certs) == {processing, operation}
        for cid, row in certs.items():  # every indexed field matches the chain
            chain = client.get_certificate(cid)
            assert (row.grantee, row.right, row.not_before, row.expires_at, row.terms_hash, row.use_count) == (
                chain.grantee,
                chain.right.value,
                chain.not_before,
                chain.expires_at,
                chain.terms_hash,
                chain.use_count,
            )
            assert (row.revoked_at or 0) == chain.revoked_at
        assert certs[operation].revoked_by == a["retailer"].address
        assert certs[operation].reason_hash == to_hex(keccak_text("breach"))
        uses = index.uses_of(s, processing)
        assert [(u.use_index, u.purpose_hash) for u in uses] == [
            (0, to_hex(keccak_text("forecast"))),
            (1, to_hex(keccak_text("pricing"))),
        ]
        kinds = [
            (r.kind, r.actor)
            for r in s.scalars(select(Activity).where(Activity.kind.like("rights.%")).order_by(Activity.id))
        ]
    assert kinds == [
        ("rights.register", a["retailer"].address),
        ("rights.grant", a["retailer"].address),
        ("rights.grant", a["retailer"].address),
        ("rights.use", a["manufacturer"].address),
        ("rights.use", a["manufacturer"].address),
        ("rights.revoke", a["retailer"].address),
        ("rights.transfer", a["retailer"].address),
    ]


def test_index_follows_the_chain_when_it_forgets_blocks(net, tmp_path: Path) -> None:
    """Rows from forgotten blocks disappear; the holder, revocation and use count of the rows that
    remain are recomputed from what remains."""
    client = DataRightsClient(net.contract("DataRightsRegistry"), net.tx)
    a = net.accounts
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    indexer = Indexer(net.chain, net.deployment, store, chunk_blocks=3)
    dataset_id, _ = client.register_dataset(a["retailer"], SALES)
    processing, _ = client.grant_certificate(
        a["retailer"], dataset_id, a["manufacturer"].address, Right.PROCESSING, _now(net) + DAY, TERMS
    )
    client.record_use(a["manufacturer"], processing, Right.PROCESSING, keccak_text("first"))
    kept = net.chain.snapshot()
    client.record_use(a["manufacturer"], processing, Right.PROCESSING, keccak_text("second"))
    client.revoke_certificate(a["retailer"], processing, keccak_text("breach"))
    client.transfer_holding(a["retailer"], dataset_id, a["inspector"].address)
    late, _ = client.register_dataset(a["logistics"], document_hash({"dataset": "routes"}))
    indexer.sync()
    with store.session() as s:
        cert = index.certificate(s, processing)
        assert (cert.use_count, cert.revoked_by, index.dataset(s, dataset_id).holder) == (
            2, a["retailer"].address, a["inspector"].address
        )  # fmt: skip

    net.chain.revert(kept)  # the chain forgets the last four writes
    for _ in range(6):  # and moves on: the same block numbers now hold other blocks
        net.chain.increase_time(1)
    indexer.sync()
    assert indexer.rewinds == 1
    with store.session() as s:
        cert = index.certificate(s, processing)
        assert cert is not None and cert.use_count == 1 == client.get_certificate(processing).use_count
        assert (cert.revoked_at, cert.revoked_by, cert.reason_hash, cert.revoke_block_number) == (None,) * 4
        assert [u.use_index for u in index.uses_of(s, processing)] == [0]
        row = index.dataset(s, dataset_id)
        assert row is not None and row.holder == a["retailer"].address == client.holder_of(dataset_id)
        assert [h.to_address for h in index.holder_changes(s, dataset_id)] == [a["retailer"].address]
        assert index.dataset(s, late) is None
        trail = s.scalars(select(Activity).where(Activity.kind.like("rights.%")).order_by(Activity.id))
        kinds = [r.kind for r in trail]
    assert kinds == ["rights.register", "rights.grant", "rights.use"]
