"""Faults on a real Anvil node: a restart from its state file, a `kill -9` that makes the chain forget
acknowledged blocks, a hung node, and two processes relaying for one operator at once. For each: what
was acknowledged, and what the chain and the index hold afterwards."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _build
from tests.services.test_provenance_service import event_doc
from tracechain import errors
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import rpc_chain
from tracechain.chain.deploy import load_manifest
from tracechain.services.provenance import ProvenanceService, TraceReader
from tracechain.services.runtime import Runtime, open_runtime
from tracechain.settings import Settings

PID = "01/09506000134352/21/FAULT-1"


def _runtime(url: str, data: Path) -> Runtime:
    """What `tracechain serve --rpc URL` builds: the manifest's deployment and the store in `data`."""
    settings = Settings(rpc_url=url, data_dir=data, public_base_url="http://testserver")
    return open_runtime(settings, deploy_missing=False)


@pytest.fixture
def node_with_state(tmp_path: Path) -> Iterator[tuple[AnvilNode, Path]]:
    """A deployed cast on an Anvil node with a state file, its manifest in tmp_path/data."""
    state, port = tmp_path / "anvil-state.json", free_port()
    node = AnvilNode(port, state)
    chain = node.start()
    net = _build(chain)
    net.deployment.write(tmp_path / "data" / "deployments" / f"{chain.chain_id}.json")
    yield node, tmp_path
    node.stop()


def _accounts() -> dict[str, object]:
    from tests.conftest import CAST
    from tracechain.chain.connect import dev_accounts

    keys = dev_accounts()
    return {name: keys[index] for name, (index, _) in CAST.items()}


def test_a_restart_from_state_keeps_blocks_deployment_and_index(node_with_state) -> None:  # noqa: ANN001
    node, tmp = node_with_state
    m = _accounts()["manufacturer"]
    runtime = _runtime(node.url, tmp / "data")
    ProvenanceService(runtime).register(m, PID)  # type: ignore[arg-type]
    ProvenanceService(runtime).record_events(m, [event_doc([PID], "commissioning", 0, "active")])  # type: ignore[arg-type]
    chain = runtime.chain
    head = chain.w3.eth.block_number
    before = [chain.block_hash(n) for n in range(head + 1)]

    node.stop()  # SIGTERM: Anvil saves its state
    chain = node.start()
    after = [chain.block_hash(n) for n in range(head + 1)]
    assert after[1:] == before[1:]  # every block the deployment and its writes live in is the same
    # Block 0 may not be (Anvil 1.7.1 makes a new genesis on some restarts): nothing binds to it.
    deployment = load_manifest(tmp / "data" / "deployments" / f"{chain.chain_id}.json")
    assert deployment.on(chain)
    trace = TraceReader(_runtime(node.url, tmp / "data")).trace(PID)
    assert len(trace.events) == 1 and trace.verification.verified


def test_a_kill_9_forgets_blocks_and_nothing_reads_as_recorded_that_the_chain_lost(node_with_state) -> None:  # noqa: ANN001
    node, tmp = node_with_state
    m = _accounts()["manufacturer"]
    runtime = _runtime(node.url, tmp / "data")
    service = ProvenanceService(runtime)
    service.register(m, PID)  # type: ignore[arg-type]
    service.record_events(m, [event_doc([PID], "commissioning", 0, "active")])  # type: ignore[arg-type]
    node.stop()  # saved: the registration and the first event survive

    slow = AnvilNode(node.port, node.state_path, state_interval=3600)  # saves only when stopped
    slow.start()
    runtime = _runtime(slow.url, tmp / "data")
    service = ProvenanceService(runtime)
    lost = [event_doc([PID], "shipping", 10, "in_transit"), event_doc([PID], "receiving", 20)]
    receipt = service.record_events(m, lost)  # type: ignore[arg-type]  # acknowledged: mined in a block
    assert len(TraceReader(runtime).trace(PID).events) == 3  # and indexed
    assert slow.process is not None
    os.kill(slow.process.pid, signal.SIGKILL)  # the node dies before it saved that block
    slow.process.wait()

    node.start()  # back from the last saved state: the block with the two events is gone
    runtime = _runtime(node.url, tmp / "data")
    chain = runtime.chain
    with pytest.raises(Exception):  # noqa: B017 - web3 raises TransactionNotFound
        chain.w3.eth.get_transaction_receipt(receipt.tx.tx_hash)
    trace = TraceReader(runtime).trace(PID)
    assert len(trace.events) == 1 and trace.verification.verified  # the index followed the chain back
    assert runtime.indexer.rewinds == 1

    ProvenanceService(runtime).record_events(m, lost)  # type: ignore[arg-type]  # the lost write is sent again
    trace = TraceReader(runtime).trace(PID)
    assert [e.biz_step for e in trace.events] == ["commissioning", "shipping", "receiving"]
    assert trace.verification.verified


