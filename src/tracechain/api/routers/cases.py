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

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse

from tracechain import errors
from tracechain.api.case_report import render_report
from tracechain.api.deps import RuntimeDep
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
from tracechain.api.schemas.common import ErrorPublic
from tracechain.services.cases import AuditPolicy, CaseReader, CaseService, CaseView, Finding, FindingCode
from tracechain.services.runtime import Runtime

router = APIRouter(tags=["procurement cases"], responses={c: {"model": ErrorPublic} for c in (401, 403, 404, 409, 422)})
CSV_COLUMNS = (
    "case_id", "biz_transaction", "status", "buyer", "supplier", "severity", "category", "code", "gtin", "message",
    "steps", "evidence_verified", "values",
)  # fmt: skip
Address = Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")]


def _base(runtime: Runtime) -> str:
    return str(runtime.settings.public_base_url).rstrip("/")


def _view(runtime: Runtime, case_id: str, price_band: Decimal | None = None) -> CaseView:
    reader = CaseReader(runtime)
    policy = None
    if price_band is not None:
        policy = AuditPolicy(**{**reader.policy.__dict__, "price_band": price_band})
    return reader.case(case_id, policy=policy)


# ---------------------------------------------------------------- writers
@router.post("/v1/cases/requests", response_model=CaseRequestPrepared)
def prepare_case_request(body: CaseRequestPrepare, runtime: RuntimeDep) -> CaseRequestPrepared:
    """The unsigned ERC-2771 request (and its EIP-712 typed data) that opens this case, checked against the
    contract first (a buyer without a supply-chain role, an unknown template or a case already open fail
    now). Sign it as the buyer and post it with the same fields to POST /v1/cases."""
    call = CaseService(runtime).open_call(body.biz_transaction, body.template_hash, body.metadata, body.supplier)
    request = runtime.transactor.build_request(body.sender, call, ttl=body.ttl_seconds)
    typed = request.typed_data(runtime.chain.chain_id, runtime.deployment.address("TraceChainForwarder"))
    return CaseRequestPrepared(request={**typed["message"], "signature": None}, typed_data=typed)


@router.post("/v1/cases", status_code=status.HTTP_201_CREATED, response_model=CaseOpenedPublic)
def open_case(body: CaseCreate, runtime: RuntimeDep) -> CaseOpenedPublic:
    """Open a procurement case from the buyer's signed `openCase` request (relayed; the server pays)."""
    opening = CaseService(runtime).relay_open(
        body.request.to_request(), body.biz_transaction, body.template_hash, body.metadata, body.supplier
    )
    return CaseOpenedPublic.of(opening, _base(runtime))


@router.post("/v1/cases/{case_id}/steps/prepare", response_model=StepPreparedPublic)
def prepare_step(case_id: str, body: StepPrepare, runtime: RuntimeDep) -> StepPreparedPublic:
    """Check a step's document (or EPCIS event) against its kind and return what each party signs: the
    EIP-712 `CaseStep` typed data, its index, deadline and the signers in order."""
    prepared = CaseService(runtime).prepare_step(
        case_id, body.kind, document=body.document, event=body.event, amends=body.amends, supplier=body.supplier,
        inspector=body.inspector, ttl=body.ttl_seconds,
    )  # fmt: skip
    return StepPreparedPublic.of(prepared)


@router.post("/v1/cases/{case_id}/steps", status_code=status.HTTP_201_CREATED, response_model=StepWritePublic)
def append_step(case_id: str, body: StepCreate, runtime: RuntimeDep) -> StepWritePublic:
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
@router.get("/v1/cases", response_model=CasesPublic)
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


@router.get("/v1/cases/findings.csv", response_class=Response)
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


@router.get("/v1/cases/templates/{template_hash}", response_model=dict[str, Any])
def get_template(template_hash: str, runtime: RuntimeDep) -> dict[str, Any]:
    """A process template's JSON (`default` for the built-in procurement template): steps, signers and the
    JSON Schema of every step kind's document."""
    service = CaseService(runtime)
    return service.template(None if template_hash == "default" else template_hash).document


@router.get("/v1/cases/{case_id}", response_model=CasePublic)
def get_case(
    case_id: str,
    runtime: RuntimeDep,
    price_band: Annotated[Decimal | None, Query(gt=0, lt=10, description="price watch band, e.g. 0.2")] = None,
) -> CasePublic:
    """The case: parties, the timeline with every step verified, the reconciliation of ordered, shipped,
    received, warehoused, invoiced and paid per item, price checks against the trailing median, the
    findings with the steps they rest on, and the whole case checked live against the chain."""
    return CasePublic.of(_view(runtime, case_id, price_band), _base(runtime))


@router.get("/v1/cases/{case_id}/findings.csv", response_class=Response)
def case_findings_csv(case_id: str, runtime: RuntimeDep) -> Response:
    """The case's findings as CSV."""
    view = _view(runtime, case_id)
    return _csv([(view, f) for f in view.findings], f"findings-{view.case_id}.csv")


@router.get("/v1/cases/{case_id}/report", response_class=HTMLResponse)
def case_report(case_id: str, runtime: RuntimeDep) -> str:
    """A printable case report (HTML): verdict, parties, timeline, reconciliation, findings and evidence."""
    return render_report(CasePublic.of(_view(runtime, case_id), _base(runtime)))


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
