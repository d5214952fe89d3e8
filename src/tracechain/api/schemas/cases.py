"""Bodies and answers of the procurement-case routes: opening (the buyer's signed request), steps (each
party's EIP-712 signature), and the auditor's view — timeline with every step verified, parties,
reconciliation, price checks, findings with their evidence, and the verdict against the chain."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from tracechain.api.schemas.common import ADDRESS, ForwardRequestIn, TxPublic
from tracechain.chain.transact import TxResult
from tracechain.services.cases import (
    CaseOpening,
    CasePage,
    CaseSummary,
    CaseView,
    Finding,
    PreparedStep,
    StepWrite,
)
from tracechain.types import iso_utc

HASH = r"^0x[0-9a-fA-F]{64}$"
SIGNATURE = r"^0x[0-9a-fA-F]{130}$"
Json = dict[str, Any]


def dec(value: Decimal | None) -> str | None:
    """A decimal as plain digits (never exponent form), None as null."""
    return None if value is None else format(value, "f")


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    """A dataclass's fields with decimals as plain-digit strings."""
    return {k: (dec(v) if isinstance(v, Decimal) else v) for k, v in fields.items()}


def tx_public(tx: TxResult) -> TxPublic:
    return TxPublic(tx_hash=tx.tx_hash, block_number=tx.block_number, gas_used=tx.gas_used)


# ---------------------------------------------------------------- opening
class CaseOpenFields(BaseModel):
    biz_transaction: str = Field(
        examples=["urn:epcglobal:cbv:bt:4012345000009:PO-2026-0117"],
        pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$",
        max_length=512,
        description="The purchase order as a CBV bizTransaction URI: the case's key (with the buyer).",
    )
    template_hash: str | None = Field(default=None, pattern=HASH, description="A registered template; default "
                                      "the built-in procurement template.")  # fmt: skip
    supplier: str | None = Field(default=None, pattern=ADDRESS, description="The supplier, when known at opening.")
    metadata: Json | None = Field(
        default=None, min_length=1, description="The case's opening document (its hash is committed)."
    )


class CaseRequestPrepare(CaseOpenFields):
    """What the buyer wants to open; the answer is the unsigned ERC-2771 request to sign."""

    sender: str = Field(alias="from", pattern=ADDRESS, description="The buyer.")
    ttl_seconds: int = Field(default=3600, ge=60, le=7 * 86400)


class CaseRequestPrepared(BaseModel):
    request: Json = Field(description="The unsigned ForwardRequest; add `signature` and post it to /v1/cases.")
    typed_data: Json = Field(description="The EIP-712 typed data to sign (eth_signTypedData_v4).")


class CaseCreate(CaseOpenFields):
    """Open a case: the buyer's signed `CaseRegistry.openCase` request with what it commits to."""

    request: ForwardRequestIn


class CaseOpenedPublic(BaseModel):
    case_id: str
    biz_transaction: str
    buyer: str
    template_hash: str
    metadata_hash: str
    tx: TxPublic
    case_url: str

    @classmethod
    def of(cls, o: CaseOpening, base: str) -> CaseOpenedPublic:
        return cls(
            case_id=o.case_id,
            biz_transaction=o.biz_transaction,
            buyer=o.buyer,
            template_hash=o.template_hash,
            metadata_hash=o.metadata_hash,
            tx=tx_public(o.tx),
            case_url=f"{base}/v1/cases/{o.case_id}",
        )


# ---------------------------------------------------------------- steps
class StepFields(BaseModel):
    kind: str = Field(examples=["contract"], description="A step kind of the case's template.")
    document: Json | None = Field(default=None, description="The step document (valid against the kind's schema).")
    event: str | None = Field(
        default=None,
        description="Instead of a document: the Event Hash ID (or its 0x digest) of a recorded EPCIS event that "
        "names the order in its bizTransactionList (deliveries, acceptances, warehousing).",
    )
    amends: int = Field(default=0, ge=0, description="The index of the step this one amends (0: none).")
    supplier: str | None = Field(default=None, pattern=ADDRESS, description="Award steps: the supplier named.")
    inspector: str | None = Field(default=None, pattern=ADDRESS, description="Steps an inspector signs: who.")
    # Exactly one of document and event: the service says so (422) once it knows the case exists.


class StepPrepare(StepFields):
    ttl_seconds: int = Field(default=3600, ge=60, le=30 * 86400, description="How long the signatures stay valid.")


class SignerSlot(BaseModel):
    role: str
    address: str


