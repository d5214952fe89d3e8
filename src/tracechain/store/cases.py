"""Index of procurement cases: templates, cases and their steps with the running head after each
(rebuilt from CaseRegistry logs by the indexer), the facts the case service reads from step
documents (lines, dates, price points; written by the service, keyed by case and step) and the
cached audit outcome that lets case lists filter by finding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracechain.chain.cases import CaseState, Step, StepRule, decode_kind_name, genesis_head, rule_of
from tracechain.errors import IntegrityError
from tracechain.hashing import parse_bytes32, to_hex
from tracechain.store.db import Base
from tracechain.types import to_address

if TYPE_CHECKING:
    from tracechain.store.indexer import ChainLog, Handler, Rewind

CONTRACT = "CaseRegistry"
ZERO_ADDRESS = "0x" + "00" * 20


class CaseTemplateRow(Base):
    """A registered process template: its rules word and kind names (code k = kinds[k-1])."""

    __tablename__ = "case_templates"
    template_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    rules: Mapped[str] = mapped_column(String(66))
    kinds: Mapped[str] = mapped_column(Text)  # comma-separated names
    registered_by: Mapped[str] = mapped_column(String(42))
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_hash: Mapped[str] = mapped_column(String(66))

    @property
    def kind_names(self) -> list[str]:
        return self.kinds.split(",") if self.kinds else []


class CaseRow(Base):
    """A case and its current state, as its logs tell it (`head` after `step_count` steps)."""

    __tablename__ = "cases"
    case_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    # The contract takes any string: kept whole (Text) and looked up by its key, never by the text.
    biz_transaction: Mapped[str] = mapped_column(Text)
    biz_transaction_key: Mapped[str] = mapped_column(String(66), index=True)
    buyer: Mapped[str] = mapped_column(String(42), index=True)
    supplier: Mapped[str] = mapped_column(String(42), index=True)  # zero address until named
    opening_supplier: Mapped[str] = mapped_column(String(42))
    template_hash: Mapped[str] = mapped_column(String(66))
    metadata_hash: Mapped[str] = mapped_column(String(66))
    rules: Mapped[str] = mapped_column(String(66))
    status: Mapped[str] = mapped_column(String(16), index=True)  # "open" | "closed"
    step_count: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(66))
    opened_block: Mapped[int] = mapped_column(BigInteger, index=True)
    opened_tx: Mapped[str] = mapped_column(String(66))
    opened_at: Mapped[int] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger, index=True)

    def state(self) -> CaseState:
        """The state the contract's slot commits to, by this row."""
        head, rules = parse_bytes32(self.head), parse_bytes32(self.rules)
        return CaseState(head, self.step_count, self.buyer, self.supplier, rules)

    def genesis(self) -> str:
        return to_hex(
            genesis_head(parse_bytes32(self.case_id), self.buyer, self.opening_supplier,
                         parse_bytes32(self.template_hash), parse_bytes32(self.metadata_hash))
        )  # fmt: skip


class CaseStepRow(Base):
    """One step of a case's chain; `seq` is its 1-based index, `head` the head after it."""

    __tablename__ = "case_steps"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_case_step_seq"),
        Index("ix_case_steps_kind_name", "kind_name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(66), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[int] = mapped_column(Integer)
    kind_name: Mapped[str] = mapped_column(String(66))  # a name, or the 0x-hex of bytes that are not one
    amends: Mapped[int] = mapped_column(Integer, default=0)
    document_hash: Mapped[str] = mapped_column(String(66), index=True)
    ref: Mapped[str] = mapped_column(String(66), index=True)
    party: Mapped[str] = mapped_column(String(42))
    signers: Mapped[str] = mapped_column(String(256))  # comma-separated, in rule order
    timestamp: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)

    @property
    def signer_list(self) -> list[str]:
        return self.signers.split(",") if self.signers else []

    def step(self) -> Step:
        return Step(self.kind, parse_bytes32(self.document_hash), self.amends, parse_bytes32(self.ref), self.party)


class CasePricePointRow(Base):
    """One effective ordered line of a case (its contract, or the amendment that replaced it): what the
    price and purchase-frequency watches compare across the platform. Written by the case service."""

    __tablename__ = "case_price_points"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", "line", name="uq_case_price_point"),
        Index("ix_case_price_points_gtin_date", "gtin", "date"),
        Index("ix_case_price_points_buyer_gtin", "buyer", "gtin"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(66), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the step the line comes from
    line: Mapped[int] = mapped_column(Integer)
    buyer: Mapped[str] = mapped_column(String(42))
    gtin: Mapped[str] = mapped_column(String(14))
    quantity: Mapped[str] = mapped_column(String(40))  # exact decimal
    unit_price: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    case_total: Mapped[str] = mapped_column(String(40))  # the order's total, every line
    approval_limit: Mapped[str | None] = mapped_column(String(40), nullable=True)
    date: Mapped[str] = mapped_column(String(10))  # ISO date of the ordering document
    document_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)


