"""Notary and auditor routes: notarize records, read their status and receipts, verify receipts live
against the chain, and page or export an actor's audit trail."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status
from fastapi.responses import PlainTextResponse

from tracechain import errors
from tracechain.api.deps import RuntimeDep
from tracechain.api.schemas.common import ErrorPublic
from tracechain.api.schemas.notary import (
    HASH,
    ActivitiesPublic,
    ActivityPublic,
    NotarizationCreate,
    NotarizationPublic,
    NotarizationsPublic,
    VerificationPublic,
    VerifyRequest,
)
from tracechain.errors import RecordHashMismatchError
from tracechain.hashing import document_hash, parse_bytes32
from tracechain.services.notary import NotaryService
from tracechain.services.receipts import NotaryReceipt, read_only_rpc, verify_receipt
from tracechain.store.notary import actor_activity
from tracechain.types import to_address

router = APIRouter(
    prefix="/v1",
    tags=["notary and auditors"],
    responses={code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 422)},
)
CSV_COLUMNS = ("block_number", "time", "timestamp", "actor", "kind", "subject", "contract", "tx_hash", "log_index")


def _base(runtime: Any) -> str:
    return str(runtime.settings.public_base_url).rstrip("/")


@router.post(
    "/notarizations",
    response_model=NotarizationPublic,
    status_code=status.HTTP_201_CREATED,
    responses={202: {"model": NotarizationPublic, "description": "Queued for a batch, not anchored yet."}},
)
def notarize(body: NotarizationCreate, runtime: RuntimeDep, response: Response) -> NotarizationPublic:
    """Notarize a record singly (a notary's relayed request), co-signed (every party's signature,
    submitted and paid by the server) or queued for the next Merkle batch (202 until anchored)."""
    svc = NotaryService(runtime)
    record_hash = svc.record_hash_of(body.record, body.record_hash)
    if body.method == "single":
        assert body.request is not None
        result = svc.relay_single(body.request.to_request(), record_hash, body.kind)
    elif body.method == "cosigned":
        assert body.parties is not None and body.signatures is not None and body.deadline is not None
        result = svc.notarize_cosigned(record_hash, body.kind, body.parties, body.deadline, body.signatures)
    else:
        assert body.submitter is not None and body.signature is not None and body.deadline is not None
        submitter = svc.check_queue_signature(record_hash, body.kind, body.submitter, body.deadline, body.signature)
        svc.enqueue(record_hash, body.kind, submitter)
        svc.keep(body.record)
        try:
            svc.flush_due()
        except errors.ConflictError:
            pass  # another flusher (the background task) is anchoring it; the record stays queued
        result = svc.queue_entry(record_hash, body.kind)
    svc.keep(body.record)  # only once notarized or queued: a refused record leaves nothing behind
    if result.status != "notarized":
        response.status_code = status.HTTP_202_ACCEPTED
    return NotarizationPublic.of(result, _base(runtime))


@router.get("/notarizations/{record_hash}", response_model=NotarizationsPublic)
def get_notarizations(record_hash: str, runtime: RuntimeDep) -> NotarizationsPublic:
    """Every notarization of a record hash, newest first: queued or sealed in a batch, or notarized
    (single by a notary, co-signed by parties, or batched), each with its id and receipt link."""
    h = parse_bytes32(record_hash)
    items = NotaryService(runtime).notarizations(h)
    return NotarizationsPublic.of(items[0].record_hash, items, _base(runtime))


@router.get("/notarizations/{record_hash}/receipt", response_model=dict[str, Any])
def get_receipt(
    record_hash: str,
    runtime: RuntimeDep,
    id: Annotated[str | None, Query(pattern=HASH, description="Which notarization (default: the earliest).")] = None,
) -> dict[str, Any]:
    """The versioned receipt of notarization `id` of the record, or of its earliest (see
    docs/PROTOCOL.md); check it with `tracechain verify` or POST /v1/verify. A batched record whose
    batch the chain does not hold (not anchored yet, or rolled back) has none yet: 404 receipt_not_ready."""
    return NotaryService(runtime).receipt(parse_bytes32(record_hash), id).to_json()


@router.post("/verify", response_model=VerificationPublic)
def verify(body: VerifyRequest, runtime: RuntimeDep) -> VerificationPublic:
    """Verify a receipt (or the receipt of a record or record hash) live against the chain.
    A verdict that does not hold is still a 200 with `ok: false` and the reason."""
    if body.receipt is not None:
        receipt = NotaryReceipt.from_json(body.receipt)
    else:
        receipt = NotaryService(runtime).receipt(_hash(body), body.id)
    notary = runtime.deployment.address("Notary")
    return VerificationPublic.of(verify_receipt(runtime.chain, receipt, body.record, notary=notary))


def _hash(body: VerifyRequest) -> bytes:
    """The record's hash (checked against record_hash when both are given), without storing anything."""
    if body.record is None:
        assert body.record_hash is not None
        return parse_bytes32(body.record_hash)
    digest = document_hash(body.record)
    if body.record_hash is not None and parse_bytes32(body.record_hash) != digest:
        raise RecordHashMismatchError(f"the record does not hash to {body.record_hash}")
    return digest


@router.get("/actors/{address}/activity", response_model=ActivitiesPublic)
def activity(
    address: str,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, description="Entries to skip.")] = 0,
) -> ActivitiesPublic:
    """Everything the actor wrote (product events, notarizations, co-signatures, certificates), newest first."""
    actor = to_address(address)
    runtime.refresh()
    with runtime.store.session() as s:
        entries, total = actor_activity(s, actor, limit, offset)
    next_offset = offset + len(entries) if offset + len(entries) < total else None
    return ActivitiesPublic(
        items=[ActivityPublic.of(e) for e in entries], total=total, limit=limit, offset=offset, next_offset=next_offset
    )


@router.get("/actors/{address}/activity.csv", response_class=PlainTextResponse)
def activity_csv(address: str, runtime: RuntimeDep) -> Response:
    """The actor's whole audit trail as CSV, newest first."""
    actor = to_address(address)
    runtime.refresh()
    with runtime.store.session() as s:
        entries, _ = actor_activity(s, actor, None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        row = ActivityPublic.of(e).model_dump()
        writer.writerow([row[c] for c in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="activity-{actor}.csv"'},
    )


@router.post("/rpc", response_model=None)
def read_only_json_rpc(body: Annotated[Any, Body()], runtime: RuntimeDep) -> Any:
    """A read-only JSON-RPC 2.0 endpoint over this server's chain (blocks, receipts, code, calls,
    logs): enough for `tracechain verify --rpc <this URL>` when the chain has no endpoint of its
    own, as in the demo. An audit that must not trust this server uses an independent node."""
    if isinstance(body, list):
        return [read_only_rpc(runtime.chain, item) for item in body]
    return read_only_rpc(runtime.chain, body)
