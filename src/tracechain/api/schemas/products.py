"""Request and response bodies of the products feature: traces with their verification, and the
writers' pre-signed requests with the documents they commit to."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracechain.api.schemas.common import ADDRESS, ForwardRequestIn
from tracechain.services.provenance import ProductTrace, WriteReceipt

Json = dict[str, Any]


# ---------------------------------------------------------------- consumer reads
class ProductEventPublic(BaseModel):
    index: int = Field(description="0-based position in the product's hash chain")
    event_hash_id: str = Field(description="GS1 CBV 2.0 Event Hash ID")
    event_id: str = Field(description="sha-256 digest of the Event Hash ID, as committed on-chain")
    biz_step: str
    biz_step_code: int
    actor: str
    actor_name: str | None
    timestamp: int = Field(description="block timestamp hashed into the chain")
    tx_hash: str
    block_number: int
    document_hash: str = Field(description="keccak256 of the RFC 8785 canonical event document")
    document: Json | None = Field(description="the EPCIS 2.0 ObjectEvent; null if the store lost it")
    document_verified: bool


class CustodyPublic(BaseModel):
    from_actor: str
    from_name: str | None
    to_actor: str
    to_name: str | None
    timestamp: int
    tx_hash: str
    block_number: int


class RecallPublic(BaseModel):
    by: str
    by_name: str | None
    reason_hash: str
    reason: Json | None
    reason_verified: bool
    timestamp: int | None
    tx_hash: str | None


class ProblemPublic(BaseModel):
    code: str = Field(examples=["document_altered"])
    message: str
    event_index: int | None = None
    event_id: str | None = None


class VerificationPublic(BaseModel):
    """The served history checked against the contract: the head recomputed from the events above
    (see docs/PROTOCOL.md) must equal the on-chain head, and every document its committed hash."""

    verified: bool
    verdict: Literal["verified", "tampered", "incomplete"]
    chain_id: int
    contract: str
    block_number: int = Field(description="block at which the on-chain state was read")
    chain_head: str | None
    chain_event_count: int | None
    recomputed_head: str
    recomputed_event_count: int
    problems: list[ProblemPublic]


class ProductPublic(BaseModel):
    """A product's whole history, whether it is authentic, and whether it is recalled."""

    product_id: str = Field(examples=["01/09506000134352/21/SN-0001"])
    product_key: str
    recalled: bool
    status: Literal["active", "recalled"]
    manufacturer: str
    manufacturer_name: str | None
    custodian: str
    custodian_name: str | None
    metadata_hash: str
    metadata: Json | None
    registered_at: int
    registered_tx: str
    registered_block: int
    consumer_url: str
    recall: RecallPublic | None
    events: list[ProductEventPublic]
    custody: list[CustodyPublic]
    verification: VerificationPublic

    @classmethod
    def of(cls, trace: ProductTrace, base_url: str) -> ProductPublic:
        path = trace.digital_link_path or f"/v1/products/{trace.product_id}"
        v = trace.verification
        return cls(
            product_id=trace.product_id,
            product_key=trace.product_key,
            recalled=trace.recalled,
            status=trace.status,  # type: ignore[arg-type]
            manufacturer=trace.manufacturer,
            manufacturer_name=trace.manufacturer_name,
            custodian=trace.custodian,
            custodian_name=trace.custodian_name,
            metadata_hash=trace.metadata_hash,
            metadata=trace.metadata,
            registered_at=trace.registered_at,
            registered_tx=trace.registered_tx,
            registered_block=trace.registered_block,
            consumer_url=base_url.rstrip("/") + path,
            recall=RecallPublic(**trace.recall.__dict__) if trace.recall else None,
            events=[ProductEventPublic(**e.__dict__) for e in trace.events],
            custody=[CustodyPublic(**c.__dict__) for c in trace.custody],
            verification=VerificationPublic(
                verified=v.verified,
                verdict=v.verdict,  # type: ignore[arg-type]
                chain_id=v.chain_id,
                contract=v.contract,
                block_number=v.block_number,
                chain_head=v.chain_head,
                chain_event_count=v.chain_event_count,
                recomputed_head=v.recomputed_head,
                recomputed_event_count=v.recomputed_event_count,
                problems=[ProblemPublic(**p.__dict__) for p in v.problems],
            ),
        )


# ---------------------------------------------------------------- writer bodies
class ProductCreate(BaseModel):
    """Register a product: the manufacturer's signed `registerProduct(canonicalId, metadataHash)`."""

    request: ForwardRequestIn
    product_id: str = Field(examples=["https://id.example.com/01/09506000134352/21/SN-0001"])
    metadata: Json | None = Field(default=None, description="product metadata; its canonical hash is signed")


class ProductEventsCreate(BaseModel):
    """Record EPCIS 2.0 ObjectEvents of this product: the actor's signed `recordEvent(s)` whose records
    are, per event in order, (product key, Event Hash ID digest, document hash, bizStep code)."""

    request: ForwardRequestIn
    events: list[Json] = Field(min_length=1)


class EpcisCapture(BaseModel):
    """Import an EPCIS 2.0 document: every ObjectEvent of `epcisBody.eventList`, in one signed batch."""

    request: ForwardRequestIn
    document: Json


class CustodyCreate(BaseModel):
    """Hand custody over: the custodian's signed `transferCustody(productKey, to)`."""

    request: ForwardRequestIn


class RecallCreate(BaseModel):
    """Recall: the manufacturer's or governance's signed `recallProduct(productKey, hash(notice))`."""

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


# ---------------------------------------------------------------- request preparation
class RequestPrepare(BaseModel):
    """Ask the server to build the forward request an actor signs for one provenance write."""

    model_config = ConfigDict(populate_by_name=True)

    action: Literal["register", "events", "epcis", "transfer", "recall"]
    sender: str = Field(alias="from", pattern=ADDRESS)
    product_id: str | None = None
    metadata: Json | None = None
    events: list[Json] | None = Field(default=None, min_length=1)
    document: Json | None = None
    to: str | None = Field(default=None, pattern=ADDRESS)
    notice: Json | None = None
    ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)


class RequestPrepared(BaseModel):
    """The unsigned request (sign `typed_data` with EIP-712, then post it with `signature` set)."""

    request: Json
    typed_data: Json