class CaseFactsRow(Base):
    """Marks a case whose price points are written up to `step_count` steps (so they are rebuilt when
    steps arrive through another server or straight at the contract)."""

    __tablename__ = "case_facts"
    case_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    step_count: Mapped[int] = mapped_column(Integer)


class CaseAuditRow(Base):
    """The last audit of a case: verdict and finding codes, valid while no case changed after
    `watermark` (cross-case watches depend on the other cases too)."""

    __tablename__ = "case_audits"
    case_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    watermark: Mapped[int] = mapped_column(BigInteger)
    verdict: Mapped[str] = mapped_column(String(16))
    findings: Mapped[str] = mapped_column(Text)  # comma-separated codes
    finding_count: Mapped[int] = mapped_column(Integer)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)


# ---------------------------------------------------------------- handlers
def _template(session: Session, log: ChainLog) -> None:
    a = log.args
    key = to_hex(bytes(a["templateHash"]))
    if session.get(CaseTemplateRow, key) is not None:
        return
    session.add(
        CaseTemplateRow(
            template_hash=key,
            rules=to_hex(bytes(a["rules"])),
            kinds=",".join(decode_kind_name(bytes(k)) for k in a["kinds"]),
            registered_by=to_address(a["by"]),
            block_number=log.block_number,
            tx_hash=log.tx_hash,
        )
    )
    session.add(log.activity(to_address(a["by"]), "case.template", key))


def _opened(session: Session, log: ChainLog) -> None:
    a = log.args
    case_id = to_hex(bytes(a["caseId"]))
    if session.get(CaseRow, case_id) is not None:
        return  # replayed
    template_hash = to_hex(bytes(a["templateHash"]))
    template = session.get(CaseTemplateRow, template_hash)
    if template is None:  # the contract opens only under registered templates: the index lost one
        raise IntegrityError(f"case {case_id} names template {template_hash} the index does not hold")
    buyer, supplier = to_address(a["buyer"]), to_address(a["supplier"])
    row = CaseRow(
        case_id=case_id,
        biz_transaction=str(a["bizTransaction"]),
        biz_transaction_key=to_hex(bytes(a["bizTransactionKey"])),
        buyer=buyer,
        supplier=supplier,
        opening_supplier=supplier,
        template_hash=template_hash,
        metadata_hash=to_hex(bytes(a["metadataHash"])),
        rules=template.rules,
        status="open",
        step_count=0,
        head="",
        opened_block=log.block_number,
        opened_tx=log.tx_hash,
        opened_at=log.timestamp,
        updated_block=log.block_number,
    )
    row.head = row.genesis()
    session.add(row)
    session.add(log.activity(buyer, "case.open", _subject(row)))


def _appended(session: Session, log: ChainLog) -> None:
    a = log.args
    case_id = to_hex(bytes(a["caseId"]))
    case = session.get(CaseRow, case_id)
    if case is None:
        raise IntegrityError(f"a step in tx {log.tx_hash} names case {case_id} the index does not hold")
    replayed = session.scalar(
        select(CaseStepRow.id).where(CaseStepRow.tx_hash == log.tx_hash, CaseStepRow.log_index == log.log_index)
    )
    if replayed is not None:
        return
    step = Step(int(a["kind"]), bytes(a["documentHash"]), int(a["amends"]), bytes(a["ref"]), to_address(a["party"]))
    signers = [to_address(s) for s in a["signers"]]
    state = case.state().after(step, signers, log.timestamp)
    template = session.get(CaseTemplateRow, case.template_hash)
    names = template.kind_names if template is not None else []
    kind_name = names[step.kind - 1] if 0 < step.kind <= len(names) else f"kind_{step.kind}"
    session.add(
        CaseStepRow(
            case_id=case_id,
            seq=state.steps,
            kind=step.kind,
            kind_name=kind_name,
            amends=step.amends,
            document_hash=to_hex(step.document_hash),
            ref=to_hex(step.ref),
            party=step.party,
            signers=",".join(signers),
            timestamp=log.timestamp,
            head=to_hex(state.head),
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            block_number=log.block_number,
        )
    )
    _apply(case, state, step, log.block_number)
    # The shared activity table keeps one row per log: the first signer's (co-signers are in case_steps).
    session.add(log.activity(signers[0] if signers else ZERO_ADDRESS, f"case.{kind_name}", _subject(case)))


def _subject(case: CaseRow) -> str:
    """What the shared activity table names: the order, or the case id when the order is too long for it."""
    return case.biz_transaction if len(case.biz_transaction) <= 256 else case.case_id


def _apply(case: CaseRow, state: CaseState, step: Step, block: int) -> None:
    case.step_count = state.steps
    case.head = to_hex(state.head)
    case.supplier = state.supplier
    case.updated_block = block
    if rule_of(parse_bytes32(case.rules), step.kind) & StepRule.CLOSES:
        case.status = "closed"


