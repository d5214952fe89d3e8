"""Product provenance over HTTP: consumers read verified traces (also through the GS1 Digital Link
resolver path); writers post requests they signed themselves, which the server checks against the
documents sent with them and relays."""

from __future__ import annotations

from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from starlette.convertors import PathConvertor, register_url_convertor

from tracechain.api.bodies import StrictJsonRoute
from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import BODY_STATUSES, READ_STATUSES, error_responses
from tracechain.api.params import GtinPath, LimitQuery, OffsetQuery, ProductIdPath, SerialPath
from tracechain.api.schemas.products import (
    AffectedPagePublic,
    AffectedPublic,
    CustodyCreate,
    EpcisCapture,
    ForceCustodyCreate,
    ImportPublic,
    ProductCreate,
    ProductEventsCreate,
    ProductPublic,
    RecallCreate,
    RequestPrepare,
    RequestPrepared,
    WriteReceiptPublic,
)
from tracechain.epcis.identifiers import parse_product_id
from tracechain.errors import InvalidInputError
from tracechain.services.provenance import ProvenanceService, TraceReader
from tracechain.services.provenance.lineage import LineageReader
from tracechain.services.runtime import Runtime

router = APIRouter(tags=["products"], route_class=StrictJsonRoute)
WRITE_SUFFIXES = ("events", "custody", "force-custody", "recall")


class ReadableProductIdConvertor(PathConvertor):
    """A product ID in a read path: any path, except one ending in a write's own segment, so that
    `GET /v1/products/X/events` is the 405 it looks like (Allow: POST), not a read of "X/events"."""

    regex = ".*" + "".join(f"(?<!/{suffix})" for suffix in WRITE_SUFFIXES)


register_url_convertor("readable_product_id", ReadableProductIdConvertor())
_T = TypeVar("_T")
# Traces change only when the chain does; a few seconds of caching keeps scans cheap, and a recall
# still shows within seconds.
CACHE_CONTROL = "public, max-age=5"

ERRORS = error_responses(*READ_STATUSES, _404="No such product (`product_not_found`)", _422="Invalid product ID")
# A relayed write: the body, the signature, the signer's rights, the product's state, the chain.
WRITE_ERRORS = error_responses(*BODY_STATUSES, 401, 403, 404, 409, 500)


def _service(runtime: Runtime) -> ProvenanceService:
    return ProvenanceService(runtime)


def _trace(runtime: Runtime, product_id: str, limit: int = 50, before: int | None = None) -> Response:
    """The rendered trace, computed once per product, page and indexed block (the index holds nothing
    newer until the next block, so a burst of scans is answered from memory)."""
    canonical = parse_product_id(product_id).canonical
    runtime.refresh()

    def render() -> bytes:
        trace = TraceReader(runtime).trace(canonical, limit=limit, before=before)
        lineage = LineageReader(runtime).lineage(trace.product_key)
        via = lineage.recall_path
        reason = runtime.store.get_document(via.reason_hash) if via and via.reason_hash else None
        public = ProductPublic.of(trace, runtime.settings.public_base_url, lineage, reason)
        return public.model_dump_json().encode()

    body = runtime.memo(("product", canonical, limit, before, runtime.indexed_block_id()), render)
    return Response(body, media_type="application/json", headers={"Cache-Control": CACHE_CONTROL})


# ---------------------------------------------------------------- writers
@router.post(
    "/v1/products",
    status_code=status.HTTP_201_CREATED,
    response_model=WriteReceiptPublic,
    responses=error_responses(*BODY_STATUSES, 401, 403, 409, 500),
)
def register_product(body: ProductCreate, runtime: RuntimeDep) -> WriteReceiptPublic:
    """Register a product with its metadata, from the manufacturer's signed request."""
    receipt = _service(runtime).relay_register(body.request.to_request(), body.product_id, body.metadata)
    return WriteReceiptPublic.of(receipt)


