"""Typed client of the Notary contract (protocol v2): record kinds as bytes32, the ids under which
records and batches are stored, and the EIP-712 messages (co-signature, batch-queue request)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.logs import DISCARD

from tracechain.chain.client import ContractClient
from tracechain.chain.transact import TxResult
from tracechain.errors import InvalidInputError, TraceChainError
from tracechain.hashing import parse_bytes32, to_hex
from tracechain.types import to_address

DOMAIN_NAME = "TraceChainNotary"
DOMAIN_VERSION = "2"
MAX_PARTIES = 32
# StandardMerkleTree leaf encoding of a batched record (see docs/PROTOCOL.md).
LEAF_ENCODING: tuple[str, str] = ("bytes32", "bytes32")
_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,31}")
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")

_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
COSIGN_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN_TYPE,
    "CoSign": [
        {"name": "recordHash", "type": "bytes32"},
        {"name": "kind", "type": "bytes32"},
        {"name": "parties", "type": "address[]"},
        {"name": "deadline", "type": "uint256"},
    ],
}
BATCH_RECORD_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN_TYPE,
    "BatchRecord": [
        {"name": "recordHash", "type": "bytes32"},
        {"name": "kind", "type": "bytes32"},
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


def kind_bytes(kind: str | bytes) -> bytes:
    """The bytes32 of a kind given by name, as raw bytes, or as the 0x-hex `kind_name` reports for
    bytes that are not an encoded kind (so ids stay computable from what the index holds).

    Raises:
        InvalidInputError: not a kind name, 32 bytes, or 0x + 64 hex digits.
    """
    if isinstance(kind, bytes | bytearray):
        if len(kind) != 32:
            raise InvalidInputError(f"a record kind is 32 bytes, got {len(kind)}")
        return bytes(kind)
    if _HEX32.fullmatch(kind):
        return bytes.fromhex(kind[2:])
    return encode_kind(kind)


# ---------------------------------------------------------------- ids
def parties_hash(parties: Sequence[str]) -> bytes:
    """keccak256(abi.encodePacked(address[])): each address padded to 32 bytes, as EIP-712 hashes an
    `address[]` member and as the `RecordCoSigned` event's `partiesHash` topic carries it."""
    return keccak(b"".join(bytes(12) + bytes.fromhex(to_address(p)[2:]) for p in parties))


def single_record_id(record_hash: str | bytes, kind: str | bytes, notary: str) -> bytes:
    """`keccak256(abi.encode(recordHash, kind, notary))`: the id of a single notarization."""
    values = [parse_bytes32(record_hash), kind_bytes(kind), to_address(notary)]
    return keccak(abi_encode(["bytes32", "bytes32", "address"], values))


def cosigned_record_id(record_hash: str | bytes, kind: str | bytes, parties: Sequence[str]) -> bytes:
    """`keccak256(abi.encode(recordHash, kind, keccak256(abi.encodePacked(parties))))`: the id of a
    co-signed record (what the signatures cover, and nothing else)."""
    values = [parse_bytes32(record_hash), kind_bytes(kind), parties_hash(parties)]
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32"], values))


def batch_id(root: str | bytes, notary: str) -> bytes:
    """`keccak256(abi.encode(root, notary))`: the id of a batch anchored by `notary`."""
    return keccak(abi_encode(["bytes32", "address"], [parse_bytes32(root), to_address(notary)]))


# ---------------------------------------------------------------- leaves and signed messages
def leaf_values(record_hash: bytes, kind: str | bytes) -> list[Any]:
    """The StandardMerkleTree value `[recordHash, kind]` of a batched record."""
    return [parse_bytes32(record_hash), kind_bytes(kind)]


def _domain(chain_id: int, notary: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_address(notary),
    }


def cosign_typed_data(
    chain_id: int, notary: str, record_hash: bytes, kind: str, parties: Sequence[str], deadline: int
) -> dict[str, Any]:
    """The full EIP-712 message each party signs to co-sign a record."""
    return {
        "types": COSIGN_TYPES,
        "primaryType": "CoSign",
        "domain": _domain(chain_id, notary),
        "message": {
            "recordHash": parse_bytes32(record_hash),
            "kind": encode_kind(kind),
            "parties": [to_address(p) for p in parties],
            "deadline": int(deadline),
        },
    }


def batch_record_typed_data(chain_id: int, notary: str, record_hash: bytes, kind: str, deadline: int) -> dict[str, Any]:
    """The full EIP-712 message a submitter signs to queue a record for a Merkle batch. Its type,
    `BatchRecord`, is not `CoSign`: a queue signature never co-signs a record."""
    return {
        "types": BATCH_RECORD_TYPES,
        "primaryType": "BatchRecord",
        "domain": _domain(chain_id, notary),
        "message": {"recordHash": parse_bytes32(record_hash), "kind": encode_kind(kind), "deadline": int(deadline)},
    }


