"""Data-rights tables (datasets, holder changes, certificates, uses), rebuilt from DataRightsRegistry
logs by the indexer and rewound with the chain, and the queries over them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracechain.chain.rights import Right
from tracechain.hashing import to_hex
from tracechain.store.db import Base

if TYPE_CHECKING:
    from tracechain.store.indexer import ChainLog, Handler, Rewind

CONTRACT = "DataRightsRegistry"
ZERO_ADDRESS = "0x" + "00" * 20


class DatasetRow(Base):
    """A registered dataset (id = keccak256(abi.encode(contentHash, registrant))); `holder`
    follows every ERC-721 transfer."""

    __tablename__ = "rights_registered_datasets"
    dataset_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(66), index=True)
    registrant: Mapped[str] = mapped_column(String(42), index=True)
    holder: Mapped[str] = mapped_column(String(42), index=True)
    metadata_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class HolderChangeRow(Base):
    """One ERC-721 Transfer of a dataset's holding right (the mint at registration included)."""

    __tablename__ = "rights_holder_changes"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index", name="uq_rights_holder_change"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(66), index=True)
    from_address: Mapped[str] = mapped_column(String(42))
    to_address: Mapped[str] = mapped_column(String(42), index=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class CertificateRow(Base):
    """A granted certificate, with its revocation once one is logged."""

    __tablename__ = "rights_certificates"
    certificate_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(66), index=True)
    grantee: Mapped[str] = mapped_column(String(42), index=True)
    grantor: Mapped[str] = mapped_column(String(42))
    right: Mapped[str] = mapped_column(String(16))  # Right value
    not_before: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    terms_hash: Mapped[str] = mapped_column(String(66))
    previous_id: Mapped[str | None] = mapped_column(String(66), nullable=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(42), nullable=True)
    reason_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    revoke_tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    revoke_block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class UseRow(Base):
    """One recorded use of a dataset under a certificate."""

    __tablename__ = "rights_uses"
    __table_args__ = (UniqueConstraint("certificate_id", "use_index", name="uq_rights_use"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(String(66), index=True)
    use_index: Mapped[int] = mapped_column(Integer)
    dataset_id: Mapped[str] = mapped_column(String(66), index=True)
    user: Mapped[str] = mapped_column(String(42), index=True)
    right: Mapped[str] = mapped_column(String(16))
    purpose_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


# ---------------------------------------------------------------- index handlers
def _registered(session: Session, log: ChainLog) -> None:
    a = log.args
    dataset_id = to_hex(a["datasetId"])
    session.merge(
        DatasetRow(
            dataset_id=dataset_id,
            content_hash=to_hex(a["contentHash"]),
            registrant=a["holder"],
            holder=a["holder"],
            metadata_hash=to_hex(a["metadataHash"]),
            tx_hash=log.tx_hash,
            block_number=log.block_number,
            timestamp=log.timestamp,
        )
    )
    session.add(log.activity(a["holder"], "rights.register", dataset_id))


def _transferred(session: Session, log: ChainLog) -> None:
    a = log.args
    dataset_id = to_hex(int(a["tokenId"]).to_bytes(32, "big"))
    session.add(
        HolderChangeRow(
            dataset_id=dataset_id,
            from_address=a["from"],
            to_address=a["to"],
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
            timestamp=log.timestamp,
        )
    )
    if a["from"] == ZERO_ADDRESS:
        return  # the mint: DatasetRegistered (next in the same transaction) records the dataset
    row = session.get(DatasetRow, dataset_id)
    if row is not None:
        row.holder = a["to"]
    session.add(log.activity(a["from"], "rights.transfer", dataset_id))


def _granted(session: Session, log: ChainLog) -> None:
    a = log.args
    certificate_id = to_hex(a["certificateId"])
    previous = bytes(a["previousCertificateId"])
    session.merge(
        CertificateRow(
            certificate_id=certificate_id,
            dataset_id=to_hex(a["datasetId"]),
            grantee=a["grantee"],
            grantor=a["grantor"],
            right=Right.from_index(a["right"]).value,
            not_before=int(a["notBefore"]),
            expires_at=int(a["expiresAt"]),
            terms_hash=to_hex(a["termsHash"]),
            previous_id=to_hex(previous) if any(previous) else None,
            tx_hash=log.tx_hash,
            block_number=log.block_number,
            timestamp=log.timestamp,
            use_count=0,
        )
    )
    session.add(log.activity(a["grantor"], "rights.grant", certificate_id))


def _revoked(session: Session, log: ChainLog) -> None:
    a = log.args
    certificate_id = to_hex(a["certificateId"])
    row = session.get(CertificateRow, certificate_id)
    if row is not None:
        row.revoked_at = log.timestamp
        row.revoked_by = a["revoker"]
        row.reason_hash = to_hex(a["reasonHash"])
        row.revoke_tx_hash = log.tx_hash
        row.revoke_block_number = log.block_number
    session.add(log.activity(a["revoker"], "rights.revoke", certificate_id))


def _used(session: Session, log: ChainLog) -> None:
    a = log.args
    certificate_id = to_hex(a["certificateId"])
    session.add(
        UseRow(
            certificate_id=certificate_id,
            use_index=int(a["useIndex"]),
            dataset_id=to_hex(a["datasetId"]),
            user=a["user"],
            right=Right.from_index(a["right"]).value,
            purpose_hash=to_hex(a["purposeHash"]),
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
            timestamp=log.timestamp,
        )
    )
    row = session.get(CertificateRow, certificate_id)
    if row is not None:
        row.use_count = max(row.use_count, int(a["useIndex"]) + 1)
    session.add(log.activity(a["user"], "rights.use", certificate_id))


HANDLERS: dict[tuple[str, str], Handler] = {
    (CONTRACT, "DatasetRegistered"): _registered,
    (CONTRACT, "Transfer"): _transferred,
    (CONTRACT, "CertificateGranted"): _granted,
    (CONTRACT, "CertificateRevoked"): _revoked,
    (CONTRACT, "DatasetUsed"): _used,
}


def rewind(context: Rewind) -> None:
    """Forget datasets, holder changes, certificates, revocations and uses from blocks after
    `context.to_block`, and recompute the holder, revocation and use count of the rows that
    remain from what remains."""
    s, to_block = context.session, context.to_block
    datasets = set(s.scalars(select(HolderChangeRow.dataset_id).where(HolderChangeRow.block_number > to_block)))
    certificates = set(s.scalars(select(UseRow.certificate_id).where(UseRow.block_number > to_block)))
    revoked_later = select(CertificateRow).where(CertificateRow.revoke_block_number > to_block)
    for row in s.scalars(revoked_later):
        row.revoked_at = row.revoked_by = row.reason_hash = row.revoke_tx_hash = row.revoke_block_number = None
    for table in (HolderChangeRow, UseRow, CertificateRow, DatasetRow):
        s.execute(delete(table).where(table.block_number > to_block))
    s.flush()
    for certificate_id in certificates:
        cert = s.get(CertificateRow, certificate_id)
        if cert is not None:
            uses = s.scalar(select(func.max(UseRow.use_index)).where(UseRow.certificate_id == certificate_id))
            cert.use_count = 0 if uses is None else int(uses) + 1
    for dataset_id in datasets:
        dataset_row = s.get(DatasetRow, dataset_id)
        changes = holder_changes(s, dataset_id)
        if dataset_row is not None and changes:
            dataset_row.holder = changes[-1].to_address


# ---------------------------------------------------------------- queries
def dataset(session: Session, dataset_id: str) -> DatasetRow | None:
    return session.get(DatasetRow, dataset_id.lower())


def holder_changes(session: Session, dataset_id: str) -> list[HolderChangeRow]:
    query = (
        select(HolderChangeRow)
        .where(HolderChangeRow.dataset_id == dataset_id.lower())
        .order_by(HolderChangeRow.block_number, HolderChangeRow.log_index)
    )
    return list(session.scalars(query))


def certificates_of(session: Session, dataset_id: str) -> list[CertificateRow]:
    query = (
        select(CertificateRow)
        .where(CertificateRow.dataset_id == dataset_id.lower())
        .order_by(CertificateRow.block_number, CertificateRow.certificate_id)
    )
    return list(session.scalars(query))


def certificate(session: Session, certificate_id: str) -> CertificateRow | None:
    return session.get(CertificateRow, certificate_id.lower())


def uses_of(session: Session, certificate_id: str) -> list[UseRow]:
    query = select(UseRow).where(UseRow.certificate_id == certificate_id.lower()).order_by(UseRow.use_index)
    return list(session.scalars(query))
