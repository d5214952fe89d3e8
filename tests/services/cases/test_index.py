"""The case index follows the chain when it forgets blocks: a rewind forgets the later steps and
restates each case (count, head, supplier, status) from the steps that remain; indexing forward again
restores it exactly."""

from __future__ import annotations

from tests.conftest import Net
from tests.services.cases.kit import Procurement
from tracechain.chain.cases import ZERO_ADDRESS
from tracechain.services.cases import CaseReader
from tracechain.services.runtime import Runtime
from tracechain.store import cases as index


def _state(runtime: Runtime, case_id: str) -> tuple[int, str, str, str, int]:
    with runtime.store.session() as s:
        case = s.get(index.CaseRow, case_id)
        assert case is not None
        points = s.query(index.CasePricePointRow).filter_by(case_id=case_id).count()
        return case.step_count, case.head, case.supplier, case.status, points


def test_a_rewind_restates_cases_and_indexing_again_restores_them(anvil_net: Net, case_runtime: Runtime) -> None:
    p = Procurement(anvil_net, case_runtime, "PO-REWIND").through_contract()
    reader = CaseReader(case_runtime)
    reader.case(p.case_id)  # builds the price points too
    before = _state(case_runtime, p.case_id)
    assert before[0] == 3 and before[2] == anvil_net.accounts["manufacturer"].address and before[4] == 1
    with case_runtime.store.session() as s:
        steps = {r.seq: (r.block_number, r.head) for r in index.steps_of(s, p.case_id)}

    case_runtime.indexer.rewind(steps[3][0] - 1)  # forget the contract
    assert _state(case_runtime, p.case_id)[:4] == (2, steps[2][1], before[2], "open")
    case_runtime.indexer.rewind(steps[2][0] - 1)  # and the award that named the supplier
    count, head, supplier, _, points = _state(case_runtime, p.case_id)
    assert (count, head, supplier, points) == (1, steps[1][1], ZERO_ADDRESS, 0)

    case_runtime.sync()
    view = reader.case(p.case_id)
    assert _state(case_runtime, p.case_id) == before and view.verification.verified


def test_what_a_writer_calling_the_contract_directly_commits_never_stalls_the_index(
    anvil_net: Net, case_runtime: Runtime
) -> None:
    from tracechain.chain.cases import CaseRegistryClient, pack_rules
    from tracechain.hashing import keccak_text, to_hex

    client = CaseRegistryClient(case_runtime.contract("CaseRegistry"), anvil_net.tx)
    odd = keccak_text("odd-template")
    # Straight at the contract: the client would refuse a kind name that is not one.
    call = client.contract.functions.registerTemplate(odd, pack_rules({1: 1}), [b"\xff" * 32])
    anvil_net.tx.send(anvil_net.accounts["governance"], call)
    po = "urn:example:po:" + "x" * 3000  # any string is a valid order for the contract
    client.open_case(anvil_net.accounts["retailer"], po, odd)
    case_runtime.sync()
    with case_runtime.store.session() as s:
        template = s.get(index.CaseTemplateRow, to_hex(odd))
        assert template is not None and template.kind_names == ["0x" + "ff" * 32]
        (case,) = [c for c in s.query(index.CaseRow) if c.biz_transaction == po]
        assert case.biz_transaction_key == to_hex(keccak_text(po))
