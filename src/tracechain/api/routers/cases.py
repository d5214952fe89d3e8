"""Procurement cases over HTTP: buyers open cases with a request they signed; parties append steps with
their EIP-712 signatures (the server submits and pays, the contract checks every role); auditors read
verified, reconciled and audited cases, page and filter them, export findings as CSV, print a case
report, and use the auditors' case page at /cases."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import HTMLResponse

from tracechain import errors
from tracechain.api.case_report import render_report
from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import BODY_STATUSES, READ_STATUSES, error_responses
from tracechain.api.schemas.cases import (
    CaseCreate,
    CaseOpenedPublic,
    CasePublic,
    CaseRequestPrepare,
    CaseRequestPrepared,
    CasesPublic,
    StepCreate,
    StepPrepare,
    StepPreparedPublic,
    StepWritePublic,
)
from tracechain.services.cases import AuditPolicy, CaseReader, CaseService, CaseView, Finding, FindingCode
from tracechain.services.runtime import Runtime

router = APIRouter(tags=["procurement cases"])
READ_ERRORS = error_responses(*READ_STATUSES, _404="No such case (`case_not_found`) or template")
WRITE_ERRORS = error_responses(*BODY_STATUSES, 401, 403, 404, 409, 500)
CSV_COLUMNS = (
    "case_id", "biz_transaction", "status", "buyer", "supplier", "severity", "category", "code", "gtin", "message",
    "steps", "evidence_verified", "values",
)  # fmt: skip
Address = Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")]
CaseIdPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The case id (0x and 64 hex digits).")]
TemplatePath = Annotated[
    str, Path(pattern=r"^(default|0x[0-9a-fA-F]{64})$", description="A template hash, or `default`.")
]


def _base(runtime: Runtime) -> str:
    return str(runtime.settings.public_base_url).rstrip("/")


def _view(runtime: Runtime, case_id: str, price_band: Decimal | None = None) -> CaseView:
    reader = CaseReader(runtime)
    policy = None
    if price_band is not None:
        policy = AuditPolicy(**{**reader.policy.__dict__, "price_band": price_band})
    return reader.case(case_id, policy=policy)


# ---------------------------------------------------------------- writers
@router.post("/v1/procurement/requests", response_model=CaseRequestPrepared, responses=WRITE_ERRORS)
def prepare_case_request(body: CaseRequestPrepare, runtime: RuntimeDep) -> CaseRequestPrepared:
    """The unsigned ERC-2771 request (and its EIP-712 typed data) that opens this case, checked against the
    contract first (a buyer without a supply-chain role, an unknown template or a case already open fail
    now). Sign it as the buyer and post it with the same fields to POST /v1/cases."""
    request = CaseService(runtime).open_request(
        body.sender, body.biz_transaction, body.template_hash, body.metadata, body.supplier, ttl=body.ttl_seconds
    )
    typed = request.typed_data(runtime.chain.chain_id, runtime.deployment.address("TraceChainForwarder"))
    return CaseRequestPrepared(request={**typed["message"], "signature": None}, typed_data=typed)


@router.post("/v1/cases", status_code=status.HTTP_201_CREATED, response_model=CaseOpenedPublic, responses=WRITE_ERRORS)
def open_case(body: CaseCreate, runtime: RuntimeDep) -> CaseOpenedPublic:
    """Open a procurement case from the buyer's signed `openCase` request (relayed; the server pays)."""
    opening = CaseService(runtime).relay_open(
        body.request.to_request(), body.biz_transaction, body.template_hash, body.metadata, body.supplier
    )
    return CaseOpenedPublic.of(opening, _base(runtime))


@router.post("/v1/cases/{case_id}/steps/prepare", response_model=StepPreparedPublic, responses=WRITE_ERRORS)
def prepare_step(case_id: CaseIdPath, body: StepPrepare, runtime: RuntimeDep) -> StepPreparedPublic:
    """Check a step's document (or EPCIS event) against its kind and return what each party signs: the
    EIP-712 `CaseStep` typed data, its index, deadline and the signers in order."""
    prepared = CaseService(runtime).prepare_step(
        case_id, body.kind, document=body.document, event=body.event, amends=body.amends, supplier=body.supplier,
        inspector=body.inspector, ttl=body.ttl_seconds,
    )  # fmt: skip
    return StepPreparedPublic.of(prepared)


@router.post(
    "/v1/cases/{case_id}/steps",
    status_code=status.HTTP_201_CREATED,
    response_model=StepWritePublic,
    responses=WRITE_ERRORS,
)
def append_step(case_id: CaseIdPath, body: StepCreate, runtime: RuntimeDep) -> StepWritePublic:
    """Append a step signed by every party its kind requires. The contract refuses a signer in the wrong
    role (403) and a step prepared for another position of the case (409); nothing is kept then."""
    service = CaseService(runtime)
    prepared = service.prepare_step(
        case_id, body.kind, document=body.document, event=body.event, amends=body.amends, supplier=body.supplier,
        inspector=body.inspector, deadline=body.deadline,
    )  # fmt: skip
    if body.index is not None and body.index != prepared.index:
        raise errors.ConflictError(
            f"the signatures are for step {body.index}, but the case is at step {prepared.index}",
            hint="prepare the step again and have the parties sign it",
        )
    return StepWritePublic.of(service.submit_step(prepared, body.signatures))


