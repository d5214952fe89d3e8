"""Typed client of the DataRightsRegistry contract: datasets, holding transfers and certificates."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD

from tracechain.chain.client import ContractClient
from tracechain.chain.transact import TxResult
from tracechain.errors import InvalidInputError, TraceChainError, TransactionError
from tracechain.hashing import parse_bytes32, to_hex
from tracechain.types import to_address

ZERO32 = bytes(32)


class Right(StrEnum):
    """The three rights; `index` is the contract's enum value."""

    HOLDING = "holding"
    PROCESSING = "processing"
    OPERATION = "operation"

    @property
    def code(self) -> int:
        return list(Right).index(self)

    @classmethod
    def from_index(cls, value: int) -> Right:
        return list(Right)[int(value)]

    @classmethod
    def parse(cls, value: str) -> Right:
        """The right named `value` (any case; "usage" and "product-operation" are accepted too).

        Raises:
            InvalidInputError: no such right.
        """
        name = value.strip().lower().replace("_", "-")
        name = {"usage": "processing", "product-operation": "operation"}.get(name, name)
        try:
            return cls(name)
        except ValueError:
            raise InvalidInputError(f"unknown right {value!r}", hint="one of: holding, processing, operation") from None


class CertificateStatus(StrEnum):
    """Where a certificate stands at a block time; the contract's enum order."""

    NOT_YET_VALID = "not_yet_valid"
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @classmethod
    def from_index(cls, value: int) -> CertificateStatus:
        return list(CertificateStatus)[int(value)]


class _Slot(IntEnum):
    """Field order of the Certificate struct as the ABI returns it."""

    DATASET, TERMS, GRANTEE, NOT_BEFORE, RIGHT, EXPIRES, REVOKED, USES = range(8)


@dataclass(frozen=True)
class Certificate:
    """A certificate as the contract stores it."""

    certificate_id: str  # 0x-hex bytes32
    dataset_id: str  # 0x-hex bytes32
    right: Right
    grantee: str
    not_before: int  # unix seconds, inclusive
    expires_at: int  # unix seconds, exclusive
    terms_hash: str
    revoked_at: int  # 0 unless revoked
    use_count: int

    def status_at(self, timestamp: int) -> CertificateStatus:
        """The status at block time `timestamp`, by the contract's rule (revoked wins over expired)."""
        if self.revoked_at:
            return CertificateStatus.REVOKED
        if timestamp >= self.expires_at:
            return CertificateStatus.EXPIRED
        if timestamp < self.not_before:
            return CertificateStatus.NOT_YET_VALID
        return CertificateStatus.VALID


def dataset_id_of(content_hash: str | bytes, registrant: str) -> str:
    """`keccak256(abi.encode(contentHash, registrant))`: the id under which `registrant` registers
    the dataset whose manifest hashes to `content_hash` (see docs/PROTOCOL.md, "Data rights")."""
    return to_hex(keccak(abi_encode(["bytes32", "address"], [parse_bytes32(content_hash), to_address(registrant)])))


def dataset_token_id(dataset_id: str | bytes) -> int:
    """The ERC-721 token id of a dataset's holding right: uint256(datasetId)."""
    return int.from_bytes(parse_bytes32(dataset_id), "big")


def certificate_id(
    dataset_id: str | bytes,
    grantee: str,
    right: Right,
    not_before: int,
    expires_at: int,
    terms_hash: str | bytes,
    previous_id: str | bytes = ZERO32,
) -> str:
    """The id the contract gives a certificate (see docs/PROTOCOL.md, "Data rights")."""
    encoded = abi_encode(
        ["bytes32", "address", "uint8", "uint64", "uint64", "bytes32", "bytes32"],
        [
            parse_bytes32(dataset_id),
            to_address(grantee),
            right.code,
            not_before,
            expires_at,
            parse_bytes32(terms_hash),
            parse_bytes32(previous_id),
        ],
    )
    return to_hex(keccak(encoded))


