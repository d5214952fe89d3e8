"""Master data tables and queries: who said what about a product class (GTIN) or a location (GLN),
each statement kept under the canonical hash of its normalised element (the element itself lives in
the document store) and of the document it came in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracechain.store.db import Base


class MasterDataRow(Base):
    """One provider's statement about one product class or location (a revision: never updated)."""

    __tablename__ = "masterdata"
    __table_args__ = (
        UniqueConstraint("kind", "key", "provider", "element_hash", name="uq_masterdata_statement"),
        Index("ix_masterdata_key", "kind", "key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "product" | "location"
    key: Mapped[str] = mapped_column(String(128))  # GTIN-14, or "414/{gln}[/254/{extension}]"
    provider: Mapped[str] = mapped_column(String(42))  # the actor the statement is attributed to
    element_hash: Mapped[str] = mapped_column(String(66))  # canonical hash of the normalised element
    document_hash: Mapped[str] = mapped_column(String(66))  # canonical hash of the document it came in
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)  # the provider's EIP-712 signature
    deadline: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # ... and the deadline it signed
    source: Mapped[str] = mapped_column(String(32))  # "api" | "epcis_capture"
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Statement:
    """A master data statement to record."""

    kind: str
    key: str
    provider: str
    element_hash: str
    document_hash: str
    signature: str | None
    deadline: int | None
    source: str


def record(session: Session, statements: list[Statement]) -> int:
    """Record statements not recorded yet (the same provider saying the same thing again is one
    statement); returns how many were new. Each new one becomes its key's newest revision."""
    added = 0
    now = datetime.now(UTC)
    for st in statements:
        exists = session.scalar(
            select(MasterDataRow.id).where(
                MasterDataRow.kind == st.kind,
                MasterDataRow.key == st.key,
                MasterDataRow.provider == st.provider,
                MasterDataRow.element_hash == st.element_hash,
            )
        )
        if exists is None:
            session.add(MasterDataRow(**st.__dict__, recorded_at=now))
            added += 1
    return added


def statements_of(session: Session, kind: str, keys: list[str]) -> list[MasterDataRow]:
    """Every statement about `keys` of `kind`, newest first."""
    if not keys:
        return []
    query = (
        select(MasterDataRow)
        .where(MasterDataRow.kind == kind, MasterDataRow.key.in_(keys))
        .order_by(MasterDataRow.recorded_at.desc(), MasterDataRow.id.desc())
    )
    return list(session.scalars(query))


def came_in(session: Session, document_hash: str) -> bool:
    """Whether some statement came in the document under `document_hash`."""
    query = select(MasterDataRow.id).where(MasterDataRow.document_hash == document_hash).limit(1)
    return session.scalar(query) is not None
