"""The auditor's checks of one case: completeness and order against its template and the dates its
documents promise; reconciliation of ordered, shipped, received, warehoused, invoiced and paid per item
and of the amounts against the approved budget; and two watches across the platform — each line's
unit price against the trailing median of the same GTIN, and the buyer's orders of the same item
split just under an approval limit. Only verified documents feed a check; every finding names the
steps (and their documents) it rests on."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from tracechain.hashing import document_hash, to_hex
from tracechain.services.cases.documents import StepFacts
from tracechain.services.cases.model import (
    Evidence,
    Finding,
    FindingCode,
    PriceCheck,
    Reconciliation,
    ReconciliationLine,
    Severity,
    TimelineStep,
)
from tracechain.services.cases.templates import CaseTemplate
from tracechain.store import cases as index
from tracechain.store.db import Store

MEASURES = ("ordered", "shipped", "received", "warehoused", "invoiced", "paid")


class AuditSettings(BaseSettings):
    """The watches' thresholds from the environment (prefix TRACECHAIN_CASE_)."""

    model_config = SettingsConfigDict(env_prefix="TRACECHAIN_CASE_", env_file=".env", extra="ignore")

    price_band: Decimal = Field(default=Decimal("0.20"), gt=0, lt=10, description="±band around the median")
    price_min_history: int = Field(default=3, ge=1, description="prices needed before a median is trusted")
    price_history: int = Field(default=20, ge=1, description="newest prices the trailing median is taken over")
    split_window_days: int = Field(default=30, ge=1, description="days either side an order's split siblings lie")
    split_near_limit: Decimal = Field(default=Decimal("0.15"), gt=0, lt=1, description="'just under': this share")
    frequent_orders: int = Field(default=4, ge=2, description="orders of one item in the window that flag a buyer")
    approval_limit: Decimal | None = Field(default=None, description="limit when the approval names none")


@dataclass(frozen=True)
class AuditPolicy:
    """Thresholds of the watches (defaults: ±20 % of the trailing median of the last 20 prices, with at
    least 3; orders within 30 days, 'just under' = within 15 % below the approval limit)."""

    price_band: Decimal = Decimal("0.20")
    price_min_history: int = 3
    price_history: int = 20
    split_window_days: int = 30
    split_near_limit: Decimal = Decimal("0.15")
    frequent_orders: int = 4
    approval_limit: Decimal | None = None

    @classmethod
    def from_settings(cls, settings: AuditSettings | None = None) -> AuditPolicy:
        s = settings or AuditSettings()
        return cls(
            s.price_band, s.price_min_history, s.price_history, s.split_window_days, s.split_near_limit,
            s.frequent_orders, s.approval_limit,
        )  # fmt: skip


@dataclass(frozen=True)
class CaseContext:
    """The case being audited, as the checks need it."""

    case_id: str
    biz_transaction: str
    buyer: str
    closed: bool
    template: CaseTemplate
    timeline: tuple[TimelineStep, ...]
    today: date  # the chain's latest block date: what "overdue" is measured against


def evidence(case: CaseContext, steps: Iterable[TimelineStep]) -> tuple[Evidence, ...]:
    seen: dict[int, Evidence] = {}
    for s in steps:
        found = Evidence(case.case_id, s.index, s.kind, s.document_hash, s.verified, case.biz_transaction, s.tx_hash)
        seen.setdefault(s.index, found)
    return tuple(seen[i] for i in sorted(seen))


def _effective(case: CaseContext) -> list[TimelineStep]:
    return [s for s in case.timeline if s.superseded_by is None]


def _roots(case: CaseContext) -> dict[int, TimelineStep]:
    """Each step's original: an amendment takes the place (and the date) of the step it amends, so
    correcting a document never makes it look out of order or late."""
    by_index = {s.index: s for s in case.timeline}
    roots: dict[int, TimelineStep] = {}
    for s in case.timeline:  # in chain order: an amended step's root is known before its amendment
        amended = by_index.get(s.amends or 0)
        roots[s.index] = roots.get(amended.index, amended) if amended is not None else s
    return roots


def _when(step: TimelineStep) -> date:
    if step.facts is not None and step.facts.date is not None:
        return step.facts.date
    return datetime.fromtimestamp(step.timestamp, UTC).date()