def test_a_hung_node_is_unavailable_after_one_timeout_not_a_minute_of_retries(tmp_path: Path) -> None:
    with AnvilNode(free_port()) as node:
        node.start()
        chain = rpc_chain(node.url, timeout=1)
        provider = chain.w3.provider
        assert provider.exception_retry_configuration is None  # type: ignore[attr-defined]
        assert node.process is not None
        os.kill(node.process.pid, signal.SIGSTOP)
        _wait_stopped(node.process.pid)
        try:
            with pytest.raises(Exception) as hung:  # noqa: B017 - requests' ReadTimeout
                chain.w3.eth.block_number  # noqa: B018
            assert "timed out" in str(hung.value).lower() or "timeout" in type(hung.value).__name__.lower()
            with pytest.raises(errors.ChainUnavailableError):
                rpc_chain(node.url, timeout=1)
        finally:
            os.kill(node.process.pid, signal.SIGCONT)
        assert chain.w3.eth.block_number >= 0


def _wait_stopped(pid: int) -> None:
    """Until the kernel reports the process stopped (SIGSTOP takes effect asynchronously)."""
    while Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] not in "Tt":
        os.sched_yield()


def test_two_processes_relay_for_one_operator_at_once(node_with_state) -> None:  # noqa: ANN001
    """Each runtime is what one `serve` process builds (its own connection, its own in-process lock),
    both over one store: their relays share the operator's nonce without a single refusal."""
    node, tmp = node_with_state
    accounts = _accounts()
    signers = [accounts[n] for n in ("manufacturer", "manufacturer2", "logistics", "retailer")] * 2
    first, second = _runtime(node.url, tmp / "data"), _runtime(node.url, tmp / "data")
    assert first.chain.send_lock is not second.chain.send_lock
    pids = [f"opaque:CONCURRENT-{i}" for i in range(len(signers))]
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def register(runtime: Runtime, signer: object, pid: str) -> None:
        barrier.wait()
        try:
            ProvenanceService(runtime).register(signer, pid)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    for wave in (0, 4):  # four signers at once (one request each: a signer's own requests take turns)
        threads = [
            threading.Thread(target=register, args=((first, second)[i % 2], signers[i], pids[i]))
            for i in range(wave, wave + 4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
    reader = TraceReader(first)
    assert all(reader.trace(pid).verification.verified for pid in pids)


def test_a_write_not_mined_in_time_is_neither_lost_nor_recorded_twice(node_with_state) -> None:  # noqa: ANN001
    """The node takes the transaction but does not mine it (a congested network): the writer hears
    "pending" with the transaction hash; a retry while it is pending is refused as being recorded;
    once mined, a retry is refused as recorded; one the node dropped may be sent again."""
    node, tmp = node_with_state
    m = _accounts()["manufacturer"]
    runtime = _runtime(node.url, tmp / "data")
    service = ProvenanceService(runtime)
    service.register(m, PID)  # type: ignore[arg-type]
    rpc = runtime.chain.w3.provider.make_request
    rpc("evm_setAutomine", [False])  # type: ignore[arg-type]
    runtime.chain.mining_timeout = 0.2  # nothing is mined until the test says so: no race with the clock

    shipping = [event_doc([PID], "shipping", 10, "in_transit")]
    with pytest.raises(errors.TransactionPendingError) as pending:
        service.record_events(m, shipping)  # type: ignore[arg-type]
    with pytest.raises(errors.EventBeingRecordedError):
        service.record_events(m, shipping)  # type: ignore[arg-type]
    rpc("evm_mine", [])  # type: ignore[arg-type]
    assert runtime.chain.w3.eth.get_transaction_receipt(pending.value.tx_hash)["status"] == 1  # type: ignore[arg-type]
    with pytest.raises(errors.EventAlreadyRecordedError):
        service.record_events(m, shipping)  # type: ignore[arg-type]

    receiving = [event_doc([PID], "receiving", 20)]
    with pytest.raises(errors.TransactionPendingError) as dropped:
        service.record_events(m, receiving)  # type: ignore[arg-type]
    rpc("anvil_dropTransaction", [dropped.value.tx_hash])  # type: ignore[arg-type]
    rpc("evm_setAutomine", [True])  # type: ignore[arg-type]
    runtime.chain.mining_timeout = 120
    service.record_events(m, receiving)  # type: ignore[arg-type]
    trace = TraceReader(runtime).trace(PID)
    assert [e.biz_step for e in trace.events] == ["shipping", "receiving"] and trace.verification.verified
