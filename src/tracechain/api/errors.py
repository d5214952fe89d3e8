"""The one place that turns TraceChain errors into HTTP responses:
`{"error": {"code": "...", "message": "..."}}` with the status of the error's category."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracechain import errors

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


def status_for(exc: errors.TraceChainError) -> int:
    """HTTP status for `exc`."""
    return next((status for cls, status in STATUS_BY_CATEGORY if isinstance(exc, cls)), 500)


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""

    @app.exception_handler(errors.TraceChainError)
    async def _domain(_: Request, exc: errors.TraceChainError) -> JSONResponse:
        extra = {"details": exc.error_args} if isinstance(exc, errors.ContractRevertError) else {}
        return JSONResponse(error_body(exc.code, str(exc), **extra), status_code=status_for(exc))

    @app.exception_handler(OSError)
    async def _node_unreachable(_: Request, exc: OSError) -> JSONResponse:
        # requests' ConnectionError and timeouts are OSErrors: the node (or database) did not answer.
        return JSONResponse(error_body("chain_unavailable", f"the chain did not answer: {exc}"), status_code=503)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        message = f"{'.'.join(str(p) for p in first['loc'])}: {first['message']}"
        return JSONResponse(error_body("invalid_request", message, details=details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)
