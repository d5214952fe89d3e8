"""Data-rights routes: datasets, certificates, rights checks and uses. Writes carry the acting
account's signed ERC-2771 request, which the server checks against the documents and relays."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tracechain.api.bodies import StrictJsonRoute
from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import BODY_STATUSES, READ_STATUSES, error_responses
from tracechain.api.params import AddressQuery, CertificateIdPath, DatasetIdPath
from tracechain.api.schemas.rights import (
    CertificateCreate,
    CertificatePublic,
    CertificateRevoke,
    DatasetCreate,
    DatasetPublic,
    HoldingTransfer,
    RightCheckPublic,
    UseCreate,
    UsesPublic,
    WrittenPublic,
)
from tracechain.chain.rights import Right
from tracechain.services.rights import RightsService

router = APIRouter(prefix="/v1", tags=["data rights"], route_class=StrictJsonRoute)
# A relayed write: the body, the signature, the signer's rights, the state, the chain.
WRITE = error_responses(*BODY_STATUSES, 401, 403, 404, 409, 500)
NO_DATASET = error_responses(*READ_STATUSES, _404="No such dataset (`dataset_not_found`)")
NO_CERTIFICATE = error_responses(*READ_STATUSES, _404="No such certificate (`certificate_not_found`)")


@router.post(
    "/datasets",
    response_model=WrittenPublic,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_STATUSES, 401, 403, 409, 500),
)
def register_dataset(body: DatasetCreate, runtime: RuntimeDep) -> WrittenPublic:
    """Register a dataset by its manifest's canonical hash; the signer becomes its holder and the
    answer's `id` is the dataset id, keccak256(abi.encode(contentHash, signer))."""
    written = RightsService(runtime).relay_register(body.request.to_request(), body.manifest, body.metadata)
    return WrittenPublic.of(written)


@router.get("/datasets/{dataset_id}", response_model=DatasetPublic, responses=NO_DATASET)
def get_dataset(dataset_id: DatasetIdPath, runtime: RuntimeDep) -> DatasetPublic:
    """The dataset: its holder (read from the chain), holder history and certificates."""
    return DatasetPublic.of(RightsService(runtime).dataset(dataset_id))


@router.post(
    "/datasets/{dataset_id}/certificates",
    response_model=WrittenPublic,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def grant_certificate(dataset_id: DatasetIdPath, body: CertificateCreate, runtime: RuntimeDep) -> WrittenPublic:
    """Grant a processing or operation certificate (the holder's signed request)."""
    return WrittenPublic.of(RightsService(runtime).relay_grant(body.request.to_request(), dataset_id, body.terms))


@router.post("/datasets/{dataset_id}/transfer", response_model=WrittenPublic, responses=WRITE)
def transfer_holding(dataset_id: DatasetIdPath, body: HoldingTransfer, runtime: RuntimeDep) -> WrittenPublic:
    """Transfer the holding right (ERC-721); existing certificates stay valid until expiry or revocation."""
    return WrittenPublic.of(RightsService(runtime).relay_transfer(body.request.to_request(), dataset_id))


@router.get("/datasets/{dataset_id}/rights", response_model=RightCheckPublic, responses=NO_DATASET)
def check_right(
    dataset_id: DatasetIdPath,
    runtime: RuntimeDep,
    account: AddressQuery,
    right: Annotated[Right, Query(description="holding, processing or operation.")],
) -> RightCheckPublic:
    """hasRight(dataset, account, right) at the current block, asked of the chain: `has_right`
    false (not 404) for a dataset nobody registered, as the contract answers, with
    `dataset_registered` false."""
    return RightCheckPublic.of(RightsService(runtime).check_right(dataset_id, account, right))


@router.get("/certificates/{certificate_id}", response_model=CertificatePublic, responses=NO_CERTIFICATE)
def get_certificate(certificate_id: CertificateIdPath, runtime: RuntimeDep) -> CertificatePublic:
    """The certificate as the chain holds it now: status (valid, not yet valid, expired, revoked) with reasons."""
    return CertificatePublic.of(RightsService(runtime).certificate(certificate_id), live=True)


@router.post("/certificates/{certificate_id}/revoke", response_model=WrittenPublic, responses=WRITE)
def revoke_certificate(
    certificate_id: CertificateIdPath, body: CertificateRevoke, runtime: RuntimeDep
) -> WrittenPublic:
    """Revoke a certificate (the holder's, governance's or the grantee's signed request)."""
    service = RightsService(runtime)
    return WrittenPublic.of(service.relay_revoke(body.request.to_request(), certificate_id, body.reason))


@router.post(
    "/certificates/{certificate_id}/uses",
    response_model=WrittenPublic,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def record_use(certificate_id: CertificateIdPath, body: UseCreate, runtime: RuntimeDep) -> WrittenPublic:
    """Record a use under a certificate (the grantee's signed request); the chain refuses it outside the window."""
    service = RightsService(runtime)
    return WrittenPublic.of(service.relay_use(body.request.to_request(), certificate_id, body.purpose))


@router.get("/certificates/{certificate_id}/uses", response_model=UsesPublic, responses=NO_CERTIFICATE)
def list_uses(certificate_id: CertificateIdPath, runtime: RuntimeDep) -> UsesPublic:
    """The recorded uses of a certificate, with the on-chain count that proves the list complete."""
    return UsesPublic.of(RightsService(runtime).uses(certificate_id))