class DataRightsClient(ContractClient):
    """Reads and writes datasets and certificates; writes go through the given Transactor."""

    # ---------------------------------------------------------------- writes
    def register_dataset(
        self, sender: LocalAccount, content_hash: str | bytes, metadata_hash: str | bytes = ZERO32
    ) -> tuple[str, TxResult]:
        """Register the dataset whose manifest hashes to `content_hash`; `sender` receives the
        holding-right token. Returns (dataset id, result); the id is `dataset_id_of(content_hash, sender)`.

        Raises:
            DataRightsRegistryDatasetExists: `sender` already registered this content hash.
        """
        fn = self.contract.functions.registerDataset(parse_bytes32(content_hash), parse_bytes32(metadata_hash))
        result = self.tx.send(sender, fn)
        events = self.contract.events.DatasetRegistered().process_receipt({"logs": result.logs}, errors=DISCARD)
        if len(events) != 1:
            raise TransactionError(f"registration {result.tx_hash} emitted {len(events)} DatasetRegistered events")
        return to_hex(events[0].args.datasetId), result

    def grant_certificate(
        self,
        sender: LocalAccount,
        dataset_id: str | bytes,
        grantee: str,
        right: Right,
        expires_at: int,
        terms_hash: str | bytes,
        not_before: int = 0,
    ) -> tuple[str, TxResult]:
        """Grant `right` on a dataset to `grantee` (the holder only); returns (certificate id, result).

        Raises:
            InvalidInputError: `right` is the holding right, or a time is out of range.
        """
        if right is Right.HOLDING:
            raise InvalidInputError("the holding right is not granted by certificate", hint="transfer it instead")
        for name, value in (("not_before", not_before), ("expires_at", expires_at)):
            if not 0 <= value < 2**64:
                raise InvalidInputError(f"{name} must be a unix time in seconds, got {value}")
        fn = self.contract.functions.grantCertificate(
            parse_bytes32(dataset_id),
            to_address(grantee),
            right.code,
            not_before,
            expires_at,
            parse_bytes32(terms_hash),
        )
        result = self.tx.send(sender, fn)
        events = self.contract.events.CertificateGranted().process_receipt({"logs": result.logs}, errors=DISCARD)
        if len(events) != 1:
            raise TransactionError(f"grant {result.tx_hash} emitted {len(events)} CertificateGranted events")
        return to_hex(events[0].args.certificateId), result

    def revoke_certificate(self, sender: LocalAccount, certificate: str | bytes, reason_hash: str | bytes) -> TxResult:
        """Revoke a certificate (the holder, governance, or the grantee itself)."""
        fn = self.contract.functions.revokeCertificate(parse_bytes32(certificate), parse_bytes32(reason_hash))
        return self.tx.send(sender, fn)

    def record_use(
        self, sender: LocalAccount, certificate: str | bytes, right: Right, purpose_hash: str | bytes
    ) -> TxResult:
        """Record one use under a certificate (its grantee, while the certificate is valid)."""
        fn = self.contract.functions.recordUse(parse_bytes32(certificate), right.code, parse_bytes32(purpose_hash))
        return self.tx.send(sender, fn)

    def transfer_holding(self, sender: LocalAccount, dataset_id: str | bytes, to: str) -> TxResult:
        """Move the holding right of a dataset from `sender` (the holder) to `to` (ERC-721 safeTransferFrom)."""
        fn = self.contract.functions.safeTransferFrom(sender.address, to_address(to), dataset_token_id(dataset_id))
        return self.tx.send(sender, fn)

    # ---------------------------------------------------------------- reads
    # Every read takes an optional `block` (number) so several reads can answer for one block.
    def dataset_id_of(self, content_hash: str | bytes, registrant: str) -> str:
        """The contract's `datasetIdOf(contentHash, registrant)`."""
        fn = self.contract.functions.datasetIdOf(parse_bytes32(content_hash), to_address(registrant))
        return to_hex(self._call(fn, None))

    def dataset_exists(self, dataset_id: str | bytes, block: int | None = None) -> bool:
        """True when the dataset is registered."""
        return bool(self._call(self.contract.functions.datasetExists(parse_bytes32(dataset_id)), block))

    def holder_of(self, dataset_id: str | bytes, block: int | None = None) -> str:
        """The holder of a dataset.

        Raises:
            DataRightsRegistryUnknownDataset: no such dataset.
        """
        return str(self._call(self.contract.functions.holderOf(parse_bytes32(dataset_id)), block))

    def get_certificate(self, certificate: str | bytes, block: int | None = None) -> Certificate:
        """The certificate with this id.

        Raises:
            DataRightsRegistryUnknownCertificate: no such certificate.
        """
        cid = parse_bytes32(certificate)
        raw = self._call(self.contract.functions.getCertificate(cid), block)
        return Certificate(
            certificate_id=to_hex(cid),
            dataset_id=to_hex(raw[_Slot.DATASET]),
            right=Right.from_index(raw[_Slot.RIGHT]),
            grantee=to_address(raw[_Slot.GRANTEE]),
            not_before=int(raw[_Slot.NOT_BEFORE]),
            expires_at=int(raw[_Slot.EXPIRES]),
            terms_hash=to_hex(raw[_Slot.TERMS]),
            revoked_at=int(raw[_Slot.REVOKED]),
            use_count=int(raw[_Slot.USES]),
        )

    def use_count(self, certificate: str | bytes, block: int | None = None) -> int:
        """How many uses the grantee recorded under `certificate` (0 for unknown ids): `useCount`."""
        return int(self._call(self.contract.functions.useCount(parse_bytes32(certificate)), block))

    def certificate_status(self, certificate: str | bytes, block: int | None = None) -> CertificateStatus:
        """The status at the block's time (default: the latest block).

        Raises:
            DataRightsRegistryUnknownCertificate: no such certificate.
        """
        fn = self.contract.functions.certificateStatus(parse_bytes32(certificate))
        return CertificateStatus.from_index(self._call(fn, block))

    def latest_certificate(
        self, dataset_id: str | bytes, grantee: str, right: Right, block: int | None = None
    ) -> str | None:
        """The latest certificate granted to `grantee` for `right` (maybe closed), or None."""
        fn = self.contract.functions.latestCertificate(parse_bytes32(dataset_id), to_address(grantee), right.code)
        value = bytes(self._call(fn, block))
        return None if value == ZERO32 else to_hex(value)

    def has_right(self, dataset_id: str | bytes, account: str, right: Right, block: int | None = None) -> bool:
        """True when `account` may exercise `right` on the dataset at the block's time."""
        fn = self.contract.functions.hasRight(parse_bytes32(dataset_id), to_address(account), right.code)
        return bool(self._call(fn, block))

    def _call(self, fn, block: int | None):  # noqa: ANN001, ANN202 - web3 types stop here
        try:
            return fn.call(block_identifier=block if block is not None else "latest")
        except TraceChainError:
            raise
        except Exception as exc:  # a revert is its named error; a node that stops answering, unavailable
            raise self.tx._translate(exc) from exc
