"""Bodies and answers of the data-rights routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tracechain.api.schemas.common import ForwardRequestIn, TxPublic
from tracechain.chain.rights import CertificateStatus, Right
from tracechain.services import rights as svc


# ---------------------------------------------------------------- writes
class DatasetCreate(BaseModel):
    """Register a dataset: its manifest (whose canonical hash is the content hash), optional
    metadata, and the holder's signed `registerDataset(contentHash, metadataHash)` request. The
    dataset id is `keccak256(abi.encode(contentHash, signer))`."""

    manifest: Any = Field(description="The dataset manifest (JSON); its RFC 8785 keccak hash is the content hash.")
    metadata: Any | None = Field(default=None, description="Optional description; must match metadataHash.")
    request: ForwardRequestIn


class CertificateCreate(BaseModel):
    """Grant a certificate: the terms document and the holder's signed `grantCertificate` request."""

    terms: Any = Field(description="The licence terms (JSON); must match the signed termsHash.")
    request: ForwardRequestIn


class CertificateRevoke(BaseModel):
    """Revoke a certificate: the revoker's signed `revokeCertificate` request and, optionally, the reason."""

    reason: Any | None = Field(default=None, description="The reason document; must match reasonHash if given.")
    request: ForwardRequestIn


class UseCreate(BaseModel):
    """Record a use: the grantee's signed `recordUse` request and, optionally, the purpose."""

    purpose: Any | None = Field(default=None, description="The purpose document; must match purposeHash if given.")
    request: ForwardRequestIn


class HoldingTransfer(BaseModel):
    """Transfer the holding right: the holder's (or approved operator's) signed ERC-721
    `transferFrom` / `safeTransferFrom` request for `tokenId = uint256(datasetId)`."""

    request: ForwardRequestIn


class WrittenPublic(BaseModel):
    """What a write created or changed, and where it landed."""

    id: str = Field(description="The dataset id or certificate id written.")
    tx: TxPublic
    use_index: int | None = None

    @classmethod
    def of(cls, written: svc.Written) -> WrittenPublic:
        t = written.tx
        return cls(
            id=written.subject,
            tx=TxPublic(tx_hash=t.tx_hash, block_number=t.block_number, gas_used=t.gas_used),
            use_index=written.use_index,
        )


# ---------------------------------------------------------------- reads
class TxRefPublic(BaseModel):
    tx_hash: str
    block_number: int
    timestamp: int

    @classmethod
    def of(cls, ref: svc.TxRef) -> TxRefPublic:
        return cls(tx_hash=ref.tx_hash, block_number=ref.block_number, timestamp=ref.timestamp)

    @classmethod
    def maybe(cls, ref: svc.TxRef | None) -> TxRefPublic | None:
        return None if ref is None else cls.of(ref)


class ChainTimePublic(BaseModel):
    """The block an answer was checked against."""

    block_number: int
    timestamp: int


class RevocationPublic(BaseModel):
    revoked_at: int
    revoked_by: str | None
    reason_hash: str | None
    tx: TxRefPublic | None


class CertificatePublic(BaseModel):
    """A certificate, its fixed window and terms, and its status with reasons at `checked_at`."""

    certificate_id: str
    dataset_id: str
    right: Right
    grantee: str
    grantor: str | None
    not_before: int = Field(description="Unix seconds, inclusive.")
    expires_at: int = Field(description="Unix seconds, exclusive.")
    terms_hash: str
    terms: Any | None
    previous_certificate_id: str | None
    status: CertificateStatus
    reasons: list[str]
    use_count: int
    revocation: RevocationPublic | None
    granted: TxRefPublic | None
    checked_at: ChainTimePublic
    live: bool = Field(description="True when the status was read from the chain, not the index.")

    @classmethod
    def of(cls, view: svc.CertificateView, *, live: bool) -> CertificatePublic:
        c, r = view.certificate, view.revocation
        return cls(
            certificate_id=c.certificate_id,
            dataset_id=c.dataset_id,
            right=c.right,
            grantee=c.grantee,
            grantor=view.grantor,
            not_before=c.not_before,
            expires_at=c.expires_at,
            terms_hash=c.terms_hash,
            terms=view.terms,
            previous_certificate_id=view.previous_id,
            status=view.status,
            reasons=view.reasons,
            use_count=c.use_count,
            revocation=None
            if r is None
            else RevocationPublic(
                revoked_at=r.revoked_at, revoked_by=r.revoked_by, reason_hash=r.reason_hash, tx=TxRefPublic.maybe(r.tx)
            ),
            granted=TxRefPublic.maybe(view.granted),
            checked_at=ChainTimePublic(**view.checked_at.__dict__),
            live=live,
        )


