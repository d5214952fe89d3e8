"""Data-rights routes: datasets, certificates, rights checks and uses. Writes carry the acting
account's signed ERC-2771 request, which the server checks against the documents and relays."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tracechain.api.deps import RuntimeDep
from tracechain.api.schemas.common import ErrorPublic
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

router = APIRouter(
    prefix="/v1",
    tags=["data rights"],
    responses={code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 422)},
)


@router.post("/datasets", response_model=WrittenPublic, status_code=status.HTTP_201_CREATED)
def register_dataset(body: DatasetCreate, runtime: RuntimeDep) -> WrittenPublic:
    """Register a dataset by its manifest's canonical hash; the signer becomes its holder and the
    answer's `id` is the dataset id, keccak256(abi.encode(contentHash, signer))."""
    written = RightsService(runtime).relay_register(body.request.to_request(), body.manifest, body.metadata)
    return WrittenPublic.of(written)


@router.get("/datasets/{dataset_id}", response_model=DatasetPublic)
def get_dataset(dataset_id: str, runtime: RuntimeDep) -> DatasetPublic:
    """The dataset: its holder (read from the chain), holder history and certificates."""
    return DatasetPublic.of(RightsService(runtime).dataset(dataset_id))


@router.post("/datasets/{dataset_id}/certificates", response_model=WrittenPublic, status_code=status.HTTP_201_CREATED)
def grant_certificate(dataset_id: str, body: CertificateCreate, runtime: RuntimeDep) -> WrittenPublic:
    """Grant a processing or operation certificate (the holder's signed request)."""
    return WrittenPublic.of(RightsService(runtime).relay_grant(body.request.to_request(), dataset_id, body.terms))


@router.post("/datasets/{dataset_id}/transfer", response_model=WrittenPublic)
def transfer_holding(dataset_id: str, body: HoldingTransfer, runtime: RuntimeDep) -> WrittenPublic:
    """Transfer the holding right (ERC-721); existing certificates stay valid until expiry or revocation."""
    return WrittenPublic.of(RightsService(runtime).relay_transfer(body.request.to_request(), dataset_id))


@router.get("/datasets/{dataset_id}/rights", response_model=RightCheckPublic)
def check_right(
    dataset_id: str,
    runtime: RuntimeDep,
    account: Annotated[str, Query(description="The account asked about.")],
    right: Annotated[Right, Query(description="holding, processing or operation.")],
) -> RightCheckPublic:
    """hasRight(dataset, account, right) at the current block, asked of the chain: `has_right`
    false (not 404) for a dataset nobody registered, as the contract answers, with
    `dataset_registered` false."""
    return RightCheckPublic.of(RightsService(runtime).check_right(dataset_id, account, right))


@router.get("/certificates/{certificate_id}", response_model=CertificatePublic)
def get_certificate(certificate_id: str, runtime: RuntimeDep) -> CertificatePublic:
    """The certificate as the chain holds it now: status (valid, not yet valid, expired, revoked) with reasons."""
    return CertificatePublic.of(RightsService(runtime).certificate(certificate_id), live=True)


@router.post("/certificates/{certificate_id}/revoke", response_model=WrittenPublic)
def revoke_certificate(certificate_id: str, body: CertificateRevoke, runtime: RuntimeDep) -> WrittenPublic:
    """Revoke a certificate (the holder's, governance's or the grantee's signed request)."""
    service = RightsService(runtime)
    return WrittenPublic.of(service.relay_revoke(body.request.to_request(), certificate_id, body.reason))


@router.post("/certificates/{certificate_id}/uses", response_model=WrittenPublic, status_code=status.HTTP_201_CREATED)
def record_use(certificate_id: str, body: UseCreate, runtime: RuntimeDep) -> WrittenPublic:
    """Record a use under a certificate (the grantee's signed request); the chain refuses it outside the window."""
    service = RightsService(runtime)
    return WrittenPublic.of(service.relay_use(body.request.to_request(), certificate_id, body.purpose))


@router.get("/certificates/{certificate_id}/uses", response_model=UsesPublic)
def list_uses(certificate_id: str, runtime: RuntimeDep) -> UsesPublic:
    """The recorded uses of a certificate, with the on-chain count that proves the list complete."""
    return UsesPublic.of(RightsService(runtime).uses(certificate_id))
