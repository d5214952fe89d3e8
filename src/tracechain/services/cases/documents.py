"""Step documents: checking one against its kind (the template's JSON Schema, the case it names, GTIN
check digits), and the facts the auditor's checks read from it — lines, dates, promised dates,
budget — whether it is a step document or an EPCIS event that names the purchase order."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from tracechain import errors
from tracechain.epcis.identifiers import gtin_check_digit, is_valid_gtin, parse_identifier
from tracechain.services.cases.templates import CaseTemplate, StepKind

_BIZ_STEP_PREFIXES = ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-", "cbv:BizStep-", "gs1:BizStep-")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
MAX_SCHEMA_ERRORS = 5
Day = date  # the field `StepFacts.date` shadows the type inside the class


@dataclass(frozen=True)
class Line:
    """One line of a step: an item (GTIN), how many, and at which price when the step prices it."""

    gtin: str
    quantity: Decimal
    unit: str = "EA"
    unit_price: Decimal | None = None
    line: int | None = None
    description: str | None = None
    delivery_date: date | None = None

    @property
    def amount(self) -> Decimal | None:
        return None if self.unit_price is None else self.quantity * self.unit_price


@dataclass(frozen=True)
class StepFacts:
    """What a step's document says, in the terms the checks use."""

    kind: str
    source: Literal["document", "epcis"]
    number: str | None = None
    date: Day | None = None
    currency: str | None = None
    lines: tuple[Line, ...] = ()
    due: dict[str, Day] = field(default_factory=dict)
    budget: Decimal | None = None
    approval_limit: Decimal | None = None
    result: str | None = None
    supplier_account: str | None = None
    biz_step: str | None = None

    @property
    def total(self) -> Decimal | None:
        """The sum of the priced lines' amounts (None when no line is priced)."""
        amounts = [line.amount for line in self.lines if line.amount is not None]
        return sum(amounts, Decimal(0)) if amounts else None

    def quantities(self) -> Counter[str]:
        """Quantity per GTIN."""
        totals: Counter[str] = Counter()
        for line in self.lines:
            totals[line.gtin] += line.quantity  # type: ignore[assignment]
        return totals


# ---------------------------------------------------------------- step documents
def check_document(template: CaseTemplate, kind: StepKind, doc: Any, biz_transaction: str) -> list[str]:
    """Why `doc` is not a valid document of `kind` for the case of `biz_transaction` (empty if it is)."""
    if not isinstance(doc, dict):
        return ["the step document must be a JSON object"]
    problems: list[str] = []
    validator = template.validator(kind.kind)
    if validator is not None:
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))[:MAX_SCHEMA_ERRORS]:
            where = "/".join(str(p) for p in error.absolute_path) or "(document)"
            problems.append(f"{where}: {error.message}")
    if doc.get("kind") != kind.kind:
        problems.append(f"kind is {doc.get('kind')!r}, the step is a {kind.kind}")
    if doc.get("case") != biz_transaction:
        problems.append(f"case is {doc.get('case')!r}, not this case's order {biz_transaction}")
    for i, line in enumerate(doc.get("lines") or []):
        currency = line.get("currency") if isinstance(line, dict) else None
        if currency is not None and currency != doc.get("currency"):
            problems.append(f"lines/{i}/currency: {currency} is not the document's currency {doc.get('currency')}")
        gtin = line.get("gtin") if isinstance(line, dict) else None
        if isinstance(gtin, str) and gtin.isdigit() and len(gtin) == 14 and not is_valid_gtin(gtin):
            problems.append(f"lines/{i}/gtin: {gtin} has a wrong check digit (expected {gtin_check_digit(gtin[:-1])})")
    return problems


def require_document(template: CaseTemplate, kind: StepKind, doc: Any, biz_transaction: str) -> None:
    """Raises:
    StepDocumentError: `doc` is not a valid document of `kind` for this case."""
    problems = check_document(template, kind, doc, biz_transaction)
    if problems:
        raise errors.StepDocumentError(
            f"the {kind.kind} document is invalid: {'; '.join(problems)}",
            hint=f"see the {kind.kind} schema of template {template.label}",
        )


