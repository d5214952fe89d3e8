"""The store: chain binding, documents by hash, and the indexer's checkpointed, idempotent sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import String, func, select

from tracechain import errors
from tracechain.hashing import document_hash, to_hex
from tracechain.store.db import ActorRow, Store
from tracechain.store.indexer import Indexer
from tracechain.types import Role


def test_store_refuses_another_chain(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    store.bind_chain(1, "0x" + "aa" * 32)
    store.bind_chain(1, "0x" + "aa" * 32)  # same chain again is fine
    with pytest.raises(errors.StoreChainMismatchError):
        Store(store_url).bind_chain(1, "0x" + "bb" * 32)


def test_documents_are_stored_under_their_canonical_hash(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    digest = store.put_document({"b": 1, "a": [True, None]})
    assert digest == to_hex(document_hash({"a": [True, None], "b": 1}))
    assert store.put_document({"a": [True, None], "b": 1}) == digest  # idempotent
    assert store.get_document(digest) == {"a": [True, None], "b": 1}
    assert store.get_document("0x" + "00" * 32) is None


def test_documents_come_back_in_their_captured_key_order(store_url: str, tmp_path: Path) -> None:
    # Hashed as canonical JSON, kept as captured: tools that read JSON in order (GS1's Event Hash ID
    # generator pairs a bizTransaction's keys in document order) must see what was committed.
    store = Store(store_url)
    doc = {"type": "po", "bizTransaction": "urn:x", "list": [{"z": 1, "a": 2.5}], "é": "ü"}
    digest = store.put_document(doc)
    back = store.get_document(digest)
    assert list(back) == ["type", "bizTransaction", "list", "é"] and list(back["list"][0]) == ["z", "a"]
    assert back == doc and to_hex(document_hash(back)) == digest


def test_indexer_rebuilds_actors_and_resumes_without_duplicates(store_url: str, net, tmp_path: Path) -> None:
    store = Store(store_url)
    gov = net.accounts["governance"]
    indexer = Indexer(net.chain, net.deployment, store, chunk_blocks=3)
    first_stop = net.deployment.start_block + 4
    indexer.sync(to_block=first_stop)  # stopped part-way
    assert store.checkpoint("contracts") == first_stop
    net.actors.register_actor(gov, net.accounts["outsider"].address, "Late Joiner", [Role.RETAILER])
    net.actors.suspend_actor(gov, net.accounts["manufacturer"].address)
    Indexer(net.chain, net.deployment, store, chunk_blocks=3).sync()  # a new process resumes
    assert indexer.sync() == 0  # nothing new, nothing applied twice
    with store.session() as s:
        rows = {r.address: r for r in s.scalars(select(ActorRow))}
        assert s.scalar(select(func.count()).select_from(ActorRow)) == len(rows)
    for address, actor in ((a.address, net.actors.get_actor(a.address)) for a in net.accounts.values()):
        if actor is None:
            assert address not in rows
            continue
        row = rows[address]
        assert (row.name, row.suspended) == (actor.name, actor.suspended)
        assert set(filter(None, row.roles.split(","))) == {r.value for r in actor.roles}


def test_large_floats_round_trip_to_the_same_hash(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    doc = {"reading": 7.100185761183819e16, "count": 3}
    digest = store.put_document(doc)
    assert to_hex(document_hash(store.get_document(digest))) == digest


def test_concurrent_indexers_on_one_store_apply_each_log_once(store_url: str, net, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tracechain.store.db import Activity

    gov = net.accounts["governance"]
    for i in range(3):
        net.actors.update_actor(gov, net.accounts["retailer"].address, f"Retailer {i}")
    store = Store(store_url)
    indexers = [Indexer(net.chain, net.deployment, store, chunk_blocks=2) for _ in range(2)]  # two "processes"
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: indexers[i % 2].sync(), range(16)))
    assert store.checkpoint("contracts") == net.chain.w3.eth.block_number
    with store.session() as s:
        assert s.get(ActorRow, net.accounts["retailer"].address).name == "Retailer 2"
        assert s.scalar(select(func.count()).select_from(Activity)) == s.scalar(
            select(func.count(func.distinct(Activity.tx_hash + ":" + func.cast(Activity.log_index, String))))
        )


def test_a_kind_that_is_not_an_encoded_name_does_not_stall_the_indexer(store_url: str, net, tmp_path: Path) -> None:
    from tracechain.chain.notary import single_record_id
    from tracechain.hashing import keccak_text
    from tracechain.store.notary import NotarizationRow

    notary = net.contract("Notary").functions
    odd_kind = b"A" + bytes(31)  # upper case: not a kind name the Python side would encode
    net.tx.send(net.accounts["notary"], notary.notarize(keccak_text("odd"), odd_kind))
    net.actors.update_actor(net.accounts["retailer"], net.accounts["retailer"].address, "After The Odd One")
    store = Store(store_url)
    Indexer(net.chain, net.deployment, store).sync()
    with store.session() as s:
        record_id = to_hex(single_record_id(keccak_text("odd"), odd_kind, net.accounts["notary"].address))
        assert s.get(NotarizationRow, record_id).kind == to_hex(odd_kind)
        assert s.get(ActorRow, net.accounts["retailer"].address).name == "After The Odd One"