@router.post(
    "/v1/products/{product_id:path}/events",
    status_code=status.HTTP_201_CREATED,
    response_model=WriteReceiptPublic,
    responses=WRITE_ERRORS,
)
def record_events(product_id: ProductIdPath, body: ProductEventsCreate, runtime: RuntimeDep) -> WriteReceiptPublic:
    """Record EPCIS 2.0 ObjectEvents of one product, from the actor's signed request."""
    return WriteReceiptPublic.of(_service(runtime).relay_events(body.request.to_request(), body.events, product_id))


@router.post(
    "/v1/products/{product_id:path}/custody",
    status_code=status.HTTP_201_CREATED,
    response_model=WriteReceiptPublic,
    responses=WRITE_ERRORS,
)
def transfer_custody(product_id: ProductIdPath, body: CustodyCreate, runtime: RuntimeDep) -> WriteReceiptPublic:
    """Hand custody to another actor, from the current custodian's signed request."""
    return WriteReceiptPublic.of(_service(runtime).relay_transfer(body.request.to_request(), product_id))


@router.post(
    "/v1/products/{product_id:path}/force-custody",
    status_code=status.HTTP_201_CREATED,
    response_model=WriteReceiptPublic,
    responses=WRITE_ERRORS,
)
def force_custody(product_id: ProductIdPath, body: ForceCustodyCreate, runtime: RuntimeDep) -> WriteReceiptPublic:
    """Move custody a custodian cannot hand over (suspended, key lost), from governance's signed request."""
    receipt = _service(runtime).relay_force_custody(body.request.to_request(), product_id, body.reason)
    return WriteReceiptPublic.of(receipt)


@router.post(
    "/v1/products/{product_id:path}/recall",
    status_code=status.HTTP_201_CREATED,
    response_model=WriteReceiptPublic,
    responses=WRITE_ERRORS,
)
def recall_product(product_id: ProductIdPath, body: RecallCreate, runtime: RuntimeDep) -> WriteReceiptPublic:
    """Recall a product with its notice, from the manufacturer's or governance's signed request."""
    receipt = _service(runtime).relay_recall(body.request.to_request(), product_id, body.notice)
    return WriteReceiptPublic.of(receipt)


@router.post(
    "/v1/epcis/capture", status_code=status.HTTP_201_CREATED, response_model=ImportPublic, responses=WRITE_ERRORS
)
def capture_epcis(body: EpcisCapture, runtime: RuntimeDep) -> ImportPublic:
    """Import an EPCIS 2.0 document (every event not yet recorded) with its signed requests, in order."""
    requests = [r.to_request() for r in body.requests]
    return ImportPublic.of(_service(runtime).relay_epcis(requests, body.document))


@router.post(
    "/v1/provenance/requests",
    response_model=RequestPrepared,
    responses=error_responses(*BODY_STATUSES, 403, 404, 409),
)
def prepare_request(body: RequestPrepare, runtime: RuntimeDep) -> RequestPrepared:
    """Build the unsigned forward request for a provenance write (computing Event Hash IDs and
    document hashes for the signer), after checking the contract would accept it from `from`.
    Sign `typed_data` (EIP-712) and post `request` with its `signature` to the matching endpoint."""
    service = _service(runtime)
    if body.action == "register":
        calls = [service.register_call(_need(body.product_id, "product_id"), body.metadata)]
    elif body.action == "events":
        calls = [service.events_call(_need(body.events, "events"))]
    elif body.action == "epcis":
        calls = service.epcis_calls(_need(body.document, "document"))
    elif body.action == "transfer":
        calls = [service.transfer_call(_need(body.product_id, "product_id"), _need(body.to, "to"), body.sender)]
    elif body.action == "force-custody":
        pid, to, reason = _need(body.product_id, "product_id"), _need(body.to, "to"), _need(body.reason, "reason")
        calls = [service.force_custody_call(pid, to, reason)]
    else:
        calls = [service.recall_call(_need(body.product_id, "product_id"), _need(body.notice, "notice"))]
    requests = service.unsigned_requests(body.sender, calls, body.ttl_seconds)
    forwarder = runtime.deployment.address("TraceChainForwarder")
    typed = [r.typed_data(runtime.chain.chain_id, forwarder) for r in requests]
    unsigned = [{**t["message"], "signature": None} for t in typed]
    return RequestPrepared(request=unsigned[0], typed_data=typed[0], requests=unsigned, typed_data_list=typed)


