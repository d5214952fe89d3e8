"""Notary and auditor routes: notarize records, read their status and receipts, verify receipts live
against the chain, and page or export an actor's audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status
from fastapi.responses import StreamingResponse

from tracechain import errors
from tracechain.api.bodies import StrictJsonRoute
from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import BODY_STATUSES, READ_STATUSES, error_responses
from tracechain.api.params import AddressPath, LimitQuery, OffsetQuery, RecordHashPath
from tracechain.api.schemas.notary import (
    HASH,
    ActivitiesPublic,
    ActivityPublic,
    CosignedNotarizationCreate,
    JsonRpcResponse,
    NotarizationCreate,
    NotarizationPublic,
    NotarizationsPublic,
    SingleNotarizationCreate,
    VerificationPublic,
    VerifyRequest,
)
from tracechain.chain.rpc_proxy import ProxyLimits, ReadOnlyRpcProxy
from tracechain.errors import RecordHashMismatchError
from tracechain.hashing import document_hash, parse_bytes32
from tracechain.services.notary import NotaryService
from tracechain.services.receipts import NotaryReceipt, verify_receipt
from tracechain.store.notary import actor_activity, actor_activity_rows
from tracechain.types import to_address

router = APIRouter(prefix="/v1", tags=["notary and auditors"], route_class=StrictJsonRoute)
CSV_COLUMNS = ("block_number", "time", "timestamp", "actor", "kind", "subject", "contract", "tx_hash", "log_index")
CSV_CHUNK_ROWS = 1000  # rows read from the store at a time while the CSV streams


def _base(runtime: Any) -> str:
    return str(runtime.settings.public_base_url).rstrip("/")


@router.post(
    "/notarizations",
    response_model=NotarizationPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        202: {"model": NotarizationPublic, "description": "Queued for a batch, not anchored yet."},
        **error_responses(*BODY_STATUSES, 401, 403, 409, 500),
    },
)
def notarize(body: NotarizationCreate, runtime: RuntimeDep, response: Response) -> NotarizationPublic:
    """Notarize a record singly (a notary's relayed request), co-signed (every party's signature,
    submitted and paid by the server) or queued for the next Merkle batch (202 until anchored)."""
    svc = NotaryService(runtime)
    record_hash = svc.record_hash_of(body.record, body.record_hash)
    if isinstance(body, SingleNotarizationCreate):
        result = svc.relay_single(body.request.to_request(), record_hash, body.kind)
    elif isinstance(body, CosignedNotarizationCreate):
        result = svc.notarize_cosigned(record_hash, body.kind, body.parties, body.deadline, body.signatures)
    else:
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


@router.get(
    "/notarizations/{record_hash}",
    response_model=NotarizationsPublic,
    responses=error_responses(*READ_STATUSES, _404="Never notarized nor queued (`notarization_not_found`)"),
)
def get_notarizations(record_hash: RecordHashPath, runtime: RuntimeDep) -> NotarizationsPublic:
    """Every notarization of a record hash, newest first: queued or sealed in a batch, or notarized
    (single by a notary, co-signed by parties, or batched), each with its id and receipt link."""
    items = NotaryService(runtime).notarizations(parse_bytes32(record_hash))
    return NotarizationsPublic.of(items[0].record_hash, items, _base(runtime))


@router.get(
    "/notarizations/{record_hash}/receipt",
    response_model=dict[str, Any],
    responses=error_responses(*READ_STATUSES, _404="Not notarized, or not anchored yet (`receipt_not_ready`)"),
)
def get_receipt(
    record_hash: RecordHashPath,
    runtime: RuntimeDep,
    id: Annotated[str | None, Query(pattern=HASH, description="Which notarization (default: the earliest).")] = None,
) -> dict[str, Any]:
    """The versioned receipt of notarization `id` of the record, or of its earliest (see
    docs/PROTOCOL.md); check it with `tracechain verify` or POST /v1/verify. A batched record whose
    batch the chain does not hold (not anchored yet, or rolled back) has none yet: 404 receipt_not_ready."""
    return NotaryService(runtime).receipt(parse_bytes32(record_hash), id).to_json()


@router.post(
    "/verify",
    response_model=VerificationPublic,
    responses=error_responses(*BODY_STATUSES, _404="No receipt for this record (`notarization_not_found`)"),
)
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


@router.get("/actors/{address}/activity", response_model=ActivitiesPublic, responses=error_responses(*READ_STATUSES))
def activity(
    address: AddressPath, runtime: RuntimeDep, limit: LimitQuery = 50, offset: OffsetQuery = 0
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


@router.get(
    "/actors/{address}/activity.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The audit trail as CSV (RFC 4180, a header row, newest first)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **error_responses(*READ_STATUSES),
    },
)
def activity_csv(address: AddressPath, runtime: RuntimeDep) -> StreamingResponse:
    """The actor's whole audit trail as CSV, newest first, streamed as it is read from the store."""
    actor = to_address(address)
    runtime.refresh()
    return StreamingResponse(
        _csv_lines(runtime, actor),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="activity-{actor}.csv"'},
    )


def _csv_lines(runtime: Any, actor: str) -> Iterator[str]:
    """The CSV, CSV_CHUNK_ROWS rows at a time, each chunk read in its own store session."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entries in actor_activity_rows(runtime.store, actor, CSV_CHUNK_ROWS):
        for e in entries:
            row = ActivityPublic.of(e).model_dump()
            writer.writerow([row[c] for c in CSV_COLUMNS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue()


@router.post(
    "/rpc",
    response_model=JsonRpcResponse | list[JsonRpcResponse],
    response_model_exclude_unset=True,  # a response holds `result` or `error`, never both
    responses=error_responses(400, 413, _422="No body at all (`invalid_request`)"),
    openapi_extra={
        "requestBody": {
            "description": "A JSON-RPC 2.0 request object or a batch (array) of them. Whatever JSON is sent, "
            "the answer is a JSON-RPC response: a malformed call gets an error object, not an HTTP error.",
            "content": {
                "application/json": {"example": {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}}
            },
        }
    },
)
def read_only_json_rpc(body: Annotated[Any, Body()], runtime: RuntimeDep) -> Any:
    """A read-only JSON-RPC 2.0 endpoint over this server's chain (blocks, receipts, code, calls,
    logs): enough for `tracechain verify --rpc <this URL>` when the chain has no endpoint of its
    own, as in the demo. An audit that must not trust this server uses an independent node.

    Its work is bounded (TRACECHAIN_PROXY_* settings): batch length, `eth_getLogs` block range and
    result count, gas of `eth_call` / `eth_estimateGas`, and the wall time of the whole request.
    What exceeds a bound, like any malformed call, is answered with a JSON-RPC error object."""
    return ReadOnlyRpcProxy(runtime.chain, ProxyLimits.of(runtime.settings)).answer(body)
