"""What the notary service answers: one notarization of a record, and what a flush did with a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tracechain import errors


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