class StepPreparedPublic(BaseModel):
    """What every signer signs, in order; post the signatures with the same fields to .../steps."""

    case_id: str
    index: int
    kind: str
    document_hash: str
    ref: str
    signers: list[SignerSlot]
    deadline: int
    typed_data: Json

    @classmethod
    def of(cls, p: PreparedStep) -> StepPreparedPublic:
        typed = dict(p.typed_data)
        message = {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in typed["message"].items()}
        return cls(
            case_id=p.case_id,
            index=p.index,
            kind=p.kind.kind,
            document_hash="0x" + p.step.document_hash.hex(),
            ref="0x" + p.step.ref.hex(),
            signers=[SignerSlot(role=r, address=a) for r, a in zip(p.roles, p.signers, strict=True)],
            deadline=p.deadline,
            typed_data={**typed, "message": message},
        )


class StepCreate(StepFields):
    """Append a step: every required party's EIP-712 `CaseStep` signature, in the prepared order. The server
    submits it and pays; the contract checks each signer's role."""

    index: int | None = Field(default=None, ge=1, description="The index the signatures are for (checked).")
    deadline: int = Field(gt=0)
    signatures: list[Annotated[str, Field(pattern=SIGNATURE)]] = Field(
        min_length=1, max_length=3, description="One EIP-712 signature (0x and 130 hex digits) per signer, in order."
    )


class StepWritePublic(BaseModel):
    case_id: str
    index: int
    kind: str
    document_hash: str
    tx: TxPublic

    @classmethod
    def of(cls, w: StepWrite) -> StepWritePublic:
        return cls(case_id=w.case_id, index=w.index, kind=w.kind, document_hash=w.document_hash, tx=tx_public(w.tx))


# ---------------------------------------------------------------- the auditor's view
class ProblemPublic(BaseModel):
    code: str
    message: str
    index: int | None = None


class SignerPublic(BaseModel):
    role: str
    address: str
    name: str | None


class StepPublic(BaseModel):
    """One step as the chain recorded it, with its document and its verification."""

    index: int = Field(description="1-based position in the case's hash chain")
    kind: str
    title: str
    kind_code: int
    amends: int | None
    superseded_by: int | None = Field(description="the later step that amends this one, if any")
    source: Literal["document", "epcis"]
    document_hash: str
    event_hash_id: str | None
    party: str | None = Field(description="award steps: the supplier named on-chain")
    signers: list[SignerPublic]
    timestamp: int
    time: str
    date: str | None = Field(description="the document's own date (an EPCIS event's time)")
    tx_hash: str
    block_number: int
    head: str = Field(description="the case's hash-chain head after this step")
    document: Any
    verified: bool
    problems: list[ProblemPublic]


class PartyPublic(BaseModel):
    role: str
    address: str
    name: str | None


class EvidencePublic(BaseModel):
    case_id: str
    index: int
    kind: str
    document_hash: str
    verified: bool
    biz_transaction: str | None
    tx_hash: str | None


class FindingPublic(BaseModel):
    code: str
    category: str
    severity: Literal["high", "medium", "low"]
    message: str
    gtin: str | None
    values: dict[str, str]
    evidence: list[EvidencePublic] = Field(description="the steps (and documents) the finding rests on")
    evidence_verified: bool

    @classmethod
    def of(cls, f: Finding) -> FindingPublic:
        return cls(
            code=str(f.code),
            category=str(f.category),
            severity=str(f.severity),  # type: ignore[arg-type]
            message=f.message,
            gtin=f.gtin,
            values=dict(f.values),
            evidence=[EvidencePublic(**e.__dict__) for e in f.evidence],
            evidence_verified=f.evidence_verified,
        )


class ReconciliationLinePublic(BaseModel):
    gtin: str
    description: str | None
    unit: str
    ordered: str | None
    shipped: str | None
    received: str | None
    warehoused: str | None
    invoiced: str | None
    paid: str | None
    ordered_unit_price: str | None
    invoiced_unit_price: str | None
    status: Literal["ok", "mismatch", "open"]


class ReconciliationPublic(BaseModel):
    currency: str | None
    budget: str | None
    approval_limit: str | None
    ordered_amount: str | None
    invoiced_amount: str | None
    paid_amount: str | None
    lines: list[ReconciliationLinePublic]


class PriceCheckPublic(BaseModel):
    index: int
    gtin: str
    unit_price: str
    currency: str
    median: str | None
    deviation: str | None = Field(description="unit_price / median - 1")
    band: str
    history: int
    status: Literal["ok", "outlier", "no_baseline"]


