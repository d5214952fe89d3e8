"""Bodies and answers of the notary and auditor routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from tracechain.api.schemas.common import ADDRESS, ForwardRequestIn
from tracechain.services.notary import Notarization
from tracechain.services.receipts import Verification
from tracechain.store.notary import ActivityEntry
from tracechain.types import iso_utc

HASH = r"^0x[0-9a-fA-F]{64}$"
SIGNATURE = r"^0x[0-9a-fA-F]*$"


def _iso(timestamp: int | None) -> str | None:
    return None if timestamp is None else iso_utc(timestamp)


class NotarizationCreate(BaseModel):
    """Notarize a record (the JSON document, or only its hash) in one of three ways:

    - `single`: `request` is a notary's signed ERC-2771 request for `Notary.notarize(recordHash, kind)`;
    - `cosigned`: every party's EIP-712 `CoSign` signature, in the order of `parties`;
    - `batch`: queued for the next Merkle batch; `submitter` signs `CoSign` with parties `[submitter]`.
    """

    method: Literal["single", "cosigned", "batch"]
    kind: str = Field(examples=["purchase_order"], description="Record kind: 1-32 of a-z 0-9 _ . - from a letter.")
    record: Any | None = Field(default=None, description="The record; its RFC 8785 keccak hash is notarized.")
    record_hash: str | None = Field(default=None, pattern=HASH, description="The record hash, if not the record.")
    request: ForwardRequestIn | None = Field(default=None, description="single: the notary's signed request.")
    parties: list[str] | None = Field(default=None, description="cosigned: the parties, in signing order.")
    signatures: list[str] | None = Field(default=None, description="cosigned: one signature per party.")
    deadline: int | None = Field(default=None, ge=0, description="cosigned/batch: the signed deadline.")
    submitter: str | None = Field(default=None, pattern=ADDRESS, description="batch: the signing submitter.")
    signature: str | None = Field(default=None, pattern=SIGNATURE, description="batch: the submitter's signature.")

    @model_validator(mode="after")
    def _fields_for_method(self) -> NotarizationCreate:
        if self.record is None and self.record_hash is None:
            raise ValueError("give the record or its record_hash")
        needed = {
            "single": ("request",),
            "cosigned": ("parties", "signatures", "deadline"),
            "batch": ("submitter", "signature", "deadline"),
        }[self.method]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"method {self.method!r} needs {', '.join(missing)}")
        return self


class NotarizationPublic(BaseModel):
    """Where a record stands, with the links to check it."""

    record_hash: str
    kind: str
    status: Literal["queued", "sealed", "notarized"]
    method: Literal["single", "cosigned", "batched"]
    notarized_by: str | None
    parties: list[str]
    tx_hash: str | None
    block_number: int | None
    timestamp: int | None
    time: str | None
    batch_root: str | None
    queued_at: datetime | None
    receipt_url: str | None

    @classmethod
    def of(cls, n: Notarization, base: str = "") -> NotarizationPublic:
        return cls(
            record_hash=n.record_hash,
            kind=n.kind,
            status=n.status,  # type: ignore[arg-type]
            method=n.method,  # type: ignore[arg-type]
            notarized_by=n.notarized_by,
            parties=list(n.parties),
            tx_hash=n.tx_hash,
            block_number=n.block_number,
            timestamp=n.timestamp,
            time=_iso(n.timestamp),
            batch_root=n.batch_root,
            queued_at=n.queued_at,
            receipt_url=f"{base}/v1/notarizations/{n.record_hash}/receipt" if n.status == "notarized" else None,
        )


class VerifyRequest(BaseModel):
    """What to verify: a receipt, a record or a record hash (a record may come with its receipt)."""

    receipt: dict[str, Any] | None = None
    record: Any | None = None
    record_hash: str | None = Field(default=None, pattern=HASH)

    @model_validator(mode="after")
    def _something(self) -> VerifyRequest:
        if self.receipt is None and self.record is None and self.record_hash is None:
            raise ValueError("give a receipt, a record or a record_hash")
        return self


class VerificationPublic(BaseModel):
    """The verdict, checked live against the chain: when, by whom, which parties, which proof."""

    ok: bool
    reason: str | None
    summary: str
    record_hash: str
    kind: str
    method: str
    notarized_by: str
    parties: list[str]
    chain_id: int
    contract: str
    tx_hash: str
    block_number: int
    timestamp: int
    time: str
    merkle_root: str | None
    proof: list[str] | None
    checks: list[str] = Field(description="Every check that held, in order.")
    receipt: dict[str, Any]

    @classmethod
    def of(cls, v: Verification) -> VerificationPublic:
        r = v.receipt
        return cls(
            ok=v.ok,
            reason=v.reason,
            summary=v.summary(),
            record_hash=r.record_hash,
            kind=r.kind,
            method=r.method,
            notarized_by=r.notarized_by,
            parties=list(r.parties),
            chain_id=r.chain_id,
            contract=r.contract,
            tx_hash=r.tx_hash,
            block_number=r.block_number,
            timestamp=r.timestamp,
            time=_iso(r.timestamp) or "",
            merkle_root=r.merkle.root if r.merkle else None,
            proof=list(r.merkle.proof) if r.merkle else None,
            checks=v.checks,
            receipt=r.to_json(),
        )


class ActivityPublic(BaseModel):
    """One write an actor made."""

    actor: str
    kind: str = Field(examples=["notary.single", "notary.cosign", "notary.batch"])
    subject: str
    contract: str
    tx_hash: str
    log_index: int
    block_number: int
    timestamp: int
    time: str

    @classmethod
    def of(cls, e: ActivityEntry) -> ActivityPublic:
        return cls(**e.__dict__, time=_iso(e.timestamp) or "")


class ActivitiesPublic(BaseModel):
    """A page of an actor's audit trail, newest first."""

    items: list[ActivityPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class JsonRpcErrorPublic(BaseModel):
    """A JSON-RPC 2.0 error object (codes of JSON-RPC 2.0 and EIP-1474; 3 is a revert, with its data)."""

    code: int = Field(examples=[-32005])
    message: str
    data: Any | None = None


class JsonRpcResponse(BaseModel):
    """A JSON-RPC 2.0 response: `result` on success, else `error`."""

    jsonrpc: Literal["2.0"] = "2.0"
    id: str | int | None
    result: Any | None = None
    error: JsonRpcErrorPublic | None = None
