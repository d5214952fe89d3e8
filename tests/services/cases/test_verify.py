"""A case's integrity: a tampered document, an altered or withheld step, steps signed by the wrong role
(refused on-chain, nothing kept), and deliveries and warehousing as EPCIS events that name the order
in their bizTransactionList, each checked against the provenance record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, update

from tests.conftest import Net
from tests.services.cases.kit import GTIN, Procurement, doc, line
from tracechain import errors
from tracechain.chain.cases import CaseRegistryClient
from tracechain.epcis import make_object_event, parse_product_id
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.services.cases import CaseReader, CaseService, FindingCode
from tracechain.services.provenance import ProvenanceService
from tracechain.services.runtime import Runtime
from tracechain.store import cases as index
from tracechain.store.db import Document


def contracted(net: Net, runtime: Runtime, number: str = "PO-V1") -> Procurement:
    return Procurement(net, runtime, number).through_contract()


def test_a_tampered_document_is_detected_and_named(anvil_net: Net, case_runtime: Runtime) -> None:
    p = contracted(anvil_net, case_runtime)
    view = CaseReader(case_runtime).case(p.case_id)
    contract = next(s for s in view.timeline if s.kind == "contract")
    body = dict(contract.document)
    body["lines"] = [{**body["lines"][0], "unitPrice": "150000.00"}]  # a cheaper price, after the fact
    with case_runtime.store.session() as s:
        s.execute(update(Document).where(Document.hash == contract.document_hash).values(body=json.dumps(body)))
    view = CaseReader(case_runtime).case(p.case_id)
    assert view.verification.verdict == "tampered"
    step = next(s for s in view.timeline if s.kind == "contract")
    assert not step.verified and [pr.code for pr in step.problems] == ["document_altered"]
    unverified = [f for f in view.findings if f.code == FindingCode.UNVERIFIED_STEP]
    assert [e.index for f in unverified for e in f.evidence] == [contract.index]
    assert not view.price_checks  # an unverified document feeds no check


def test_a_withheld_step_is_detected_and_named(anvil_net: Net, case_runtime: Runtime) -> None:
    p = contracted(anvil_net, case_runtime)
    award = p.steps["award"]
    with case_runtime.store.session() as s:  # a server hiding the award from its index
        s.execute(delete(index.CaseStepRow).where(index.CaseStepRow.case_id == p.case_id,
                                                  index.CaseStepRow.seq == award))  # fmt: skip
    view = CaseReader(case_runtime).case(p.case_id)
    assert view.verification.verdict == "incomplete"
    named = {(pr.code, pr.index) for pr in view.verification.problems}
    assert ("step_missing", award) in named and ("state_mismatch", None) in named
    assert [s.index for s in view.timeline] == [1, 3]
    client = CaseRegistryClient(case_runtime.contract("CaseRegistry"), case_runtime.transactor)
    chain_case = client.read_case(parse_bytes32(p.case_id))  # from the logs alone: complete and verified
    assert chain_case is not None and chain_case.verified and len(chain_case.steps) == 3


def test_an_altered_index_row_is_detected(anvil_net: Net, case_runtime: Runtime) -> None:
    p = contracted(anvil_net, case_runtime)
    other = to_hex(document_hash({"kind": "contract", "forged": True}))
    with case_runtime.store.session() as s:
        s.execute(update(index.CaseStepRow).where(index.CaseStepRow.case_id == p.case_id,
                                                  index.CaseStepRow.seq == 3).values(document_hash=other))  # fmt: skip
    view = CaseReader(case_runtime).case(p.case_id)
    assert view.verification.verdict == "tampered"
    assert ("step_altered", 3) in {(pr.code, pr.index) for pr in view.verification.problems}


@pytest.mark.parametrize(
    ("inspector", "error"),
    [("manufacturer", errors.CaseRegistryInspectorNotIndependent), ("notary", errors.ActorRegistryMissingRole)],
)
def test_a_step_signed_in_the_wrong_role_is_refused_on_chain_and_nothing_is_kept(
    anvil_net: Net, case_runtime: Runtime, inspector: str, error: type[Exception]
) -> None:
    p = contracted(anvil_net, case_runtime)
    p.inspection()
    p.delivery()
    service = CaseService(case_runtime)
    body = doc("acceptance", p.po, p.date(58), [line(10)], result="accepted", remarks="signed by the wrong party")
    signer = anvil_net.accounts[inspector]
    prepared = service.prepare_step(p.case_id, "acceptance", document=body, inspector=signer.address)
    keys = {a.address: a for a in (anvil_net.accounts["retailer"], signer)}
    sigs = [service.client.sign(keys[s], parse_bytes32(p.case_id), prepared.index, prepared.step, prepared.signers,
                                prepared.deadline) for s in prepared.signers]  # fmt: skip
    with pytest.raises(error):
        service.submit_step(prepared, sigs)
    assert case_runtime.store.get_document(to_hex(document_hash(body))) is None
    view = CaseReader(case_runtime).case(p.case_id)
    assert len(view.timeline) == 5 and view.verification.verified


def test_a_signature_by_anyone_but_the_named_party_is_refused_before_sending(
    anvil_net: Net, case_runtime: Runtime
) -> None:
    p = contracted(anvil_net, case_runtime)
    service = CaseService(case_runtime)
    body = doc("invoice", p.po, p.date(60), [line(10, "185000.00")], currency="EUR")
    prepared = service.prepare_step(p.case_id, "invoice", document=body)
    forged = service.client.sign(anvil_net.accounts["retailer"], parse_bytes32(p.case_id), prepared.index,
                                 prepared.step, prepared.signers, prepared.deadline)  # fmt: skip
    with pytest.raises(errors.StepSignatureError):
        service.submit_step(prepared, [forged])
    with pytest.raises(errors.StepSignatureError):  # the buyer has no key to the supplier's invoice
        service.step(p.case_id, "invoice", [anvil_net.accounts["retailer"]], document=body)
    assert case_runtime.store.get_document(to_hex(document_hash(body))) is None


def test_documents_that_do_not_fit_their_kind_are_refused(anvil_net: Net, case_runtime: Runtime) -> None:
    p = contracted(anvil_net, case_runtime)
    service = CaseService(case_runtime)
    supplier = [anvil_net.accounts["manufacturer"]]
    bad = [
        doc("invoice", p.po, p.date(60), [line(10)], currency="EUR"),  # no unit price
        doc("invoice", "urn:epcglobal:cbv:bt:4012345000009:OTHER", p.date(60), [line(10, "1.00")], currency="EUR"),
        doc("invoice", p.po, p.date(60), [line(10, "1.00", gtin="04012345000017")], currency="EUR"),  # check digit
        doc("delivery", p.po, p.date(60), [line(10)]),  # another kind
    ]
    for body in bad:
        with pytest.raises(errors.StepDocumentError):
            service.step(p.case_id, "invoice", supplier, document=body)


# ---------------------------------------------------------------- EPCIS events standing for steps
def _event(items: list[str], step: str, disposition: str, po: str | None, hours: int) -> dict[str, Any]:
    event = make_object_event(
        product_ids=items,
        biz_step=step,
        disposition=disposition,
        read_point="urn:epc:id:sgln:4012345.00001.0",
        biz_location="urn:epc:id:sgln:4012345.00001.0",
        event_time=datetime(2026, 4, 28, 8, tzinfo=UTC).replace(hour=8 + hours),
        digital_link_base="https://id.example.com",
    )
    if po is not None:
        event["bizTransactionList"] = [{"type": "po", "bizTransaction": po}]
    return event


def test_delivery_and_warehousing_as_epcis_events_naming_the_order(anvil_net: Net, case_runtime: Runtime) -> None:
    p = contracted(anvil_net, case_runtime, "PO-EPCIS")
    p.inspection()
    provenance = ProvenanceService(case_runtime)
    m, buyer = anvil_net.accounts["manufacturer"], anvil_net.accounts["retailer"]
    items = [f"01/{GTIN}/21/TX-{i:03d}" for i in range(10)]
    shipped = provenance.record_events(m, [_event(items, "shipping", "in_transit", p.po, 0)])
    unrelated = provenance.record_events(m, [_event(items, "packing", "in_progress", None, 1)])
    service = CaseService(case_runtime)
    with pytest.raises(errors.StepDocumentError, match="does not name the order"):
        service.step(p.case_id, "delivery", [m], event=unrelated.event_hash_ids[0])
    with pytest.raises(errors.StepDocumentError, match="not recorded"):
        service.step(p.case_id, "delivery", [m], event="0x" + "ab" * 32)
    delivery = service.step(p.case_id, "delivery", [m], event=shipped.event_hash_ids[0])
    p.acceptance()
    provenance.client.transfer_custody(m, [parse_product_id(i).key for i in items], buyer.address)
    stored = provenance.record_events(buyer, [_event(items, "storing", "in_progress", p.po, 3)])
    service.step(p.case_id, "warehousing", [buyer], event=stored.event_hash_ids[0])
    view = CaseReader(case_runtime).case(p.case_id)
    assert view.verification.verified, _debug(view)
    step = next(s for s in view.timeline if s.index == delivery.index)
    assert step.source == "epcis" and step.event_hash_id == shipped.event_hash_ids[0] and step.verified
    assert step.document_hash == shipped.document_hashes[0] and step.date == "2026-04-28"
    (row,) = view.reconciliation.lines
    assert row.shipped == 10 and row.received == 10 and row.warehoused == 10


def _debug(view):  # noqa: ANN001, ANN202
    return [(s.index, s.kind, [(p.code, p.message) for p in s.problems]) for s in view.timeline]
