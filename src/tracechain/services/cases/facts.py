"""Facts read from a case's step documents for the cross-case watches: each case's effective ordered
lines (its contract, or the amendment that replaced it) become price points, written beside the chain
index and rebuilt whenever the case has new steps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tracechain import errors
from tracechain.hashing import document_hash, to_hex
from tracechain.services.cases.documents import StepFacts, facts_of_document, facts_of_epcis
from tracechain.services.cases.templates import CaseTemplate, builtin_templates, parse_template
from tracechain.store import cases as index
from tracechain.store.db import Store

ZERO_HASH = to_hex(bytes(32))
_CURRENCY = re.compile(r"[A-Z]{3}")
_GTIN = re.compile(r"[0-9]{14}")


def template_of(store: Store, template_hash: str) -> CaseTemplate:
    """A template by hash: built in, or the document kept when it was registered or used.

    Raises:
        CaseTemplateNotFoundError: neither.
    """
    key = template_hash.lower()
    builtin = builtin_templates().get(key)
    if builtin is not None:
        return builtin
    doc = store.get_document(key)
    if doc is None or to_hex(document_hash(doc)) != key:
        raise errors.CaseTemplateNotFoundError(f"the case template {key} is not known to this server")
    return parse_template(doc)


def superseded(steps: Iterable[index.CaseStepRow]) -> dict[int, int]:
    """Steps replaced by a later amendment: amended index -> the amendment's index (the newest wins)."""
    replaced: dict[int, int] = {}
    for row in steps:
        if row.amends:
            replaced[row.amends] = row.seq
    return replaced


def facts_of(
    store: Store, row: index.CaseStepRow, loaded: dict[str, Any] | None = None
) -> tuple[StepFacts | None, Any]:
    """The facts of a step and its document as stored (from `loaded` when the caller read them all at
    once) — None facts when the document is missing or no longer hashes to what the chain committed
    (unverified documents never feed a check)."""
    doc = loaded.get(row.document_hash) if loaded is not None else store.get_document(row.document_hash)
    if doc is None or not isinstance(doc, dict) or to_hex(document_hash(doc)) != row.document_hash:
        return None, doc
    if row.ref != ZERO_HASH:
        return facts_of_epcis(row.kind_name, doc), doc
    return facts_of_document(row.kind_name, doc), doc


def refresh_facts(session: Session, store: Store, case_id: str, *, force: bool = False) -> None:
    """Rebuild the case's price points from its effective ordered steps, unless they are current."""
    case = session.get(index.CaseRow, case_id)
    if case is None:
        return
    marker = session.get(index.CaseFactsRow, case_id)
    if marker is not None and marker.step_count == case.step_count and not force:
        return
    session.execute(delete(index.CasePricePointRow).where(index.CasePricePointRow.case_id == case_id))
    try:
        template = template_of(store, case.template_hash)
    except errors.CaseTemplateNotFoundError:
        template = None
    if template is not None:
        session.add_all(_price_points(session, store, case, template))
    if marker is None:
        session.add(index.CaseFactsRow(case_id=case_id, step_count=case.step_count))
    else:
        marker.step_count = case.step_count


def _price_points(
    session: Session, store: Store, case: index.CaseRow, template: CaseTemplate
) -> list[index.CasePricePointRow]:
    steps = index.steps_of(session, case.case_id)
    replaced = superseded(steps)
    ordered = set(template.kinds_measuring("ordered"))
    budget_kinds = set(template.kinds_measuring("budget"))
    effective = [r for r in steps if r.seq not in replaced]
    limit: Decimal | None = None
    for row in effective:
        if row.kind_name in budget_kinds:
            facts, _ = facts_of(store, row)
            if facts is not None and facts.approval_limit is not None:
                limit = facts.approval_limit
    orders = []
    for row in effective:
        if row.kind_name in ordered:
            facts, _ = facts_of(store, row)
            if facts is not None and facts.date is not None and facts.currency:
                orders.append((row, facts))
    total = sum((f.total or Decimal(0) for _, f in orders), Decimal(0))
    points = []
    for row, facts in orders:
        if not _CURRENCY.fullmatch(str(facts.currency)):
            continue  # a document that is not schema-valid feeds no price point
        for position, line in enumerate(facts.lines, start=1):
            if line.unit_price is None or not _GTIN.fullmatch(line.gtin) or len(str(line.unit_price)) > 40:
                continue
            if len(str(line.quantity)) > 40 or len(str(total)) > 40:
                continue
            points.append(
                index.CasePricePointRow(
                    case_id=case.case_id,
                    seq=row.seq,
                    line=line.line or position,
                    buyer=case.buyer,
                    gtin=line.gtin,
                    quantity=str(line.quantity),
                    unit_price=str(line.unit_price),
                    currency=str(facts.currency),
                    case_total=str(total),
                    approval_limit=None if limit is None or len(str(limit)) > 40 else str(limit),
                    date=facts.date.isoformat() if facts.date else "",
                    document_hash=row.document_hash,
                    block_number=row.block_number,
                )
            )
    return points
