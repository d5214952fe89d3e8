"""Notarization use cases: single and co-signed records, the durable batch queue and its anchoring,
the notarizations of a record hash and their receipts.

A record hash may be notarized many times — by different notaries, by different party sets, in
different batches — each under its own id (see docs/PROTOCOL.md), so nobody who merely saw a hash
can pre-empt or block its notarization.

Batch crash-safety. A batch is *sealed* in one database transaction — its Merkle root computed,
its row written and every record assigned to it — before anything is sent; the notary it is sent
as is written before each send. Sending is then idempotent: `flush` first reconciles every
sealed batch with the chain (anchored under that notary → note the transaction; not anchored →
send the same root again), so a stop between queueing and anchoring loses nothing, and a stop
between sending and noting it anchors nothing twice.

Rollbacks. The chain may forget blocks (a reorganisation, a node restarted from older state).
The indexer then rewinds the store, and batches anchored in forgotten blocks return to "sealed"
(same root, same records); `flush` also re-checks anchors the indexer has not confirmed yet. A
batched record is reported notarized, and its receipt served, only while the chain holds its
batch under the notary that anchored it.
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
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.orm import Session

from tracechain import errors
from tracechain.chain.notary import (
    LEAF_ENCODING,
    AnchoredBatch,
    Method,
    NotaryClient,
    cosigned_record_id,
    encode_kind,
    leaf_values,
    single_record_id,
)
from tracechain.chain.notary import batch_id as onchain_batch_id
from tracechain.chain.transact import ForwardRequest, TxResult, decode_request
from tracechain.errors import (
    BatchFlushConflictError,
    NotarizationNotFoundError,
    QueueSignatureError,
    ReceiptNotReadyError,
    RecordHashMismatchError,
)
from tracechain.hashing import canonical_json, document_hash, parse_bytes32, to_hex
from tracechain.merkle import StandardMerkleTree
from tracechain.services.receipts import NotaryReceipt, batched_receipt, individual_receipt
from tracechain.services.runtime import Runtime
from tracechain.store.db import Document
from tracechain.store.notary import (
    ANCHORED,
    SEALED,
    NotarizationRow,
    NotaryAnchorRow,
    NotaryBatchRow,
    NotaryQueueRow,
    notarizations_of,
)
from tracechain.types import to_address

BATCH_MANIFEST_FORMAT = "tracechain-notary-batch"
_QUEUE_RETRIES = 3


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class Notarization:
    """One notarization of a record: queued or sealed in a batch, or notarized (single, co-signed,
    batched) under `id` — the record id, or the batch id — which `notary` or `parties` derive."""

    record_hash: str
    kind: str
    status: str  # queued | sealed | notarized
    method: str  # single | cosigned | batched
    id: str | None = None  # None while queued or sealed
    notary: str | None = None  # single: the notary; batched: the notary that anchored it
    parties: tuple[str, ...] = ()  # co-signed
    tx_hash: str | None = None
    block_number: int | None = None
    log_index: int | None = None
    timestamp: int | None = None
    batch_root: str | None = None
    queued_at: datetime | None = None

    @property
    def notarized(self) -> bool:
        return self.status == "notarized"

    def order(self) -> tuple[int, int]:
        """Chain order (block, log index); pending notarizations sort after every notarized one."""
        if self.block_number is None:
            return (2**63, 0)
        return (self.block_number, self.log_index or 0)


@dataclass(frozen=True)
class BatchOutcome:
    """What `flush` did with one batch: sent it, found it already anchored, or failed (kept sealed)."""

    root: str
    record_count: int
    action: str  # anchored | confirmed | failed
    id: str | None = None  # the batch id, once anchored
    notary: str | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    gas_used: int | None = None
    error: str | None = None
    exception: errors.TraceChainError | None = field(default=None, compare=False, repr=False)


@dataclass
class _TreeCache:
    trees: dict[str, tuple[StandardMerkleTree, dict[tuple[str, str], int]]] = field(default_factory=dict)


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
            NotaryRecordExists: `signer` already notarized it. ActorRegistryMissingRole: `signer` is no notary.
        """
        client = NotaryClient(self.runtime.contract("Notary"), self.runtime.relaying)
        client.notarize(signer, record_hash, kind)
        return self._individual(single_record_id(record_hash, kind, signer.address), record_hash)

    def relay_single(self, request: ForwardRequest, record_hash: bytes, kind: str) -> Notarization:
        """Relay a notary's signed ERC-2771 request for `Notary.notarize(record_hash, kind)`.

        Raises:
            InvalidInputError: the request targets another contract or another call.
            SignatureError / ContractRevertError: the forwarder or the Notary refuses it.
        """
        self._check_request(request, record_hash, kind)
        self.runtime.transactor.relay(request, self.runtime.operator)
        return self._individual(single_record_id(record_hash, kind, request.sender), record_hash)

    def notarize_cosigned(
        self,
        record_hash: bytes,
        kind: str,
        parties: Sequence[str],
        deadline: int,
        signatures: Sequence[str],
        submitter: LocalAccount | None = None,
    ) -> Notarization:
        """Submit a record with every party's co-signature (the operator submits by default; the
        submitter is not recorded: the record is the parties').

        Raises:
            NotaryInvalidSignature, NotarySignatureCount, NotarySignaturesExpired, NotaryRecordExists, ...
        """
        record_id = cosigned_record_id(record_hash, kind, parties)
        try:
            self.client.notarize_cosigned(
                submitter or self.runtime.operator, record_hash, kind, parties, deadline, signatures
            )
        except errors.NotarySignaturesExpired:
            # The contract checks the deadline first: a retry after it must still learn that the
            # first submission went through.
            existing = self.client.get_record(record_id)
            if existing is None:
                raise
            raise errors.NotaryRecordExists(
                {"id": existing.id, "blockNumber": existing.block_number, "timestamp": existing.timestamp}
            ) from None
        return self._individual(record_id, record_hash)

    def _check_request(self, request: ForwardRequest, record_hash: bytes, kind: str) -> None:
        decode_request(self.client.contract, request, ("notarize",))
        expected = self.client.contract.functions.notarize(parse_bytes32(record_hash), encode_kind(kind))
        if request.data.lower() != expected._encode_transaction_data().lower():
            selector = "0x" + function_signature_to_4byte_selector("notarize(bytes32,bytes32)").hex()
            raise errors.RequestMismatchError(
                "the signed request does not call Notary.notarize with this record hash and kind",
                hint=f"sign a request whose data is notarize(recordHash, kind) (selector {selector})",
            )

    def _individual(self, record_id: bytes | str, record_hash: bytes | str) -> Notarization:
        """A single or co-signed notarization as the chain holds it now.

        Raises:
            NotarizationNotFoundError: the contract holds no record under `record_id`.
        """
        record = self.client.get_record(record_id)
        if record is None:
            raise NotarizationNotFoundError(f"no notarization {to_hex(parse_bytes32(record_id))} is on the chain")
        event = self.client.find_event(record.id, record_hash, record.block_number)
        if event is None or event.record_hash is None or event.kind is None:
            raise errors.IntegrityError(f"the chain holds record {record.id} but no event for it")
        return Notarization(
            record_hash=event.record_hash,
            kind=event.kind,
            status="notarized",
            method="cosigned" if record.method == Method.COSIGNED else "single",
            id=record.id,
            notary=event.notary,
            parties=event.parties,
            tx_hash=event.tx_hash,
            block_number=record.block_number,
            log_index=event.log_index,
            timestamp=record.timestamp,
        )

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
        self.runtime.sync()
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

    # ---------------------------------------------------------------- reads
    def notarizations(self, record_hash: bytes | str) -> list[Notarization]:
        """Every notarization of `record_hash` known here, newest first (queued and sealed ones
        first): single and co-signed ones from the index (brought up to the chain first), batched
        ones from the queue — reported notarized only while the chain holds their batch.

        Raises:
            NotarizationNotFoundError: none is known.
        """
        h = to_hex(parse_bytes32(record_hash))
        self.runtime.sync()
        with self.runtime.store.session() as s:
            found = [_from_row(r) for r in notarizations_of(s, h)]
            queued = list(s.scalars(select(NotaryQueueRow).where(NotaryQueueRow.record_hash == h)))
            found += [self._queued(q, s.get(NotaryBatchRow, q.batch_id) if q.batch_id else None) for q in queued]
        if not found:
            raise self._not_found(h)
        return sorted(found, key=Notarization.order, reverse=True)

    def _not_found(self, record_hash: str) -> NotarizationNotFoundError:
        confirmations = self.runtime.indexer.confirmations
        hint = (
            f"single and co-signed notarizations are listed once {confirmations} blocks confirm them; "
            "ask for one by its id meanwhile"
            if confirmations
            else None
        )
        return NotarizationNotFoundError(f"no notarization of record {record_hash} is known", hint=hint)

    def status(self, record_hash: bytes | str, id: str | None = None) -> Notarization:
        """One notarization of `record_hash`: the one whose id is `id`, else the earliest notarized,
        else a queued or sealed one.

        Raises:
            NotarizationNotFoundError: none is known (or none has that id).
        """
        h = to_hex(parse_bytes32(record_hash))
        try:
            known = self.notarizations(h)
        except NotarizationNotFoundError:
            known = []
        if id is not None:
            wanted = to_hex(parse_bytes32(id))
            match = next((n for n in known if n.id == wanted), None)
            if match is not None:
                return match
            return self._individual(wanted, h)  # not indexed yet (confirmations): ask the chain
        if not known:
            raise self._not_found(h)
        notarized = [n for n in known if n.notarized]
        return min(notarized, key=Notarization.order) if notarized else known[0]

    def receipt(self, record_hash: bytes | str, id: str | None = None) -> NotaryReceipt:
        """The receipt of a notarization of the record (see `status` for which one).

        Raises:
            NotarizationNotFoundError: unknown record or id.
            ReceiptNotReadyError: it is queued or sealed in a batch that the chain does not hold
            (not anchored yet, or its anchor was rolled back and awaits the next flush).
        """
        n = self.status(record_hash, id)
        if not n.notarized or n.id is None:
            where = f"sealed in batch {n.batch_root}" if n.status == "sealed" else "queued for a batch"
            raise ReceiptNotReadyError(
                f"record {n.record_hash} is {where} that the chain does not hold yet",
                hint="anchor it with `tracechain batch flush`",
            )
        if n.method != "batched":
            receipt = individual_receipt(self.client, n.id, n.record_hash)
            if receipt is None:
                raise NotarizationNotFoundError(f"notarization {n.id} is no longer on the chain")
            return receipt
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


def _from_row(row: NotarizationRow) -> Notarization:
    return Notarization(
        record_hash=row.record_hash,
        kind=row.kind,
        status="notarized",
        method=row.method,
        id=row.id,
        notary=row.notary,
        parties=tuple(filter(None, row.parties.split(","))),
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        log_index=row.log_index,
        timestamp=row.timestamp,
    )


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
