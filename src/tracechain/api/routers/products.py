"""Product provenance over HTTP: consumers read verified traces (also through the GS1 Digital Link
resolver path); writers post requests they signed themselves, which the server checks against the
documents sent with them and relays."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse
from starlette.convertors import PathConvertor, register_url_convertor

from tracechain.api.bodies import StrictJsonRoute
from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import BODY_STATUSES, READ_STATUSES, error_responses
from tracechain.api.params import GtinPath, ProductIdPath, SerialPath
from tracechain.api.schemas.products import (
    CustodyCreate,
    EpcisCapture,
    ProductCreate,
    ProductEventsCreate,
    ProductPublic,
    RecallCreate,
    RequestPrepare,
    RequestPrepared,
    WriteReceiptPublic,
)
from tracechain.errors import InvalidInputError
from tracechain.product_ids import parse_product_id
from tracechain.services.provenance import ProvenanceService
from tracechain.services.runtime import Runtime

router = APIRouter(tags=["products"], route_class=StrictJsonRoute)
WRITE_SUFFIXES = ("events", "custody", "recall")


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


def _trace(runtime: Runtime, product_id: str) -> ProductPublic:
    trace = _service(runtime).trace(product_id)
    return ProductPublic.of(trace, runtime.settings.public_base_url)


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
    "/v1/epcis/capture", status_code=status.HTTP_201_CREATED, response_model=WriteReceiptPublic, responses=WRITE_ERRORS
)
def capture_epcis(body: EpcisCapture, runtime: RuntimeDep) -> WriteReceiptPublic:
    """Import an EPCIS 2.0 document (its ObjectEvents, for any products) in one signed batch."""
    return WriteReceiptPublic.of(_service(runtime).relay_epcis(body.request.to_request(), body.document))


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
        call = service.register_call(_need(body.product_id, "product_id"), body.metadata)
    elif body.action == "events":
        call = service.events_call(_need(body.events, "events"))
    elif body.action == "epcis":
        call = service.epcis_call(_need(body.document, "document"))
    elif body.action == "transfer":
        call = service.transfer_call(_need(body.product_id, "product_id"), _need(body.to, "to"))
    else:
        call = service.recall_call(_need(body.product_id, "product_id"), _need(body.notice, "notice"))
    request = service.unsigned_request(body.sender, call, body.ttl_seconds)
    forwarder = runtime.deployment.address("TraceChainForwarder")
    typed = request.typed_data(runtime.chain.chain_id, forwarder)
    return RequestPrepared(request={**typed["message"], "signature": None}, typed_data=typed)


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


@router.get("/v1/products/{product_id:readable_product_id}", response_model=ProductPublic, responses=ERRORS)
def get_product(product_id: ProductIdPath, runtime: RuntimeDep, response: Response) -> ProductPublic:
    """The product's history with documents, its status and a verification block checked live against
    the chain. Accepts GS1 Digital Link URIs or paths, EPC SGTIN URNs and opaque IDs."""
    response.headers["Cache-Control"] = CACHE_CONTROL
    return _trace(runtime, product_id)


@router.get(
    "/01/{gtin}/21/{serial}",
    response_model=ProductPublic,
    responses={**ERRORS, 303: {"description": "Browsers (Accept: text/html) go to the web page"}},
    tags=["resolver"],
)
def resolve_digital_link(
    gtin: GtinPath, serial: SerialPath, runtime: RuntimeDep, request: Request, response: Response
) -> ProductPublic | RedirectResponse:
    """GS1 Digital Link resolver: the scanned item's verified trace (a phone's browser is sent to the
    web page showing it)."""
    canonical = parse_product_id(f"/01/{gtin}/21/{serial}").canonical
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/?id=" + quote(canonical, safe=""), status_code=status.HTTP_303_SEE_OTHER)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return _trace(runtime, canonical)