# ---------------------------------------------------------------- auditors
@router.get("/v1/cases", response_model=CasesPublic, responses=READ_ERRORS)
def list_cases(
    runtime: RuntimeDep,
    buyer: Address = None,
    supplier: Address = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(open|closed)$")] = None,
    finding: Annotated[FindingCode | None, Query(description="only cases with this finding")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CasesPublic:
    """Cases, newest first, with each one's verdict and finding codes; filter by buyer, supplier, status
    (open, closed) and finding code."""
    page = CaseReader(runtime).page(
        buyer=_checksum(buyer), supplier=_checksum(supplier), status=status_,
        finding=str(finding) if finding else None, limit=limit, offset=offset,
    )  # fmt: skip
    return CasesPublic.of(page)


@router.get(
    "/v1/cases/findings.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "Findings as CSV"},
        **READ_ERRORS,
    },  # fmt: skip
)
def findings_csv(
    runtime: RuntimeDep,
    buyer: Address = None,
    supplier: Address = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(open|closed)$")] = None,
    finding: Annotated[FindingCode | None, Query()] = None,
) -> Response:
    """Every finding of the matching cases as CSV, one row per finding, with the steps it rests on."""
    rows = CaseReader(runtime).findings(
        buyer=_checksum(buyer), supplier=_checksum(supplier), status=status_, finding=str(finding) if finding else None
    )
    return _csv(rows, "case-findings.csv")


@router.get("/v1/procurement/templates/{template_hash}", response_model=dict[str, Any], responses=READ_ERRORS)
def get_template(template_hash: TemplatePath, runtime: RuntimeDep) -> dict[str, Any]:
    """A process template's JSON (`default` for the built-in procurement template): steps, signers and the
    JSON Schema of every step kind's document."""
    service = CaseService(runtime)
    return service.template(None if template_hash == "default" else template_hash).document


@router.get("/v1/cases/{case_id}", response_model=CasePublic, responses=READ_ERRORS)
def get_case(
    case_id: CaseIdPath,
    runtime: RuntimeDep,
    price_band: Annotated[float | None, Query(gt=0, lt=10, description="Price watch band, e.g. 0.2.")] = None,
) -> CasePublic:
    """The case: parties, the timeline with every step verified, the reconciliation of ordered, shipped,
    received, warehoused, invoiced and paid per item, price checks against the trailing median, the
    findings with the steps they rest on, and the whole case checked live against the chain."""
    band = None if price_band is None else Decimal(str(price_band))
    return CasePublic.of(_view(runtime, case_id, band), _base(runtime))


@router.get(
    "/v1/cases/{case_id}/findings.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "Findings as CSV"},
        **READ_ERRORS,
    },  # fmt: skip
)
def case_findings_csv(case_id: CaseIdPath, runtime: RuntimeDep) -> Response:
    """The case's findings as CSV."""
    view = _view(runtime, case_id)
    return _csv([(view, f) for f in view.findings], f"findings-{view.case_id}.csv")


@router.get(
    "/v1/cases/{case_id}/report",
    response_class=Response,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report"},
        **READ_ERRORS,
    },  # fmt: skip
)
def case_report(case_id: CaseIdPath, runtime: RuntimeDep) -> Response:
    """A printable case report (HTML): verdict, parties, timeline, reconciliation, findings and evidence."""
    return HTMLResponse(render_report(CasePublic.of(_view(runtime, case_id), _base(runtime))))


@router.get("/cases", response_class=HTMLResponse, include_in_schema=False)
def auditor_page() -> str:
    """The auditors' case page."""
    return resources.files("tracechain.api").joinpath("static/cases.html").read_text()


def _checksum(address: str | None) -> str | None:
    from tracechain.types import to_address

    return None if address is None else to_address(address)


def _csv(rows: list[tuple[CaseView, Finding]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for view, f in rows:
        buyer = next((p.address for p in view.parties if p.role == "buyer"), "")
        supplier = next((p.address for p in view.parties if p.role == "supplier"), "")
        steps = ";".join(f"{e.case_id if e.case_id != view.case_id else ''}#{e.index} {e.kind} {e.document_hash}"
                         for e in f.evidence)  # fmt: skip
        writer.writerow([
            view.case_id, view.biz_transaction, view.status, buyer, supplier, str(f.severity), str(f.category),
            str(f.code), f.gtin or "", f.message, steps, str(f.evidence_verified).lower(),
            json.dumps(f.values, sort_keys=True),
        ])  # fmt: skip
    return Response(
        out.getvalue(), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
