"""Typed client of the Notary contract, record kinds as bytes32, and the EIP-712 co-signature."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD

from tracechain.chain.client import ContractClient
from tracechain.chain.transact import TxResult
from tracechain.errors import InvalidInputError
from tracechain.hashing import parse_bytes32, to_hex
from tracechain.types import to_address

COSIGN_DOMAIN_NAME = "TraceChainNotary"
COSIGN_DOMAIN_VERSION = "1"
MAX_PARTIES = 32
# StandardMerkleTree leaf encoding of a batched record (see docs/PROTOCOL.md).
LEAF_ENCODING: tuple[str, str] = ("bytes32", "bytes32")
_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,31}")

COSIGN_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "CoSign": [
        {"name": "recordHash", "type": "bytes32"},
        {"name": "kind", "type": "bytes32"},
        {"name": "parties", "type": "address[]"},
        {"name": "deadline", "type": "uint256"},
    ],
}


class Method(IntEnum):
    """How a record was notarized on its own (the contract's `INotary.Method`)."""

    NONE = 0
    SINGLE = 1
    COSIGNED = 2


# ---------------------------------------------------------------- record kinds
def encode_kind(kind: str) -> bytes:
    """The bytes32 of a record kind: its ASCII name left-aligned and zero-padded
    (Solidity's `bytes32("delivery")`).

    Raises:
        InvalidInputError: not 1-32 characters of a-z, 0-9, `_`, `.`, `-`, starting with a letter.
    """
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise InvalidInputError(
            f"invalid record kind {kind!r}",
            hint="1-32 characters of a-z 0-9 _ . - starting with a letter, e.g. purchase_order",
        )
    return kind.encode("ascii").ljust(32, b"\0")


def decode_kind(value: bytes) -> str:
    """The record kind name held in a bytes32 (see `encode_kind`).

    Raises:
        InvalidInputError: the bytes are not an encoded kind.
    """
    name = bytes(value).rstrip(b"\0")
    try:
        text = name.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidInputError(f"not an encoded record kind: {to_hex(value)}") from None
    if len(value) != 32 or encode_kind(text) != bytes(value):
        raise InvalidInputError(f"not an encoded record kind: {to_hex(value)}")
    return text


def kind_name(raw: bytes) -> str:
    """The kind's name, or its 0x-hex when a writer committed bytes that are not an encoded kind:
    reads report what the chain holds and never fail on it."""
    try:
        return decode_kind(raw)
    except InvalidInputError:
        return to_hex(raw)


# ---------------------------------------------------------------- leaves and co-signatures
def leaf_values(record_hash: bytes, kind: str) -> list[Any]:
    """The StandardMerkleTree value `[recordHash, kind]` of a batched record."""
    return [parse_bytes32(record_hash), encode_kind(kind)]


def parties_hash(parties: Sequence[str]) -> bytes:
    """keccak256(abi.encodePacked(address[])): each address padded to 32 bytes, as the contract
    stores it and as EIP-712 hashes an `address[]` member."""
    return keccak(b"".join(bytes(12) + bytes.fromhex(to_address(p)[2:]) for p in parties))


def cosign_typed_data(
    chain_id: int, notary: str, record_hash: bytes, kind: str, parties: Sequence[str], deadline: int
) -> dict[str, Any]:
    """The full EIP-712 message each party signs to co-sign a record."""
    return {
        "types": COSIGN_TYPES,
        "primaryType": "CoSign",
        "domain": {
            "name": COSIGN_DOMAIN_NAME,
            "version": COSIGN_DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_address(notary),
        },
        "message": {
            "recordHash": parse_bytes32(record_hash),
            "kind": encode_kind(kind),
            "parties": [to_address(p) for p in parties],
            "deadline": int(deadline),
        },
    }


def cosign(
    signer: LocalAccount,
    chain_id: int,
    notary: str,
    record_hash: bytes,
    kind: str,
    parties: Sequence[str],
    deadline: int,
) -> str:
    """`signer`'s EIP-712 co-signature (0x-hex, 65 bytes) of the record."""
    message = encode_typed_data(full_message=cosign_typed_data(chain_id, notary, record_hash, kind, parties, deadline))
    return to_hex(Account.sign_message(message, signer.key).signature)


# ---------------------------------------------------------------- records read back
@dataclass(frozen=True)
class NotarizedRecord:
    """A record notarized on its own, as the contract holds it."""

    record_hash: str  # 0x-hex bytes32
    kind: str
    method: Method
    notarized_by: str
    parties_hash: str | None  # 0x-hex keccak of the party list when co-signed
    timestamp: int
    block_number: int


@dataclass(frozen=True)
class AnchoredBatch:
    """A batch of records anchored by its Merkle root."""

    root: str  # 0x-hex bytes32
    record_count: int
    metadata_hash: str
    notarized_by: str
    timestamp: int
    block_number: int


@dataclass(frozen=True)
class NotaryEvent:
    """One Notary event decoded from a transaction's logs."""

    name: str  # RecordNotarized | RecordCoSigned | BatchAnchored
    subject: str  # the record hash or the batch root (0x-hex)
    actor: str  # notarizedBy / submittedBy
    kind: str | None
    parties: tuple[str, ...]
    record_count: int | None
    metadata_hash: str | None
    tx_hash: str
    block_number: int
    log_index: int


class NotaryClient(ContractClient):
    """Notarizes record hashes and reads them back; writes go through the given Transactor."""

    @property
    def chain_id(self) -> int:
        return self.tx.chain.chain_id

    # ---------------------------------------------------------------- writes
    def notarize(self, sender: LocalAccount, record_hash: bytes, kind: str) -> TxResult:
        """Notarize one record hash (notary role).

        Raises:
            NotaryRecordExists: the hash is already notarized.
            ActorRegistryMissingRole: `sender` is not an active notary.
        """
        fn = self.contract.functions.notarize(parse_bytes32(record_hash), encode_kind(kind))
        return self.tx.send(sender, fn)

    def notarize_cosigned(
        self,
        sender: LocalAccount,
        record_hash: bytes,
        kind: str,
        parties: Sequence[str],
        deadline: int,
        signatures: Sequence[str | bytes],
    ) -> TxResult:
        """Notarize a record with every party's co-signature (any sender may submit).

        Raises:
            NotaryInvalidSignature, NotarySignatureCount, NotarySignaturesExpired: bad signatures.
            NotaryRecordExists: the hash is already notarized.
        """
        sigs = [bytes.fromhex(s.removeprefix("0x")) if isinstance(s, str) else bytes(s) for s in signatures]
        fn = self.contract.functions.notarizeCoSigned(
            parse_bytes32(record_hash), encode_kind(kind), [to_address(p) for p in parties], int(deadline), sigs
        )
        return self.tx.send(sender, fn)

    def notarize_batch(
        self, sender: LocalAccount, root: bytes, record_count: int, metadata_hash: bytes = bytes(32)
    ) -> TxResult:
        """Anchor a Merkle root of `record_count` records (notary role).

        Raises:
            NotaryBatchExists: the root is already anchored.
        """
        if not 0 < record_count < 2**32:
            raise InvalidInputError(f"a batch holds 1 to 2^32-1 records, not {record_count}")
        fn = self.contract.functions.notarizeBatch(parse_bytes32(root), record_count, parse_bytes32(metadata_hash))
        return self.tx.send(sender, fn)

    # ---------------------------------------------------------------- reads
    def get_record(self, record_hash: bytes) -> NotarizedRecord | None:
        """The record notarized under `record_hash`, or None."""
        h = parse_bytes32(record_hash)
        kind, p_hash, by, timestamp, block, method = self.contract.functions.getRecord(h).call()
        if method == Method.NONE:
            return None
        return NotarizedRecord(
            record_hash=to_hex(h),
            kind=kind_name(bytes(kind)),
            method=Method(method),
            notarized_by=to_address(by),
            parties_hash=to_hex(p_hash) if method == Method.COSIGNED else None,
            timestamp=int(timestamp),
            block_number=int(block),
        )

    def get_batch(self, root: bytes) -> AnchoredBatch | None:
        """The batch anchored under `root`, or None."""
        r = parse_bytes32(root)
        metadata_hash, by, timestamp, block, count = self.contract.functions.getBatch(r).call()
        if count == 0:
            return None
        return AnchoredBatch(
            root=to_hex(r),
            record_count=int(count),
            metadata_hash=to_hex(metadata_hash),
            notarized_by=to_address(by),
            timestamp=int(timestamp),
            block_number=int(block),
        )

    def is_notarized(self, record_hash: bytes) -> bool:
        """True when `record_hash` was notarized on its own (single or co-signed)."""
        return bool(self.contract.functions.isNotarized(parse_bytes32(record_hash)).call())

    def verify_inclusion(self, root: bytes, record_hash: bytes, kind: str, proof: Sequence[bytes]) -> bool:
        """The contract's verdict: `root` is anchored and `proof` proves `(record_hash, kind)` under it."""
        fn = self.contract.functions.verifyInclusion(
            parse_bytes32(root), parse_bytes32(record_hash), encode_kind(kind), [parse_bytes32(p) for p in proof]
        )
        return bool(fn.call())

    def leaf_hash(self, record_hash: bytes, kind: str) -> bytes:
        """The contract's leaf hash of `(record_hash, kind)`."""
        return bytes(self.contract.functions.leafHash(parse_bytes32(record_hash), encode_kind(kind)).call())

    def cosign_digest(self, record_hash: bytes, kind: str, parties: Sequence[str], deadline: int) -> bytes:
        """The EIP-712 digest the contract expects each party to sign."""
        fn = self.contract.functions.coSignDigest(
            parse_bytes32(record_hash), encode_kind(kind), [to_address(p) for p in parties], int(deadline)
        )
        return bytes(fn.call())

    def cosign(self, signer: LocalAccount, record_hash: bytes, kind: str, parties: Sequence[str], deadline: int) -> str:
        """`signer`'s co-signature for this contract on this chain."""
        return cosign(signer, self.chain_id, self.address, record_hash, kind, parties, deadline)

    # ---------------------------------------------------------------- events
    def events(self, result: TxResult) -> list[NotaryEvent]:
        """The Notary events in a mined transaction's logs."""
        return self.decode_logs(result.logs)

    def find_event(self, subject: bytes, block_number: int) -> NotaryEvent | None:
        """The Notary event for record hash or batch root `subject` mined in `block_number`, if any.
        (Every Notary event has its record hash or root as its first indexed topic.)"""
        logs = self.tx.w3.eth.get_logs(
            {
                "address": self.contract.address,
                "fromBlock": block_number,
                "toBlock": block_number,
                "topics": [None, to_hex(parse_bytes32(subject))],
            }
        )
        wanted = to_hex(parse_bytes32(subject))
        return next((e for e in self.decode_logs(logs) if e.subject == wanted), None)

    def decode_logs(self, logs: Sequence[Any]) -> list[NotaryEvent]:
        """Decode Notary events from raw logs (others are skipped)."""
        found: list[NotaryEvent] = []
        for name in ("RecordNotarized", "RecordCoSigned", "BatchAnchored"):
            event = getattr(self.contract.events, name)()
            for log in event.process_receipt({"logs": logs}, errors=DISCARD):
                if to_address(log.address) != self.address:
                    continue
                found.append(_event(name, log))
        return sorted(found, key=lambda e: (e.block_number, e.log_index))


def _event(name: str, log: Any) -> NotaryEvent:
    args = log.args
    batch = name == "BatchAnchored"
    return NotaryEvent(
        name=name,
        subject=to_hex(args.root if batch else args.recordHash),
        actor=to_address(args.notarizedBy if name != "RecordCoSigned" else args.submittedBy),
        kind=None if batch else kind_name(bytes(args.kind)),
        parties=tuple(to_address(p) for p in args.parties) if name == "RecordCoSigned" else (),
        record_count=int(args.recordCount) if batch else None,
        metadata_hash=to_hex(args.metadataHash) if batch else None,
        tx_hash=to_hex(log.transactionHash),
        block_number=int(log.blockNumber),
        log_index=int(log.logIndex),
    )
