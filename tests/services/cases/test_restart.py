"""A case read back after Anvil restarts from its state file: a fresh index rebuilt from the restarted
chain's logs verifies the whole case against the contract's slot, and so does a verifier that reads
nothing but the logs."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import _build
from tests.services.cases.conftest import make_runtime
from tests.services.cases.kit import Procurement
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.cases import CaseRegistryClient
from tracechain.hashing import parse_bytes32
from tracechain.services.cases import CaseReader, CaseService


def test_a_case_reads_back_verified_after_an_anvil_restart(tmp_path: Path) -> None:
    state, port = tmp_path / "anvil-state.json", free_port()
    node = AnvilNode(port, state)
    chain = node.start()
    try:
        net = _build(chain)
        (tmp_path / "before").mkdir()
        runtime = make_runtime(net, tmp_path / "before")
        CaseService(runtime).register_template(net.accounts["governance"])
        p = Procurement(net, runtime, "PO-RESTART").complete(received=10, invoiced=10)
        before = CaseReader(runtime).case(p.case_id)
        head = chain.w3.eth.block_number
    finally:
        node.stop()
    node = AnvilNode(port, state)
    chain = node.start()
    try:
        assert chain.w3.eth.block_number == head
        net.chain = chain
        (tmp_path / "after").mkdir()
        runtime = make_runtime(net, tmp_path / "after")  # an empty store: everything comes from the chain
        for doc in (s.document for s in before.timeline):
            runtime.store.put_document(doc)  # the documents are off-chain: the parties keep them
        after = CaseReader(runtime).case(p.case_id)
        assert after.verification.verified, after.verification.problems
        assert after.verification.stored_state_hash == before.verification.stored_state_hash
        assert [(s.index, s.kind, s.head) for s in after.timeline] == [
            (s.index, s.kind, s.head) for s in before.timeline
        ]
        assert after.findings == () and after.status == "closed"
        client = CaseRegistryClient(runtime.contract("CaseRegistry"), runtime.transactor)
        chain_case = client.read_case(parse_bytes32(p.case_id))
        assert chain_case is not None and chain_case.verified and len(chain_case.steps) == 9
    finally:
        node.stop()