class CaseVerificationPublic(BaseModel):
    """The case checked against CaseRegistry: the state folded from every step (docs/PROTOCOL.md) must
    hash to the contract's slot read at `block_number`."""

    verified: bool
    verdict: Literal["verified", "tampered", "incomplete"]
    chain_id: int
    contract: str
    block_number: int
    stored_state_hash: str | None
    recomputed_state_hash: str
    step_count: int
    problems: list[ProblemPublic]


class TemplateRefPublic(BaseModel):
    name: str
    version: str
    title: str
    hash: str
    kinds: list[str]


class CasePublic(BaseModel):
    """A procurement case as an auditor reads it."""

    case_id: str
    biz_transaction: str
    status: Literal["open", "closed"]
    template: TemplateRefPublic | None
    parties: list[PartyPublic]
    opened_at: int
    opened_time: str
    opened_tx: str
    opened_block: int
    metadata_hash: str
    metadata: Any
    timeline: list[StepPublic]
    reconciliation: ReconciliationPublic
    price_checks: list[PriceCheckPublic]
    findings: list[FindingPublic]
    verification: CaseVerificationPublic
    report_url: str
    findings_csv_url: str

    @classmethod
    def of(cls, v: CaseView, base: str) -> CasePublic:
        r = v.reconciliation
        return cls(
            case_id=v.case_id,
            biz_transaction=v.biz_transaction,
            status=v.status,  # type: ignore[arg-type]
            template=TemplateRefPublic(**{**v.template.__dict__, "kinds": list(v.template.kinds)})
            if v.template
            else None,
            parties=[PartyPublic(**p.__dict__) for p in v.parties],
            opened_at=v.opened_at,
            opened_time=iso_utc(v.opened_at),
            opened_tx=v.opened_tx,
            opened_block=v.opened_block,
            metadata_hash=v.metadata_hash,
            metadata=v.metadata,
            timeline=[
                StepPublic(
                    **{k: val for k, val in s.__dict__.items() if k not in ("facts", "signers", "problems")},
                    time=iso_utc(s.timestamp),
                    signers=[SignerPublic(**x.__dict__) for x in s.signers],
                    problems=[ProblemPublic(**p.__dict__) for p in s.problems],
                )
                for s in v.timeline
            ],
            reconciliation=ReconciliationPublic(
                currency=r.currency,
                budget=dec(r.budget),
                approval_limit=dec(r.approval_limit),
                ordered_amount=dec(r.ordered_amount),
                invoiced_amount=dec(r.invoiced_amount),
                paid_amount=dec(r.paid_amount),
                lines=[ReconciliationLinePublic.model_validate(_plain(line.__dict__)) for line in r.lines],
            ),
            price_checks=[PriceCheckPublic.model_validate(_plain(c.__dict__)) for c in v.price_checks],
            findings=[FindingPublic.of(f) for f in v.findings],
            verification=CaseVerificationPublic(
                verified=v.verification.verified,
                verdict=str(v.verification.verdict),  # type: ignore[arg-type]
                chain_id=v.verification.chain_id,
                contract=v.verification.contract,
                block_number=v.verification.block_number,
                stored_state_hash=v.verification.stored_state_hash,
                recomputed_state_hash=v.verification.recomputed_state_hash,
                step_count=v.verification.step_count,
                problems=[ProblemPublic(**p.__dict__) for p in v.verification.problems],
            ),
            report_url=f"{base}/v1/cases/{v.case_id}/report",
            findings_csv_url=f"{base}/v1/cases/{v.case_id}/findings.csv",
        )


class CaseSummaryPublic(BaseModel):
    case_id: str
    biz_transaction: str
    status: Literal["open", "closed"]
    buyer: str
    buyer_name: str | None
    supplier: str | None
    supplier_name: str | None
    step_count: int
    opened_at: int
    verdict: Literal["verified", "tampered", "incomplete"]
    findings: list[str] = Field(description="finding codes of the case's audit")

    @classmethod
    def of(cls, s: CaseSummary) -> CaseSummaryPublic:
        return cls(**{**s.__dict__, "findings": list(s.findings)})


class CasesPublic(BaseModel):
    items: list[CaseSummaryPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None

    @classmethod
    def of(cls, page: CasePage) -> CasesPublic:
        end = page.offset + len(page.items)
        return cls(
            items=[CaseSummaryPublic.of(s) for s in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
            next_offset=end if end < page.total else None,
        )
