"""Notary receipts: the versioned JSON proof of one notarized record, how it is built, and how it
is checked against a chain with nothing but the receipt (no store, no API)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from web3.exceptions import BlockNotFound, TransactionNotFound

from tracechain.chain.artifact import load_artifact
from tracechain.chain.connect import Chain
from tracechain.chain.notary import (
    LEAF_ENCODING,
    AnchoredBatch,
    Method,
    NotaryClient,
    NotaryEvent,
    encode_kind,
    leaf_values,
    parties_hash,
)
from tracechain.chain.transact import Transactor
from tracechain.errors import (
    ChainUnavailableError,
    IntegrityError,
    InvalidInputError,
    InvalidReceiptError,
    TraceChainError,
)
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.merkle import leaf_hash, verify_proof
from tracechain.types import iso_utc, to_address

RECEIPT_FORMAT = "tracechain-notary-receipt"
RECEIPT_VERSION = 1
METHODS = ("single", "cosigned", "batched")
_EVENT_OF = {"single": "RecordNotarized", "cosigned": "RecordCoSigned", "batched": "BatchAnchored"}
_TX_HASH = re.compile(r"0x[0-9a-f]{64}")


@dataclass(frozen=True)
class MerkleInclusion:
    """Where a batched record sits: the anchored root and the proof from its leaf."""

    root: str
    proof: tuple[str, ...]
    record_count: int
    metadata_hash: str
    leaf: str  # the StandardMerkleTree leaf hash of (recordHash, kind)


@dataclass(frozen=True)
class NotaryReceipt:
    """Everything needed to check one notarized record against the chain (see docs/PROTOCOL.md)."""

    chain_id: int
    contract: str
    record_hash: str
    kind: str
    method: str  # single | cosigned | batched
    notarized_by: str
    parties: tuple[str, ...]
    merkle: MerkleInclusion | None
    tx_hash: str
    block_number: int
    block_hash: str
    timestamp: int

    def to_json(self) -> dict[str, Any]:
        """The receipt as JSON (camelCase keys, 0x-hex lowercase hashes, checksummed addresses)."""
        merkle = None
        if self.merkle is not None:
            merkle = {
                "root": self.merkle.root,
                "proof": list(self.merkle.proof),
                "leaf": self.merkle.leaf,
                "leafEncoding": list(LEAF_ENCODING),
                "recordCount": self.merkle.record_count,
                "metadataHash": self.merkle.metadata_hash,
            }
        return {
            "format": RECEIPT_FORMAT,
            "version": RECEIPT_VERSION,
            "chainId": self.chain_id,
            "contract": self.contract,
            "recordHash": self.record_hash,
            "kind": self.kind,
            "method": self.method,
            "notarizedBy": self.notarized_by,
            "parties": list(self.parties),
            "merkle": merkle,
            "txHash": self.tx_hash,
            "blockNumber": self.block_number,
            "blockHash": self.block_hash,
            "timestamp": self.timestamp,
            "time": iso_utc(self.timestamp),
        }

    @classmethod
    def from_json(cls, body: Any) -> NotaryReceipt:
        """Parse and validate a receipt.

        Raises:
            InvalidReceiptError: wrong format or version, a missing field or a malformed value.
        """
        if not isinstance(body, dict):
            raise InvalidReceiptError("a receipt is a JSON object")
        if body.get("format") != RECEIPT_FORMAT:
            raise InvalidReceiptError(f"not a TraceChain notary receipt (format {body.get('format')!r})")
        if body.get("version") != RECEIPT_VERSION:
            raise InvalidReceiptError(f"unsupported receipt version {body.get('version')!r}")
        try:
            method = str(body["method"])
            if method not in METHODS:
                raise InvalidReceiptError(f"unknown notarization method {method!r}")
            encode_kind(body["kind"])
            merkle = None
            if method == "batched":
                m = body["merkle"]
                if not isinstance(m, dict):
                    raise InvalidReceiptError("a batched receipt needs its merkle root and proof")
                if list(m.get("leafEncoding", LEAF_ENCODING)) != list(LEAF_ENCODING):
                    raise InvalidReceiptError(f"unsupported leaf encoding {m.get('leafEncoding')!r}")
                merkle = MerkleInclusion(
                    root=_hash(m["root"]),
                    proof=tuple(_hash(p) for p in m["proof"]),
                    record_count=_int(m["recordCount"]),
                    metadata_hash=_hash(m["metadataHash"]),
                    leaf=_hash(m["leaf"]),
                )
            elif body.get("merkle") is not None:
                raise InvalidReceiptError(f"a {method} receipt carries no merkle proof")
            parties = tuple(to_address(p) for p in body.get("parties") or ())
            if method == "cosigned" and not parties:
                raise InvalidReceiptError("a co-signed receipt names its parties")
            if method != "cosigned" and parties:
                raise InvalidReceiptError(f"a {method} receipt has no parties")
            tx_hash = str(body["txHash"]).lower()
            if not _TX_HASH.fullmatch(tx_hash):
                raise InvalidReceiptError(f"malformed txHash {body['txHash']!r}")
            receipt = cls(
                chain_id=_int(body["chainId"]),
                contract=to_address(body["contract"]),
                record_hash=_hash(body["recordHash"]),
                kind=body["kind"],
                method=method,
                notarized_by=to_address(body["notarizedBy"]),
                parties=parties,
                merkle=merkle,
                tx_hash=tx_hash,
                block_number=_int(body["blockNumber"]),
                block_hash=_hash(body["blockHash"]),
                timestamp=_int(body["timestamp"]),
            )
        except KeyError as exc:
            raise InvalidReceiptError(f"the receipt has no {exc.args[0]!r} field") from None
        except InvalidReceiptError:
            raise
        except (InvalidInputError, TypeError) as exc:
            raise InvalidReceiptError(f"malformed receipt: {exc}") from None
        if "time" in body and body["time"] != receipt.to_json()["time"]:
            # `time` is informational, but a reader trusts it: it must say what `timestamp` says.
            raise InvalidReceiptError(f"the receipt's time {body['time']!r} is not its timestamp {receipt.timestamp}")
        return receipt


def _hash(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidReceiptError(f"expected a 0x-hex 32-byte hash, got {value!r}")
    return to_hex(parse_bytes32(value))


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidReceiptError(f"expected a non-negative integer, got {value!r}")
    return value


# ---------------------------------------------------------------- building
def notary_at(chain: Chain, address: str) -> NotaryClient:
    """A read-only Notary client for the contract at `address` (the receipt's, not a manifest's)."""
    contract = chain.w3.eth.contract(address=to_address(address), abi=load_artifact("Notary").abi)  # type: ignore[call-overload]
    return NotaryClient(contract, Transactor(chain))


def _block_hash(client: NotaryClient, number: int) -> str:
    return to_hex(client.tx.w3.eth.get_block(number)["hash"])


def individual_receipt(client: NotaryClient, record_hash: bytes) -> NotaryReceipt | None:
    """The receipt of a record notarized on its own (single or co-signed), from the chain alone;
    None if the contract holds no such record."""
    record = client.get_record(record_hash)
    if record is None:
        return None
    event = client.find_event(record_hash, record.block_number)
    if event is None:
        raise IntegrityError(f"the chain holds record {record.record_hash} but no event for it in its block")
    return NotaryReceipt(
        chain_id=client.chain_id,
        contract=client.address,
        record_hash=record.record_hash,
        kind=record.kind,
        method="cosigned" if record.method == Method.COSIGNED else "single",
        notarized_by=record.notarized_by,
        parties=event.parties,
        merkle=None,
        tx_hash=event.tx_hash,
        block_number=record.block_number,
        block_hash=_block_hash(client, record.block_number),
        timestamp=record.timestamp,
    )


def batched_receipt(
    client: NotaryClient, record_hash: bytes, kind: str, proof: Sequence[bytes], batch: AnchoredBatch, tx_hash: str
) -> NotaryReceipt:
    """The receipt of a record anchored in `batch` with `proof` from its leaf."""
    leaf = leaf_hash(leaf_values(record_hash, kind), LEAF_ENCODING)
    return NotaryReceipt(
        chain_id=client.chain_id,
        contract=client.address,
        record_hash=to_hex(parse_bytes32(record_hash)),
        kind=kind,
        method="batched",
        notarized_by=batch.notarized_by,
        parties=(),
        merkle=MerkleInclusion(
            root=batch.root,
            proof=tuple(to_hex(p) for p in proof),
            record_count=batch.record_count,
            metadata_hash=batch.metadata_hash,
            leaf=to_hex(leaf),
        ),
        tx_hash=tx_hash,
        block_number=batch.block_number,
        block_hash=_block_hash(client, batch.block_number),
        timestamp=batch.timestamp,
    )


# ---------------------------------------------------------------- verifying
@dataclass
class Verification:
    """The verdict on a receipt: `ok` only when every check held; `reason` says what failed."""

    receipt: NotaryReceipt
    ok: bool = False
    reason: str | None = None
    checks: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: what the chain confirms, or why it does not."""
        r = self.receipt
        if not self.ok:
            return f"FAILED: {self.reason}"
        when = iso_utc(r.timestamp)
        how = {
            "single": f"notarized by {r.notarized_by}",
            "cosigned": f"co-signed by {', '.join(r.parties)}",
            "batched": f"in batch {r.merkle.root if r.merkle else '?'} anchored by {r.notarized_by}",
        }[r.method]
        return (
            f"OK: record {r.record_hash} ({r.kind}) {how} in block {r.block_number} at {when} "
            f"on chain {r.chain_id}, Notary {r.contract}"
        )


