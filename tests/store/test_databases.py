"""The same flows on SQLite and on PostgreSQL: capture and verified traces, a rollback followed by the
index, one event recorded once under a race, lineage and recall reach, and one indexing process per
store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.services.test_lineage import LOT_A, WHEELS, dairy_story
from tests.services.test_lineage import key as subject_key
from tests.services.test_provenance_service import PID, event_doc, history
from tracechain import errors
from tracechain.services.provenance import ProvenanceService, TraceReader
from tracechain.services.provenance.lineage import LineageReader
from tracechain.services.runtime import Runtime
from tracechain.settings import Settings
from tracechain.store.db import Store


@pytest.fixture
def db_runtime(net, store_url: str, tmp_path: Path) -> Runtime:  # noqa: ANN001
    """A Runtime over the embedded deployment with a fresh store on SQLite or PostgreSQL."""
    store = Store(store_url)
    store.bind_chain(net.chain.chain_id, net.deployment.anchor_hash)
    settings = Settings(data_dir=tmp_path, public_base_url="http://testserver")
    return Runtime(settings, net.chain, net.deployment, store, net.accounts["relayer"])


def test_history_is_captured_and_verified(net, db_runtime: Runtime) -> None:  # noqa: ANN001
    history(net, ProvenanceService(db_runtime))
    trace = TraceReader(db_runtime).trace(PID)
    assert trace.verification.verified and len(trace.entries) == 7


def test_the_index_follows_a_rollback(net, db_runtime: Runtime) -> None:  # noqa: ANN001
    service, m = ProvenanceService(db_runtime), net.accounts["manufacturer"]
    service.register(m, PID)
    snapshot = net.chain.snapshot()
    doc = event_doc([PID], "commissioning", 0, "active")
    service.record_events(m, [doc])
    net.chain.revert(snapshot)
    net.chain.increase_time(1)
    trace = TraceReader(db_runtime).trace(PID)
    assert trace.events == () and trace.verification.verified and db_runtime.indexer.rewinds == 1
    service.record_events(m, [doc])
    assert len(TraceReader(db_runtime).trace(PID).events) == 1


def test_one_event_posted_at_once_is_recorded_once(net, db_runtime: Runtime) -> None:  # noqa: ANN001
    m = net.accounts["manufacturer"]
    ProvenanceService(db_runtime).register(m, PID)
    doc = event_doc([PID], "commissioning", 0, "active")
    outcomes: list[str] = []
    barrier = threading.Barrier(3)

    def post() -> None:
        barrier.wait()
        try:
            ProvenanceService(db_runtime).record_events(m, [doc])
            outcomes.append("recorded")
        except errors.ConflictError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("recorded") == 1, outcomes
    assert len(TraceReader(db_runtime).trace(PID).events) == 1


def test_lineage_and_recall_reach(net, db_runtime: Runtime) -> None:  # noqa: ANN001
    service = ProvenanceService(db_runtime)
    dairy_story(net, service)
    service.recall(net.accounts["manufacturer"], LOT_A, {"reason": "contaminated"})
    reader = LineageReader(db_runtime)
    path = reader.recall_path(subject_key(WHEELS[0]))
    assert path is not None and path.recalled == LOT_A and path.verified
    assert reader.affected(subject_key(LOT_A))[1] == 4


def test_one_process_per_store_indexes(db_runtime: Runtime) -> None:
    lease = db_runtime.store.try_indexer_lease()
    assert lease is not None
    try:
        assert db_runtime.store.try_indexer_lease() is None
    finally:
        db_runtime.store.release_lease(lease)