def _need(value: _T | None, name: str) -> _T:
    if value is None:
        raise InvalidInputError(f"{name} is required for this action")
    return value


# ---------------------------------------------------------------- consumers
def scan_url(base_url: str, product_id: str) -> str:
    """The URL a product's QR code carries: its GS1 Digital Link on this server (browsers land on the
    web page), or the web page itself for opaque IDs.

    Raises:
        InvalidInputError: not a valid product ID.
    """
    pid = parse_product_id(product_id)
    path = pid.digital_link_path or "/?id=" + quote(pid.canonical, safe="")
    return base_url.rstrip("/") + path


def qr_svg(url: str) -> bytes:
    """A standalone SVG QR code of `url` (error correction M)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, title=url)
    return out.getvalue()


@router.get(
    "/v1/products/{product_id:path}/qr.svg",
    response_class=Response,
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            "description": "QR code of the product's scan URL",
        },
        **error_responses(_404="No route: the ID holds a line break", _422="Invalid product ID"),
    },
)
def product_qr(product_id: ProductIdPath, runtime: RuntimeDep) -> Response:
    """A QR code (SVG) to print on the product: it carries the product's GS1 Digital Link on this server."""
    url = scan_url(runtime.settings.public_base_url, product_id)
    return Response(qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@router.get(
    "/v1/recalls/{product_id:path}/affected",
    response_model=AffectedPagePublic,
    responses={
        **ERRORS,
        200: {"content": {"application/json": {}, "text/csv": {}}, "description": "JSON, or CSV with format=csv"},
    },  # fmt: skip
)
def recall_affected(
    product_id: ProductIdPath,
    runtime: RuntimeDep,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",  # noqa: A002 - the query parameter's name
) -> AffectedPagePublic | Response:
    """Everything a recall of this subject reaches: what was made from it (through any depth of
    transformations and lots) and what was inside it when it was recalled. Paged; `format=csv` for a
    spreadsheet of the whole reach."""
    trace = TraceReader(runtime).trace(product_id, limit=1)
    reader = LineageReader(runtime)
    if format == "csv":
        items, _ = reader.affected(trace.product_key, limit=10_000_000)
        lines = ["identifier,subject_key,via,depth,path"]
        lines += [f'{a.identifier},{a.subject_key},{a.via},{a.depth},"{" > ".join(a.path)}"' for a in items]
        return Response("\n".join(lines) + "\n", media_type="text/csv")
    items, total = reader.affected(trace.product_key, limit=limit, offset=offset)
    recalled_at = trace.recall.timestamp if trace.recall else None
    return AffectedPagePublic(
        recalled=trace.product_id,
        recalled_at=recalled_at,
        total=total,
        items=[AffectedPublic.model_validate(a) for a in items],
    )


@router.get("/v1/products/{product_id:readable_product_id}", response_model=ProductPublic, responses=ERRORS)
def get_product(
    product_id: ProductIdPath,
    runtime: RuntimeDep,
    limit: LimitQuery = 50,
    before: Annotated[int | None, Query(ge=0, le=2**32, description="next_cursor of the previous page")] = None,
) -> Response:
    """The subject's history, one page at a time (newest first), with documents, its status, its
    lineage and a verification block checked against the chain for the whole history. Accepts GS1
    Digital Link URIs or paths, EPC URNs and opaque IDs."""
    return _trace(runtime, product_id, limit, before)


@router.get(
    "/01/{gtin}/21/{serial}",
    response_model=ProductPublic,
    responses={**ERRORS, 303: {"description": "Browsers (Accept: text/html) go to the web page"}},
    tags=["resolver"],
)
def resolve_digital_link(gtin: GtinPath, serial: SerialPath, runtime: RuntimeDep, request: Request) -> Response:
    """GS1 Digital Link resolver: the scanned item's verified trace (a phone's browser is sent to the
    web page showing it)."""
    canonical = parse_product_id(f"/01/{gtin}/21/{serial}").canonical
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/?id=" + quote(canonical, safe=""), status_code=status.HTTP_303_SEE_OTHER)
    return _trace(runtime, canonical)
