"""Bodies and answers of the notary and auditor routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tracechain.api.schemas.common import UINT48_MAX, Address, ForwardRequestIn
from tracechain.services.notary import Notarization
from tracechain.services.receipts import Verification
from tracechain.store.notary import ActivityEntry
from tracechain.types import iso_utc

HASH = r"^0x[0-9a-fA-F]{64}$"
SIGNATURE = r"^0x(?:[0-9a-fA-F]{2})*$"
KIND = r"^[a-z][a-z0-9_.-]{0,31}$"  # tracechain.chain.notary.encode_kind
MAX_PARTIES = 32


def _iso(timestamp: int | None) -> str | None:
    return None if timestamp is None else iso_utc(timestamp)


def _present(*names: str) -> dict[str, Any]:
    """JSON Schema: at least one of `names` is given and not null (what the validators below demand)."""
    return {"anyOf": [{"required": [n], "properties": {n: {"not": {"type": "null"}}}} for n in names]}


class _Notarization(BaseModel):
    """What every notarization names: the record (or only its hash) and its kind."""

    model_config = ConfigDict(json_schema_extra=_present("record", "record_hash"))

    kind: str = Field(
        pattern=KIND, examples=["purchase_order"], description="Record kind: 1-32 of a-z 0-9 _ . - from a letter."
    )
    record: Any | None = Field(default=None, description="The record; its RFC 8785 keccak hash is notarized.")
    record_hash: str | None = Field(default=None, pattern=HASH, description="The record hash, if not the record.")

    @model_validator(mode="after")
    def _record_or_hash(self) -> Self:
        if self.record is None and self.record_hash is None:
            raise ValueError("give the record or its record_hash")
        return self


class SingleNotarizationCreate(_Notarization):
    """`single`: a notary's signed ERC-2771 request for `Notary.notarize(recordHash, kind)`."""

    method: Literal["single"]
    request: ForwardRequestIn


class CosignedNotarizationCreate(_Notarization):
    """`cosigned`: every party's EIP-712 `CoSign` signature, in the order of `parties`."""

    method: Literal["cosigned"]
    parties: list[Address] = Field(min_length=1, max_length=MAX_PARTIES, description="The parties, in signing order.")
    signatures: list[Annotated[str, Field(pattern=SIGNATURE)]] = Field(
        min_length=1, max_length=MAX_PARTIES, description="One signature per party."
    )
    deadline: int = Field(ge=0, le=UINT48_MAX, description="The signed deadline (unix time).")


class BatchNotarizationCreate(_Notarization):
    """`batch`: queued for the next Merkle batch; `submitter` signs the EIP-712 `BatchRecord(recordHash,
    kind, deadline)` message (never a `CoSign`, so a queue signature never co-signs a record)."""

    method: Literal["batch"]
    submitter: Address = Field(description="The signing submitter.")
    signature: str = Field(pattern=SIGNATURE, description="The submitter's BatchRecord signature.")
    deadline: int = Field(ge=0, le=UINT48_MAX, description="The signed deadline (unix time).")


NotarizationCreate = Annotated[
    SingleNotarizationCreate | CosignedNotarizationCreate | BatchNotarizationCreate, Field(discriminator="method")
]
"""Notarize a record (the JSON document, or only its hash) singly, co-signed, or in a batch."""


class NotarizationPublic(BaseModel):
    """One notarization of a record, with the link to its receipt. `id` is the contract's key for it
    (the record id, or the batch id of a batched record; null while queued or sealed), derived from
    the record hash, the kind and `notary` (single) or `parties` (co-signed), or from the batch root
    and `notary` (batched)."""

    id: str | None
    record_hash: str
    kind: str
    status: Literal["queued", "sealed", "notarized"]
    method: Literal["single", "cosigned", "batched"]
    notary: str | None = Field(description="single: the notary; batched: the notary that anchored the batch.")
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
        receipt = f"{base}/v1/notarizations/{n.record_hash}/receipt?id={n.id}" if n.notarized and n.id else None
        return cls(
            id=n.id,
            record_hash=n.record_hash,
            kind=n.kind,
            status=n.status,  # type: ignore[arg-type]
            method=n.method,  # type: ignore[arg-type]
            notary=n.notary,
            parties=list(n.parties),
            tx_hash=n.tx_hash,
            block_number=n.block_number,
            timestamp=n.timestamp,
            time=_iso(n.timestamp),
            batch_root=n.batch_root,
            queued_at=n.queued_at,
            receipt_url=receipt,
        )


class NotarizationsPublic(BaseModel):
    """Every notarization of a record hash known here, newest first (queued and sealed ones first).
    `receipt_url` is the receipt of the earliest notarized one."""

    record_hash: str
    items: list[NotarizationPublic]
    receipt_url: str | None

    @classmethod
    def of(cls, record_hash: str, items: list[Notarization], base: str = "") -> NotarizationsPublic:
        notarized = any(n.notarized for n in items)
        return cls(
            record_hash=record_hash,
            items=[NotarizationPublic.of(n, base) for n in items],
            receipt_url=f"{base}/v1/notarizations/{record_hash}/receipt" if notarized else None,
        )


class VerifyRequest(BaseModel):
    """What to verify: a receipt, a record or a record hash (a record may come with its receipt);
    for a record or hash, the receipt of notarization `id`, or of the earliest."""

    model_config = ConfigDict(json_schema_extra=_present("receipt", "record", "record_hash"))

    receipt: dict[str, Any] | None = None
    record: Any | None = None
    record_hash: str | None = Field(default=None, pattern=HASH)
    id: str | None = Field(default=None, pattern=HASH, description="Which notarization of the record.")

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
    id: str
    record_hash: str
    kind: str
    method: str
    notary: str | None
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
            id=r.id,
            record_hash=r.record_hash,
            kind=r.kind,
            method=r.method,
            notary=r.notary,
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
