"""Data-rights use cases: register datasets, grant / revoke / use certificates, transfer holding,
and answer about datasets, certificates and rights, live against the chain where it matters.

Writes come two ways. Local signers (CLI, demo) sign a request that the operator relays. The API
receives a request already signed by the acting account: the service checks that the signed call
is the one the request claims (same dataset, same documents), stores the documents and relays it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.logs import DISCARD

from tracechain import errors
from tracechain.chain.rights import (
    Certificate,
    CertificateStatus,
    DataRightsClient,
    Right,
    dataset_id_of,
    dataset_token_id,
)
from tracechain.chain.transact import ForwardRequest, TxResult, decode_request
from tracechain.errors import CertificateNotFoundError, DatasetNotFoundError, RequestMismatchError
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.services.runtime import Runtime
from tracechain.store import rights as index
from tracechain.types import iso_utc, to_address

CONTRACT = "DataRightsRegistry"
ZERO32 = bytes(32)


# ---------------------------------------------------------------- answers
@dataclass(frozen=True)
class TxRef:
    """Where a write landed."""

    tx_hash: str
    block_number: int
    timestamp: int


@dataclass(frozen=True)
class ChainTime:
    """The block an answer was checked against."""

    block_number: int
    timestamp: int


@dataclass(frozen=True)
class HolderChange:
    from_address: str
    to_address: str
    tx: TxRef


@dataclass(frozen=True)
class Revocation:
    revoked_at: int
    revoked_by: str | None  # None while the index has not seen the revocation yet
    reason_hash: str | None
    tx: TxRef | None


@dataclass(frozen=True)
class CertificateView:
    """A certificate: its fixed terms and window, and its status at `checked_at`."""

    certificate: Certificate
    status: CertificateStatus
    reasons: list[str]
    checked_at: ChainTime
    grantor: str | None
    previous_id: str | None
    granted: TxRef | None
    revocation: Revocation | None
    terms: Any | None  # the terms document, if this service stored it


@dataclass(frozen=True)
class DatasetView:
    """A dataset: its holder (live), holder history and certificates (indexed)."""

    dataset_id: str
    content_hash: str | None  # documentHash of the manifest (None while the index has not seen it)
    token_id: int
    contract: str
    holder: str
    registrant: str | None
    metadata_hash: str | None
    manifest: Any | None
    metadata: Any | None
    registered: TxRef | None
    holders: list[HolderChange]
    certificates: list[CertificateView]
    checked_at: ChainTime


@dataclass(frozen=True)
class RightCheck:
    """Whether `account` may exercise `right` on a dataset at `checked_at`, and on what basis
    (false, with `dataset_registered` false, for a dataset nobody registered: `hasRight`'s answer)."""

    dataset_id: str
    account: str
    right: Right
    has_right: bool
    dataset_registered: bool
    basis: str | None  # "holder", "certificate" or None
    certificate_id: str | None
    certificate_status: CertificateStatus | None
    checked_at: ChainTime


@dataclass(frozen=True)
class UseRecord:
    certificate_id: str
    use_index: int
    user: str
    right: Right
    purpose_hash: str
    purpose: Any | None
    tx: TxRef


@dataclass(frozen=True)
class UseLog:
    """The indexed uses of a certificate and whether they are all of them (count checked on-chain)."""

    certificate_id: str
    use_count_on_chain: int
    uses: list[UseRecord] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return [u.use_index for u in self.uses] == list(range(self.use_count_on_chain))


@dataclass(frozen=True)
class Written:
    """A relayed write: the subject it created or changed and the transaction."""

    subject: str  # dataset id or certificate id
    tx: TxResult
    use_index: int | None = None


class RightsService:
    """The rights use cases over one Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.contract = runtime.contract(CONTRACT)
        self.client = DataRightsClient(self.contract, runtime.transactor)
        self.relayed = DataRightsClient(self.contract, runtime.relaying)

    # ---------------------------------------------------------------- writes by local signers
    # Documents are stored only once the chain has accepted the write that commits to them, so a
    # refused write leaves nothing behind (and nobody can fill the store with refused requests).
    def register(self, signer: LocalAccount, manifest: Any, metadata: Any | None = None) -> Written:
        """Register the dataset whose manifest is `manifest`; `signer` becomes its holder. Its id is
        `dataset_id_of(documentHash(manifest), signer)`: nobody else can claim that id.

        Raises:
            DataRightsRegistryDatasetExists: `signer` already registered this manifest.
        """
        metadata_hash = document_hash(metadata) if metadata is not None else ZERO32
        dataset_id, result = self.relayed.register_dataset(signer, document_hash(manifest), metadata_hash)
        self._keep(manifest, metadata)
        return self._written(dataset_id, result)

    def grant(
        self,
        signer: LocalAccount,
        dataset_id: str,
        grantee: str,
        right: Right,
        expires_at: int,
        terms: Any,
        not_before: int = 0,
    ) -> Written:
        """Grant a certificate on `dataset_id` under `terms` (a JSON document)."""
        cid, result = self.relayed.grant_certificate(
            signer, dataset_id, grantee, right, expires_at, document_hash(terms), not_before=not_before
        )
        self._keep(terms)
        return self._written(cid, result)

    def revoke(self, signer: LocalAccount, certificate_id: str, reason: Any) -> Written:
        """Revoke a certificate for `reason` (a JSON document)."""
        result = self.relayed.revoke_certificate(signer, certificate_id, document_hash(reason))
        self._keep(reason)
        return self._written(_hex32(certificate_id), result)

    def use(self, signer: LocalAccount, certificate_id: str, right: Right, purpose: Any) -> Written:
        """Record a use of the certificate's dataset for `purpose` (a JSON document)."""
        result = self.relayed.record_use(signer, certificate_id, right, document_hash(purpose))
        self._keep(purpose)
        return self._written(_hex32(certificate_id), result, use_index=self._use_index(result))

    def transfer(self, signer: LocalAccount, dataset_id: str, to: str) -> Written:
        """Move the holding right of `dataset_id` to `to`."""
        return self._written(_hex32(dataset_id), self.relayed.transfer_holding(signer, dataset_id, to))

    # ---------------------------------------------------------------- writes signed elsewhere (API)
    def relay_register(self, request: ForwardRequest, manifest: Any, metadata: Any | None) -> Written:
        """Relay a signed `registerDataset` for `manifest` (and `metadata`).

        Raises:
            RequestMismatchError: the request registers another content hash or metadata hash.
            SignatureError, ContractRevertError: the forwarder or the contract refuse it.
        """
        args = self._decode(request, "registerDataset")
        content_hash = to_hex(document_hash(manifest))
        self._expect(args["contentHash"], content_hash, "the content hash is not the manifest's canonical hash")
        dataset_id = dataset_id_of(content_hash, request.sender)
        if metadata is not None:
            self._expect(args["metadataHash"], to_hex(document_hash(metadata)), "metadataHash is not the metadata's")
        result = self._relay(request)
        self._keep(manifest, metadata)
        return self._written(dataset_id, result)

    def relay_grant(self, request: ForwardRequest, dataset_id: str, terms: Any) -> Written:
        """Relay a signed `grantCertificate` on `dataset_id` under `terms`.

        Raises:
            RequestMismatchError: the request grants on another dataset or under other terms.
        """
        args = self._decode(request, "grantCertificate")
        self._expect(args["datasetId"], _hex32(dataset_id), "the request grants on another dataset")
        self._expect(args["termsHash"], to_hex(document_hash(terms)), "termsHash is not the terms document's")
        result = self._relay(request)
        self._keep(terms)
        events = self.contract.events.CertificateGranted().process_receipt({"logs": result.logs}, errors=DISCARD)
        return self._written(to_hex(events[0].args.certificateId), result)

    def relay_revoke(self, request: ForwardRequest, certificate_id: str, reason: Any | None) -> Written:
        """Relay a signed `revokeCertificate` of `certificate_id`.

        Raises:
            RequestMismatchError: the request revokes another certificate or gives another reason.
        """
        args = self._decode(request, "revokeCertificate")
        self._expect(args["certificateId"], _hex32(certificate_id), "the request revokes another certificate")
        if reason is not None:
            self._expect(args["reasonHash"], to_hex(document_hash(reason)), "reasonHash is not the reason's")
        result = self._relay(request)
        self._keep(reason)
        return self._written(_hex32(certificate_id), result)

    def relay_use(self, request: ForwardRequest, certificate_id: str, purpose: Any | None) -> Written:
        """Relay a signed `recordUse` under `certificate_id`.

        Raises:
            RequestMismatchError: the request uses another certificate or states another purpose.
        """
        args = self._decode(request, "recordUse")
        self._expect(args["certificateId"], _hex32(certificate_id), "the request uses another certificate")
        if purpose is not None:
            self._expect(args["purposeHash"], to_hex(document_hash(purpose)), "purposeHash is not the purpose's")
        result = self._relay(request)
        self._keep(purpose)
        return self._written(_hex32(certificate_id), result, use_index=self._use_index(result))

    def relay_transfer(self, request: ForwardRequest, dataset_id: str) -> Written:
        """Relay a signed ERC-721 `transferFrom` / `safeTransferFrom` of `dataset_id`'s holding right.

        Raises:
            RequestMismatchError: the request is not a transfer of this dataset's token.
        """
        args = self._decode(request, "transferFrom", "safeTransferFrom")
        if int(args["tokenId"]) != dataset_token_id(dataset_id):
            raise RequestMismatchError("the request transfers another token than this dataset's holding right")
        return self._written(_hex32(dataset_id), self._relay(request))

    # ---------------------------------------------------------------- reads
    def now(self) -> ChainTime:
        block = self.runtime.chain.w3.eth.get_block("latest")
        return ChainTime(int(block["number"]), int(block["timestamp"]))

    def dataset(self, dataset_id: str) -> DatasetView:
        """The dataset: holder read from the chain, indexed history and certificates (statuses at
        the same block's time).

        Raises:
            DatasetNotFoundError: not registered.
        """
        dataset_id = _hex32(dataset_id)
        at = self.now()
        if not self.client.dataset_exists(dataset_id, at.block_number):
            raise DatasetNotFoundError(f"no dataset {dataset_id} is registered")
        holder = self.client.holder_of(dataset_id, at.block_number)
        self.runtime.refresh()
        store = self.runtime.store
        with store.session() as s:
            row = index.dataset(s, dataset_id)
            changes = [
                HolderChange(c.from_address, c.to_address, TxRef(c.tx_hash, c.block_number, c.timestamp))
                for c in index.holder_changes(s, dataset_id)
                if c.block_number <= at.block_number
            ]
            certs = [
                self._view_from_index(c, at)
                for c in index.certificates_of(s, dataset_id)
                if c.block_number <= at.block_number
            ]
        return DatasetView(
            dataset_id=dataset_id,
            content_hash=row.content_hash if row else None,
            token_id=dataset_token_id(dataset_id),
            contract=self.client.address,
            holder=holder,
            registrant=row.registrant if row else None,
            metadata_hash=row.metadata_hash if row else None,
            manifest=store.get_document(row.content_hash) if row else None,
            metadata=store.get_document(row.metadata_hash) if row and any(parse_bytes32(row.metadata_hash)) else None,
            registered=TxRef(row.tx_hash, row.block_number, row.timestamp) if row else None,
            holders=changes,
            certificates=certs,
            checked_at=at,
        )

    def certificate(self, certificate_id: str) -> CertificateView:
        """The certificate as the chain holds it at the latest block, with its status and why.

        Raises:
            CertificateNotFoundError: no such certificate.
        """
        certificate_id = _hex32(certificate_id)
        at = self.now()
        try:
            cert = self.client.get_certificate(certificate_id, at.block_number)
            status = self.client.certificate_status(certificate_id, at.block_number)
        except errors.DataRightsRegistryUnknownCertificate:
            raise CertificateNotFoundError(f"no certificate {certificate_id}") from None
        self.runtime.refresh()
        with self.runtime.store.session() as s:
            row = index.certificate(s, certificate_id)
            revocation = None
            if cert.revoked_at:
                revocation = Revocation(cert.revoked_at, None, None, None)
                if row is not None and row.revoke_tx_hash is not None:
                    revocation = Revocation(
                        cert.revoked_at,
                        row.revoked_by,
                        row.reason_hash,
                        TxRef(row.revoke_tx_hash, row.revoke_block_number or 0, row.revoked_at or 0),
                    )
            granted = TxRef(row.tx_hash, row.block_number, row.timestamp) if row else None
            grantor, previous = (row.grantor, row.previous_id) if row else (None, None)
        return CertificateView(
            certificate=cert,
            status=status,
            reasons=_reasons(cert, status, at.timestamp, revocation),
            checked_at=at,
            grantor=grantor,
            previous_id=previous,
            granted=granted,
            revocation=revocation,
            terms=self.runtime.store.get_document(cert.terms_hash),
        )

    def check_right(self, dataset_id: str, account: str, right: Right) -> RightCheck:
        """Whether `account` may exercise `right` now, asked of the chain, and on what basis; every
        read is made at one block. An unknown dataset is answered, as `hasRight` answers it: no."""
        dataset_id, account = _hex32(dataset_id), to_address(account)
        at = self.now()
        n = at.block_number
        if not self.client.dataset_exists(dataset_id, n):
            return RightCheck(dataset_id, account, right, False, False, None, None, None, at)
        has = self.client.has_right(dataset_id, account, right, n)
        cid = self.client.latest_certificate(dataset_id, account, right, n) if right is not Right.HOLDING else None
        status = self.client.certificate_status(cid, n) if cid else None
        basis: str | None = None
        if has:
            basis = "holder" if self.client.holder_of(dataset_id, n) == account else "certificate"
        return RightCheck(dataset_id, account, right, has, True, basis, cid, status, at)

    def uses(self, certificate_id: str) -> UseLog:
        """The uses of a certificate from the index up to the latest block, with the on-chain count
        at that block, so `complete` tells whether the index holds all of them.

        Raises:
            CertificateNotFoundError: no such certificate.
        """
        certificate_id = _hex32(certificate_id)
        at = self.now()
        count = self.client.use_count(certificate_id, at.block_number)
        if count == 0:  # useCount answers 0 for unknown ids too
            try:
                self.client.get_certificate(certificate_id, at.block_number)
            except errors.DataRightsRegistryUnknownCertificate:
                raise CertificateNotFoundError(f"no certificate {certificate_id}") from None
        self.runtime.refresh()
        store = self.runtime.store
        with store.session() as s:
            rows = [r for r in index.uses_of(s, certificate_id) if r.block_number <= at.block_number]
        uses = [
            UseRecord(
                r.certificate_id,
                r.use_index,
                r.user,
                Right(r.right),
                r.purpose_hash,
                store.get_document(r.purpose_hash),
                TxRef(r.tx_hash, r.block_number, r.timestamp),
            )
            for r in rows
        ]
        return UseLog(certificate_id, count, uses)

    # ---------------------------------------------------------------- internals
    def _view_from_index(self, row: index.CertificateRow, at: ChainTime) -> CertificateView:
        cert = Certificate(
            certificate_id=row.certificate_id,
            dataset_id=row.dataset_id,
            right=Right(row.right),
            grantee=row.grantee,
            not_before=row.not_before,
            expires_at=row.expires_at,
            terms_hash=row.terms_hash,
            revoked_at=row.revoked_at or 0,
            use_count=row.use_count,
        )
        status = cert.status_at(at.timestamp)
        revocation = None
        if row.revoked_at is not None and row.revoke_tx_hash is not None:
            revocation = Revocation(
                row.revoked_at,
                row.revoked_by,
                row.reason_hash,
                TxRef(row.revoke_tx_hash, row.revoke_block_number or 0, row.revoked_at),
            )
        return CertificateView(
            certificate=cert,
            status=status,
            reasons=_reasons(cert, status, at.timestamp, revocation),
            checked_at=at,
            grantor=row.grantor,
            previous_id=row.previous_id,
            granted=TxRef(row.tx_hash, row.block_number, row.timestamp),
            revocation=revocation,
            terms=None,
        )

    def _written(self, subject: str, tx: TxResult, use_index: int | None = None) -> Written:
        """A write's answer, once the index holds its block (read-your-writes: a read right after
        it sees it, also while the API's background task is what indexes)."""
        self.runtime.sync()
        return Written(subject, tx, use_index)

    def _relay(self, request: ForwardRequest) -> TxResult:
        return self.runtime.transactor.relay(request, self.runtime.operator)

    def _keep(self, *docs: Any) -> None:
        for doc in docs:
            if doc is not None:
                self.runtime.store.put_document(doc)

    def _decode(self, request: ForwardRequest, *functions: str) -> dict[str, Any]:
        return decode_request(self.contract, request, functions)[1]

    @staticmethod
    def _expect(actual: bytes, expected: str, message: str) -> None:
        if to_hex(actual) != expected:
            raise RequestMismatchError(f"{message} (signed {to_hex(actual)}, expected {expected})")

    def _use_index(self, result: TxResult) -> int | None:
        events = self.contract.events.DatasetUsed().process_receipt({"logs": result.logs}, errors=DISCARD)
        return int(events[0].args.useIndex) if events else None


def _hex32(value: str) -> str:
    return to_hex(parse_bytes32(value))


def _reasons(cert: Certificate, status: CertificateStatus, now: int, revocation: Revocation | None) -> list[str]:
    """Why the certificate has `status` at block time `now`, in plain words (times in UTC)."""
    window = f"validity window {iso_utc(cert.not_before)} to {iso_utc(cert.expires_at)} (end exclusive)"
    at = f"block time {iso_utc(now)}"
    if status is CertificateStatus.REVOKED:
        by = f" by {revocation.revoked_by}" if revocation and revocation.revoked_by else ""
        why = f", reason hash {revocation.reason_hash}" if revocation and revocation.reason_hash else ""
        return [f"revoked at {iso_utc(cert.revoked_at)}{by}{why}", window]
    if status is CertificateStatus.EXPIRED:
        return [f"expired at {iso_utc(cert.expires_at)} ({at})", window]
    if status is CertificateStatus.NOT_YET_VALID:
        return [f"not valid before {iso_utc(cert.not_before)} ({at})", window]
    return [f"valid until {iso_utc(cert.expires_at)} ({at})", window]
