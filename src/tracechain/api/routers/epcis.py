"""GS1's EPCIS 2.0 REST bindings at /epcis: capture (documents as jobs, single events), queries with
every event's on-chain proof beside it, event lookup by ID, discovery lists, OPTIONS and the GS1-*
headers. Errors are RFC 7807 problem details typed by EPCIS exception, carrying the project's
`{"error": {"code", "message"}}` member too (`tracechain.api.errors.EPCIS_PROBLEMS`).

Writes are signed by the actor, never by the server: a capture names its signer in `TraceChain-Signer`
and gets a job (202, `Location`) holding the forward requests to sign; the signatures go to
`POST /epcis/capture/{captureID}/signatures` and the job relays them in the background. Clients that
prepared and signed the requests themselves post them with the document (media type
`application/vnd.tracechain.signed-capture+json`, or `...signed-event+json` for one event, recorded at
once: 201).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from tracechain import __version__, errors
from tracechain.api.bodies import StrictJsonRoute
from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import PROBLEM_JSON, epcis_error_response
from tracechain.api.schemas.epcis import (
    EpcisProblemPublic,
    SignaturesCreate,
    SignedCapture,
    SignedEvent,
    capture_job,
    collection,
    query_document,
)
from tracechain.services.capture_jobs import DEFAULT_REQUEST_TTL, CaptureJob, CaptureJobs, ErrorBehaviour
from tracechain.services.provenance.epcis_rest import (
    EpcisRepository,
    EventPage,
    ValuePage,
    decode_token,
    encode_token,
    per_page,
)
from tracechain.services.runtime import Runtime

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
VERSION_HEADERS = {"GS1-EPCIS-Version": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION}
DISCOVERY_HEADERS = {
    **VERSION_HEADERS,
    "GS1-EPCIS-Min": EPCIS_VERSION,
    "GS1-EPCIS-Max": EPCIS_VERSION,
    "GS1-CBV-Min": CBV_VERSION,
    "GS1-CBV-Max": CBV_VERSION,
    "GS1-EPC-Format": "Never_Translates",  # events are served exactly as captured (their hashes depend on it)
    "GS1-Vendor-Version": f"tracechain-{__version__}",
}
DOCUMENT_TYPES = ("application/json", "application/ld+json")
SIGNED_CAPTURE_TYPE = "application/vnd.tracechain.signed-capture+json"
SIGNED_EVENT_TYPE = "application/vnd.tracechain.signed-event+json"
SIGNER_HEADER = "TraceChain-Signer"
TTL_HEADER = "TraceChain-Request-TTL"
_ACCEPTABLE = {"*/*", "application/*", "application/json", "application/ld+json", PROBLEM_JSON}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_VERSION = re.compile(r"\d+(\.\d+)*")
# Sub-resources of the discovery lists: /{resource}/{value}/events is /events with this parameter.
RESOURCE_PARAMETERS = {
    "eventTypes": "eventType",
    "epcs": "MATCH_anyEPC",
    "bizSteps": "EQ_bizStep",
    "bizLocations": "EQ_bizLocation",
    "readPoints": "EQ_readPoint",
    "dispositions": "EQ_disposition",
}
_M = TypeVar("_M", bound=BaseModel)


# ---------------------------------------------------------------- negotiation, headers, errors
def _version(header: str, value: str) -> tuple[int, ...]:
    if not _VERSION.fullmatch(value.strip()):
        raise errors.InvalidInputError(f"{header} must be a version like 2.0.0, got {value!r}")
    parts = tuple(int(p) for p in value.strip().split("."))
    return parts + (0,) * (3 - len(parts))


def negotiate(headers: Mapping[str, str]) -> None:
    """Refuse clients that accept no JSON, or no EPCIS 2.0 / CBV 2.0.

    Raises:
        NotAcceptableError: see above.
        InvalidInputError: a malformed version header.
    """
    accept = headers.get("accept")
    if accept:
        ranges = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        if not ranges & _ACCEPTABLE:
            raise errors.NotAcceptableError(
                f"this server answers application/json (JSON-LD), not {accept!r}", hint="send Accept: application/json"
            )
    for standard, ours in (("EPCIS", EPCIS_VERSION), ("CBV", CBV_VERSION)):
        served = _version("", ours)
        asked = headers.get(f"gs1-{standard.lower()}-version")
        low, high = headers.get(f"gs1-{standard.lower()}-min"), headers.get(f"gs1-{standard.lower()}-max")
        if asked is not None and _version(f"GS1-{standard}-Version", asked)[0] != served[0]:
            raise errors.NotAcceptableError(f"this server speaks {standard} {ours}, not {asked}")
        if low is not None and _version(f"GS1-{standard}-Min", low) > served:
            raise errors.NotAcceptableError(f"this server speaks {standard} {ours}, below GS1-{standard}-Min {low}")
        if high is not None and _version(f"GS1-{standard}-Max", high) < served:
            raise errors.NotAcceptableError(f"this server speaks {standard} {ours}, above GS1-{standard}-Max {high}")


class EpcisRoute(StrictJsonRoute):
    """A route of the bindings: content negotiation first, errors as problem details, GS1 version
    headers on every response (bodies read as strict JSON, as on every route)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                negotiate(request.headers)
                response = await handler(request)
            except (errors.TraceChainError, RequestValidationError) as exc:
                response = epcis_error_response(exc, request.url.path)
            except OSError as exc:  # the node (or the database) did not answer
                unavailable = errors.ChainUnavailableError(f"the chain did not answer: {exc}")
                response = epcis_error_response(unavailable, request.url.path)
            for name, value in VERSION_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return route


