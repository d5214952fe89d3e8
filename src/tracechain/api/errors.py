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
    """HTTP status for `exc`."""
    return next((status for cls, status in STATUS_BY_CATEGORY if isinstance(exc, cls)), 500)


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def transport_error(code: str, message: str) -> JSONResponse:
    """The response to a request refused before it reached a route (see STATUS_BY_TRANSPORT_CODE)."""
    return JSONResponse(error_body(code, message), status_code=STATUS_BY_TRANSPORT_CODE[code])


def allowed_methods(routes: Iterable[BaseRoute], path: str) -> list[str]:
    """Every method some route serves at `path`: several routes may share a path (a GET and a POST
    of `/v1/certificates/{id}/uses`), where the router's own 405 names the first one's only."""
    methods: set[str] = set()
    for route in routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)


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
        extra = {"details": _json_safe(exc.error_args)} if isinstance(exc, errors.ContractRevertError) else {}
        return JSONResponse(error_body(exc.code, str(exc), **extra), status_code=status_for(exc))

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
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(routes, request.url.path))
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)
