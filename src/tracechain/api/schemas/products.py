"""Request and response bodies of the products feature: traces with their verification, and the
writers' pre-signed requests with the documents they commit to."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracechain.api.schemas.common import ADDRESS, ForwardRequestIn
from tracechain.services.provenance import ImportReport, SubjectTrace, WriteReceipt

Json = dict[str, Any]


# ---------------------------------------------------------------- consumer reads
class TraceEntryPublic(BaseModel):
    """One entry of the subject's hash chain: an EPCIS event, an error declaration, a custody change
    or the recall."""

    model_config = ConfigDict(from_attributes=True)

    index: int = Field(description="0-based position in the subject's hash chain")
    kind: str = Field(examples=["event"], description="event | error_declaration | custody | forced_custody | recall")
    ref: str = Field(description="the entry's `ref` as committed: event id, or the new custodian as bytes32")
    event_hash_id: str | None = Field(description="GS1 CBV 2.0 Event Hash ID (events and error declarations)")
    biz_step: str | None
    biz_step_code: int
    actor: str
    actor_name: str | None
    timestamp: int = Field(description="block timestamp hashed into the chain")
    tx_hash: str
    block_number: int
    head: str = Field(description="the subject's hash-chain head after this entry")
    document_hash: str = Field(description="keccak256 of the RFC 8785 canonical document (zero if none)")
    document: Json | None = Field(description="the EPCIS 2.0 event, or the reason document; null if none")
    document_verified: bool
    custodian: str | None = Field(default=None, description="custody entries: the new custodian")
    custodian_name: str | None = None


class RecallPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    by: str
    by_name: str | None
    reason_hash: str
    reason: Json | None
    reason_verified: bool
    timestamp: int | None
    tx_hash: str | None


class ProblemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(examples=["document_altered"])
    message: str
    event_index: int | None = None
    event_id: str | None = None


class VerificationPublic(BaseModel):
    """The subject's whole history checked against the contract: the index's head (the fold of every
    entry, see docs/PROTOCOL.md) must equal the on-chain head read at `block_number`; the entries on
    this page must link to each other, and their documents hash to what the chain committed."""

    model_config = ConfigDict(from_attributes=True)

    verified: bool
    verdict: Literal["verified", "tampered", "incomplete"]
    chain_id: int
    contract: str
    block_number: int = Field(description="block at which the on-chain state was read")
    chain_head: str | None
    recomputed_head: str
    entry_count: int
    problems: list[ProblemPublic]


class ProductPublic(BaseModel):
    """A subject (product, lot, pallet, ...): its state, one page of its history (newest first),
    whether it is authentic, and whether it is recalled."""

    product_id: str = Field(examples=["01/09506000134352/21/SN-0001"], description="the canonical identifier")
    product_key: str
    open: bool = Field(description="class-level (a lot, a class, a location): no custodian")
    recalled: bool
    status: Literal["active", "recalled"]
    originator: str
    originator_name: str | None
    custodian: str | None
    custodian_name: str | None
    metadata_hash: str
    metadata: Json | None
    created_at: int
    created_tx: str
    created_block: int
    consumer_url: str
    recall: RecallPublic | None
    entries: list[TraceEntryPublic] = Field(description="this page of the history, newest first")
    next_cursor: int | None = Field(description="pass as `before` to read the next, older page")
    verification: VerificationPublic

    @classmethod
    def of(cls, trace: SubjectTrace, base_url: str) -> ProductPublic:
        path = trace.digital_link_path or f"/v1/products/{trace.product_id}"
        v = trace.verification
        return cls(
            product_id=trace.product_id,
            product_key=trace.product_key,
            open=trace.open,
            recalled=trace.recalled,
            status=trace.status,  # type: ignore[arg-type]
            originator=trace.originator,
            originator_name=trace.originator_name,
            custodian=trace.custodian,
            custodian_name=trace.custodian_name,
            metadata_hash=trace.metadata_hash,
            metadata=trace.metadata,
            created_at=trace.created_at,
            created_tx=trace.created_tx,
            created_block=trace.created_block,
            consumer_url=base_url.rstrip("/") + path,
            recall=RecallPublic.model_validate(trace.recall) if trace.recall else None,
            entries=[TraceEntryPublic.model_validate(e) for e in trace.entries],
            next_cursor=trace.next_cursor,
            verification=VerificationPublic(
                verified=v.verified,
                verdict=v.verdict,  # type: ignore[arg-type]
                chain_id=v.chain_id,
                contract=v.contract,
                block_number=v.block_number,
                chain_head=v.chain_head,
                recomputed_head=v.recomputed_head,
                entry_count=v.entry_count,
                problems=[ProblemPublic.model_validate(p) for p in v.problems],
            ),
        )


# ---------------------------------------------------------------- writer bodies
class ProductCreate(BaseModel):
    """Register a product (or lot, pallet, ...): the actor's signed
    `createSubjects([(canonicalId, metadataHash, open)])`."""

    request: ForwardRequestIn
    product_id: str = Field(examples=["https://id.example.com/01/09506000134352/21/SN-0001"])
    metadata: Json | None = Field(default=None, description="product metadata; its canonical hash is signed")


class ProductEventsCreate(BaseModel):
    """Record EPCIS 2.0 events that name this product, in one transaction: the actor's signed
    `recordEvent(s)` (POST /v1/provenance/requests builds it)."""

    request: ForwardRequestIn
    events: list[Json] = Field(min_length=1)


class EpcisCapture(BaseModel):
    """Import an EPCIS 2.0 document: every event of `epcisBody.eventList` not yet recorded, with the
    signed `recordEvents` requests POST /v1/provenance/requests (action `epcis`) prepared, in order."""

    requests: list[ForwardRequestIn] = Field(min_length=1)
    document: Json


class CustodyCreate(BaseModel):
    """Hand custody over: the custodian's signed `transferCustody([subjectKey], to)`."""

    request: ForwardRequestIn


