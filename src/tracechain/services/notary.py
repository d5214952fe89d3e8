"""Notarization use cases: single and co-signed records, the durable batch queue and its anchoring,
record status and receipts.

Batch crash-safety. A batch is *sealed* in one database transaction — its Merkle root computed,
its row written and every record assigned to it — before anything is sent. Sending is then
idempotent by root: the contract refuses a root twice (`NotaryBatchExists`) and `flush` first
reconciles every sealed batch with the chain (anchored → note the transaction; not anchored →
send the same root again). So a stop between queueing and anchoring loses nothing, and a stop
between sending and noting it anchors nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.orm import Session

from tracechain import errors
from tracechain.chain.notary import LEAF_ENCODING, AnchoredBatch, NotaryClient, encode_kind, leaf_values
from tracechain.chain.transact import ForwardRequest, TxResult, decode_request
from tracechain.errors import (
    BatchFlushConflictError,
    NotarizationNotFoundError,
    QueueSignatureError,
    ReceiptNotReadyError,
    RecordAlreadyNotarizedError,
    RecordHashMismatchError,
)
from tracechain.hashing import canonical_json, document_hash, parse_bytes32, to_hex
from tracechain.merkle import StandardMerkleTree
from tracechain.services.receipts import NotaryReceipt, batched_receipt, individual_receipt
from tracechain.services.runtime import Runtime
from tracechain.store.db import Document
from tracechain.store.notary import ANCHORED, SEALED, NotaryBatchRow, NotaryQueueRow, NotaryRecordRow
from tracechain.types import to_address

BATCH_MANIFEST_FORMAT = "tracechain-notary-batch"
_QUEUE_RETRIES = 3


# ---------------------------------------------------------------- domain errors


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class Notarization:
    """Where a record stands: queued or sealed in a batch, or notarized (singly, co-signed, batched)."""

    record_hash: str
    kind: str
    status: str  # queued | sealed | notarized
    method: str  # single | cosigned | batched
    notarized_by: str | None = None
    parties: tuple[str, ...] = ()
    tx_hash: str | None = None
    block_number: int | None = None
    timestamp: int | None = None
    batch_root: str | None = None
    queued_at: datetime | None = None


@dataclass(frozen=True)
class BatchOutcome:
    """What `flush` did with one batch: sent it, found it already anchored, or failed (kept sealed)."""

    root: str
    record_count: int
    action: str  # anchored | confirmed | failed
    tx_hash: str | None = None
    block_number: int | None = None
    gas_used: int | None = None
    error: str | None = None
    exception: errors.TraceChainError | None = field(default=None, compare=False, repr=False)


@dataclass
class _TreeCache:
    trees: dict[str, tuple[StandardMerkleTree, dict[str, int]]] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class NotaryService:
    """Notarizes records for a Runtime; `anchor` (default: the operator) signs batch anchors and
    must hold the notary role."""

    def __init__(
        self, runtime: Runtime, *, anchor: LocalAccount | None = None, clock: Callable[[], datetime] = _now
    ) -> None:
        self.runtime = runtime
        self.anchor = anchor or runtime.operator
        self.clock = clock
        self.client = NotaryClient(runtime.contract("Notary"), runtime.transactor)
        self._cache = _TreeCache()

    @property
    def max_records(self) -> int:
        return self.runtime.settings.batch_max_records

    @property
    def max_age_seconds(self) -> int:
        return self.runtime.settings.batch_max_age_seconds

    # ---------------------------------------------------------------- inputs
    def record_hash_of(self, record: Any | None = None, record_hash: str | bytes | None = None) -> bytes:
        """The record hash of `record` or the given hash; both must agree. Nothing is stored: call
        `keep` once the record is notarized or queued.

        Raises:
            InvalidInputError: neither given, a malformed hash, or a record that is not canonical JSON.
            RecordHashMismatchError: the record does not hash to `record_hash`.
        """
        if record is None and record_hash is None:
            raise errors.InvalidInputError("give the record or its hash")
        given = parse_bytes32(record_hash) if record_hash is not None else None
        if record is None:
            assert given is not None
            return given
        digest = document_hash(record)
        if given is not None and given != digest:
            raise RecordHashMismatchError(
                f"the record hashes to {to_hex(digest)}, not {to_hex(given)}",
                hint="the record hash is keccak256 of the record's RFC 8785 canonical JSON",
            )
        return digest

    def keep(self, record: Any | None) -> None:
        """Store a notarized or queued record in the document store, under its hash."""
        if record is not None:
            self.runtime.store.put_document(record)

    # ---------------------------------------------------------------- single and co-signed
    def notarize_single(self, signer: LocalAccount, record_hash: bytes, kind: str) -> Notarization:
        """Notarize one record as `signer` (a notary), relayed and paid by the operator.

        Raises:
            NotaryRecordExists: already notarized. ActorRegistryMissingRole: `signer` is no notary.
        """
        client = NotaryClient(self.runtime.contract("Notary"), self.runtime.relaying)
        client.notarize(signer, record_hash, kind)
        return self.status(record_hash)

    def relay_single(self, request: ForwardRequest, record_hash: bytes, kind: str) -> Notarization:
        """Relay a notary's signed ERC-2771 request for `Notary.notarize(record_hash, kind)`.

        Raises:
            InvalidInputError: the request targets another contract or another call.
            SignatureError / ContractRevertError: the forwarder or the Notary refuses it.
        """
        self._check_request(request, record_hash, kind)
        self.runtime.transactor.relay(request, self.runtime.operator)
        return self.status(record_hash)

    def notarize_cosigned(
        self,
        record_hash: bytes,
        kind: str,
        parties: Sequence[str],
        deadline: int,
        signatures: Sequence[str],
        submitter: LocalAccount | None = None,
    ) -> Notarization:
        """Submit a record with every party's co-signature (the operator submits by default).

        Raises:
            NotaryInvalidSignature, NotarySignatureCount, NotarySignaturesExpired, NotaryRecordExists, ...
        """
        self.client.notarize_cosigned(
            submitter or self.runtime.operator, record_hash, kind, parties, deadline, signatures
        )
        return self.status(record_hash)

    def _check_request(self, request: ForwardRequest, record_hash: bytes, kind: str) -> None:
        decode_request(self.client.contract, request, ("notarize",))
        expected = self.client.contract.functions.notarize(parse_bytes32(record_hash), encode_kind(kind))
        if request.data.lower() != expected._encode_transaction_data().lower():
            selector = "0x" + function_signature_to_4byte_selector("notarize(bytes32,bytes32)").hex()
            raise errors.RequestMismatchError(
                "the signed request does not call Notary.notarize with this record hash and kind",
                hint=f"sign a request whose data is notarize(recordHash, kind) (selector {selector})",
            )

    # ---------------------------------------------------------------- batch queue
    def check_queue_signature(
        self, record_hash: bytes, kind: str, submitter: str, deadline: int, signature: str
    ) -> str:
        """Check that `submitter`, a registered actor in good standing, signed the record for
        batching: the EIP-712 `CoSign` message with parties `[submitter]` (see docs/PROTOCOL.md).
        Returns the checksummed submitter.

        Raises:
            QueueSignatureError: expired or not the submitter's signature.
            ActorRegistryUnknownActor / ActorRegistryActorSuspended: the submitter may not act.
        """
        submitter = to_address(submitter)
        now = int(self.runtime.chain.w3.eth.get_block("latest")["timestamp"])
        if deadline < now:
            raise QueueSignatureError(f"the submitter's signature expired at {deadline} (chain time {now})")
        digest = self.client.cosign_digest(record_hash, kind, [submitter], deadline)
        if not _signature_valid(self.runtime, submitter, digest, signature):
            raise QueueSignatureError(f"the signature is not {submitter}'s CoSign of this record and kind")
        actor = self.runtime.actors.get_actor(submitter)
        if actor is None:
            raise errors.ActorRegistryUnknownActor({"account": submitter})
        if actor.suspended:
            raise errors.ActorRegistryActorSuspended({"account": submitter})
        return submitter

    def enqueue(self, record_hash: bytes, kind: str, submitted_by: str | None = None) -> Notarization:
        """Queue a record for the next batch (idempotent: queueing it again returns its status).

        Raises:
            RecordAlreadyNotarizedError: notarized on its own already, or queued with another kind.
        """
        h = to_hex(parse_bytes32(record_hash))
        encode_kind(kind)
        existing = self.client.get_record(record_hash)
        if existing is not None:
            raise RecordAlreadyNotarizedError(
                f"record {h} is already notarized ({existing.method.name.lower()}) in block {existing.block_number}"
            )
        self._insert_queued([(h, kind)], submitted_by)
        return self.status(record_hash)

    def enqueue_many(self, items: Sequence[tuple[bytes, str]], submitted_by: str | None = None) -> int:
        """Queue many records in one database transaction (all or none); returns how many were new.

        Raises:
            RecordAlreadyNotarizedError: one is notarized on its own, or queued with another kind.
        """
        hashes = [to_hex(parse_bytes32(h)) for h, _ in items]
        for _, kind in items:
            encode_kind(kind)
        # One query against the index (brought up to the head) instead of one chain call a record.
        self.runtime.sync()
        with self.runtime.store.session() as s:
            first = next(
                (
                    h
                    for chunk in _chunks(hashes)
                    for h in s.scalars(
                        select(NotaryRecordRow.record_hash).where(NotaryRecordRow.record_hash.in_(chunk))
                    )
                ),
                None,
            )
        if first is not None:
            raise RecordAlreadyNotarizedError(f"record {first} is already notarized on its own")
        return self._insert_queued(list(zip(hashes, (kind for _, kind in items), strict=True)), submitted_by)

    def _insert_queued(self, items: list[tuple[str, str]], submitted_by: str | None) -> int:
        """Insert (hash, kind) rows not yet queued, in one transaction; retried when a concurrent
        enqueue took the same queue position or record."""
        for attempt in range(_QUEUE_RETRIES):
            try:
                return self._insert_queued_once(items, submitted_by)
            except DatabaseIntegrityError:
                if attempt == _QUEUE_RETRIES - 1:
                    raise BatchFlushConflictError("the batch queue is busy; try again") from None
        raise AssertionError("unreachable")

    def _insert_queued_once(self, items: list[tuple[str, str]], submitted_by: str | None) -> int:
        added = 0
        with self.runtime.store.session() as s:
            seq = s.scalar(select(func.max(NotaryQueueRow.seq))) or 0
            hashes = [h for h, _ in items]
            existing = {
                r.record_hash: r.kind
                for chunk in _chunks(hashes)
                for r in s.scalars(select(NotaryQueueRow).where(NotaryQueueRow.record_hash.in_(chunk)))
            }
            now = self.clock()
            for hx, kind in items:
                if hx in existing:
                    if existing[hx] != kind:
                        raise RecordAlreadyNotarizedError(f"record {hx} is already queued as {existing[hx]!r}")
                    continue
                seq += 1
                existing[hx] = kind
                s.add(NotaryQueueRow(record_hash=hx, kind=kind, queued_at=now, seq=seq, submitted_by=submitted_by))
                added += 1
        return added

    def pending_count(self) -> int:
        """Records queued and not yet sealed into a batch."""
        with self.runtime.store.session() as s:
            return int(s.scalar(select(func.count()).where(NotaryQueueRow.batch_id.is_(None))) or 0)

    def sealed_batches(self) -> list[NotaryBatchRow]:
        """Batches sealed but not yet seen anchored (normally none between flushes)."""
        with self.runtime.store.session() as s:
            return list(
                s.scalars(select(NotaryBatchRow).where(NotaryBatchRow.status == SEALED).order_by(NotaryBatchRow.id))
            )

    def flush_due(self) -> list[BatchOutcome]:
        """Anchor what is due: full batches, and a partial one whose oldest record is old enough."""
        return self.flush(force=False)

    def flush(self, *, force: bool = True) -> list[BatchOutcome]:
        """Reconcile sealed batches with the chain, then seal and anchor queued records in batches
        of at most `batch_max_records` (with `force`, also a partial batch that is not due yet).

        A batch that fails to send stays sealed (its error noted) and is retried by the next flush.
        """
        outcomes = self.reconcile()
        if any(o.action == "failed" for o in outcomes):
            return outcomes
        while (batch_id := self._seal_next(force)) is not None:
            outcome = self._send(batch_id)
            outcomes.append(outcome)
            if outcome.action == "failed":
                break
        return outcomes

    def reconcile(self) -> list[BatchOutcome]:
        """Bring every sealed batch to the chain: note it anchored if the chain has its root, else send it."""
        with self.runtime.store.session() as s:
            ids = list(
                s.scalars(select(NotaryBatchRow.id).where(NotaryBatchRow.status == SEALED).order_by(NotaryBatchRow.id))
            )
        return [self._send(i) for i in ids]

    def _seal_next(self, force: bool) -> int | None:
        """Seal the oldest queued records into one batch if due; returns its id (None if nothing due)."""
        with self.runtime.store.session() as s:
            rows = list(
                s.scalars(
                    select(NotaryQueueRow)
                    .where(NotaryQueueRow.batch_id.is_(None))
                    .order_by(NotaryQueueRow.seq)
                    .limit(self.max_records)
                )
            )
            if not rows:
                return None
            age = (self.clock() - _aware(rows[0].queued_at)).total_seconds()
            if not (force or len(rows) >= self.max_records or age >= self.max_age_seconds):
                return None
            tree = StandardMerkleTree.of(
                [leaf_values(parse_bytes32(r.record_hash), r.kind) for r in rows], LEAF_ENCODING
            )
            root = to_hex(tree.root)
            manifest = {
                "format": BATCH_MANIFEST_FORMAT,
                "version": 1,
                "root": root,
                "leafEncoding": list(LEAF_ENCODING),
                "recordCount": len(rows),
                "records": [[r.record_hash, r.kind] for r in rows],
            }
            metadata_hash = to_hex(document_hash(manifest))
            if s.get(Document, metadata_hash) is None:
                s.add(Document(hash=metadata_hash, body=canonical_json(manifest).decode(), stored_at=self.clock()))
            batch = NotaryBatchRow(
                root=root, record_count=len(rows), metadata_hash=metadata_hash, status=SEALED, sealed_at=self.clock()
            )
            s.add(batch)
            s.flush()
            hashes = [r.record_hash for r in rows]
            claimed = 0
            for chunk in _chunks(hashes):
                result = s.execute(
                    update(NotaryQueueRow)
                    .where(NotaryQueueRow.record_hash.in_(chunk), NotaryQueueRow.batch_id.is_(None))
                    .values(batch_id=batch.id)
                    .execution_options(synchronize_session=False)
                )
                claimed += int(result.rowcount)  # type: ignore[attr-defined]
            if claimed != len(rows):
                raise BatchFlushConflictError("queued records were sealed by another flush at the same time")
            return int(batch.id)

    def _send(self, batch_id: int) -> BatchOutcome:
        with self.runtime.store.session() as s:
            row = s.get(NotaryBatchRow, batch_id)
            assert row is not None
            root, count, meta = row.root, row.record_count, row.metadata_hash
        anchored = self.client.get_batch(parse_bytes32(root))
        if anchored is not None:
            return self._mark_anchored(batch_id, anchored, None, "confirmed")
        try:
            result = self.client.notarize_batch(self.anchor, parse_bytes32(root), count, parse_bytes32(meta))
        except errors.NotaryBatchExists:
            # Sent by an earlier run whose transaction was mined after our check.
            anchored = self.client.get_batch(parse_bytes32(root))
            assert anchored is not None
            return self._mark_anchored(batch_id, anchored, None, "confirmed")
        except errors.TraceChainError as exc:
            with self.runtime.store.session() as s:
                row = s.get(NotaryBatchRow, batch_id)
                assert row is not None
                row.attempts += 1
                row.last_error = str(exc)
            return BatchOutcome(root=root, record_count=count, action="failed", error=str(exc), exception=exc)
        anchored = self.client.get_batch(parse_bytes32(root))
        assert anchored is not None
        return self._mark_anchored(batch_id, anchored, result, "anchored")

    def _mark_anchored(
        self, batch_id: int, anchored: AnchoredBatch, result: TxResult | None, action: str
    ) -> BatchOutcome:
        tx_hash = result.tx_hash if result is not None else None
        if tx_hash is None:
            event = self.client.find_event(parse_bytes32(anchored.root), anchored.block_number)
            if event is None:
                raise errors.IntegrityError(f"batch {anchored.root} is anchored but its event is missing")
            tx_hash = event.tx_hash
        with self.runtime.store.session() as s:
            row = s.get(NotaryBatchRow, batch_id)
            assert row is not None
            row.status = ANCHORED
            row.attempts += 1 if result is not None else 0
            row.last_error = None
            row.notarized_by = anchored.notarized_by
            row.tx_hash = tx_hash
            row.block_number = anchored.block_number
            row.timestamp = anchored.timestamp
        return BatchOutcome(
            root=anchored.root,
            record_count=anchored.record_count,
            action=action,
            tx_hash=tx_hash,
            block_number=anchored.block_number,
            gas_used=result.gas_used if result is not None else None,
        )

    # ---------------------------------------------------------------- reads
    def status(self, record_hash: bytes) -> Notarization:
        """Where `record_hash` stands, from the chain (individual records) and the batch queue.

        Raises:
            NotarizationNotFoundError: neither knows it.
        """
        h = parse_bytes32(record_hash)
        receipt = individual_receipt(self.client, h)
        if receipt is not None:
            return Notarization(
                record_hash=receipt.record_hash,
                kind=receipt.kind,
                status="notarized",
                method=receipt.method,
                notarized_by=receipt.notarized_by,
                parties=receipt.parties,
                tx_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                timestamp=receipt.timestamp,
            )
        with self.runtime.store.session() as s:
            row, batch = self._queued(s, to_hex(h))
            if row is None:
                raise NotarizationNotFoundError(f"no notarization of record {to_hex(h)} is known")
            if batch is None:
                return Notarization(to_hex(h), row.kind, "queued", "batched", queued_at=_aware(row.queued_at))
            anchored = batch.status == ANCHORED
            return Notarization(
                record_hash=to_hex(h),
                kind=row.kind,
                status="notarized" if anchored else "sealed",
                method="batched",
                notarized_by=batch.notarized_by,
                tx_hash=batch.tx_hash,
                block_number=batch.block_number,
                timestamp=batch.timestamp,
                batch_root=batch.root,
                queued_at=_aware(row.queued_at),
            )

    def receipt(self, record_hash: bytes) -> NotaryReceipt:
        """The receipt of a notarized record.

        Raises:
            NotarizationNotFoundError: unknown record. ReceiptNotReadyError: its batch is not anchored yet.
        """
        h = parse_bytes32(record_hash)
        receipt = individual_receipt(self.client, h)
        if receipt is not None:
            return receipt
        with self.runtime.store.session() as s:
            row, batch = self._queued(s, to_hex(h))
            if row is None:
                raise NotarizationNotFoundError(f"no notarization of record {to_hex(h)} is known")
            if batch is None or batch.status != ANCHORED or batch.tx_hash is None:
                raise ReceiptNotReadyError(
                    f"record {to_hex(h)} is queued for a batch that is not anchored yet",
                    hint="anchor it with `tracechain batch flush`",
                )
            tree, index = self._tree(s, batch)
            kind, root, tx_hash = row.kind, batch.root, batch.tx_hash
        anchored = self.client.get_batch(parse_bytes32(root))
        if anchored is None:
            raise errors.IntegrityError(f"the store says batch {root} is anchored but the chain does not hold it")
        return batched_receipt(self.client, h, kind, tree.proof(index[to_hex(h)]), anchored, tx_hash)

    def _queued(self, s: Session, h: str) -> tuple[NotaryQueueRow | None, NotaryBatchRow | None]:
        row = s.get(NotaryQueueRow, h)
        if row is None or row.batch_id is None:
            return row, None
        return row, s.get(NotaryBatchRow, row.batch_id)

    def _tree(self, s: Session, batch: NotaryBatchRow) -> tuple[StandardMerkleTree, dict[str, int]]:
        cached = self._cache.trees.get(batch.root)
        if cached is not None:
            return cached
        rows = list(
            s.scalars(select(NotaryQueueRow).where(NotaryQueueRow.batch_id == batch.id).order_by(NotaryQueueRow.seq))
        )
        tree = StandardMerkleTree.of([leaf_values(parse_bytes32(r.record_hash), r.kind) for r in rows], LEAF_ENCODING)
        if to_hex(tree.root) != batch.root:
            raise errors.IntegrityError(f"the stored records of batch {batch.root} no longer hash to its root")
        built = (tree, {r.record_hash: i for i, r in enumerate(rows)})
        self._cache.trees[batch.root] = built
        return built


def _chunks(values: list[str], size: int = 5000) -> list[list[str]]:
    """`values` in slices small enough for any database's limit on bound parameters."""
    return [values[i : i + size] for i in range(0, len(values), size)]


def _signature_valid(runtime: Runtime, signer: str, digest: bytes, signature: str) -> bool:
    """ECDSA for accounts without code, ERC-1271 `isValidSignature` for contract accounts
    (the contract's own rule, as OpenZeppelin SignatureChecker applies it)."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        return False
    w3 = runtime.chain.w3
    if w3.eth.get_code(signer):  # type: ignore[arg-type]
        selector = function_signature_to_4byte_selector("isValidSignature(bytes32,bytes)")
        call: Any = {"to": signer, "data": selector + abi_encode(["bytes32", "bytes"], [digest, raw])}
        try:
            answer = w3.eth.call(call)
        except Exception:  # a reverting wallet simply does not vouch for the signature
            return False
        return bytes(answer[:4]) == bytes.fromhex("1626ba7e")
    try:
        return bool(Account._recover_hash(digest, signature=raw) == signer)
    except Exception:  # malformed signatures do not recover
        return False
