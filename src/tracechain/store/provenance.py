"""Index of product provenance: products, their hash-chained events and custody transfers, rebuilt
from ProvenanceRegistry logs (handlers keyed by contract and event name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracechain.errors import IntegrityError
from tracechain.hashing import to_hex
from tracechain.store.db import Activity, Base
from tracechain.types import to_address

if TYPE_CHECKING:
    from tracechain.store.indexer import ChainLog, Handler

CONTRACT = "ProvenanceRegistry"


class ProductRow(Base):
    """A registered product and its current state, as its logs tell it."""

    __tablename__ = "products"
    product_key: Mapped[str] = mapped_column(String(66), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(512), index=True)  # canonical ID as registered
    manufacturer: Mapped[str] = mapped_column(String(42), index=True)
    custodian: Mapped[str] = mapped_column(String(42), index=True)
    status: Mapped[str] = mapped_column(String(16))  # "active" | "recalled"
    metadata_hash: Mapped[str] = mapped_column(String(66))
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    registered_block: Mapped[int] = mapped_column(BigInteger)
    registered_tx: Mapped[str] = mapped_column(String(66))
    registered_at: Mapped[int] = mapped_column(BigInteger)
    recall_reason_hash: Mapped[str | None] = mapped_column(String(66), default=None)
    recalled_by: Mapped[str | None] = mapped_column(String(42), default=None)
    recall_tx: Mapped[str | None] = mapped_column(String(66), default=None)
    recall_block: Mapped[int | None] = mapped_column(BigInteger, default=None)
    recalled_at: Mapped[int | None] = mapped_column(BigInteger, default=None)


class ProductEventRow(Base):
    """One event in a product's hash chain; `seq` is its 0-based position."""

    __tablename__ = "product_events"
    __table_args__ = (UniqueConstraint("product_key", "seq", name="uq_product_event_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_key: Mapped[str] = mapped_column(String(66), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(66), index=True)  # sha-256 digest of the Event Hash ID
    document_hash: Mapped[str] = mapped_column(String(66))
    biz_step: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(42), index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)


class CustodyTransferRow(Base):
    """One custody hand-over of a product."""

    __tablename__ = "custody_transfers"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index", name="uq_custody_log"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_key: Mapped[str] = mapped_column(String(66), index=True)
    from_actor: Mapped[str] = mapped_column(String(42))
    to_actor: Mapped[str] = mapped_column(String(42))
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


def _key(log: ChainLog) -> str:
    return to_hex(bytes(log.args["productKey"]))


def _product(session: Session, log: ChainLog) -> ProductRow:
    row = session.get(ProductRow, _key(log))
    if row is None:  # the contract emits nothing for unknown products: the index lost a registration
        raise IntegrityError(f"{log.event} in tx {log.tx_hash} names product {_key(log)} the index does not hold")
    return row


def _seen(session: Session, log: ChainLog) -> bool:
    """True when this log's activity row exists: the log was applied already (replays are no-ops)."""
    found = session.scalar(
        select(Activity.id).where(Activity.tx_hash == log.tx_hash, Activity.log_index == log.log_index)
    )
    return found is not None


def _registered(session: Session, log: ChainLog) -> None:
    if _seen(session, log):
        return
    a = log.args
    manufacturer = to_address(a["manufacturer"])
    session.add(
        ProductRow(
            product_key=_key(log),
            product_id=str(a["productId"]),
            manufacturer=manufacturer,
            custodian=manufacturer,
            status="active",
            metadata_hash=to_hex(bytes(a["metadataHash"])),
            event_count=0,
            registered_block=log.block_number,
            registered_tx=log.tx_hash,
            registered_at=log.timestamp,
        )
    )
    session.add(log.activity(manufacturer, "product.register", str(a["productId"])))


def _event_recorded(session: Session, log: ChainLog) -> None:
    if _seen(session, log):
        return
    a = log.args
    product = _product(session, log)
    seq = int(a["index"])
    if seq != product.event_count:  # a gap or a reordering would break every later proof
        raise IntegrityError(
            f"event #{seq} of {product.product_id} arrived when the index holds {product.event_count} events"
        )
    actor = to_address(a["actor"])
    session.add(
        ProductEventRow(
            product_key=product.product_key,
            seq=seq,
            event_id=to_hex(bytes(a["eventId"])),
            document_hash=to_hex(bytes(a["documentHash"])),
            biz_step=int(a["bizStep"]),
            actor=actor,
            timestamp=int(a["timestamp"]),
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
        )
    )
    product.event_count = seq + 1
    session.add(log.activity(actor, "product.event", product.product_id))


def _custody(session: Session, log: ChainLog) -> None:
    if _seen(session, log):
        return
    product = _product(session, log)
    sender, to = to_address(log.args["from"]), to_address(log.args["to"])
    product.custodian = to
    session.add(
        CustodyTransferRow(
            product_key=product.product_key,
            from_actor=sender,
            to_actor=to,
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
            timestamp=log.timestamp,
        )
    )
    session.add(log.activity(sender, "product.transfer", product.product_id))


def _recalled(session: Session, log: ChainLog) -> None:
    if _seen(session, log):
        return
    product = _product(session, log)
    by = to_address(log.args["by"])
    product.status = "recalled"
    product.recall_reason_hash = to_hex(bytes(log.args["reasonHash"]))
    product.recalled_by = by
    product.recall_tx = log.tx_hash
    product.recall_block = log.block_number
    product.recalled_at = log.timestamp
    session.add(log.activity(by, "product.recall", product.product_id))


HANDLERS: dict[tuple[str, str], Handler] = {
    (CONTRACT, "ProductRegistered"): _registered,
    (CONTRACT, "ProductEventRecorded"): _event_recorded,
    (CONTRACT, "CustodyTransferred"): _custody,
    (CONTRACT, "ProductRecalled"): _recalled,
}