def _sign(signer: LocalAccount, typed: dict[str, Any]) -> str:
    return to_hex(Account.sign_message(encode_typed_data(full_message=typed), signer.key).signature)


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
    return _sign(signer, cosign_typed_data(chain_id, notary, record_hash, kind, parties, deadline))


def sign_batch_record(
    signer: LocalAccount, chain_id: int, notary: str, record_hash: bytes, kind: str, deadline: int
) -> str:
    """`signer`'s EIP-712 `BatchRecord` signature (0x-hex) asking to queue the record for a batch."""
    return _sign(signer, batch_record_typed_data(chain_id, notary, record_hash, kind, deadline))


# ---------------------------------------------------------------- what the contract holds
@dataclass(frozen=True)
class NotarizedRecord:
    """A record id's one storage slot: everything else is in the id and the event."""

    id: str  # 0x-hex bytes32
    method: Method
    timestamp: int
    block_number: int


@dataclass(frozen=True)
class AnchoredBatch:
    """A batch's one storage slot, with the root and notary its id was computed from."""

    id: str
    root: str
    notary: str
    record_count: int
    timestamp: int
    block_number: int


@dataclass(frozen=True)
class NotaryEvent:
    """One Notary event decoded from logs, with the id (record or batch) its fields derive."""

    name: str  # RecordNotarized | RecordCoSigned | BatchAnchored
    id: str
    record_hash: str | None  # records
    root: str | None  # batches
    kind: str | None  # records: the kind name (or 0x-hex, see `kind_name`)
    notary: str | None  # RecordNotarized, BatchAnchored
    parties: tuple[str, ...]  # RecordCoSigned
    parties_hash: str | None  # RecordCoSigned (its indexed topic)
    record_count: int | None  # BatchAnchored
    metadata_hash: str | None  # BatchAnchored
    tx_hash: str
    block_number: int
    log_index: int

    @property
    def subject(self) -> str:
        """The record hash, or the batch root: the event's first indexed topic."""
        return self.root if self.root is not None else str(self.record_hash)


