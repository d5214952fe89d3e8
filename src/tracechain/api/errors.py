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
            extra = {"details": exc.error_args}
        body = epcis_problem(type(exc), exc.code, str(exc), instance=instance, **extra)
    else:
        raise exc
    return JSONResponse(body, status_code=int(str(body["status"])), media_type=PROBLEM_JSON)
