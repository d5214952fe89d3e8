"""Request and response bodies of the products feature: traces with their verification, and the
writers' pre-signed requests with the documents they commit to."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracechain.api.schemas.common import ADDRESS, ForwardRequestIn
from tracechain.services.provenance import ImportReport, SubjectTrace, WriteReceipt
from tracechain.services.provenance.lineage import Lineage

Json = dict[str, Any]


# ---------------------------------------------------------------- consumer reads
class ErrorNoticePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int = Field(description="the declaration's entry in the same chain")
    declaration_time: str | None
    reason: str | None
    corrective_event_ids: list[str]


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
    declared_erroneous: ErrorNoticePublic | None = Field(
        default=None, description="events: the later entry that declared this one erroneous (EPCIS errorDeclaration)"
    )


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


class LinkPublic(BaseModel):
    """A relation of the subject: the other subject, the recorded event that states it, and the other
    subject's own verdict (its whole history checked against the chain)."""

    model_config = ConfigDict(from_attributes=True)

    relation: str = Field(description="contained_in | contains | made_from | made_into | in_lot | lot_of")
    identifier: str
    subject_key: str
    event_hash_id: str
    document_hash: str
    event_type: str
    event_time_ms: int = Field(description="the stating event's eventTime, epoch milliseconds")
    event_time_offset: str
    tx_hash: str
    block_number: int
    until_ms: int | None = Field(default=None, description="containment: when the child left (null: inside)")
    verdict: str
    recalled: bool


class InheritedEventPublic(BaseModel):
    """An event of a container while the subject was inside it, checked against the container's chain."""

    model_config = ConfigDict(from_attributes=True)

    container: str
    container_key: str
    index: int = Field(description="position in the container's hash chain")
    event_hash_id: str
    document_hash: str
    biz_step: str | None
    event_type: str
    event_time_ms: int
    event_time_offset: str
    actor: str
    tx_hash: str
    block_number: int
    document: Json | None
    document_verified: bool
    container_verdict: str


class RecallPathPublic(BaseModel):
    """A recall upstream that reaches this subject, and the verified links that lead here."""

    model_config = ConfigDict(from_attributes=True)

    recalled: str = Field(description="the recalled subject")
    recalled_key: str
    recalled_at: int | None = Field(description="block time of the recall")
    reason_hash: str | None
    reason: Json | None = None
    links: list[LinkPublic] = Field(description="from the recalled subject down to this one")
    verified: bool


class LineagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    containers: list[LinkPublic]
    contents: list[LinkPublic]
    inputs: list[LinkPublic]
    outputs: list[LinkPublic]
    lots: list[LinkPublic]
    items: list[LinkPublic]
    inherited: list[InheritedEventPublic]


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
    recalled_via: RecallPathPublic | None = Field(
        default=None, description="a recall upstream (an input, a lot, a container) that reaches this subject"
    )
    lineage: LineagePublic | None = None
    entries: list[TraceEntryPublic] = Field(description="this page of the history, newest first")
    next_cursor: int | None = Field(description="pass as `before` to read the next, older page")
    verification: VerificationPublic

    @classmethod
    def of(
        cls, trace: SubjectTrace, base_url: str, lineage: Lineage | None = None, reason: Json | None = None
    ) -> ProductPublic:
        path = trace.digital_link_path or f"/v1/products/{trace.product_id}"
        v = trace.verification
        via = lineage.recall_path if lineage else None
        return cls(
            product_id=trace.product_id,
            product_key=trace.product_key,
            open=trace.open,
            recalled=trace.recalled or via is not None,
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
            recalled_via=RecallPathPublic.model_validate({**via.__dict__, "reason": reason}) if via else None,
            lineage=LineagePublic.model_validate(lineage) if lineage else None,
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
    """Hand custody over: the custodian's signed `transferCustody([subjectKey, ...contents], to)`."""

    request: ForwardRequestIn


class ForceCustodyCreate(BaseModel):
    """Governance moves custody its holder cannot hand over: the signed
    `forceCustody(subjectKey, to, hash(reason))`."""

    request: ForwardRequestIn
    reason: Json = Field(description="why (e.g. the custodian's key was lost); its canonical hash is signed")


class RecallCreate(BaseModel):
    """Recall: the originator's or governance's signed `recall(subjectKey, hash(notice))`."""

    request: ForwardRequestIn
    notice: Json = Field(description="the recall notice; its canonical hash is signed")


class AffectedPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    identifier: str
    subject_key: str
    via: str = Field(description="made_into | lot_of | contains: how the recall reaches it")
    depth: int
    path: list[str] = Field(description="identifiers from the recalled subject to this one")


class AffectedPagePublic(BaseModel):
    """What a recall reaches, one page at a time."""

    recalled: str
    recalled_at: int | None
    total: int
    items: list[AffectedPublic]


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

    action: Literal["register", "events", "epcis", "transfer", "force-custody", "recall"]
    sender: str = Field(alias="from", pattern=ADDRESS)
    product_id: str | None = None
    metadata: Json | None = None
    events: list[Json] | None = Field(default=None, min_length=1)
    document: Json | None = None
    to: str | None = Field(default=None, pattern=ADDRESS)
    notice: Json | None = None
    reason: Json | None = Field(default=None, description="action force-custody: why")
    ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)


class RequestPrepared(BaseModel):
    """The unsigned request (sign `typed_data` with EIP-712, then post it with `signature` set); an
    EPCIS import too large for one transaction gets several, in `requests` (sign each)."""

    request: Json
    typed_data: Json
    requests: list[Json] = Field(default_factory=list, description="every request, in order (action epcis)")
    typed_data_list: list[Json] = Field(default_factory=list, description="their EIP-712 messages, in order")