class _Fail(Exception):
    pass


def verify_receipt(
    chain: Chain, receipt: NotaryReceipt, record: Any = None, *, notary: str | None = None
) -> Verification:
    """Check `receipt` against `chain` alone — and, with `record`, that the record hashes to it.

    With `notary`, the receipt must also name that Notary contract: anyone can deploy a contract
    that answers like a Notary, so a verifier pins the address it trusts (the deployment's).

    Never raises for a receipt the chain does not confirm: the verdict says why.

    Raises:
        ChainUnavailableError: the node stopped answering.
    """
    verdict = Verification(receipt)
    try:
        if notary is not None:
            _check(
                receipt.contract.lower() == notary.lower(),
                f"the receipt names contract {receipt.contract}, not the trusted Notary {notary}",
                verdict.checks,
                f"the receipt names the trusted Notary {notary}",
            )
        _verify(chain, receipt, record, verdict.checks)
    except _Fail as failure:
        verdict.reason = str(failure)
        return verdict
    except OSError as exc:  # requests' ConnectionError and timeouts are OSErrors
        raise ChainUnavailableError(f"the node stopped answering during verification: {exc}") from exc
    except TraceChainError as exc:
        if isinstance(exc, ChainUnavailableError):
            raise
        verdict.reason = f"the chain refused a check: {exc.message}"
        return verdict
    verdict.ok = True
    return verdict