def facts_of_document(kind: str, doc: dict[str, Any]) -> StepFacts:
    """The facts of a (valid) step document; fields that do not parse are left out, never guessed."""
    budget: dict[str, Any] = doc["budget"] if isinstance(doc.get("budget"), dict) else {}
    currency = doc.get("currency") or budget.get("currency")
    supplier: dict[str, Any] = doc["supplier"] if isinstance(doc.get("supplier"), dict) else {}
    return StepFacts(
        kind=kind,
        source="document",
        number=_str(doc.get("number")),
        date=_date(doc.get("date")),
        currency=_str(currency),
        lines=tuple(line for line in (_line(raw) for raw in doc.get("lines") or []) if line is not None),
        due={k: d for k, d in ((k, _date(v)) for k, v in (doc.get("due") or {}).items()) if d is not None},
        budget=_decimal(budget.get("amount")),
        approval_limit=_decimal(doc.get("approvalLimit")),
        result=_str(doc.get("result")),
        supplier_account=_str(supplier.get("account")),
    )


# ---------------------------------------------------------------- EPCIS events standing for steps
def bare_biz_step(value: Any) -> str | None:
    """A business step in bare CBV form (`shipping`), whatever form the event wrote it in."""
    if not isinstance(value, str):
        return None
    for prefix in _BIZ_STEP_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def biz_transactions_of(event: dict[str, Any]) -> list[str]:
    """The bizTransaction URIs an EPCIS event names."""
    found = []
    for entry in event.get("bizTransactionList") or []:
        if isinstance(entry, dict) and isinstance(entry.get("bizTransaction"), str):
            found.append(entry["bizTransaction"])
    return found


def check_epcis_event(kind: StepKind, event: Any, biz_transaction: str) -> list[str]:
    """Why `event` cannot stand for a step of `kind` in the case of `biz_transaction` (empty if it can)."""
    if not isinstance(event, dict) or not str(event.get("type", "")).endswith("Event"):
        return ["the document is not an EPCIS event"]
    problems = []
    if not kind.epcis_biz_steps:
        problems.append(f"a {kind.kind} step cannot be an EPCIS event in this template")
    elif bare_biz_step(event.get("bizStep")) not in kind.epcis_biz_steps:
        problems.append(f"the event's bizStep {event.get('bizStep')!r} is not one of {', '.join(kind.epcis_biz_steps)}")
    if biz_transaction not in biz_transactions_of(event):
        problems.append(f"the event's bizTransactionList does not name the order {biz_transaction}")
    if not facts_of_epcis(kind.kind, event).lines:
        problems.append("the event names no item with a GTIN (epcList or quantityList)")
    return problems


def facts_of_epcis(kind: str, event: dict[str, Any]) -> StepFacts:
    """Quantities per GTIN (serialised items counted once each, quantityList as given) and the event's
    date, for an EPCIS event that stands for a step."""
    counts: Counter[str] = Counter()
    units: dict[str, str] = {}
    for epc in list(event.get("epcList") or []) + list(event.get("childEPCs") or []):
        gtin = _gtin_of_epc(epc)
        if gtin is not None:
            counts[gtin] += 1
            units.setdefault(gtin, "EA")
    for entry in list(event.get("quantityList") or []) + list(event.get("childQuantityList") or []):
        if not isinstance(entry, dict):
            continue
        gtin = _gtin_of_class(entry.get("epcClass"))
        quantity = _decimal(entry.get("quantity"))
        if gtin is not None and quantity is not None:
            counts[gtin] += quantity  # type: ignore[assignment]
            units.setdefault(gtin, str(entry.get("uom") or "EA"))
    when = _datetime(event.get("eventTime"))
    return StepFacts(
        kind=kind,
        source="epcis",
        date=when.date() if when else None,
        lines=tuple(Line(gtin, Decimal(q), units[gtin]) for gtin, q in sorted(counts.items())),
        biz_step=bare_biz_step(event.get("bizStep")),
    )


def is_uri(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 512 and bool(_URI.fullmatch(value))


# ---------------------------------------------------------------- parsing helpers
def _gtin_of_epc(epc: Any) -> str | None:
    """The GTIN of an item (SGTIN) or class-level identifier (LGTIN, GTIN), in any form EPCIS allows."""
    if not isinstance(epc, str):
        return None
    try:
        return parse_identifier(epc, any_uri=True).gtin
    except errors.InvalidInputError:
        return None


def _gtin_of_class(value: Any) -> str | None:
    return _gtin_of_epc(value)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _line(raw: Any) -> Line | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("gtin"), str):
        return None
    quantity = _decimal(raw.get("quantity"))
    if quantity is None:
        return None
    return Line(
        gtin=raw["gtin"],
        quantity=quantity,
        unit=str(raw.get("unit") or "EA"),
        unit_price=_decimal(raw.get("unitPrice")),
        line=raw.get("line") if isinstance(raw.get("line"), int) else None,
        description=_str(raw.get("description")),
        delivery_date=_date(raw.get("deliveryDate")),
    )