@asynccontextmanager
async def resume_capture_jobs(app: FastAPI) -> AsyncIterator[None]:
    """At start-up, resume the capture jobs a stopped server left relaying (in the background)."""
    runtime: Runtime = app.state.runtime
    task = asyncio.create_task(run_in_threadpool(CaptureJobs(runtime).resume_all))
    try:
        yield
    finally:
        task.cancel()


router = APIRouter(prefix="/epcis", tags=["EPCIS 2.0"], route_class=EpcisRoute, lifespan=resume_capture_jobs)


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON schema with its `$defs` written in place: an OpenAPI media type's schema may
    only point into `#/components`, and a `#/$defs/...` pointer breaks ReDoc and code generators."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve({**defs[ref.removeprefix("#/$defs/")], **{k: v for k, v in node.items() if k != "$ref"}})
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


_PROBLEM_SCHEMA = _inline_schema(EpcisProblemPublic)
_MEANING = {
    400: "ValidationException (the JSON pointer of the problem in `error.pointer`), QueryParameterException",
    401: "SecurityException: no signer named, or a bad signature",
    403: "SecurityException: the signer may not record this",
    404: "NoSuchNameException",
    406: "NotAcceptableException: media type or EPCIS/CBV version",
    409: "ResourceAlreadyExistsException (an event recorded already), or the job's state",
    413: "CaptureLimitExceededException (events or bytes), QueryTooLargeException",
    415: "UnsupportedMediaTypeException",
    501: "ImplementationException: a standard option this repository does not support",
    503: "ImplementationException: the chain node does not answer",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of /epcis errors: problem details (EpcisProblemPublic)."""
    return {
        status: {"description": _MEANING[status], "content": {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}}}
        for status in sorted(set(statuses))
    }


READS = problems(400, 406, 503)
QUERIES = problems(400, 406, 413, 501, 503)
WRITES = problems(400, 401, 403, 406, 409, 413, 415, 501, 503)


# ---------------------------------------------------------------- request helpers
def _parameters(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


def _paging(params: dict[str, list[str]]) -> tuple[int | None, str | None]:
    """(perPage, nextPageToken), taken out of `params`."""
    size_values, tokens = params.pop("perPage", None), params.pop("nextPageToken", None)
    size = None
    if size_values is not None:
        if len(size_values) != 1 or not size_values[0].isdigit():
            raise errors.EpcisQueryParameterError(f"perPage: must be a positive integer, got {size_values!r}")
        size = per_page(int(size_values[0]))
    if tokens is not None and len(tokens) != 1:
        raise errors.EpcisQueryParameterError("nextPageToken: give one")
    return size, tokens[0] if tokens else None


def _link(request: Request, size: int | None, token: str | None) -> dict[str, str]:
    if token is None:
        return {}
    url = request.url.replace(query=urlencode({"perPage": per_page(size), "nextPageToken": token}))
    return {"Link": f'<{url}>; rel="next"'}


def _media_type(request: Request) -> str:
    value = request.headers.get("content-type")
    return value.split(";")[0].strip().lower() if value else "application/json"


async def _body(request: Request) -> bytes:
    """The request body (its size is bounded before any route runs: TRACECHAIN_MAX_BODY_BYTES, 413)."""
    return await request.body()


def _not_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_not_json_constant)
    except ValueError as exc:  # JSONDecodeError, NaN / Infinity, not UTF-8
        raise errors.EpcisDocumentError(f"the body is not JSON: {exc}") from exc


def _model(model: type[_M], body: bytes) -> _M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise errors.InvalidInputError(f"{where}: {first.get('msg', 'invalid')}") from exc


def _signer(request: Request) -> str:
    signer = request.headers.get(SIGNER_HEADER)
    if signer is None:
        raise errors.SignerMissingError(
            f"name the account that signs this capture in the {SIGNER_HEADER} header",
            hint=f"or post the requests you signed yourself as {SIGNED_CAPTURE_TYPE} / {SIGNED_EVENT_TYPE}",
        )
    if not _ADDRESS.fullmatch(signer.strip()):
        raise errors.InvalidInputError(f"{SIGNER_HEADER} must be an address (0x + 40 hex digits), got {signer!r}")
    return signer.strip()


def _request_ttl(request: Request) -> int:
    value = request.headers.get(TTL_HEADER)
    if value is None:
        return DEFAULT_REQUEST_TTL
    if not value.strip().isdigit() or not 60 <= int(value) <= 7 * 24 * 3600:
        raise errors.InvalidInputError(f"{TTL_HEADER} must be 60..604800 seconds, got {value!r}")
    return int(value)


def _behaviour(request: Request) -> ErrorBehaviour:
    value = request.headers.get("GS1-Capture-Error-Behaviour")
    if value is None:
        return ErrorBehaviour.PROCEED
    try:
        return ErrorBehaviour(value.strip().lower())
    except ValueError:
        raise errors.InvalidInputError(
            f"GS1-Capture-Error-Behaviour must be rollback or proceed, got {value!r}"
        ) from None


def _job_response(job: CaptureJob, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        capture_job(job), status_code=status_code, headers={"Location": f"/epcis/capture/{job.capture_id}"}
    )


def _events_response(request: Request, page: EventPage, size: int | None) -> JSONResponse:
    headers = {"GS1-EPC-Format": "Never_Translates", **_link(request, size, page.next_token)}
    return JSONResponse(query_document(page.events), headers=headers)


def _values_response(request: Request, fetch: Callable[..., ValuePage]) -> JSONResponse:
    params = _parameters(request)
    size, token = _paging(params)
    if params:
        raise errors.EpcisQueryParameterError(f"{', '.join(params)}: not a parameter of this resource")
    page = fetch(page_size=size, token=token)
    return JSONResponse(collection(page.members), headers=_link(request, size, page.next_token))


# ---------------------------------------------------------------- discovery of the server
def _options(allow: str, extra: Mapping[str, str] | None = None) -> Callable[[], Response]:
    def options() -> Response:
        return Response(status_code=204, headers={"Allow": allow, **DISCOVERY_HEADERS, **(extra or {})})

    return options


for _path, _allow in (
    ("", "OPTIONS, GET"),
    ("/events", "OPTIONS, GET, POST"),
    *((f"/{name}", "OPTIONS, GET") for name in RESOURCE_PARAMETERS),
):
    router.add_api_route(
        _path, _options(_allow), methods=["OPTIONS"], status_code=204, response_class=Response,
        summary="Discover this resource's methods and the EPCIS/CBV versions served", name=f"options{_path}",
    )  # fmt: skip
OPTIONS_ROUTE: dict[str, Any] = {"status_code": 204, "response_class": Response, "responses": problems(404)}


@router.options("/capture/{capture_id}", summary="Discover a capture job's methods", **OPTIONS_ROUTE)
def capture_job_options(capture_id: str) -> Response:
    return _options("OPTIONS, GET")()


@router.options("/capture/{capture_id}/signatures", summary="Discover the signatures' methods", **OPTIONS_ROUTE)
def signatures_options(capture_id: str) -> Response:
    return _options("OPTIONS, POST")()


@router.options("/events/{event_id:path}", summary="Discover an event's methods", **OPTIONS_ROUTE)
def event_options(event_id: str) -> Response:
    return _options("OPTIONS, GET")()


@router.options("/capture", status_code=204, response_class=Response, summary="Discover the capture interface")
def capture_options(runtime: RuntimeDep) -> Response:
    """Methods, versions, and the capture limits (events per document, bytes per request, error behaviour)."""
    limits = {
        "GS1-EPCIS-Capture-Limit": str(runtime.settings.max_events_per_capture),
        "GS1-EPCIS-Capture-File-Size-Limit": str(runtime.settings.max_body_bytes),
        "GS1-Capture-Error-Behaviour": "proceed",
    }
    return _options("OPTIONS, GET, POST", limits)()


@router.get("", summary="The top-level resources of this EPCIS repository")
def top_level() -> JSONResponse:
    return JSONResponse(collection(["capture", "events", *RESOURCE_PARAMETERS]))


# ---------------------------------------------------------------- capture
@router.post(
    "/capture",
    status_code=202,
    response_class=JSONResponse,
    responses=WRITES,
    summary="Capture an EPCISDocument (a job: sign its requests, then it is relayed)",
    openapi_extra={
        "parameters": [
            {"name": SIGNER_HEADER, "in": "header", "schema": {"type": "string"},
             "description": "the account that signs the capture's forward requests (needed unless pre-signed)"},
            {"name": TTL_HEADER, "in": "header", "schema": {"type": "integer"},
             "description": "seconds the requests to sign stay valid (default 3600)"},
            {"name": "GS1-Capture-Error-Behaviour", "in": "header", "schema": {"enum": ["proceed", "rollback"]}},
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "description": "an EPCISDocument or EPCISQueryDocument"}},  # noqa: E501
                SIGNED_CAPTURE_TYPE: {"schema": _inline_schema(SignedCapture)},
            },
        },
    },
)  # fmt: skip
async def capture(request: Request, runtime: RuntimeDep, background: BackgroundTasks) -> Response:
    """Validate the document against GS1's EPCIS 2.0 schema and rules (400 with the JSON pointer of the
    first problem; nothing is stored or sent), then answer 202 with the job's `Location`. The job holds
    one EIP-712 forward request per transaction for the signer to sign (`tracechain:signing`); post the
    signatures to `/epcis/capture/{captureID}/signatures`. Pre-signed requests
    (`application/vnd.tracechain.signed-capture+json`) are relayed at once."""
    media, behaviour = _media_type(request), _behaviour(request)
    jobs = CaptureJobs(runtime)
    if media == SIGNED_CAPTURE_TYPE:
        signed = _model(SignedCapture, await _body(request))
        requests = [r.to_request() for r in signed.requests]
        job = await run_in_threadpool(partial(jobs.create_signed, signed.document, requests, error_behaviour=behaviour))
        background.add_task(jobs.run, job.capture_id)
    elif media in DOCUMENT_TYPES:
        signer, ttl = _signer(request), _request_ttl(request)
        document = _json(await _body(request))
        job = await run_in_threadpool(
            partial(jobs.create, document, signer=signer, request_ttl=ttl, error_behaviour=behaviour)
        )
    else:
        raise errors.UnsupportedMediaTypeError(
            f"capture reads {', '.join(DOCUMENT_TYPES)} or {SIGNED_CAPTURE_TYPE}, not {media!r}"
        )
    return _job_response(job, 202)


@router.get("/capture", responses=READS, summary="Capture jobs, newest first (paged)")
def capture_jobs(request: Request, runtime: RuntimeDep) -> JSONResponse:
    params = _parameters(request)
    size, token = _paging(params)
    if params:
        raise errors.EpcisQueryParameterError(f"{', '.join(params)}: not a parameter of this resource")
    limit = per_page(size)
    after = decode_token(token, "capture")["k"] if token else None
    found = CaptureJobs(runtime).page(after=after, limit=limit + 1)
    next_token = None
    if len(found) > limit:
        found = found[:limit]
        next_token = encode_token({"v": 1, "r": "capture", "k": [found[-1].created_ms, found[-1].capture_id]})
    return JSONResponse([capture_job(j) for j in found], headers=_link(request, size, next_token))


ONE = problems(400, 404, 406, 503)


@router.get("/capture/{capture_id}", responses=ONE, summary="A capture job: running, success, errors, progress")
def capture_job_status(capture_id: str, runtime: RuntimeDep, background: BackgroundTasks) -> Response:
    """The job (the bindings' CaptureJob: `running`, `success`, `errors` with the JSON pointer of the
    offending event), its progress in events and transactions, and the requests to sign. A relaying job
    that no worker holds (a server restarted meanwhile) is resumed."""
    jobs = CaptureJobs(runtime)
    job = jobs.get(capture_id)
    if jobs.needs_worker(job):
        background.add_task(jobs.run, capture_id)
    return _job_response(job)


@router.post(
    "/capture/{capture_id}/signatures",
    status_code=202,
    response_class=JSONResponse,
    responses=problems(400, 401, 404, 406, 409, 413, 503),
    summary="The signer's signatures of a job's requests; the job then relays them",
)
def sign_capture(capture_id: str, body: SignaturesCreate, runtime: RuntimeDep, background: BackgroundTasks) -> Response:
    """One EIP-712 signature per request (`tracechain:signing.requests[i].typedData`), in order. Each is
    checked against the job's signer; the job relays the requests in the background (202)."""
    jobs = CaptureJobs(runtime)
    job = jobs.add_signatures(capture_id, body.signatures)
    background.add_task(jobs.run, capture_id)
    return _job_response(job, 202)


