"""The durable batch queue of the notary service: records queued for a Merkle batch, batches sealed
before they are sent, anchored, reconciled with the chain after a crash or a rollback, and the
receipts of batched records (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.orm import Session

from tracechain import errors
from tracechain.chain.notary import LEAF_ENCODING, AnchoredBatch, NotaryClient, encode_kind, leaf_values
from tracechain.chain.notary import batch_id as onchain_batch_id
from tracechain.chain.transact import TxResult
from tracechain.errors import (
    BatchFlushConflictError,
    NotarizationNotFoundError,
    QueueSignatureError,
    ReceiptNotReadyError,
)
from tracechain.hashing import canonical_json, document_hash, parse_bytes32, to_hex
from tracechain.merkle import StandardMerkleTree
from tracechain.services.notary.results import BatchOutcome, Notarization
from tracechain.services.receipts import NotaryReceipt, batched_receipt
from tracechain.services.runtime import Runtime
from tracechain.store.db import Document
from tracechain.store.notary import ANCHORED, SEALED, NotaryAnchorRow, NotaryBatchRow, NotaryQueueRow
from tracechain.types import to_address

BATCH_MANIFEST_FORMAT = "tracechain-notary-batch"
_QUEUE_RETRIES = 3


@dataclass
class _TreeCache:
    trees: dict[str, tuple[StandardMerkleTree, dict[tuple[str, str], int]]] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class BatchQueue:
    """The batch queue over a Runtime; `anchor` (default: the operator) signs batch anchors and must
    hold the notary role. `NotaryService` adds single and co-signed records and the reads."""

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

    # ---------------------------------------------------------------- batch queue
    def check_queue_signature(
        self, record_hash: bytes, kind: str, submitter: str, deadline: int, signature: str
    ) -> str:
        """Check that `submitter`, a registered actor in good standing, signed the record for
        batching: the EIP-712 `BatchRecord(recordHash, kind, deadline)` message (docs/PROTOCOL.md),
        never a `CoSign`. Returns the checksummed submitter.

        Raises:
            QueueSignatureError: expired or not the submitter's signature.
            ActorRegistryUnknownActor / ActorRegistryActorSuspended: the submitter may not act.
        """
        submitter = to_address(submitter)
        now = int(self.runtime.chain.w3.eth.get_block("latest")["timestamp"])
        if deadline < now:
            raise QueueSignatureError(f"the submitter's signature expired at {deadline} (chain time {now})")
        digest = self.client.batch_record_digest(record_hash, kind, deadline)
        if not _signature_valid(self.runtime, submitter, digest, signature):
            raise QueueSignatureError(f"the signature is not {submitter}'s BatchRecord of this record and kind")
        actor = self.runtime.actors.get_actor(submitter)
        if actor is None:
            raise errors.ActorRegistryUnknownActor({"account": submitter})
        if actor.suspended:
            raise errors.ActorRegistryActorSuspended({"account": submitter})
        return submitter

    def enqueue(self, record_hash: bytes, kind: str, submitted_by: str | None = None) -> Notarization:
        """Queue a record for the next batch (idempotent: queueing it again returns its status).
        Other notarizations of the same hash, by anyone, neither block nor replace it."""
        h = to_hex(parse_bytes32(record_hash))
        encode_kind(kind)
        self._insert_queued([(h, kind)], submitted_by)
        return self.queue_entry(h, kind)

    def queue_entry(self, record_hash: bytes | str, kind: str) -> Notarization:
        """Where the queued record `(record_hash, kind)` stands: queued, sealed, or notarized in a
        batch the chain holds.

        Raises:
            NotarizationNotFoundError: it was never queued.
        """
        h = to_hex(parse_bytes32(record_hash))
        with self.runtime.store.session() as s:
            row = s.get(NotaryQueueRow, (h, kind))
            if row is None:
                raise NotarizationNotFoundError(f"record {h} ({kind}) is not in the batch queue")
            return self._queued(row, s.get(NotaryBatchRow, row.batch_id) if row.batch_id else None)

    def enqueue_many(self, items: Sequence[tuple[bytes, str]], submitted_by: str | None = None) -> int:
        """Queue many records in one database transaction (all or none); returns how many were new."""
        hashes = [to_hex(parse_bytes32(h)) for h, _ in items]
        for _, kind in items:
            encode_kind(kind)
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
            existing = {
                (r.record_hash, r.kind)
                for chunk in _chunks(sorted({h for h, _ in items}))
                for r in s.scalars(select(NotaryQueueRow).where(NotaryQueueRow.record_hash.in_(chunk)))
            }
            now = self.clock()
            for item in items:
                if item in existing:
                    continue
                seq += 1
                existing.add(item)
                hx, kind = item
                s.add(NotaryQueueRow(record_hash=hx, kind=kind, queued_at=now, seq=seq, submitted_by=submitted_by))
                added += 1
        return added

    def pending_count(self) -> int:
        """Records queued and not yet sealed into a batch."""
        with self.runtime.store.session() as s:
            return int(s.scalar(select(func.count()).where(NotaryQueueRow.batch_id.is_(None))) or 0)

    def sealed_batches(self) -> list[NotaryBatchRow]:
        """Batches sealed and not anchored on the chain as the index knows it (after bringing the
        index up to the chain, so batches whose anchor was rolled back are listed again)."""
        self.runtime.refresh()
        with self.runtime.store.session() as s:
            return list(
                s.scalars(select(NotaryBatchRow).where(NotaryBatchRow.status == SEALED).order_by(NotaryBatchRow.id))
            )

    def flush_due(self) -> list[BatchOutcome]:
        """Anchor what is due: full batches, and a partial one whose oldest record is old enough."""
        return self.flush(force=False)

    def flush(self, *, force: bool = True) -> list[BatchOutcome]:
        """Reconcile batches with the chain, then seal and anchor queued records in batches of at
        most `batch_max_records` (with `force`, also a partial batch that is not due yet).

        A batch that fails to send stays sealed (its error noted) and is retried by the next flush.

        Raises:
            ChainUnavailableError: the node does not answer while the index is brought up to it.
        """
        with self.runtime.store.session() as s:
            sealed = set(s.scalars(select(NotaryBatchRow.id).where(NotaryBatchRow.status == SEALED)))
        self.runtime.sync()  # follows rewinds: batches anchored in forgotten blocks are sealed again
        outcomes = self._seen_anchored(sealed)  # sent by a run that stopped before noting it
        outcomes += self.reconcile()
        if any(o.action == "failed" for o in outcomes):
            return outcomes
        while (batch_id := self._seal_next(force)) is not None:
            outcome = self._send(batch_id)
            outcomes.append(outcome)
            if outcome.action == "failed":
                break
        return outcomes

    def _seen_anchored(self, batch_ids: set[int]) -> list[BatchOutcome]:
        """Outcomes for batches among `batch_ids` that the indexer has just seen anchored."""
        if not batch_ids:
            return []
        with self.runtime.store.session() as s:
            rows = s.scalars(
                select(NotaryBatchRow)
                .where(NotaryBatchRow.id.in_(sorted(batch_ids)), NotaryBatchRow.status == ANCHORED)
                .order_by(NotaryBatchRow.id)
            )
            return [
                BatchOutcome(
                    root=r.root,
                    record_count=r.record_count,
                    action="confirmed",
                    id=to_hex(onchain_batch_id(r.root, r.notary)) if r.notary else None,
                    notary=r.notary,
                    tx_hash=r.tx_hash,
                    block_number=r.block_number,
                )
                for r in rows
            ]

    def reconcile(self) -> list[BatchOutcome]:
        """Bring every batch to the chain: a sealed batch is noted anchored if the chain has it,
        else sent; an anchored batch the indexer has not confirmed yet is checked on the chain,
        and sent again if its anchor is gone. Batches that need nothing report nothing."""
        with self.runtime.store.session() as s:
            pending = list(
                s.execute(
                    select(NotaryBatchRow.id, NotaryBatchRow.status)
                    .where(
                        or_(
                            NotaryBatchRow.status == SEALED,
                            and_(NotaryBatchRow.status == ANCHORED, NotaryBatchRow.indexed.is_(False)),
                        )
                    )
                    .order_by(NotaryBatchRow.id)
                )
            )
        outcomes: list[BatchOutcome] = []
        for batch_id, state in pending:
            outcome = self._send(batch_id) if state == SEALED else self._recheck(batch_id)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

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
            claimed = 0
            for chunk in _chunks([r.seq for r in rows]):
                result = s.execute(
                    update(NotaryQueueRow)
                    .where(NotaryQueueRow.seq.in_(chunk), NotaryQueueRow.batch_id.is_(None))
                    .values(batch_id=batch.id)
                    .execution_options(synchronize_session=False)
                )
                claimed += int(result.rowcount)  # type: ignore[attr-defined]
            if claimed != len(rows):
                raise BatchFlushConflictError("queued records were sealed by another flush at the same time")
            return int(batch.id)

    def _send(self, batch_id: int) -> BatchOutcome:
        """Anchor a sealed batch: note it if the chain already has it (under the notary it was sent
        as, or ours), else send it as `self.anchor`. Any failure leaves it sealed, with its error."""
        with self.runtime.store.session() as s:
            row = s.get(NotaryBatchRow, batch_id)
            assert row is not None
            root, count, meta, sent_as = row.root, row.record_count, row.metadata_hash, row.notary
        anchor = self.anchor.address
        try:
            anchored = self._find_anchor(root, sent_as)
            if anchored is not None:
                return self._confirm(batch_id, anchored)
            with self.runtime.store.session() as s:  # who it is sent as, before it is sent
                row = s.get(NotaryBatchRow, batch_id)
                assert row is not None
                row.notary = anchor
                row.attempts += 1
            try:
                result = self.client.notarize_batch(self.anchor, parse_bytes32(root), count, parse_bytes32(meta))
            except errors.NotaryBatchExists:
                # Sent by an earlier run whose transaction was mined after our check.
                anchored = self.client.get_batch(root, anchor)
                if anchored is None:
                    raise
                return self._confirm(batch_id, anchored)
        except errors.TraceChainError as exc:
            with self.runtime.store.session() as s:
                row = s.get(NotaryBatchRow, batch_id)
                assert row is not None
                row.last_error = str(exc)
            return BatchOutcome(root=root, record_count=count, action="failed", error=str(exc), exception=exc)
        # Noted from the mined transaction alone: a node that stops answering now changes nothing.
        event = next(e for e in self.client.events(result) if e.root == root and e.notary == anchor)
        return self._mark_anchored(
            batch_id, event.id, anchor, result.tx_hash, result.block_number, None, count, result, "anchored"
        )

    def _recheck(self, batch_id: int) -> BatchOutcome | None:
        """Check an anchored batch the indexer has not confirmed: nothing to report while the chain
        holds it where noted; noted again if it moved; sealed and sent again if it is gone."""
        with self.runtime.store.session() as s:
            row = s.get(NotaryBatchRow, batch_id)
            assert row is not None
            root, count, block, sent_as = row.root, row.record_count, row.block_number, row.notary
        try:
            anchored = self._find_anchor(root, sent_as)
        except errors.TraceChainError as exc:
            return BatchOutcome(root=root, record_count=count, action="failed", error=str(exc), exception=exc)
        if anchored is not None:
            return None if anchored.block_number == block else self._confirm(batch_id, anchored)
        with self.runtime.store.session() as s:
            row = s.get(NotaryBatchRow, batch_id)
            assert row is not None
            row.last_error = f"its anchor in block {block} is no longer on the chain; anchoring it again"
            row.status, row.tx_hash, row.block_number, row.timestamp, row.indexed = SEALED, None, None, None, False
        return self._send(batch_id)

    def _find_anchor(self, root: str, sent_as: str | None) -> AnchoredBatch | None:
        """The chain's anchor of `root` by the notary it was last sent as, or by ours."""
        for notary in dict.fromkeys(n for n in (sent_as, self.anchor.address) if n):
            anchored = self.client.get_batch(root, notary)
            if anchored is not None:
                return anchored
        return None

    def _confirm(self, batch_id: int, anchored: AnchoredBatch) -> BatchOutcome:
        event = self.client.find_event(anchored.id, anchored.root, anchored.block_number)
        if event is None:
            raise errors.IntegrityError(f"batch {anchored.id} is anchored but its event is missing")
        return self._mark_anchored(
            batch_id,
            anchored.id,
            anchored.notary,
            event.tx_hash,
            anchored.block_number,
            anchored.timestamp,
            anchored.record_count,
            None,
            "confirmed",
        )

    def _mark_anchored(
        self,
        batch_id: int,
        anchor_id: str,
        notary: str,
        tx_hash: str,
        block_number: int,
        timestamp: int | None,
        record_count: int,
        result: TxResult | None,
        action: str,
    ) -> BatchOutcome:
        with self.runtime.store.session() as s:
            row = s.get(NotaryBatchRow, batch_id)
            assert row is not None
            seen = s.get(NotaryAnchorRow, anchor_id)
            row.status = ANCHORED
            row.last_error = None
            row.notary = notary
            row.tx_hash = tx_hash
            row.block_number = block_number
            row.timestamp = timestamp if timestamp is not None else (seen.timestamp if seen else None)
            row.indexed = seen is not None and seen.block_number == block_number
            root = row.root
        return BatchOutcome(
            root=root,
            record_count=record_count,
            action=action,
            id=anchor_id,
            notary=notary,
            tx_hash=tx_hash,
            block_number=block_number,
            gas_used=result.gas_used if result is not None else None,
        )

    def _batched_receipt(self, n: Notarization) -> NotaryReceipt:
        """The receipt of batched notarization `n`, with its proof, while the chain holds its batch.

        Raises:
            NotarizationNotFoundError: the record is in no batch of this queue.
            ReceiptNotReadyError: the chain does not hold the batch (rolled back since `n` was read).
        """
        with self.runtime.store.session() as s:
            row = s.get(NotaryQueueRow, (n.record_hash, n.kind))
            batch = s.get(NotaryBatchRow, row.batch_id) if row is not None and row.batch_id else None
            if row is None or batch is None or batch.notary is None:
                raise NotarizationNotFoundError(f"batch notarization {n.id} of {n.record_hash} is not known here")
            tree, index = self._tree(s, batch)
            proof = tree.proof(index[(n.record_hash, n.kind)])
            root, notary = batch.root, batch.notary
        anchored = self.client.get_batch(root, notary)
        if anchored is None:
            raise ReceiptNotReadyError(
                f"the anchor of batch {root} is not on the chain (rolled back); the next flush anchors it again",
                hint="anchor it with `tracechain batch flush`",
            )
        return batched_receipt(self.client, parse_bytes32(n.record_hash), n.kind, proof, anchored)

    def _queued(self, row: NotaryQueueRow, batch: NotaryBatchRow | None) -> Notarization:
        """A queue entry's notarization; an anchored batch counts only while the chain holds it."""
        queued = Notarization(row.record_hash, row.kind, "queued", "batched", queued_at=_aware(row.queued_at))
        if batch is None:
            return queued
        sealed = Notarization(
            row.record_hash, row.kind, "sealed", "batched", batch_root=batch.root, queued_at=_aware(row.queued_at)
        )
        if batch.status != ANCHORED or batch.notary is None:
            return sealed
        anchored = self.client.get_batch(batch.root, batch.notary)
        if anchored is None:
            return sealed  # rolled back: the next flush anchors it again
        tx_hash = batch.tx_hash
        if anchored.block_number != batch.block_number:  # re-included elsewhere: the chain's word
            event = self.client.find_event(anchored.id, anchored.root, anchored.block_number)
            tx_hash = event.tx_hash if event is not None else None
        return Notarization(
            record_hash=row.record_hash,
            kind=row.kind,
            status="notarized",
            method="batched",
            id=anchored.id,
            notary=anchored.notary,
            tx_hash=tx_hash,
            block_number=anchored.block_number,
            timestamp=anchored.timestamp,
            batch_root=batch.root,
            queued_at=_aware(row.queued_at),
        )

    def _tree(self, s: Session, batch: NotaryBatchRow) -> tuple[StandardMerkleTree, dict[tuple[str, str], int]]:
        cached = self._cache.trees.get(batch.root)
        if cached is not None:
            return cached
        rows = list(
            s.scalars(select(NotaryQueueRow).where(NotaryQueueRow.batch_id == batch.id).order_by(NotaryQueueRow.seq))
        )
        tree = StandardMerkleTree.of([leaf_values(parse_bytes32(r.record_hash), r.kind) for r in rows], LEAF_ENCODING)
        if to_hex(tree.root) != batch.root:
            raise errors.IntegrityError(f"the stored records of batch {batch.root} no longer hash to its root")
        built = (tree, {(r.record_hash, r.kind): i for i, r in enumerate(rows)})
        self._cache.trees[batch.root] = built
        return built


def _chunks(values: list[Any], size: int = 5000) -> list[list[Any]]:
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
