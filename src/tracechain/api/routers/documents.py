"""Attachments: documents an event points to by hash (an inspection report), served for the subject
whose event names them, for clients that check the hash themselves."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import READ_STATUSES, error_responses
from tracechain.api.params import HASH_PATTERN, PRODUCT_ID_MAX_LENGTH, PRODUCT_ID_PATTERN
from tracechain.services.attachments import attachment

router = APIRouter(prefix="/v1/attachments", tags=["products"])


@router.get(
    "/{document_hash}",
    response_model=Any,
    responses=error_responses(
        *READ_STATUSES, _404="No such subject, or none of its events names this hash (`document_not_found`)"
    ),
)
def get_attachment(
    document_hash: Annotated[str, Path(pattern=HASH_PATTERN, description="keccak256 of the document's RFC 8785 form")],
    runtime: RuntimeDep,
    response: Response,
    subject: Annotated[
        str,
        Query(
            pattern=PRODUCT_ID_PATTERN,
            max_length=PRODUCT_ID_MAX_LENGTH,
            description="the product (or other subject) whose event attaches it",
            json_schema_extra={"format": "product-id"},
        ),
    ],
) -> Any:
    """The JSON document stored under `document_hash` (keccak256 of its RFC 8785 form) that an event
    of `subject` names, as stored: hash it yourself."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return attachment(runtime, subject, document_hash)
