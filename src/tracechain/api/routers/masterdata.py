"""Master data routes: providers publish signed EPCIS 2.0 vocabularies (products by GTIN, locations
by GLN); readers — the web page first — look them up by any identifier."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import BODY_STATUSES, READ_STATUSES, error_responses
from tracechain.api.params import HASH_PATTERN, GtinPath
from tracechain.api.schemas.masterdata import (
    MasterDataCreate,
    MasterDataLookupPublic,
    MasterDataPrepare,
    MasterDataPrepared,
    MasterDataPublished,
    MasterRecordPublic,
)
from tracechain.hashing import document_hash, to_hex
from tracechain.services.masterdata import MasterDataService, elements_of

router = APIRouter(prefix="/v1/masterdata", tags=["master data"])
NOT_FOUND = "Nobody published master data for it (`masterdata_not_found`)"
# An identifier of a location or product class, as EPCIS names them (an SGLN URN, a Digital Link path).
IDENTIFIER_PATTERN = r"^[^\s\x00-\x1f\x7f]+$"
LocationPath = Annotated[
    str,
    Path(
        pattern=IDENTIFIER_PATTERN,
        max_length=512,
        description="A GLN (13 digits), an SGLN URN or a Digital Link path 414/{gln}[/254/{extension}].",
    ),
]
CACHE_CONTROL = "public, max-age=60"


@router.post(
    "",
    response_model=MasterDataPublished,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_STATUSES, 401, 403),
)
def publish(body: MasterDataCreate, runtime: RuntimeDep) -> MasterDataPublished:
    """Record the product and location master data of an EPCIS document, signed by its provider."""
    published = MasterDataService(runtime).publish(body.document, body.signer, body.deadline, body.signature)
    return MasterDataPublished.of(published)


@router.post("/requests", response_model=MasterDataPrepared, responses=error_responses(*BODY_STATUSES))
def prepare(body: MasterDataPrepare, runtime: RuntimeDep) -> MasterDataPrepared:
    """The EIP-712 message to sign for a master data document (checked for master data first)."""
    service = MasterDataService(runtime)
    elements_of(body.document)
    digest = to_hex(document_hash(body.document))
    deadline = service.chain_time() + body.ttl_seconds
    return MasterDataPrepared(document_hash=digest, deadline=deadline, typed_data=service.typed_data(digest, deadline))


@router.get("", response_model=MasterDataLookupPublic, responses=error_responses(*READ_STATUSES))
def lookup(
    runtime: RuntimeDep,
    response: Response,
    id: Annotated[list[str], Query(min_length=1, max_length=200, description="GTINs, product IDs, GLNs or SGLN URNs")],
    prefer: Annotated[list[str], Query(max_length=10, description="providers (0x addresses) to prefer, in order")] = [],  # noqa: B006
) -> MasterDataLookupPublic:
    """Master data for many identifiers at once (what one page of a trace names)."""
    response.headers["Cache-Control"] = CACHE_CONTROL
    return MasterDataLookupPublic.of(MasterDataService(runtime).lookup(id, prefer))


@router.get(
    "/products/{gtin}", response_model=MasterRecordPublic, responses=error_responses(*READ_STATUSES, _404=NOT_FOUND)
)
def product(gtin: GtinPath, runtime: RuntimeDep) -> MasterRecordPublic:
    """A product class by GTIN."""
    return MasterRecordPublic.model_validate(MasterDataService(runtime).get("product", gtin))


@router.get(
    "/locations/{location_id:path}",
    response_model=MasterRecordPublic,
    responses=error_responses(*READ_STATUSES, _404=NOT_FOUND),
)
def location(location_id: LocationPath, runtime: RuntimeDep) -> MasterRecordPublic:
    """A location by GLN, SGLN URN or Digital Link path (414/{gln}[/254/{extension}])."""
    return MasterRecordPublic.model_validate(MasterDataService(runtime).get("location", location_id))


@router.get(
    "/documents/{document_hash}",
    response_model=Any,
    responses=error_responses(*READ_STATUSES, _404="No master data came in it (`document_not_found`)"),
)
def signed_document(
    document_hash: Annotated[str, Path(pattern=HASH_PATTERN, description="a statement's document_hash")],
    runtime: RuntimeDep,
    response: Response,
) -> Any:
    """The master data document a statement came in, as stored: the document its provider signed
    (check it against the statement's `signature` and `deadline`, docs/PROTOCOL.md §11)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return MasterDataService(runtime).document(document_hash)
