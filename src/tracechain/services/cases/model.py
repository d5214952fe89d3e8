"""What a case read returns: its timeline with each step verified, the reconciliation, the price
checks, the auditor's findings (each naming the steps and documents it rests on), and the verdict of
the whole case against the chain. Verdicts, severities and finding codes are StrEnums a page can
switch on."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tracechain.services.cases.documents import StepFacts


class Verdict(StrEnum):
    VERIFIED = "verified"
    TAMPERED = "tampered"
    INCOMPLETE = "incomplete"


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Category(StrEnum):
    INTEGRITY = "integrity"
    COMPLETENESS = "completeness"
    RECONCILIATION = "reconciliation"
    PRICE = "price"
    FREQUENCY = "frequency"


class FindingCode(StrEnum):
    """Every finding the auditor's checks raise."""

    # integrity: a step whose document or record does not verify
    UNVERIFIED_STEP = "unverified_step"
    # completeness and order against the template and the promised dates
    MISSING_STEP = "missing_step"
    OUT_OF_ORDER = "out_of_order"
    LATE_STEP = "late_step"
    OVERDUE_STEP = "overdue_step"
    AMENDMENT_KIND_MISMATCH = "amendment_kind_mismatch"
    # reconciliation: ordered vs shipped vs received vs warehoused vs invoiced vs paid, budget
    OVER_SHIPPED = "over_shipped"
    SHORT_SHIPPED = "short_shipped"
    RECEIVED_MORE_THAN_SHIPPED = "received_more_than_shipped"
    SHORT_RECEIVED = "short_received"
    NOT_WAREHOUSED = "not_warehoused"
    INVOICED_NOT_RECEIVED = "invoiced_not_received"
    INVOICED_OVER_ORDERED = "invoiced_over_ordered"
    PRICE_MISMATCH = "price_mismatch"
    PAID_NOT_RECEIVED = "paid_not_received"
    OVERPAID = "overpaid"
    UNORDERED_ITEM = "unordered_item"
    OVER_BUDGET = "over_budget"
    CURRENCY_MISMATCH = "currency_mismatch"
    # watches across the platform
    PRICE_OUTLIER = "price_outlier"
    SPLIT_ORDER = "split_order"
    FREQUENT_ORDERS = "frequent_orders"


CATEGORY_OF: dict[FindingCode, Category] = {
    FindingCode.UNVERIFIED_STEP: Category.INTEGRITY,
    FindingCode.PRICE_OUTLIER: Category.PRICE,
    FindingCode.SPLIT_ORDER: Category.FREQUENCY,
    FindingCode.FREQUENT_ORDERS: Category.FREQUENCY,
    **{
        c: Category.COMPLETENESS
        for c in (
            FindingCode.MISSING_STEP,
            FindingCode.OUT_OF_ORDER,
            FindingCode.LATE_STEP,
            FindingCode.OVERDUE_STEP,
            FindingCode.AMENDMENT_KIND_MISMATCH,
        )
    },
}


def category_of(code: FindingCode) -> Category:
    return CATEGORY_OF.get(code, Category.RECONCILIATION)


@dataclass(frozen=True)
class Problem:
    """Why a step (or the case) does not verify."""

    code: str
    message: str
    index: int | None = None


@dataclass(frozen=True)
class Signer:
    role: str
    address: str
    name: str | None


@dataclass(frozen=True)
class TimelineStep:
    """One step of the case as the chain recorded it, with its document and its verification."""

    index: int
    kind: str
    title: str
    kind_code: int
    amends: int | None
    superseded_by: int | None
    source: str  # "document" | "epcis"
    document_hash: str
    event_hash_id: str | None
    party: str | None
    signers: tuple[Signer, ...]
    timestamp: int
    date: str | None  # the document's own date (the event time for EPCIS events)
    tx_hash: str
    block_number: int
    head: str
    document: Any
    verified: bool
    problems: tuple[Problem, ...] = ()
    facts: StepFacts | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Party:
    role: str  # buyer | supplier | inspector
    address: str
    name: str | None


@dataclass(frozen=True)
class Evidence:
    """A step a finding rests on, with whether it verified."""

    case_id: str
    index: int
    kind: str
    document_hash: str
    verified: bool
    biz_transaction: str | None = None
    tx_hash: str | None = None


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str
    evidence: tuple[Evidence, ...]
    gtin: str | None = None
    values: dict[str, str] = field(default_factory=dict)

    @property
    def category(self) -> Category:
        return category_of(self.code)

    @property
    def evidence_verified(self) -> bool:
        return all(e.verified for e in self.evidence)


@dataclass(frozen=True)
class ReconciliationLine:
    """One item across the measures; None where no step of that measure exists yet."""

    gtin: str
    description: str | None
    unit: str
    ordered: Decimal | None
    shipped: Decimal | None
    received: Decimal | None
    warehoused: Decimal | None
    invoiced: Decimal | None
    paid: Decimal | None
    ordered_unit_price: Decimal | None
    invoiced_unit_price: Decimal | None
    status: str  # "ok" | "mismatch" | "open"


@dataclass(frozen=True)
class Reconciliation:
    currency: str | None
    budget: Decimal | None
    approval_limit: Decimal | None
    ordered_amount: Decimal | None
    invoiced_amount: Decimal | None
    paid_amount: Decimal | None
    lines: tuple[ReconciliationLine, ...]


@dataclass(frozen=True)
class PriceCheck:
    """A line's unit price against the trailing median of the same GTIN on the platform."""

    index: int
    gtin: str
    unit_price: Decimal
    currency: str
    median: Decimal | None
    deviation: Decimal | None  # unit_price / median - 1
    band: Decimal
    history: int  # prices the median is taken over
    status: str  # "ok" | "outlier" | "no_baseline"


@dataclass(frozen=True)
class CaseVerification:
    """The case checked against the contract's slot at `block_number`."""

    verdict: Verdict
    chain_id: int
    contract: str
    block_number: int
    stored_state_hash: str | None
    recomputed_state_hash: str
    step_count: int
    problems: tuple[Problem, ...] = ()

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VERIFIED


@dataclass(frozen=True)
class TemplateRef:
    name: str
    version: str
    title: str
    hash: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class CaseView:
    """A case as an auditor reads it."""

    case_id: str
    biz_transaction: str
    status: str  # "open" | "closed"
    template: TemplateRef | None
    parties: tuple[Party, ...]
    opened_at: int
    opened_tx: str
    opened_block: int
    metadata_hash: str
    metadata: Any
    timeline: tuple[TimelineStep, ...]
    reconciliation: Reconciliation
    price_checks: tuple[PriceCheck, ...]
    findings: tuple[Finding, ...]
    verification: CaseVerification


@dataclass(frozen=True)
class CaseSummary:
    """A case in a list: who, what state, and what its last audit found."""

    case_id: str
    biz_transaction: str
    status: str
    buyer: str
    buyer_name: str | None
    supplier: str | None
    supplier_name: str | None
    step_count: int
    opened_at: int
    verdict: str
    findings: tuple[str, ...]


@dataclass(frozen=True)
class CasePage:
    items: tuple[CaseSummary, ...]
    total: int
    limit: int
    offset: int