# ---------------------------------------------------------------- events
@router.post(
    "/events",
    status_code=201,
    response_class=JSONResponse,
    responses={**WRITES, 202: {"description": "a capture job holding the request to sign"}},
    summary="Capture one EPCIS event",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "description": "an EPCIS event with its @context"}},
                SIGNED_EVENT_TYPE: {"schema": _inline_schema(SignedEvent)},
            },
        },
    },
)  # fmt: skip
async def capture_event(request: Request, runtime: RuntimeDep) -> Response:
    """With a signed request (`application/vnd.tracechain.signed-event+json`) the event is recorded at
    once: 201 with the event's `Location`. With `TraceChain-Signer`, a one-event capture job (202): sign
    its request as for `/epcis/capture`."""
    media = _media_type(request)
    jobs = CaptureJobs(runtime)
    if media == SIGNED_EVENT_TYPE:
        signed = _model(SignedEvent, await _body(request))
        hash_id = await run_in_threadpool(jobs.record_event, signed.event, signed.request.to_request())
        location = f"/epcis/events/{quote(hash_id, safe='')}"
        return JSONResponse(signed.event, status_code=201, headers={"Location": location})
    if media not in DOCUMENT_TYPES:
        raise errors.UnsupportedMediaTypeError(f"events reads {', '.join(DOCUMENT_TYPES)} or {SIGNED_EVENT_TYPE}")
    signer, ttl = _signer(request), _request_ttl(request)
    event = _json(await _body(request))
    job = await run_in_threadpool(partial(jobs.create, event, signer=signer, kind="event", request_ttl=ttl))
    return _job_response(job, 202)


