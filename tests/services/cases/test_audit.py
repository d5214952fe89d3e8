"""The auditor's checks on real procurements: a clean one, one invoiced beyond what was received, one
priced 35 % over the trailing median, split orders, a disorderly one, an amended one, one over budget;
every finding names the steps it rests on, each verified."""

from __future__ import annotations

from decimal import Decimal

from tests.services.cases.conftest import MEDIAN, World
from tests.services.cases.kit import GTIN, GTIN2
from tracechain.services.cases import AuditPolicy, CaseReader, CaseView, FindingCode


def read(world: World, case_id: str, policy: AuditPolicy | None = None) -> CaseView:
    return CaseReader(world.runtime, AuditPolicy()).case(case_id, policy=policy)


def codes(view: CaseView) -> set[str]:
    return {str(f.code) for f in view.findings}


def finding(view: CaseView, code: FindingCode):  # noqa: ANN201
    found = [f for f in view.findings if f.code == code]
    assert found, f"no {code} in {[(f.code, f.message) for f in view.findings]}"
    return found[0]


def test_clean_procurement_verifies_reconciles_and_has_no_findings(world: World) -> None:
    view = read(world, world.clean.case_id)
    assert view.verification.verified, view.verification.problems
    assert view.status == "closed" and len(view.timeline) == 9 and all(s.verified for s in view.timeline)
    assert view.findings == (), [(f.code, f.message) for f in view.findings]
    (row,) = view.reconciliation.lines
    assert (row.ordered, row.shipped, row.received, row.warehoused, row.invoiced, row.paid) == (Decimal(10),) * 6
    assert row.status == "ok" and view.reconciliation.ordered_amount == Decimal("1850000.00")
    (check,) = view.price_checks
    assert check.status == "ok" and check.history == 4 and check.median == Decimal("183500")
    roles = {(p.role, p.address) for p in view.parties}
    assert ("inspector", world.net.accounts["inspector"].address) in roles


def test_twelve_invoiced_but_ten_received_is_flagged_with_the_steps_it_rests_on(world: World) -> None:
    view = read(world, world.short.case_id)
    f = finding(view, FindingCode.INVOICED_NOT_RECEIVED)
    assert f.severity == "high" and f.gtin == GTIN
    assert f.values == {"received": "10", "invoiced": "12"}
    kinds = {e.kind for e in f.evidence}
    assert kinds == {"acceptance", "invoice"} and all(e.verified for e in f.evidence)
    assert {e.index for e in f.evidence} == {world.short.steps["acceptance"], world.short.steps["invoice"]}
    assert {FindingCode.PAID_NOT_RECEIVED, FindingCode.SHORT_RECEIVED} <= codes(view)
    (row,) = view.reconciliation.lines
    assert (row.ordered, row.shipped, row.received, row.invoiced) == (12, 12, 10, 12) and row.status == "mismatch"
    assert view.verification.verified  # the records are authentic: the figures are what is wrong


def test_price_35_percent_over_the_trailing_median_is_flagged(world: World) -> None:
    view = read(world, world.pricey.case_id)
    f = finding(view, FindingCode.PRICE_OUTLIER)
    assert f.values["median"] == MEDIAN and f.values["deviation"] == "0.35" and f.values["history"] == "6"
    own = [e for e in f.evidence if e.case_id == world.pricey.case_id]
    others = [e for e in f.evidence if e.case_id != world.pricey.case_id]
    assert [e.kind for e in own] == ["contract"] and len(others) == 6
    assert all(e.kind == "contract" and e.verified and e.biz_transaction for e in others)
    (check,) = view.price_checks
    assert check.status == "outlier" and check.deviation == Decimal("0.35")


def test_the_price_band_is_configurable(world: World) -> None:
    view = read(world, world.pricey.case_id, AuditPolicy(price_band=Decimal("0.40")))
    assert FindingCode.PRICE_OUTLIER not in codes(view)
    assert view.price_checks[0].status == "ok"
    view = read(world, world.clean.case_id, AuditPolicy(price_min_history=5))
    assert view.price_checks[0].status == "no_baseline"


def test_orders_split_just_under_the_approval_limit_are_flagged(world: World) -> None:
    for p in world.splits:
        view = read(world, p.case_id)
        f = finding(view, FindingCode.SPLIT_ORDER)
        assert f.gtin == GTIN2 and f.values["orders"] == "3" and f.values["combined"] == "284000"
        assert {e.case_id for e in f.evidence} == {s.case_id for s in world.splits}
        assert all(e.kind == "contract" and e.verified for e in f.evidence)
    assert FindingCode.SPLIT_ORDER not in codes(read(world, world.clean.case_id))


def test_missing_out_of_order_late_and_overdue_steps_are_flagged(world: World) -> None:
    view = read(world, world.disorderly.case_id)
    steps = world.disorderly.steps
    missing = finding(view, FindingCode.MISSING_STEP)
    assert "production_inspection" in missing.message and [e.index for e in missing.evidence] == [steps["delivery"]]
    disorder = finding(view, FindingCode.OUT_OF_ORDER)
    assert [e.index for e in disorder.evidence] == [steps["invoice"], steps["acceptance"]]
    late = [f for f in view.findings if f.code == FindingCode.LATE_STEP]
    assert late and all(f.values["days_late"] == "15" for f in late)
    overdue = finding(read(world, world.pricey.case_id), FindingCode.OVERDUE_STEP)
    assert "delivery" in overdue.message or overdue.gtin == GTIN


def test_an_amendment_replaces_the_step_it_amends(world: World) -> None:
    view = read(world, world.amended.case_id)
    first, second = (s for s in view.timeline if s.kind == "contract")
    assert first.superseded_by == second.index and second.amends == first.index
    (row,) = view.reconciliation.lines
    assert row.ordered == 8 and row.shipped == 8 and row.received == 8
    approval, raised = (s for s in view.timeline if s.kind == "approval")
    assert approval.superseded_by == raised.index == len(view.timeline)
    assert view.reconciliation.budget == Decimal("2500000.00")  # the amended budget
    # An amendment takes the place of the step it amends: no "approval after the contract" finding.
    assert view.verification.verified and not view.findings, [f.message for f in view.findings]


def test_orders_over_the_approved_budget_are_flagged(world: World) -> None:
    f = finding(read(world, world.costly.case_id), FindingCode.OVER_BUDGET)
    assert f.values == {"budget": "1000000", "ordered": "1850000"}
    assert {e.kind for e in f.evidence} == {"approval", "contract"}


def test_pages_filter_by_buyer_supplier_status_and_finding(world: World) -> None:
    reader = CaseReader(world.runtime, AuditPolicy())
    buyer = world.net.accounts["logistics"].address
    page = reader.page(buyer=buyer)
    assert page.total == 4 and {c.biz_transaction for c in page.items} == {h.po for h in world.history}
    closed = reader.page(status="closed")
    assert {c.biz_transaction for c in closed.items} == {world.clean.po, world.short.po}
    flagged = reader.page(finding="invoiced_not_received")
    assert [c.case_id for c in flagged.items] == [world.short.case_id]
    outliers = reader.page(finding="price_outlier", supplier=world.net.accounts["manufacturer"].address)
    assert [c.case_id for c in outliers.items] == [world.pricey.case_id]
    first = reader.page(limit=2, offset=0)
    second = reader.page(limit=2, offset=2)
    assert first.total == second.total > 4 and not {c.case_id for c in first.items} & {c.case_id for c in second.items}
