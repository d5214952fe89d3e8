"""Path and query parameters shared by the routers, with the patterns the OpenAPI document states
and FastAPI enforces (a value outside them is 422 before any route runs).

A `format` names a rule a pattern cannot state (a GTIN check digit, the grammar of product
identifiers); the server checks it and answers 422 when it fails.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
# Product IDs come in many forms (see tracechain.epcis.identifiers): any printable text without
# whitespace or control characters, checked by the server against the forms below.
PRODUCT_ID_PATTERN = r"^[^\s\x00-\x1f\x7f]+$"
PRODUCT_ID_MAX_LENGTH = 2048
GTIN_PATTERN = r"^(?:[0-9]{8}|[0-9]{12,14})$"
# GS1 character set 82 (a serial's alphabet) without '/', '?' and '%', which a path segment
# cannot carry as themselves.
SERIAL_PATTERN = r"^[!\"&'()*+,\-.0-9:;<=>A-Z_a-z]{1,20}$"
PAGE_MAX = 500
OFFSET_MAX = 2**31 - 1  # a 32-bit integer: far beyond any trail, and safe for every SQL backend

ADDRESS_DESCRIPTION = "An account: 0x and 40 hex digits, in any case."
PRODUCT_ID_DESCRIPTION = (
    "A product ID in any accepted form: a GS1 Digital Link URI on any host or its path "
    "(`.../01/{GTIN}[/22/{CPV}][/10/{lot}]/21/{serial}`), an EPC SGTIN URN "
    "(`urn:epc:id:sgtin:{CompanyPrefix}.{IndicatorAndItemRef}.{serial}`) or an opaque ID "
    "(1-128 of `A-Z a-z 0-9 - . _ : /`, from a letter or digit). A GTIN needs its check digit. "
    "To read a product, its ID must not end in `/events`, `/custody` or `/recall` (those paths are "
    "writes); a GS1 item with such a serial is read through `/01/{gtin}/21/{serial}`."
)

AddressPath = Annotated[str, Path(pattern=ADDRESS_PATTERN, description=ADDRESS_DESCRIPTION)]
AddressQuery = Annotated[str, Query(pattern=ADDRESS_PATTERN, description=ADDRESS_DESCRIPTION)]
RecordHashPath = Annotated[
    str, Path(pattern=HASH_PATTERN, description="The record hash: 0x and 64 hex digits (keccak-256).")
]
DatasetIdPath = Annotated[
    str, Path(pattern=HASH_PATTERN, description="The dataset id: its manifest's canonical hash, 0x and 64 hex digits.")
]
CertificateIdPath = Annotated[str, Path(pattern=HASH_PATTERN, description="The certificate id: 0x and 64 hex digits.")]
ProductIdPath = Annotated[
    str,
    Path(
        pattern=PRODUCT_ID_PATTERN,
        max_length=PRODUCT_ID_MAX_LENGTH,
        description=PRODUCT_ID_DESCRIPTION,
        examples=["01/09506000134352/21/SN-0001"],
        json_schema_extra={"format": "product-id"},
    ),
]
GtinPath = Annotated[
    str,
    Path(
        pattern=GTIN_PATTERN,
        description="GTIN-8, -12, -13 or -14 with a valid check digit.",
        json_schema_extra={"format": "gtin"},
    ),
]
SerialPath = Annotated[str, Path(pattern=SERIAL_PATTERN, description="The item's serial (GS1 AI 21).")]
LimitQuery = Annotated[int, Query(ge=1, le=PAGE_MAX, description="Page size.")]
OffsetQuery = Annotated[int, Query(ge=0, le=OFFSET_MAX, description="Entries to skip.")]