@router.get("/events", responses=QUERIES, summary="Recorded events matching an EPCIS query, with their proofs")
def events(request: Request, runtime: RuntimeDep) -> Response:
    """An EPCISQueryDocument of the recorded events the query parameters match (EPCIS 2.0 §8.2.7.1:
    eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_action, EQ_bizStep, EQ_disposition, EQ_readPoint,
    EQ_bizLocation, EQ_transformationID, EQ_eventID, MATCH_epc/parentID/inputEPC/outputEPC/anyEPC,
    MATCH_epcClass/inputEPCClass/outputEPCClass/anyEPCClass, EXISTS_errorDeclaration, EQ_errorReason,
    GE_/LT_errorDeclarationTime, orderBy, orderDirection, eventCountLimit, maxEventCount), in record
    order, `perPage` at a time (`Link: rel="next"`). Events declared erroneous are left out unless
    EXISTS_errorDeclaration is given. `resultsBody["tracechain:proofs"][i]` proves `eventList[i]`."""
    params = _parameters(request)
    size, token = _paging(params)
    page = EpcisRepository(runtime).query(params, page_size=size, token=token)
    return _events_response(request, page, size)


@router.get("/events/{event_id:path}", responses=ONE, summary="One event by Event Hash ID or eventID")
def event(event_id: str, runtime: RuntimeDep) -> Response:
    """An EPCISQueryDocument with the event (by its Event Hash ID, `ni:///sha-256;…?ver=CBV2.0`, or the
    eventID it declares) and its recorded error declarations, each with its proof."""
    found = EpcisRepository(runtime).event(event_id)
    return JSONResponse(query_document(found), headers={"GS1-EPC-Format": "Never_Translates"})


