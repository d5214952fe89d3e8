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

from tracechain.errors import (
    NotarizationNotFoundError,
    QueueSignatureError,
    ReceiptNotReadyError,
    RecordHashMismatchError,
)
from tracechain.services.notary.batches import BATCH_MANIFEST_FORMAT, BatchQueue
from tracechain.services.notary.results import BatchOutcome, Notarization
from tracechain.services.notary.service import NotaryService

__all__ = [
    "BATCH_MANIFEST_FORMAT",
    "BatchOutcome",
    "BatchQueue",
    "Notarization",
    "NotarizationNotFoundError",
    "NotaryService",
    "QueueSignatureError",
    "ReceiptNotReadyError",
    "RecordHashMismatchError",
]