def plain(value: Decimal) -> Decimal:
    """`value` without trailing zeros and never in exponent form (185000, not 1.85E+5)."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def _n(value: Decimal | None) -> str:
    return "" if value is None else format(plain(value), "f")


# ---------------------------------------------------------------- integrity and completeness
def integrity_findings(case: CaseContext) -> list[Finding]:
    findings = []
    for s in case.timeline:
        if not s.verified:
            reasons = "; ".join(p.message for p in s.problems) or "it does not verify"
            findings.append(
                Finding(
                    FindingCode.UNVERIFIED_STEP,
                    Severity.HIGH,
                    f"step {s.index} ({s.kind}): {reasons}",
                    evidence(case, [s]),
                )  # fmt: skip
            )
    by_index = {s.index: s for s in case.timeline}
    for s in case.timeline:
        amended = by_index.get(s.amends or 0)
        if amended is not None and amended.kind != s.kind:
            findings.append(
                Finding(
                    FindingCode.AMENDMENT_KIND_MISMATCH,
                    Severity.MEDIUM,
                    f"step {s.index} ({s.kind}) amends step {amended.index}, a {amended.kind}",
                    evidence(case, [amended, s]),
                )  # fmt: skip
            )
    return findings


def completeness_findings(case: CaseContext) -> list[Finding]:
    """Missing steps (needed by a later one, or by a closed case), steps out of the template's order,
    late against a promised date, and overdue ones not there yet."""
    findings: list[Finding] = []
    roots = _roots(case)
    steps = sorted(_effective(case), key=lambda s: roots[s.index].index)
    known = {k.kind for k in case.template.steps}
    missing_reported: set[str] = set()
    for position, s in enumerate(steps):
        if s.kind not in known:
            continue
        before = {t.kind for t in steps[:position]}
        for dep in case.template.step(s.kind).after:
            if dep in before:
                continue
            later = [t for t in steps[position + 1 :] if t.kind == dep]
            if later:
                findings.append(
                    Finding(
                        FindingCode.OUT_OF_ORDER,
                        Severity.MEDIUM,
                        f"step {s.index} ({s.kind}) came before the {dep} it follows (step {later[0].index})",
                        evidence(case, [s, later[0]]),
                    )  # fmt: skip
                )
            elif dep not in missing_reported:
                missing_reported.add(dep)
                findings.append(
                    Finding(FindingCode.MISSING_STEP, Severity.HIGH,
                            f"no {dep} step, yet step {s.index} ({s.kind}) follows it", evidence(case, [s]))
                )  # fmt: skip
    present = {s.kind for s in steps}
    if case.closed:
        closing = [s for s in steps if case.template.step(s.kind).closes] if steps else []
        for kind in case.template.steps:
            if kind.required and kind.kind not in present and kind.kind not in missing_reported:
                findings.append(
                    Finding(FindingCode.MISSING_STEP, Severity.HIGH,
                            f"the case is closed without a {kind.kind} step", evidence(case, closing[-1:]))
                )  # fmt: skip
    findings += _date_findings(case, _effective(case), roots)
    return findings


def _date_findings(case: CaseContext, steps: list[TimelineStep], roots: dict[int, TimelineStep]) -> list[Finding]:
    findings: list[Finding] = []

    def done_on(step: TimelineStep) -> date:
        return _when(roots[step.index])

    promised: dict[str, tuple[date, TimelineStep]] = {}
    for s in steps:  # in chain order: a later document's promise replaces an earlier one
        if s.facts is not None:
            for kind, when in s.facts.due.items():
                promised[kind] = (when, s)
    for kind, (due, source) in sorted(promised.items()):
        done = [t for t in steps if t.kind == kind]
        if done:
            first = min(done, key=done_on)
            if done_on(first) > due:
                days = (done_on(first) - due).days
                findings.append(
                    Finding(FindingCode.LATE_STEP, Severity.MEDIUM if days > 7 else Severity.LOW,
                            f"{kind} on {done_on(first)}, {days} day(s) after the {due} promised in step "
                            f"{source.index}",
                            evidence(case, [source, first]), values={"due": due.isoformat(), "days_late": str(days)})
                )  # fmt: skip
        elif case.today > due:
            findings.append(
                Finding(FindingCode.OVERDUE_STEP, Severity.MEDIUM,
                        f"no {kind} yet, promised for {due} in step {source.index}", evidence(case, [source]),
                        values={"due": due.isoformat()})
            )  # fmt: skip
    shipped_kinds = set(case.template.kinds_measuring("shipped"))
    for s in steps:
        if s.kind not in case.template.kinds_measuring("ordered") or s.facts is None:
            continue
        for line in s.facts.lines:
            if line.delivery_date is None:
                continue
            deliveries = [t for t in steps if t.kind in shipped_kinds and t.facts and t.facts.quantities()[line.gtin]]
            if deliveries and done_on(deliveries[0]) > line.delivery_date:
                days = (done_on(deliveries[0]) - line.delivery_date).days
                findings.append(
                    Finding(FindingCode.LATE_STEP, Severity.MEDIUM if days > 7 else Severity.LOW,
                            f"{line.gtin} first shipped on {done_on(deliveries[0])}, {days} day(s) after the "
                            f"{line.delivery_date} of step {s.index}", evidence(case, [s, deliveries[0]]),
                            gtin=line.gtin, values={"due": line.delivery_date.isoformat(), "days_late": str(days)})
                )  # fmt: skip
            elif not deliveries and case.today > line.delivery_date:
                findings.append(
                    Finding(FindingCode.OVERDUE_STEP, Severity.MEDIUM,
                            f"{line.gtin} not shipped, due {line.delivery_date} by step {s.index}",
                            evidence(case, [s]), gtin=line.gtin, values={"due": line.delivery_date.isoformat()})
                )  # fmt: skip
    return findings


# ---------------------------------------------------------------- reconciliation
def reconcile(case: CaseContext) -> tuple[Reconciliation, list[Finding]]:
    """Quantities per item and measure, amounts against the budget, and what does not add up."""
    steps = [s for s in _effective(case) if s.facts is not None]
    measure_of = {k.kind: k.measure for k in case.template.steps}
    by_measure: dict[str, list[TimelineStep]] = defaultdict(list)
    for s in steps:
        measure = measure_of.get(s.kind)
        if measure is not None:
            by_measure[measure].append(s)
    qty: dict[str, dict[str, Decimal]] = {m: defaultdict(Decimal) for m in MEASURES}
    sources: dict[tuple[str, str], list[TimelineStep]] = defaultdict(list)
    amounts: dict[str, dict[str, Decimal]] = {m: defaultdict(Decimal) for m in ("ordered", "invoiced", "paid")}
    described: dict[str, tuple[str | None, str]] = {}
    for measure in MEASURES:
        for s in by_measure.get(measure, []):
            assert s.facts is not None
            for line in s.facts.lines:
                qty[measure][line.gtin] += line.quantity
                sources[(measure, line.gtin)].append(s)
                if measure in amounts and line.amount is not None:
                    amounts[measure][line.gtin] += line.amount
                if line.gtin not in described or (line.description and not described[line.gtin][0]):
                    described[line.gtin] = (line.description, line.unit)
    budget_steps = by_measure.get("budget", [])
    approval = budget_steps[-1].facts if budget_steps else None
    findings: list[Finding] = []
    has = {m: bool(by_measure.get(m)) for m in MEASURES}

    def flag(code: FindingCode, severity: Severity, gtin: str, message: str, measures: Sequence[str],
             **values: Decimal | None) -> None:  # fmt: skip
        rest = [s for m in measures for s in sources.get((m, gtin), [])]
        shown = {k: _n(v) for k, v in values.items()}
        findings.append(Finding(code, severity, message, evidence(case, rest), gtin=gtin, values=shown))

    warehousing = bool(case.template.kinds_measuring("warehoused"))
    gtins = sorted(set().union(*(q.keys() for q in qty.values())))
    lines = []
    for gtin in gtins:
        q = {m: qty[m].get(gtin, Decimal(0)) for m in MEASURES}
        before = len(findings)
        if has["ordered"] and not q["ordered"] and any(q[m] for m in MEASURES[1:]):
            flag(FindingCode.UNORDERED_ITEM, Severity.MEDIUM, gtin, f"{gtin} appears in the case but was not ordered",
                 [m for m in MEASURES[1:] if q[m]])  # fmt: skip
        if has["ordered"] and has["shipped"] and q["shipped"] > q["ordered"] > 0:
            flag(FindingCode.OVER_SHIPPED, Severity.MEDIUM, gtin,
                 f"{gtin}: {_n(q['shipped'])} shipped, {_n(q['ordered'])} ordered", ["ordered", "shipped"],
                 ordered=q["ordered"], shipped=q["shipped"])  # fmt: skip
        if case.closed and has["ordered"] and q["shipped"] < q["ordered"]:
            flag(FindingCode.SHORT_SHIPPED, Severity.LOW, gtin,
                 f"{gtin}: {_n(q['shipped'])} shipped of {_n(q['ordered'])} ordered, and the case is closed",
                 ["ordered", "shipped"], ordered=q["ordered"], shipped=q["shipped"])  # fmt: skip
        if has["shipped"] and has["received"] and q["received"] > q["shipped"]:
            flag(FindingCode.RECEIVED_MORE_THAN_SHIPPED, Severity.MEDIUM, gtin,
                 f"{gtin}: {_n(q['received'])} received, {_n(q['shipped'])} shipped", ["shipped", "received"],
                 shipped=q["shipped"], received=q["received"])  # fmt: skip
        if has["shipped"] and has["received"] and q["received"] < q["shipped"]:
            flag(FindingCode.SHORT_RECEIVED, Severity.LOW, gtin,
                 f"{gtin}: {_n(q['received'])} received of {_n(q['shipped'])} shipped", ["shipped", "received"],
                 shipped=q["shipped"], received=q["received"])  # fmt: skip
        if has["invoiced"] and q["invoiced"] > q["received"]:
            flag(FindingCode.INVOICED_NOT_RECEIVED, Severity.HIGH, gtin,
                 f"{gtin}: {_n(q['invoiced'])} invoiced but {_n(q['received'])} received",
                 ["received", "invoiced"], received=q["received"], invoiced=q["invoiced"])  # fmt: skip
        if has["invoiced"] and has["ordered"] and q["invoiced"] > q["ordered"] > 0:
            flag(FindingCode.INVOICED_OVER_ORDERED, Severity.HIGH, gtin,
                 f"{gtin}: {_n(q['invoiced'])} invoiced, {_n(q['ordered'])} ordered", ["ordered", "invoiced"],
                 ordered=q["ordered"], invoiced=q["invoiced"])  # fmt: skip
        ordered_price = _unit_price(amounts["ordered"].get(gtin), q["ordered"])
        invoiced_price = _unit_price(amounts["invoiced"].get(gtin), q["invoiced"])
        if ordered_price is not None and invoiced_price is not None and invoiced_price != ordered_price:
            flag(
                FindingCode.PRICE_MISMATCH,
                Severity.MEDIUM,
                gtin,
                f"{gtin}: invoiced at {_n(invoiced_price)} a unit, contracted at {_n(ordered_price)}",
                ["ordered", "invoiced"],
                ordered_unit_price=ordered_price,
                invoiced_unit_price=invoiced_price,
            )
        if has["paid"] and q["paid"] > q["received"]:
            flag(FindingCode.PAID_NOT_RECEIVED, Severity.HIGH, gtin,
                 f"{gtin}: {_n(q['paid'])} paid but {_n(q['received'])} received", ["received", "paid"],
                 received=q["received"], paid=q["paid"])  # fmt: skip
        if has["paid"] and has["invoiced"] and amounts["paid"].get(gtin, 0) > amounts["invoiced"].get(gtin, 0):
            flag(
                FindingCode.OVERPAID,
                Severity.HIGH,
                gtin,
                f"{gtin}: {_n(amounts['paid'][gtin])} paid, {_n(amounts['invoiced'].get(gtin))} invoiced",
                ["invoiced", "paid"],
                paid=amounts["paid"][gtin],
                invoiced=amounts["invoiced"].get(gtin),
            )
        if case.closed and has["received"] and q["warehoused"] < q["received"] and warehousing:
            flag(FindingCode.NOT_WAREHOUSED, Severity.LOW, gtin,
                 f"{gtin}: {_n(q['warehoused'])} warehoused of {_n(q['received'])} received",
                 ["received", "warehoused"], received=q["received"], warehoused=q["warehoused"])  # fmt: skip
        description, unit = described.get(gtin, (None, "EA"))
        mismatch = len(findings) > before
        complete = case.closed or all(has[m] for m in MEASURES if case.template.kinds_measuring(m))
        shown = {m: (q[m] if has[m] else None) for m in MEASURES}
        lines.append(
            ReconciliationLine(
                gtin=gtin,
                description=description,
                unit=unit,
                **shown,
                ordered_unit_price=ordered_price,
                invoiced_unit_price=invoiced_price,
                status="mismatch" if mismatch else ("ok" if complete else "open"),
            )
        )
    totals = {m: (sum(amounts[m].values(), Decimal(0)) if has[m] else None) for m in amounts}
    findings += _budget_findings(case, approval, budget_steps, by_measure, totals)
    reconciliation = Reconciliation(
        currency=(approval.currency if approval else None) or _first_currency(steps),
        budget=approval.budget if approval else None,
        approval_limit=approval.approval_limit if approval else None,
        ordered_amount=totals["ordered"],
        invoiced_amount=totals["invoiced"],
        paid_amount=totals["paid"],
        lines=tuple(lines),
    )
    return reconciliation, findings


def _budget_findings(
    case: CaseContext,
    approval: StepFacts | None,
    budget_steps: list[TimelineStep],
    by_measure: dict[str, list[TimelineStep]],
    totals: dict[str, Decimal | None],
) -> list[Finding]:
    findings: list[Finding] = []
    if approval is None or approval.budget is None:
        return findings
    for measure in ("ordered", "invoiced", "paid"):
        total = totals.get(measure)
        if total is not None and total > approval.budget:
            findings.append(
                Finding(FindingCode.OVER_BUDGET, Severity.HIGH,
                        f"{measure} amount {_n(total)} exceeds the approved budget {_n(approval.budget)}",
                        evidence(case, [*budget_steps[-1:], *by_measure[measure]]),
                        values={"budget": _n(approval.budget), measure: _n(total)})
            )  # fmt: skip
    for measure in ("ordered", "invoiced", "paid"):
        for s in by_measure.get(measure, []):
            if approval.currency and s.facts and s.facts.currency and s.facts.currency != approval.currency:
                findings.append(
                    Finding(FindingCode.CURRENCY_MISMATCH, Severity.MEDIUM,
                            f"step {s.index} ({s.kind}) is in {s.facts.currency}, the budget in {approval.currency}",
                            evidence(case, [*budget_steps[-1:], s]))
                )  # fmt: skip
    return findings


def _unit_price(amount: Decimal | None, quantity: Decimal) -> Decimal | None:
    if amount is None or not quantity:
        return None
    return plain((amount / quantity).quantize(Decimal("0.000001")))


def _first_currency(steps: Iterable[TimelineStep]) -> str | None:
    return next((s.facts.currency for s in steps if s.facts and s.facts.currency), None)


# ---------------------------------------------------------------- watches across the platform
def price_watch(
    case: CaseContext, session: Session, store: Store, policy: AuditPolicy
) -> tuple[list[PriceCheck], list[Finding]]:
    """Each ordered line's unit price against the median of the newest `price_history` prices of the same
    GTIN and currency in other cases, dated before this order."""
    checks: list[PriceCheck] = []
    findings: list[Finding] = []
    ordered = set(case.template.kinds_measuring("ordered"))
    for s in _effective(case):
        if s.kind not in ordered or s.facts is None or s.facts.currency is None:
            continue
        for line in s.facts.lines:
            if line.unit_price is None:
                continue
            points = index.price_points(
                session, line.gtin, s.facts.currency, before=_when(s).isoformat(), exclude_case=case.case_id,
                limit=policy.price_history,
            )  # fmt: skip
            if len(points) < policy.price_min_history:
                checks.append(PriceCheck(s.index, line.gtin, line.unit_price, s.facts.currency, None, None,
                                         policy.price_band, len(points), "no_baseline"))  # fmt: skip
                continue
            median = plain(Decimal(str(statistics.median(Decimal(p.unit_price) for p in points))))
            deviation = (line.unit_price / median - 1).quantize(Decimal("0.0001"))
            outlier = abs(deviation) > policy.price_band
            checks.append(PriceCheck(s.index, line.gtin, line.unit_price, s.facts.currency, median, deviation,
                                     policy.price_band, len(points), "outlier" if outlier else "ok"))  # fmt: skip
            if outlier:
                direction = "over" if deviation > 0 else "under"
                findings.append(
                    Finding(FindingCode.PRICE_OUTLIER, Severity.MEDIUM,
                            f"{line.gtin} at {_n(line.unit_price)} {s.facts.currency} is {abs(deviation) * 100:.1f} % "
                            f"{direction} the trailing median {_n(median)} of {len(points)} prices "
                            f"(band ±{policy.price_band * 100:.0f} %)",
                            (*evidence(case, [s]), *_point_evidence(session, store, points)), gtin=line.gtin,
                            values={"unit_price": _n(line.unit_price), "median": _n(median),
                                    "deviation": _n(deviation), "band": _n(policy.price_band),
                                    "history": str(len(points))})
                )  # fmt: skip
    return checks, findings


def frequency_watch(case: CaseContext, session: Session, store: Store, policy: AuditPolicy) -> list[Finding]:
    """The buyer's orders of the same item around this one: several just under the approval limit that
    together pass it (a split order), or simply many in the window."""
    findings: list[Finding] = []
    mine = {p.gtin: p for p in _own_points(session, case.case_id)}
    for gtin, own in sorted(mine.items()):
        orders: dict[str, index.CasePricePointRow] = {}
        for point in index.buyer_orders(session, case.buyer, gtin):
            orders.setdefault(point.case_id, point)
        day = date.fromisoformat(own.date)
        window = timedelta(days=policy.split_window_days)
        near = [o for o in orders.values() if abs(date.fromisoformat(o.date) - day) <= window]
        limit = Decimal(own.approval_limit) if own.approval_limit else policy.approval_limit
        if limit is not None:
            floor = limit * (1 - policy.split_near_limit)
            under = [o for o in near if floor <= Decimal(o.case_total) < limit]
            combined = sum((Decimal(o.case_total) for o in under), Decimal(0))
            if own in under and len(under) >= 2 and combined >= limit:
                findings.append(
                    Finding(FindingCode.SPLIT_ORDER, Severity.MEDIUM,
                            f"{len(under)} orders of {gtin} by this buyer within {policy.split_window_days} days, each "
                            f"just under the approval limit {_n(limit)}, together {_n(combined)}",
                            _point_evidence(session, store, sorted(under, key=lambda o: o.date)), gtin=gtin,
                            values={"approval_limit": _n(limit), "combined": _n(combined), "orders": str(len(under))})
                )  # fmt: skip
        if len(near) >= policy.frequent_orders:
            findings.append(
                Finding(FindingCode.FREQUENT_ORDERS, Severity.LOW,
                        f"{len(near)} orders of {gtin} by this buyer within {policy.split_window_days} days",
                        _point_evidence(session, store, sorted(near, key=lambda o: o.date)), gtin=gtin,
                        values={"orders": str(len(near))})
            )  # fmt: skip
    return findings


def _own_points(session: Session, case_id: str) -> list[index.CasePricePointRow]:
    from sqlalchemy import select

    rows = session.scalars(select(index.CasePricePointRow).where(index.CasePricePointRow.case_id == case_id))
    return list(rows)


def _point_evidence(session: Session, store: Store, points: Iterable[index.CasePricePointRow]) -> tuple[Evidence, ...]:
    """Evidence from other cases: each point's step, verified by its document still hashing to what the
    index (rebuilt from the chain) holds for that step."""
    found: dict[tuple[str, int], Evidence] = {}
    for p in points:
        if (p.case_id, p.seq) in found:
            continue
        row = session.query(index.CaseStepRow).filter_by(case_id=p.case_id, seq=p.seq).first()
        case = session.get(index.CaseRow, p.case_id)
        doc = store.get_document(p.document_hash)
        verified = (
            row is not None and row.document_hash == p.document_hash and doc is not None
            and to_hex(document_hash(doc)) == p.document_hash
        )  # fmt: skip
        found[(p.case_id, p.seq)] = Evidence(
            p.case_id, p.seq, row.kind_name if row else "?", p.document_hash, verified,
            case.biz_transaction if case else None, row.tx_hash if row else None,
        )  # fmt: skip
    return tuple(found.values())