# ---------------------------------------------------------------- discovery lists
@router.get("/eventTypes", responses=READS, summary="Event types (paged)")
def event_types(request: Request, runtime: RuntimeDep) -> Response:
    return _values_response(request, EpcisRepository(runtime).event_types)


@router.get("/epcs", responses=READS, summary="EPCs the chain knows, as URIs (paged)")
def epcs(request: Request, runtime: RuntimeDep) -> Response:
    return _values_response(request, EpcisRepository(runtime).epcs)


@router.get("/bizSteps", responses=READS, summary="Business steps of recorded events (paged)")
def biz_steps(request: Request, runtime: RuntimeDep) -> Response:
    return _values_response(request, EpcisRepository(runtime).biz_steps)


@router.get("/bizLocations", responses=READS, summary="Business locations of recorded events (paged)")
def biz_locations(request: Request, runtime: RuntimeDep) -> Response:
    return _values_response(request, EpcisRepository(runtime).biz_locations)


@router.get("/readPoints", responses=READS, summary="Read points of recorded events (paged)")
def read_points(request: Request, runtime: RuntimeDep) -> Response:
    return _values_response(request, EpcisRepository(runtime).read_points)


@router.get("/dispositions", responses=READS, summary="Dispositions of recorded events (paged)")
def dispositions(request: Request, runtime: RuntimeDep) -> Response:
    return _values_response(request, EpcisRepository(runtime).dispositions)


def _resource(name: str) -> str:
    if name not in RESOURCE_PARAMETERS:
        raise errors.NotFoundError(f"no EPCIS resource /{name}", hint=f"one of {', '.join(RESOURCE_PARAMETERS)}")
    return RESOURCE_PARAMETERS[name]


@router.get("/{resource}/{value:path}/events", responses={**QUERIES, **ONE}, summary="Events of one discovered value")
def resource_events(resource: str, value: str, request: Request, runtime: RuntimeDep) -> Response:
    """`/events` with the resource's parameter set to `value` (an event type, EPC, business step, ...)."""
    parameter = _resource(resource)
    params = _parameters(request)
    size, token = _paging(params)
    page = EpcisRepository(runtime).query(params, page_size=size, token=token, fixed={parameter: [value]})
    return _events_response(request, page, size)


@router.get("/{resource}/{value:path}", responses=ONE, summary="Sub-resources of one discovered value")
def resource_value(resource: str, value: str) -> Response:
    _resource(resource)
    return JSONResponse(collection(["events"]))