def _check(condition: bool, reason: str, checks: list[str], passed: str) -> None:
    if not condition:
        raise _Fail(reason)
    checks.append(passed)


def _verify(chain: Chain, r: NotaryReceipt, record: Any, checks: list[str]) -> None:
    w3 = chain.w3
    if record is not None:
        actual = to_hex(document_hash(record))
        _check(
            actual == r.record_hash,
            f"the record hashes to {actual}, not to the receipt's record hash {r.record_hash}",
            checks,
            "record file hashes to the record hash",
        )
    if r.method == "batched" and r.merkle is not None:
        leaf = leaf_hash(leaf_values(parse_bytes32(r.record_hash), r.kind), LEAF_ENCODING)
        _check(
            to_hex(leaf) == r.merkle.leaf,
            "the receipt's leaf is not the leaf of its record hash and kind",
            checks,
            "leaf = keccak256(keccak256(abi.encode(recordHash, kind)))",
        )
        proof = [parse_bytes32(p) for p in r.merkle.proof]
        _check(
            verify_proof(parse_bytes32(r.merkle.root), leaf, proof),
            "the Merkle proof does not lead from the record's leaf to the receipt's root",
            checks,
            "Merkle proof leads to the root (checked locally)",
        )
    node_chain = chain.chain_id
    _check(
        node_chain == r.chain_id,
        f"the receipt is for chain {r.chain_id}, the node serves chain {node_chain}",
        checks,
        f"chain id {node_chain}",
    )
    try:
        block = w3.eth.get_block(r.block_number)
    except BlockNotFound:
        raise _Fail(f"block {r.block_number} does not exist on this chain") from None
    _check(
        to_hex(block["hash"]) == r.block_hash,
        f"block {r.block_number} has hash {to_hex(block['hash'])}, not the receipt's {r.block_hash} "
        "(another chain with the same id, or a reorganisation)",
        checks,
        f"block {r.block_number} hash",
    )
    _check(
        int(block["timestamp"]) == r.timestamp,
        f"block {r.block_number} has timestamp {block['timestamp']}, not the receipt's {r.timestamp}",
        checks,
        "block timestamp",
    )
    code = w3.eth.get_code(r.contract)  # type: ignore[arg-type]
    _check(bool(code), f"there is no contract at {r.contract}", checks, "contract has code")
    try:
        tx = w3.eth.get_transaction_receipt(r.tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        raise _Fail(f"transaction {r.tx_hash} is not on this chain") from None
    _check(
        int(tx["status"]) == 1 and int(tx["blockNumber"]) == r.block_number,
        f"transaction {r.tx_hash} did not succeed in block {r.block_number}",
        checks,
        "transaction succeeded",
    )
    client = notary_at(chain, r.contract)
    subject = r.merkle.root if r.merkle is not None else r.record_hash
    name = _EVENT_OF[r.method]
    events = [e for e in client.decode_logs(tx["logs"]) if e.name == name and e.subject == subject]
    _check(
        bool(events),
        f"transaction {r.tx_hash} holds no {name} event for {subject} from contract {r.contract}",
        checks,
        f"{name} event in the transaction",
    )
    _check_event(events[0], r, checks)
    try:
        if r.merkle is not None:
            _check_batch(client, r, checks)
        else:
            _check_record(client, r, checks)
    except (_Fail, OSError):
        raise
    except Exception as exc:  # an ABI mismatch or a revert: whatever is there is not our Notary
        raise _Fail(f"the contract at {r.contract} does not answer as a TraceChain Notary: {exc}") from None


def _check_event(event: NotaryEvent, r: NotaryReceipt, checks: list[str]) -> None:
    _check(
        event.actor == r.notarized_by,
        f"the event names {event.actor}, not {r.notarized_by}, as notary",
        checks,
        "event actor",
    )
    if r.merkle is not None:
        _check(
            event.record_count == r.merkle.record_count and event.metadata_hash == r.merkle.metadata_hash,
            "the anchoring event's record count or metadata hash differs from the receipt's",
            checks,
            "event record count and metadata hash",
        )
        return
    _check(event.kind == r.kind, f"the event's kind is {event.kind!r}, not {r.kind!r}", checks, "event kind")
    _check(event.parties == r.parties, "the event's parties differ from the receipt's", checks, "event parties")


def _check_record(client: NotaryClient, r: NotaryReceipt, checks: list[str]) -> None:
    record = client.get_record(parse_bytes32(r.record_hash))
    _check(record is not None, f"the contract holds no record {r.record_hash}", checks, "record on-chain")
    assert record is not None
    method = "cosigned" if record.method == Method.COSIGNED else "single"
    _check(
        (method, record.kind, record.notarized_by, record.block_number, record.timestamp)
        == (r.method, r.kind, r.notarized_by, r.block_number, r.timestamp),
        f"the contract's record ({method}, {record.kind}, by {record.notarized_by}, block {record.block_number}) "
        "differs from the receipt",
        checks,
        "on-chain record matches (method, kind, notary, block, time)",
    )
    if r.method == "cosigned":
        _check(
            record.parties_hash == to_hex(parties_hash(r.parties)),
            "the receipt's parties do not hash to the contract's partiesHash",
            checks,
            "partiesHash",
        )


def _check_batch(client: NotaryClient, r: NotaryReceipt, checks: list[str]) -> None:
    assert r.merkle is not None
    batch = client.get_batch(parse_bytes32(r.merkle.root))
    _check(batch is not None, f"the contract holds no batch with root {r.merkle.root}", checks, "root anchored")
    assert batch is not None
    _check(
        (batch.record_count, batch.metadata_hash, batch.notarized_by, batch.block_number, batch.timestamp)
        == (r.merkle.record_count, r.merkle.metadata_hash, r.notarized_by, r.block_number, r.timestamp),
        f"the contract's batch ({batch.record_count} records, by {batch.notarized_by}, block {batch.block_number}) "
        "differs from the receipt",
        checks,
        "on-chain batch matches (count, metadata, notary, block, time)",
    )
    proof = [parse_bytes32(p) for p in r.merkle.proof]
    _check(
        client.verify_inclusion(parse_bytes32(r.merkle.root), parse_bytes32(r.record_hash), r.kind, proof),
        "the contract rejects the Merkle proof",
        checks,
        "Notary.verifyInclusion accepts the proof",
    )
