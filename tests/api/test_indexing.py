"""The API follows the chain in the background: reads answer at the index's checkpoint and never
index inside a request; one process per store indexes; /v1/health says how far behind it is."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.services.test_provenance_service import PID, event_doc
from tracechain.services.provenance import ProvenanceService


def test_reads_do_no_indexing_work_while_the_app_follows_the_chain(net, runtime, monkeypatch) -> None:  # noqa: ANN001
    from tracechain.api.app import create_app

    service = ProvenanceService(runtime)
    service.register(net.accounts["manufacturer"], PID)
    service.record_events(net.accounts["manufacturer"], [event_doc([PID], "commissioning", 0, "active")])
    # The follower indexes at start-up, then (with this interval) not again during the test.
    with TestClient(create_app(runtime, index_interval=3600)) as api:
        assert runtime.following
        calls: list[int] = []
        original = runtime.indexer.sync
        monkeypatch.setattr(runtime.indexer, "sync", lambda *a, **k: calls.append(1) or original(*a, **k))
        reads = [api.get(f"/v1/products/{PID}") for _ in range(3)]
        assert all(r.status_code == 200 and r.json()["verification"]["verified"] for r in reads)
        assert calls == []  # the requests themselves never indexed
        assert len(reads[0].json()["entries"]) == 1  # and the answer is at the index's checkpoint


def test_one_chain_read_per_product_and_block(api: TestClient, net, runtime, monkeypatch) -> None:  # noqa: ANN001
    ProvenanceService(runtime).register(net.accounts["manufacturer"], PID)
    from tracechain.chain.provenance import ProvenanceRegistryClient

    reads: list[int] = []
    original = ProvenanceRegistryClient.get_subject
    monkeypatch.setattr(
        ProvenanceRegistryClient, "get_subject", lambda self, *a, **k: reads.append(1) or original(self, *a, **k)
    )
    for _ in range(5):
        assert api.get(f"/v1/products/{PID}").status_code == 200
    assert len(reads) == 1  # a burst of scans at one checkpoint block asks the chain once


def test_health_reports_the_index_lag(api: TestClient) -> None:
    body = api.get("/v1/health").json()
    index = body["index"]
    assert index["following"] is True
    assert index["block"] is not None and index["lag_blocks"] == body["block"] - index["block"] >= 0
    assert isinstance(index["lag_seconds"], int)


def test_only_one_process_per_store_follows_the_chain(runtime) -> None:  # noqa: ANN001
    first = runtime.store.try_indexer_lease()
    assert first is not None
    try:
        assert runtime.store.try_indexer_lease() is None  # a second process (or app) over the same store
    finally:
        runtime.store.release_lease(first)
    again = runtime.store.try_indexer_lease()
    assert again is not None
    runtime.store.release_lease(again)


def test_a_reading_process_takes_over_indexing_when_the_indexing_one_stops(runtime) -> None:  # noqa: ANN001
    import asyncio

    from tracechain.api.app import follow_chain

    async def scenario() -> None:
        other = runtime.store.try_indexer_lease()  # another process indexes this store
        assert other is not None
        follower = asyncio.create_task(follow_chain(runtime, interval=3600, standby=0.01))
        try:
            await asyncio.sleep(0.05)
            assert not follower.done()  # standing by, not gone
            runtime.store.release_lease(other)  # the indexing process stops
            for _ in range(6000):  # bounded: a loaded machine may take a while to schedule it
                probe = runtime.store.try_indexer_lease()
                if probe is None:
                    break  # the follower holds the lease now
                runtime.store.release_lease(probe)
                await asyncio.sleep(0.01)
            assert runtime.store.try_indexer_lease() is None
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
        lease = runtime.store.try_indexer_lease()  # and gives it up when it stops
        assert lease is not None
        runtime.store.release_lease(lease)

    asyncio.run(scenario())