HANDLERS: dict[tuple[str, str], Handler] = {
    (CONTRACT, "TemplateRegistered"): _template,
    (CONTRACT, "CaseOpened"): _opened,
    (CONTRACT, "StepAppended"): _appended,
}


def rewind(context: Rewind) -> None:
    """Forget templates, cases and steps from blocks after `context.to_block`, and recompute the
    state of cases whose steps were forgotten from the steps that remain."""
    s, to_block = context.session, context.to_block
    touched = set(s.scalars(select(CaseStepRow.case_id).where(CaseStepRow.block_number > to_block).distinct()))
    s.execute(delete(CaseStepRow).where(CaseStepRow.block_number > to_block))
    s.execute(delete(CaseRow).where(CaseRow.opened_block > to_block))
    s.execute(delete(CaseTemplateRow).where(CaseTemplateRow.block_number > to_block))
    s.execute(delete(CasePricePointRow).where(CasePricePointRow.block_number > to_block))
    s.execute(delete(CaseFactsRow).where(CaseFactsRow.case_id.in_(touched)))
    s.execute(delete(CaseAuditRow))
    s.flush()
    for case_id in touched:
        case = s.get(CaseRow, case_id)
        if case is not None:
            restate(s, case)


def restate(session: Session, case: CaseRow) -> None:
    """Recompute a case's supplier, status, count and head from its indexed steps."""
    case.supplier, case.status, case.step_count, case.head = case.opening_supplier, "open", 0, case.genesis()
    case.updated_block = case.opened_block
    for row in steps_of(session, case.case_id):
        state = case.state().after(row.step(), row.signer_list, row.timestamp)
        _apply(case, state, row.step(), row.block_number)


# ---------------------------------------------------------------- queries
def steps_of(session: Session, case_id: str) -> list[CaseStepRow]:
    """Every step of a case, in chain order."""
    return list(session.scalars(select(CaseStepRow).where(CaseStepRow.case_id == case_id).order_by(CaseStepRow.seq)))


def cases_page(
    session: Session,
    *,
    buyer: str | None = None,
    supplier: str | None = None,
    status: str | None = None,
    case_ids: list[str] | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[CaseRow], int]:
    """A page of cases, newest first, and how many match in all."""
    query = select(CaseRow)
    if buyer is not None:
        query = query.where(CaseRow.buyer == buyer)
    if supplier is not None:
        query = query.where(CaseRow.supplier == supplier)
    if status is not None:
        query = query.where(CaseRow.status == status)
    if case_ids is not None:
        query = query.where(CaseRow.case_id.in_(case_ids))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    query = query.order_by(CaseRow.opened_block.desc(), CaseRow.case_id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def watermark(session: Session) -> int:
    """The newest block any case changed in (0 when there is none): audits older than it may be stale."""
    return int(session.scalar(select(func.max(CaseRow.updated_block))) or 0)


def price_points(
    session: Session, gtin: str, currency: str, *, before: str, exclude_case: str, limit: int
) -> list[CasePricePointRow]:
    """The newest `limit` effective ordered lines of `gtin` in `currency` dated before `before` (ISO
    date) in cases other than `exclude_case`, newest first."""
    query = (
        select(CasePricePointRow)
        .where(
            CasePricePointRow.gtin == gtin,
            CasePricePointRow.currency == currency,
            CasePricePointRow.date < before,
            CasePricePointRow.case_id != exclude_case,
        )
        .order_by(CasePricePointRow.date.desc(), CasePricePointRow.block_number.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def recorded_event_documents(session: Session, event_id: str) -> set[str]:
    """The document hashes the provenance chain recorded event `event_id` (0x-hex digest) with."""
    from tracechain.store.provenance import EntryRow

    query = select(EntryRow.document_hash).where(EntryRow.ref == event_id, EntryRow.kind == 1).distinct()
    return set(session.scalars(query))


def documents(session: Session, hashes: list[str]) -> dict[str, Any]:
    """The stored documents among `hashes` (as stored: they may have been altered since), in one query."""
    import json

    from tracechain.store.db import Document, _json_int

    found: dict[str, Any] = {}
    for i in range(0, len(hashes), 900):
        for row in session.scalars(select(Document).where(Document.hash.in_(hashes[i : i + 900]))):
            found[row.hash] = json.loads(row.body, parse_int=_json_int)
    return found


def buyer_orders(session: Session, buyer: str, gtin: str) -> list[CasePricePointRow]:
    """Every effective ordered line of `gtin` by `buyer`, oldest first."""
    query = (
        select(CasePricePointRow)
        .where(CasePricePointRow.buyer == buyer, CasePricePointRow.gtin == gtin)
        .order_by(CasePricePointRow.date, CasePricePointRow.block_number)
    )
    return list(session.scalars(query))