class RecallCreate(BaseModel):
    """Recall: the originator's or governance's signed `recall(subjectKey, hash(notice))`."""

    request: ForwardRequestIn
    notice: Json = Field(description="the recall notice; its canonical hash is signed")


class WriteReceiptPublic(BaseModel):
    """Where a relayed write landed and what it committed."""

    tx_hash: str
    block_number: int
    gas_used: int
    product_ids: list[str]
    event_hash_ids: list[str]
    document_hashes: list[str]

    @classmethod
    def of(cls, receipt: WriteReceipt) -> WriteReceiptPublic:
        return cls(
            tx_hash=receipt.tx.tx_hash,
            block_number=receipt.tx.block_number,
            gas_used=receipt.tx.gas_used,
            product_ids=list(receipt.product_ids),
            event_hash_ids=list(receipt.event_hash_ids),
            document_hashes=list(receipt.document_hashes),
        )


class ImportPublic(BaseModel):
    """What an EPCIS capture recorded: one receipt per transaction, and the events it skipped as
    recorded already."""

    transactions: list[WriteReceiptPublic]
    recorded: int
    skipped: int

    @classmethod
    def of(cls, report: ImportReport) -> ImportPublic:
        return cls(
            transactions=[WriteReceiptPublic.of(r) for r in report.receipts],
            recorded=report.recorded,
            skipped=report.skipped,
        )


# ---------------------------------------------------------------- request preparation
class RequestPrepare(BaseModel):
    """Ask the server to build the forward request an actor signs for one provenance write."""

    model_config = ConfigDict(populate_by_name=True)

    action: Literal["register", "events", "epcis", "transfer", "recall"]
    sender: str = Field(alias="from", pattern=ADDRESS)
    product_id: str | None = None
    metadata: Json | None = None
    events: list[Json] | None = None
    document: Json | None = None
    to: str | None = Field(default=None, pattern=ADDRESS)
    notice: Json | None = None
    ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)


class RequestPrepared(BaseModel):
    """The unsigned request (sign `typed_data` with EIP-712, then post it with `signature` set); an
    EPCIS import too large for one transaction gets several, in `requests` (sign each)."""

    request: Json
    typed_data: Json
    requests: list[Json] = Field(default_factory=list, description="every request, in order (action epcis)")
    typed_data_list: list[Json] = Field(default_factory=list, description="their EIP-712 messages, in order")