class HolderChangePublic(BaseModel):
    from_address: str
    to_address: str
    tx: TxRefPublic


class DatasetPublic(BaseModel):
    """A dataset: live holder, ERC-721 token, holder history and certificates (status at the head)."""

    dataset_id: str = Field(description="keccak256(abi.encode(contentHash, registrant)).")
    content_hash: str | None = Field(description="documentHash of the manifest (null until the index has it).")
    token_id: str = Field(description="ERC-721 token id of the holding right, uint256(datasetId), in decimal.")
    contract: str
    holder: str
    registrant: str | None
    metadata_hash: str | None
    manifest: Any | None
    metadata: Any | None
    registered: TxRefPublic | None
    holders: list[HolderChangePublic]
    certificates: list[CertificatePublic]
    checked_at: ChainTimePublic

    @classmethod
    def of(cls, view: svc.DatasetView) -> DatasetPublic:
        return cls(
            dataset_id=view.dataset_id,
            content_hash=view.content_hash,
            token_id=str(view.token_id),
            contract=view.contract,
            holder=view.holder,
            registrant=view.registrant,
            metadata_hash=view.metadata_hash,
            manifest=view.manifest,
            metadata=view.metadata,
            registered=TxRefPublic.maybe(view.registered),
            holders=[
                HolderChangePublic(from_address=h.from_address, to_address=h.to_address, tx=TxRefPublic.of(h.tx))
                for h in view.holders
            ],
            certificates=[CertificatePublic.of(c, live=False) for c in view.certificates],
            checked_at=ChainTimePublic(**view.checked_at.__dict__),
        )


class RightCheckPublic(BaseModel):
    """hasRight(dataset, account, right) at `checked_at`, with its basis; false for a dataset nobody
    registered (as the contract answers), with `dataset_registered` false."""

    dataset_id: str
    account: str
    right: Right
    has_right: bool
    dataset_registered: bool
    basis: str | None = Field(description='"holder", "certificate", or null when the right is not held.')
    certificate_id: str | None = Field(description="The account's latest certificate for this right, if any.")
    certificate_status: CertificateStatus | None
    checked_at: ChainTimePublic

    @classmethod
    def of(cls, check: svc.RightCheck) -> RightCheckPublic:
        return cls(
            dataset_id=check.dataset_id,
            account=check.account,
            right=check.right,
            has_right=check.has_right,
            dataset_registered=check.dataset_registered,
            basis=check.basis,
            certificate_id=check.certificate_id,
            certificate_status=check.certificate_status,
            checked_at=ChainTimePublic(**check.checked_at.__dict__),
        )


class UsePublic(BaseModel):
    use_index: int
    user: str
    right: Right
    purpose_hash: str
    purpose: Any | None
    tx: TxRefPublic


class UsesPublic(BaseModel):
    """The uses of a certificate; `complete` is true when the index has as many as the chain counts."""

    certificate_id: str
    use_count_on_chain: int
    complete: bool
    uses: list[UsePublic]

    @classmethod
    def of(cls, log: svc.UseLog) -> UsesPublic:
        return cls(
            certificate_id=log.certificate_id,
            use_count_on_chain=log.use_count_on_chain,
            complete=log.complete,
            uses=[
                UsePublic(
                    use_index=u.use_index,
                    user=u.user,
                    right=u.right,
                    purpose_hash=u.purpose_hash,
                    purpose=u.purpose,
                    tx=TxRefPublic.of(u.tx),
                )
                for u in log.uses
            ],
        )
