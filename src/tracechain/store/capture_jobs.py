"""EPCIS capture jobs (the REST bindings' `/capture/{captureID}`): the document captured, the forward
requests its signer signs (one per transaction, consecutive nonces), and how far relaying them got - kept
in the store so a restarted server still answers for a job and resumes it.

A job is relayed by one worker at a time, in any process sharing the store: a worker holds the job's
lease (owner and expiry, renewed after each transaction); a lease whose holder died expires and another
worker takes the job over. Jobs are application state, but what they relayed is the chain's: when a
rollback takes back a request's block, the request is signed again and its job relaying (`rewind`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracechain.store.db import Base

if TYPE_CHECKING:
    from tracechain.store.indexer import Rewind


class CaptureJobRow(Base):
    """One capture: a document (or a single event) and what became of it."""

    __tablename__ = "epcis_capture_jobs"
    __table_args__ = (
        Index("ix_epcis_capture_jobs_status_lease", "status", "lease_until"),
        Index("ix_epcis_capture_jobs_created", "created_ms", "capture_id"),
    )
    capture_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "document" | "event"
    status: Mapped[str] = mapped_column(String(32))  # awaiting_signatures | relaying | succeeded | failed
    signer: Mapped[str] = mapped_column(String(42))
    error_behaviour: Mapped[str] = mapped_column(String(16))  # GS1-Capture-Error-Behaviour: proceed | rollback
    created_ms: Mapped[int] = mapped_column(BigInteger)
    finished_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    document: Mapped[str] = mapped_column(Text)  # the JSON as received
    events_total: Mapped[int] = mapped_column(Integer)
    events_skipped: Mapped[int] = mapped_column(Integer, default=0)  # recorded before the job began
    events_recorded: Mapped[int] = mapped_column(Integer, default=0)  # recorded by this job
    errors: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of problems
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # why relaying paused (a retryable failure)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # epoch ms


class CaptureRequestRow(Base):
    """One transaction of a job: the forward request (signed or not) and its outcome."""

    __tablename__ = "epcis_capture_requests"
    __table_args__ = (UniqueConstraint("capture_id", "position", name="uq_capture_request_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    capture_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    events: Mapped[str] = mapped_column(Text)  # JSON list: positions of its events in the document's event list
    sender: Mapped[str] = mapped_column(String(42))
    target: Mapped[str] = mapped_column(String(42))
    gas: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[str] = mapped_column(Text)
    signature: Mapped[str | None] = mapped_column(String(132), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # unsigned | signed | recorded | failed
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


def requests_of(session: Session, capture_id: str) -> list[CaptureRequestRow]:
    """A job's requests, in order."""
    stmt = select(CaptureRequestRow).where(CaptureRequestRow.capture_id == capture_id)
    return list(session.scalars(stmt.order_by(CaptureRequestRow.position)))


def claim(session: Session, capture_id: str, owner: str, now_ms: int, ttl_ms: int) -> bool:
    """Take the lease of a relaying job when nobody holds it (or its holder's lease expired)."""
    result = session.execute(
        update(CaptureJobRow)
        .where(
            CaptureJobRow.capture_id == capture_id,
            CaptureJobRow.status == "relaying",
            or_(CaptureJobRow.lease_owner.is_(None), CaptureJobRow.lease_until < now_ms),
        )
        .values(lease_owner=owner, lease_until=now_ms + ttl_ms)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def renew(session: Session, capture_id: str, owner: str, until_ms: int) -> None:
    """Extend the lease `owner` holds."""
    session.execute(
        update(CaptureJobRow)
        .where(CaptureJobRow.capture_id == capture_id, CaptureJobRow.lease_owner == owner)
        .values(lease_until=until_ms)
    )


def release(session: Session, capture_id: str, owner: str) -> None:
    """Give up the lease `owner` holds."""
    session.execute(
        update(CaptureJobRow)
        .where(CaptureJobRow.capture_id == capture_id, CaptureJobRow.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def unleased_relaying(session: Session, now_ms: int, limit: int = 100) -> list[str]:
    """Relaying jobs nobody works on (never claimed, released, or whose holder's lease expired)."""
    stmt = select(CaptureJobRow.capture_id).where(
        CaptureJobRow.status == "relaying",
        or_(CaptureJobRow.lease_owner.is_(None), CaptureJobRow.lease_until < now_ms),
    )
    return list(session.scalars(stmt.order_by(CaptureJobRow.created_ms).limit(limit)))


def jobs_page(session: Session, *, after: Sequence[object] | None, limit: int) -> list[CaptureJobRow]:
    """Jobs, newest first, after the (created_ms, capture_id) position `after`."""
    stmt = select(CaptureJobRow)
    if after is not None:
        created, capture_id = after
        stmt = stmt.where(
            or_(
                CaptureJobRow.created_ms < created,
                (CaptureJobRow.created_ms == created) & (CaptureJobRow.capture_id < capture_id),
            )
        )
    order = (CaptureJobRow.created_ms.desc(), CaptureJobRow.capture_id.desc())
    return list(session.scalars(stmt.order_by(*order).limit(limit)))


def rewind(context: Rewind) -> None:
    """Requests recorded in blocks after `context.to_block` are no longer on the chain: they go back to
    `signed` (the rollback gave the signer its forwarder nonce back, so the signed request is good
    again), and their jobs back to relaying with no worker, so the next look at a job relays them
    again (or fails the job with the reason, if the request expired meanwhile). A job never reads
    as succeeded while the chain lacks what it recorded."""
    session = context.session
    lost = session.scalars(
        select(CaptureRequestRow).where(
            CaptureRequestRow.status == "recorded", CaptureRequestRow.block_number > context.to_block
        )
    ).all()
    events_lost: dict[str, int] = {}
    for request in lost:
        request.status, request.tx_hash, request.block_number = "signed", None, None
        events_lost[request.capture_id] = events_lost.get(request.capture_id, 0) + len(json.loads(request.events))
    for capture_id, count in events_lost.items():
        job = session.get(CaptureJobRow, capture_id)
        if job is None:
            continue
        job.status, job.finished_ms, job.lease_owner, job.lease_until = "relaying", None, None, None
        job.events_recorded = max(0, job.events_recorded - count)
        job.note = f"the chain rolled back past block {context.to_block}: relaying its requests again"
