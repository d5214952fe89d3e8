"""Request bodies: bounded before anything parses them — size (413) and JSON nesting depth (400) —
then parsed as strict RFC 8259 JSON (no NaN or Infinity), anything else being 400 `invalid_json`.

py-evm and py_ecc raise Python's recursion limit on import, so the C JSON parser would recurse into
a 100,000-level array until the C stack overflows and the process dies. The depth is therefore
measured here without recursion (and in linear time), and a body too deep never reaches a parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from enum import Enum
from itertools import accumulate
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracechain.api.errors import transport_error

_KEEP_QUOTES_AND_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')
_AS_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
_CHUNK = 1 << 20
_THREAD_ABOVE = 256 * 1024  # bodies larger than this are scanned off the event loop


class Nesting(Enum):
    """What the depth scan says about a body."""

    OK = "ok"
    TOO_DEEP = "too_deep"
    NOT_JSON = "not_json"


def json_nesting(body: bytes, max_depth: int) -> Nesting:
    """Whether the arrays and objects of JSON text `body` nest at most `max_depth` deep.

    Linear, without recursion, and mostly in C: escaped backslashes and quotes are deleted, then
    everything but quotes and brackets; the brackets inside strings go (quotes now alternate
    strictly), the rest become +1/-1 steps whose running sum is the depth. Where the body is not
    JSON, the scan agrees with a JSON parser up to the first error, which is as far as a parser
    recurses. UTF-16/32 text (which holds NUL bytes) is refused: RFC 8259 asks for UTF-8, and
    there a multi-byte character could hide a bracket from this scan.
    """
    if b"\x00" in body:
        return Nesting.NOT_JSON
    marks = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _KEEP_QUOTES_AND_BRACKETS)
    # An adjacent pair of quotes is an empty string, or the gap between two strings holding no
    # bracket: either way no bracket outside a string is lost by deleting it.
    marks = marks.replace(b'""', b"")
    if b'"' in marks:
        marks = _outside_strings(marks)
    steps = marks.translate(_AS_STEPS)
    depth = 0
    for start in range(0, len(steps), _CHUNK):
        chunk = steps[start : start + _CHUNK]
        if max(accumulate(memoryview(chunk).cast("b"), initial=depth)) > max_depth:
            return Nesting.TOO_DEEP
        depth += chunk.count(1) - chunk.count(255)
    return Nesting.OK if depth == 0 else Nesting.NOT_JSON


def _outside_strings(marks: bytes) -> bytes:
    """`marks` (quotes and brackets only) without the brackets between the quotes of a string."""
    kept: list[bytes] = []
    inside = False
    for start in range(0, len(marks), _CHUNK):
        parts = marks[start : start + _CHUNK].split(b'"')
        kept.append(b"".join(parts[1::2] if inside else parts[0::2]))
        inside ^= len(parts) % 2 == 0
    return b"".join(kept)


def _is_json(headers: Headers) -> bool:
    """True when FastAPI would parse the body as JSON: no content type, application/json or +json."""
    content_type = headers.get("content-type")
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class BodyLimitMiddleware:
    """ASGI middleware: refuse a body larger than `max_bytes` (by Content-Length, or while it
    streams in) with 413 `body_too_large`, and a JSON body nested deeper than `max_depth` with 400
    `json_too_deep` (or 400 `invalid_json` when it cannot be JSON at all). Accepted bodies are
    replayed to the app unchanged."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers):
            nesting = (
                await run_in_threadpool(json_nesting, body, self.max_depth)
                if len(body) > _THREAD_ABOVE
                else json_nesting(body, self.max_depth)
            )
            if nesting is Nesting.TOO_DEEP:
                message_text = f"the JSON body nests deeper than {self.max_depth} levels"
                await transport_error("json_too_deep", message_text)(scope, receive, send)
                return
            if nesting is Nesting.NOT_JSON:
                text = "the body is not JSON text (its brackets do not balance, or it is not UTF-8)"
                await transport_error("invalid_json", text)(scope, receive, send)
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = transport_error("body_too_large", f"the request body exceeds {self.max_bytes} bytes")
        response.headers["Connection"] = "close"  # the rest of the body is never read
        await response(scope, receive, send)


# ---------------------------------------------------------------- strict parsing
def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


class StrictJsonRequest(Request):
    """A request whose `json()` accepts RFC 8259 JSON only; whatever else cannot be read (NaN,
    Infinity, text that is not UTF-8, a number of more than 4,300 digits) is a JSONDecodeError,
    which FastAPI reports as `json_invalid` and the error handlers answer with 400."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body, parse_constant=_refuse_constant)
            except json.JSONDecodeError:
                raise
            except ValueError as exc:  # UnicodeDecodeError, int digit limits, NaN / Infinity
                raise json.JSONDecodeError(str(exc), body.decode("utf-8", "replace"), 0) from exc
        return self._json


class StrictJsonRoute(APIRoute):
    """The route class of every router: its handler reads bodies with StrictJsonRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict
