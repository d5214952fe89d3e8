"""Notary receipts: the versioned JSON proof of one notarization of a record, how it is built, and
how it is checked against a chain with nothing but the receipt (no store, no API)."""

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
    batch_id,
    cosigned_record_id,
    encode_kind,
    leaf_values,
    parties_hash,
    single_record_id,
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
RECEIPT_VERSION = 2
METHODS = ("single", "cosigned", "batched")
_EVENT_OF = {"single": "RecordNotarized", "cosigned": "RecordCoSigned", "batched": "BatchAnchored"}
_ID_RULE = {
    "single": "id = keccak256(abi.encode(recordHash, kind, notary))",
    "cosigned": "id = keccak256(abi.encode(recordHash, kind, keccak256(abi.encodePacked(parties))))",
    "batched": "id = keccak256(abi.encode(merkle.root, notary))",
}
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
    """Everything needed to check one notarization of a record against the chain (docs/PROTOCOL.md).

    `id` is the contract's key for it — the record id (single, co-signed) or the batch id
    (batched) — and `notary` or `parties` are what that id is derived from."""

    chain_id: int
    contract: str
    id: str
    record_hash: str
    kind: str
    method: str  # single | cosigned | batched
    notary: str | None  # single: the notary; batched: the notary that anchored the batch
    parties: tuple[str, ...]  # co-signed: the parties in signing order
    merkle: MerkleInclusion | None
    tx_hash: str
    block_number: int
    block_hash: str
    timestamp: int

    def derived_id(self) -> str:
        """The id this receipt's fields derive (see `_ID_RULE`); a genuine receipt carries it as `id`."""
        if self.method == "batched":
            assert self.merkle is not None and self.notary is not None
            return to_hex(batch_id(self.merkle.root, self.notary))
        if self.method == "single":
            assert self.notary is not None
            return to_hex(single_record_id(self.record_hash, self.kind, self.notary))
        return to_hex(cosigned_record_id(self.record_hash, self.kind, self.parties))

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
            "id": self.id,
            "recordHash": self.record_hash,
            "kind": self.kind,
            "method": self.method,
            "notary": self.notary,
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
        """Parse and validate a receipt (its shape, not its truth: `verify_receipt` checks that).

        Raises:
            InvalidReceiptError: wrong format or version, a missing field or a malformed value.
        """
        if not isinstance(body, dict):
            raise InvalidReceiptError("a receipt is a JSON object")
        if body.get("format") != RECEIPT_FORMAT:
            raise InvalidReceiptError(f"not a TraceChain notary receipt (format {body.get('format')!r})")
        if body.get("version") != RECEIPT_VERSION:
            hint = "version 1 receipts name a protocol v1 Notary, which this verifier does not read"
            raise InvalidReceiptError(
                f"unsupported receipt version {body.get('version')!r} (this verifier reads version {RECEIPT_VERSION})",
                hint=hint if body.get("version") == 1 else None,
            )
        try:
            method = str(body["method"])
            if method not in METHODS:
                raise InvalidReceiptError(f"unknown notarization method {method!r}")
            encode_kind(body["kind"])
            merkle = _merkle(method, body.get("merkle"))
            parties = tuple(to_address(p) for p in body.get("parties") or ())
            notary = body.get("notary")
            if method == "cosigned":
                if not parties:
                    raise InvalidReceiptError("a co-signed receipt names its parties")
                if notary is not None:
                    raise InvalidReceiptError("a co-signed receipt names no notary (its parties are what it proves)")
            else:
                if parties:
                    raise InvalidReceiptError(f"a {method} receipt has no parties")
                if notary is None:
                    raise InvalidReceiptError(f"a {method} receipt names its notary")
                notary = to_address(notary)
            tx_hash = str(body["txHash"]).lower()
            if not _TX_HASH.fullmatch(tx_hash):
                raise InvalidReceiptError(f"malformed txHash {body['txHash']!r}")
            receipt = cls(
                chain_id=_int(body["chainId"]),
                contract=to_address(body["contract"]),
                id=_hash(body["id"]),
                record_hash=_hash(body["recordHash"]),
                kind=body["kind"],
                method=method,
                notary=notary,
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


def _merkle(method: str, m: Any) -> MerkleInclusion | None:
    if method != "batched":
        if m is not None:
            raise InvalidReceiptError(f"a {method} receipt carries no merkle proof")
        return None
    if not isinstance(m, dict):
        raise InvalidReceiptError("a batched receipt needs its merkle root and proof")
    if list(m.get("leafEncoding", LEAF_ENCODING)) != list(LEAF_ENCODING):
        raise InvalidReceiptError(f"unsupported leaf encoding {m.get('leafEncoding')!r}")
    if not isinstance(m["proof"], list):
        raise InvalidReceiptError("merkle.proof is a list of hashes")
    return MerkleInclusion(
        root=_hash(m["root"]),
        proof=tuple(_hash(p) for p in m["proof"]),
        record_count=_int(m["recordCount"]),
        metadata_hash=_hash(m["metadataHash"]),
        leaf=_hash(m["leaf"]),
    )


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
    return to_hex(client._call_w3(lambda: client.tx.w3.eth.get_block(number))["hash"])


def individual_receipt(client: NotaryClient, record_id: str | bytes, record_hash: str | bytes) -> NotaryReceipt | None:
    """The receipt of the record notarized on its own under `record_id` (whose record hash is
    `record_hash`), from the chain alone; None if the contract holds no such record.

    Raises:
        IntegrityError: the contract holds the id but its block has no event for it.
    """
    record = client.get_record(record_id)
    if record is None:
        return None
    event = client.find_event(record.id, record_hash, record.block_number)
    if event is None or event.record_hash is None or event.kind is None:
        raise IntegrityError(f"the chain holds record {record.id} but no event for it in block {record.block_number}")
    cosigned = record.method == Method.COSIGNED
    return NotaryReceipt(
        chain_id=client.chain_id,
        contract=client.address,
        id=record.id,
        record_hash=event.record_hash,
        kind=event.kind,
        method="cosigned" if cosigned else "single",
        notary=None if cosigned else event.notary,
        parties=event.parties,
        merkle=None,
        tx_hash=event.tx_hash,
        block_number=record.block_number,
        block_hash=_block_hash(client, record.block_number),
        timestamp=record.timestamp,
    )


def batched_receipt(
    client: NotaryClient, record_hash: bytes, kind: str, proof: Sequence[bytes], batch: AnchoredBatch
) -> NotaryReceipt:
    """The receipt of a record anchored in `batch` (as the chain holds it) with `proof` from its leaf.

    Raises:
        IntegrityError: the contract holds the batch but its block has no event for it.
    """
    event = client.find_event(batch.id, batch.root, batch.block_number)
    if event is None or event.metadata_hash is None:
        raise IntegrityError(f"the chain holds batch {batch.id} but no event for it in block {batch.block_number}")
    leaf = leaf_hash(leaf_values(record_hash, kind), LEAF_ENCODING)
    return NotaryReceipt(
        chain_id=client.chain_id,
        contract=client.address,
        id=batch.id,
        record_hash=to_hex(parse_bytes32(record_hash)),
        kind=kind,
        method="batched",
        notary=batch.notary,
        parties=(),
        merkle=MerkleInclusion(
            root=batch.root,
            proof=tuple(to_hex(p) for p in proof),
            record_count=batch.record_count,
            metadata_hash=event.metadata_hash,
            leaf=to_hex(leaf),
        ),
        tx_hash=event.tx_hash,
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
            "single": f"notarized by {r.notary}",
            "cosigned": f"co-signed by {', '.join(r.parties)}",
            "batched": f"in batch {r.merkle.root if r.merkle else '?'} anchored by {r.notary}",
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
    derived = r.derived_id()
    _check(
        derived == r.id,
        f"the receipt's id {r.id} is not the id its fields derive ({_ID_RULE[r.method]} = {derived})",
        checks,
        _ID_RULE[r.method],
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
    name = _EVENT_OF[r.method]
    events = [e for e in client.decode_logs(tx["logs"]) if e.name == name and e.id == r.id]
    _check(
        bool(events),
        f"transaction {r.tx_hash} holds no {name} event for id {r.id} from contract {r.contract}",
        checks,
        f"{name} event for the id in the transaction",
    )
    _check_event(events[0], r, checks)
    try:
        if r.merkle is not None:
            _check_batch(client, r, checks)
        else:
            _check_record(client, r, checks)
    except (_Fail, OSError, ChainUnavailableError):
        raise
    except Exception as exc:  # an ABI mismatch or a revert: whatever is there is not our Notary
        raise _Fail(f"the contract at {r.contract} does not answer as a TraceChain Notary: {exc}") from None


def _check_event(event: NotaryEvent, r: NotaryReceipt, checks: list[str]) -> None:
    """The event's own fields, one by one (its id already matched, so they agree unless keccak256
    collides: these checks make a look-alike contract's mistakes readable)."""
    if r.merkle is not None:
        _check(
            (event.root, event.notary) == (r.merkle.root, r.notary),
            "the anchoring event's root or notary differs from the receipt's",
            checks,
            "event root and notary",
        )
        _check(
            event.record_count == r.merkle.record_count and event.metadata_hash == r.merkle.metadata_hash,
            "the anchoring event's record count or metadata hash differs from the receipt's",
            checks,
            "event record count and metadata hash",
        )
        return
    _check(
        (event.record_hash, event.kind) == (r.record_hash, r.kind),
        f"the event's record hash and kind ({event.record_hash}, {event.kind!r}) are not the receipt's",
        checks,
        "event record hash and kind",
    )
    if r.method == "single":
        reason = f"the event names {event.notary}, not {r.notary}, as notary"
        _check(event.notary == r.notary, reason, checks, "event notary")
        return
    _check(event.parties == r.parties, "the event's parties differ from the receipt's", checks, "event parties")
    _check(
        event.parties_hash == to_hex(parties_hash(r.parties)),
        "the event's partiesHash is not keccak256(abi.encodePacked(parties))",
        checks,
        "partiesHash",
    )


def _check_record(client: NotaryClient, r: NotaryReceipt, checks: list[str]) -> None:
    record = client.get_record(r.id)
    _check(record is not None, f"the contract holds no record under id {r.id}", checks, "getRecord(id) is set")
    assert record is not None
    method = "cosigned" if record.method == Method.COSIGNED else "single"
    _check(
        (method, record.block_number, record.timestamp) == (r.method, r.block_number, r.timestamp),
        f"the contract's record ({method}, block {record.block_number}, time {record.timestamp}) "
        "differs from the receipt",
        checks,
        "getRecord(id) matches (method, block, timestamp)",
    )


def _check_batch(client: NotaryClient, r: NotaryReceipt, checks: list[str]) -> None:
    assert r.merkle is not None and r.notary is not None
    batch = client.get_batch(parse_bytes32(r.merkle.root), r.notary)
    _check(
        batch is not None,
        f"the contract holds no batch with root {r.merkle.root} anchored by {r.notary}",
        checks,
        "getBatch(id) is set",
    )
    assert batch is not None
    _check(
        (batch.record_count, batch.block_number, batch.timestamp)
        == (r.merkle.record_count, r.block_number, r.timestamp),
        f"the contract's batch ({batch.record_count} records, block {batch.block_number}, time {batch.timestamp}) "
        "differs from the receipt",
        checks,
        "getBatch(id) matches (record count, block, timestamp)",
    )
    proof = [parse_bytes32(p) for p in r.merkle.proof]
    _check(
        client.verify_inclusion(parse_bytes32(r.merkle.root), r.notary, parse_bytes32(r.record_hash), r.kind, proof),
        "the contract rejects the Merkle proof",
        checks,
        "Notary.verifyInclusion(root, notary, recordHash, kind, proof) accepts the proof",
    )
