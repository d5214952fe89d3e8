"""Attachments: documents an event points to by hash (an inspection report), served for the subject
whose event names them, for clients that check the hash themselves."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from tracechain.api.deps import RuntimeDep
from tracechain.api.schemas.common import ErrorPublic
from tracechain.services.attachments import attachment

router = APIRouter(prefix="/v1/attachments", tags=["products"], responses={404: {"model": ErrorPublic}})


@router.get("/{document_hash}", response_model=Any)
def get_attachment(
    document_hash: str,
    runtime: RuntimeDep,
    response: Response,
    subject: Annotated[str, Query(description="the product (or other subject) whose event attaches it")],
) -> Any:
    """The JSON document stored under `document_hash` (keccak256 of its RFC 8785 form) that an event
    of `subject` names, as stored: hash it yourself."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return attachment(runtime, subject, document_hash)
