"""The one place that turns TraceChain errors into HTTP responses:
`{"error": {"code": "...", "message": "..."}}` with the status of the error's category — and the
place the OpenAPI document learns which statuses an operation answers with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Route

from tracechain import errors
from tracechain.api.schemas.common import ErrorPublic

# First match wins: more specific categories before their bases.
STATUS_BY_CATEGORY: tuple[tuple[type[errors.TraceChainError], int], ...] = (
    (errors.TooManyRecordsError, 413),
    (errors.NotFoundError, 404),
    (errors.SignatureError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.ConflictError, 409),
    (errors.IntegrityError, 409),
    (errors.InvalidInputError, 422),
    (errors.UnavailableError, 503),
)
# Problems with the HTTP request itself, found before any TraceChain code runs.
STATUS_BY_TRANSPORT_CODE: dict[str, int] = {
    "invalid_json": 400,
    "json_too_deep": 400,
    "body_too_large": 413,
}

# What each error status means, for the OpenAPI document (routers pick the statuses they answer).
DESCRIPTIONS: dict[int, str] = {
    400: "The body is not JSON (`invalid_json`) or nests too deep (`json_too_deep`)",
    401: "Bad signature, used nonce or expired request (`invalid_signature` and the like)",
    403: "The signer may not do this (role, custody, suspension)",
    404: "Nothing with this identifier (`product_not_found`, `actor_not_found`, ...)",
    409: "Conflicts with the current state (already recorded, recalled, ...)",
    413: "The body is larger than TRACECHAIN_MAX_BODY_BYTES (`body_too_large`)",
    422: "A parameter or the body is invalid (`invalid_request`, `invalid_input`, ...)",
    500: "The relayed transaction failed on the chain (`transaction_failed`)",
    503: "The chain node does not answer (`chain_unavailable`)",
}
# Every operation may meet these: a malformed parameter, an unreachable node.
READ_STATUSES = (422, 503)
# Every operation with a JSON body also answers these before it runs.
BODY_STATUSES = (400, 413, 422, 503)


def error_responses(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for `statuses`, each an ErrorPublic with its standard description;
    `described` overrides a description by status (`_404="No such product"`)."""
    overrides = {int(key.lstrip("_")): text for key, text in described.items()}
    return {
        status: {"model": ErrorPublic, "description": overrides.get(status, DESCRIPTIONS[status])}
        for status in sorted(set(statuses) | set(overrides))
    }


def status_for(exc: errors.TraceChainError) -> int:
    """HTTP status for `exc` (for one refused record of many, the status of its reason)."""
    exc = _reason(exc)
    return next((status for cls, status in STATUS_BY_CATEGORY if isinstance(exc, cls)), 500)


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def transport_error(code: str, message: str, path: str | None = None) -> JSONResponse:
    """The response to a request refused before it reached a route (see STATUS_BY_TRANSPORT_CODE);
    under /epcis, an EPCIS problem (see EPCIS_PROBLEMS) with the same status and code."""
    if path is not None and is_epcis_path(path):
        category = errors.CaptureLimitExceededError if code == "body_too_large" else errors.InvalidInputError
        body = epcis_problem(category, code, message, instance=path)
        return JSONResponse(body, status_code=STATUS_BY_TRANSPORT_CODE[code], media_type=PROBLEM_JSON)
    return JSONResponse(error_body(code, message), status_code=STATUS_BY_TRANSPORT_CODE[code])


def allowed_methods(routes: Iterable[BaseRoute], path: str) -> list[str]:
    """Every method some route serves at `path`: several routes may share a path (a GET and a POST
    of `/v1/certificates/{id}/uses`), where the router's own 405 names the first one's only."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)


def _reason(exc: errors.TraceChainError) -> errors.TraceChainError:
    """What a caller is told the error is: for one refused record of many, the record's reason."""
    if isinstance(exc, errors.RecordRefusedError) and exc.cause is not None:
        return exc.cause
    return exc


def _details(exc: errors.TraceChainError) -> dict[str, Any] | None:
    """The `details` of an error body: a revert's decoded arguments, a refused record's `index`
    (with its reason's details), the earlier position of a duplicate record."""
    if isinstance(exc, errors.RecordRefusedError):
        inner = _details(exc.cause) if exc.cause is not None else None
        return {**(inner or {}), "index": exc.index}
    if isinstance(exc, errors.DuplicateRecordError):
        return {"duplicate_of": exc.first_index}
    if isinstance(exc, errors.ContractRevertError):
        return {str(k): _json_safe(v) for k, v in exc.error_args.items()}
    return None


def _json_safe(value: Any) -> Any:
    """Decoded revert arguments as JSON: bytes as 0x-hex, tuples as lists."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def install_error_handlers(app: FastAPI, routes: Iterable[BaseRoute]) -> None:
    """Register the handlers that give every error the same JSON shape; `routes` are all the
    app's routes, for the `Allow` header of a 405."""
    routes = list(routes)

    @app.exception_handler(errors.TraceChainError)
    async def _domain(_: Request, exc: errors.TraceChainError) -> JSONResponse:
        details = _details(exc)
        extra = {"details": details} if details is not None else {}
        return JSONResponse(error_body(_reason(exc).code, str(exc), **extra), status_code=status_for(exc))

    @app.exception_handler(OSError)
    async def _node_unreachable(_: Request, exc: OSError) -> JSONResponse:
        # requests' ConnectionError and timeouts are OSErrors: the node (or database) did not answer.
        return JSONResponse(error_body("chain_unavailable", f"the chain did not answer: {exc}"), status_code=503)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()]
        unparsable = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if unparsable is not None:
            reason = (unparsable.get("ctx") or {}).get("error", "")
            position = list(unparsable.get("loc", ()))[-1:]
            where = f" at character {position[0]}" if position else ""
            return transport_error("invalid_json", f"the body is not valid JSON{where}: {reason}".rstrip(": "))
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        message = f"{'.'.join(str(p) for p in first['loc'])}: {first['message']}"
        return JSONResponse(error_body("invalid_request", message, details=details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, a number too long)
            return transport_error("invalid_json", "the body is not valid JSON text")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        if exc.status_code == 404 and is_epcis_path(request.url.path):  # GS1's bindings: a problem
            body = epcis_problem(errors.NotFoundError, code, str(exc.detail), instance=request.url.path)
            return JSONResponse(body, status_code=404, media_type=PROBLEM_JSON)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(routes, request.url.path))
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)


# ---------------------------------------------------------------- EPCIS 2.0 REST bindings
# GS1's bindings answer errors as RFC 7807 problem details typed by EPCIS exception; the project's
# {"error": {"code", "message"}} rides along as an extension member, so either kind of client reads them.
# First match wins, as above; statuses the bindings name (400, 401, 403, 404, 406, 409, 413, 415, 501).
EPCIS_PROBLEMS: tuple[tuple[type[errors.TraceChainError], int, str], ...] = (
    (errors.NotAcceptableError, 406, "NotAcceptableException"),
    (errors.UnsupportedMediaTypeError, 415, "UnsupportedMediaTypeException"),
    (errors.CaptureLimitExceededError, 413, "CaptureLimitExceededException"),
    (errors.EpcisQueryTooLargeError, 413, "QueryTooLargeException"),
    (errors.EpcisNotImplementedError, 501, "ImplementationException"),
    (errors.EpcisQueryParameterError, 400, "QueryParameterException"),
    (errors.NotFoundError, 404, "NoSuchNameException"),
    (errors.SignatureError, 401, "SecurityException"),
    (errors.PermissionDeniedError, 403, "SecurityException"),
    (errors.EventAlreadyRecordedError, 409, "ResourceAlreadyExistsException"),
    (errors.ConflictError, 409, "ValidationException"),
    (errors.IntegrityError, 409, "ValidationException"),
    (errors.InvalidInputError, 400, "ValidationException"),
    (errors.UnavailableError, 503, "ImplementationException"),
)
PROBLEM_JSON = "application/problem+json"
EPCIS_PREFIX = "/epcis"


def is_epcis_path(path: str) -> bool:
    """The path is one of GS1's EPCIS bindings (/epcis and below)."""
    return path == EPCIS_PREFIX or path.startswith(EPCIS_PREFIX + "/")


def epcis_problem_type(cls: type[BaseException]) -> tuple[int, str]:
    """HTTP status and EPCIS exception type (`epcisException:...`) of an error class."""
    for category, status, name in EPCIS_PROBLEMS:
        if issubclass(cls, category):
            return status, f"epcisException:{name}"
    return 500, "epcisException:ImplementationException"


def epcis_problem(
    cls: type[BaseException], code: str, message: str, *, instance: str | None = None, **extra: object
) -> dict[str, object]:
    """An RFC 7807 problem of the EPCIS bindings, with the project's error member (and `extra` in it)."""
    status, kind = epcis_problem_type(cls)
    title = ((cls.__doc__ or "").strip().splitlines() or ["TraceChain error"])[0]
    body: dict[str, object] = {"type": kind, "title": title, "status": status, "detail": message}
    if instance is not None:
        body["instance"] = instance
    body["error"] = {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}
    return body


def epcis_error_response(exc: Exception, instance: str) -> JSONResponse:
    """The problem response for an error raised by an EPCIS route (TraceChain errors, request validation)."""
    if isinstance(exc, RequestValidationError):
        first = next(iter(exc.errors()), {"loc": (), "msg": "invalid request"})
        message = f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg', '')}"
        body = epcis_problem(errors.InvalidInputError, "invalid_request", message, instance=instance)
    elif isinstance(exc, errors.TraceChainError):
        extra: dict[str, object] = {}
        if isinstance(exc, errors.EpcisDocumentError):
            extra = {"pointer": exc.pointer, "event_index": exc.event_index}
        elif isinstance(exc, errors.ContractRevertError):
            extra = {"details": _json_safe(exc.error_args)}
        body = epcis_problem(type(exc), exc.code, str(exc), instance=instance, **extra)
    else:
        raise exc
    return JSONResponse(body, status_code=int(str(body["status"])), media_type=PROBLEM_JSON)