class NotaryClient(ContractClient):
    """Notarizes record hashes and reads them back; writes go through the given Transactor."""

    @property
    def chain_id(self) -> int:
        return self.tx.chain.chain_id

    # ---------------------------------------------------------------- writes
    def notarize(self, sender: LocalAccount, record_hash: bytes, kind: str) -> TxResult:
        """Notarize one record hash as `sender` (notary role); its id is
        `single_record_id(record_hash, kind, sender.address)`.

        Raises:
            NotaryRecordExists: `sender` already notarized this record hash and kind.
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
        """Notarize a record with every party's co-signature (any sender may submit; it is not
        recorded); its id is `cosigned_record_id(record_hash, kind, parties)`.

        Raises:
            NotaryInvalidSignature, NotarySignatureCount, NotarySignaturesExpired: bad signatures.
            NotaryRecordExists: these parties already co-signed this record hash and kind.
        """
        sigs = [bytes.fromhex(s.removeprefix("0x")) if isinstance(s, str) else bytes(s) for s in signatures]
        fn = self.contract.functions.notarizeCoSigned(
            parse_bytes32(record_hash), encode_kind(kind), [to_address(p) for p in parties], int(deadline), sigs
        )
        return self.tx.send(sender, fn)

    def notarize_batch(
        self, sender: LocalAccount, root: bytes, record_count: int, metadata_hash: bytes = bytes(32)
    ) -> TxResult:
        """Anchor a Merkle root of `record_count` records as `sender` (notary role); the batch id is
        `batch_id(root, sender.address)`.

        Raises:
            NotaryBatchExists: `sender` already anchored this root.
        """
        if not 0 < record_count < 2**32:
            raise InvalidInputError(f"a batch holds 1 to 2^32-1 records, not {record_count}")
        fn = self.contract.functions.notarizeBatch(parse_bytes32(root), record_count, parse_bytes32(metadata_hash))
        return self.tx.send(sender, fn)

    # ---------------------------------------------------------------- reads
    def get_record(self, record_id: str | bytes) -> NotarizedRecord | None:
        """The record stored under `record_id`, or None."""
        rid = parse_bytes32(record_id)
        timestamp, block, method = self._call(self.contract.functions.getRecord(rid))
        if method == Method.NONE:
            return None
        return NotarizedRecord(to_hex(rid), Method(method), int(timestamp), int(block))

    def get_batch(self, root: str | bytes, notary: str) -> AnchoredBatch | None:
        """The batch `notary` anchored under `root` (looked up by `batch_id(root, notary)`), or None."""
        bid = batch_id(root, notary)
        timestamp, block, count = self._call(self.contract.functions.getBatch(bid))
        if count == 0:
            return None
        return AnchoredBatch(
            id=to_hex(bid),
            root=to_hex(parse_bytes32(root)),
            notary=to_address(notary),
            record_count=int(count),
            timestamp=int(timestamp),
            block_number=int(block),
        )

    def verify_inclusion(
        self, root: bytes, notary: str, record_hash: bytes, kind: str | bytes, proof: Sequence[bytes]
    ) -> bool:
        """The contract's verdict: `notary` anchored `root` and `proof` proves `(record_hash, kind)` under it."""
        fn = self.contract.functions.verifyInclusion(
            parse_bytes32(root),
            to_address(notary),
            parse_bytes32(record_hash),
            kind_bytes(kind),
            [parse_bytes32(p) for p in proof],
        )
        return bool(self._call(fn))

    def leaf_hash(self, record_hash: bytes, kind: str) -> bytes:
        """The contract's leaf hash of `(record_hash, kind)`."""
        return bytes(self._call(self.contract.functions.leafHash(parse_bytes32(record_hash), encode_kind(kind))))

    def cosign_digest(self, record_hash: bytes, kind: str, parties: Sequence[str], deadline: int) -> bytes:
        """The EIP-712 `CoSign` digest the contract expects each party to sign."""
        fn = self.contract.functions.coSignDigest(
            parse_bytes32(record_hash), encode_kind(kind), [to_address(p) for p in parties], int(deadline)
        )
        return bytes(self._call(fn))

    def batch_record_digest(self, record_hash: bytes, kind: str, deadline: int) -> bytes:
        """The EIP-712 `BatchRecord` digest a submitter signs to queue a record for a batch."""
        fn = self.contract.functions.batchRecordDigest(parse_bytes32(record_hash), encode_kind(kind), int(deadline))
        return bytes(self._call(fn))

    def cosign(self, signer: LocalAccount, record_hash: bytes, kind: str, parties: Sequence[str], deadline: int) -> str:
        """`signer`'s co-signature for this contract on this chain."""
        return cosign(signer, self.chain_id, self.address, record_hash, kind, parties, deadline)

    def sign_batch_record(self, signer: LocalAccount, record_hash: bytes, kind: str, deadline: int) -> str:
        """`signer`'s batch-queue signature for this contract on this chain."""
        return sign_batch_record(signer, self.chain_id, self.address, record_hash, kind, deadline)

    # ---------------------------------------------------------------- events
    def events(self, result: TxResult) -> list[NotaryEvent]:
        """The Notary events in a mined transaction's logs."""
        return self.decode_logs(result.logs)

    def find_event(self, id_: str | bytes, subject: str | bytes, block_number: int) -> NotaryEvent | None:
        """The event that stored record or batch `id_` (whose record hash or root is `subject`) in
        `block_number`, if any. Every Notary event has its record hash or root as first topic."""
        wanted, topic = to_hex(parse_bytes32(id_)), to_hex(parse_bytes32(subject))
        query: Any = {
            "address": self.contract.address,
            "fromBlock": block_number,
            "toBlock": block_number,
            "topics": [None, topic],
        }
        logs = self._call_w3(lambda: self.tx.w3.eth.get_logs(query))
        return next((e for e in self.decode_logs(logs) if e.id == wanted), None)

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

    # ---------------------------------------------------------------- internals
    def _call(self, fn: Any) -> Any:
        return self._call_w3(fn.call)

    def _call_w3(self, read: Any) -> Any:
        """Run a read; a node that stops answering is ChainUnavailableError, a revert its named error."""
        try:
            return read()
        except TraceChainError:
            raise
        except Exception as exc:
            raise self.tx._translate(exc) from exc


def _event(name: str, log: Any) -> NotaryEvent:
    a = log.args
    fields: dict[str, Any] = {
        "name": name,
        "record_hash": None,
        "root": None,
        "kind": None,
        "notary": None,
        "parties": (),
        "parties_hash": None,
        "record_count": None,
        "metadata_hash": None,
        "tx_hash": to_hex(log.transactionHash),
        "block_number": int(log.blockNumber),
        "log_index": int(log.logIndex),
    }
    if name == "BatchAnchored":
        root, notary = to_hex(a.root), to_address(a.notary)
        fields.update(root=root, notary=notary, record_count=int(a.recordCount), metadata_hash=to_hex(a.metadataHash))
        return NotaryEvent(id=to_hex(batch_id(root, notary)), **fields)
    record_hash, kind = to_hex(a.recordHash), bytes(a.kind)
    fields.update(record_hash=record_hash, kind=kind_name(kind))
    if name == "RecordNotarized":
        notary = to_address(a.notary)
        return NotaryEvent(id=to_hex(single_record_id(record_hash, kind, notary)), **{**fields, "notary": notary})
    parties = tuple(to_address(p) for p in a.parties)
    fields.update(parties=parties, parties_hash=to_hex(a.partiesHash))
    return NotaryEvent(id=to_hex(cosigned_record_id(record_hash, kind, parties)), **fields)
