"""Shared by the case tests: step documents of the default template and a procurement walked through
its steps by the conftest cast (buyer: retailer unless told, supplier: manufacturer, inspector:
inspector)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.conftest import Net
from tracechain.services.cases import CaseService
from tracechain.services.runtime import Runtime

GTIN = "04012345000016"  # a power transformer
GTIN2 = "04012345000023"  # its bushing set


def po(number: str) -> str:
    return f"urn:epcglobal:cbv:bt:4012345000009:{number}"


def line(quantity: int | str, price: str | None = None, gtin: str = GTIN, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"line": extra.pop("line", 1), "gtin": gtin, "quantity": quantity, "unit": "EA"}
    if price is not None:
        body["unitPrice"] = price
    return {**body, **extra}


def doc(kind: str, case: str, day: str, lines: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "case": case, "number": f"{kind.upper()}-{day}", "date": day}
    if lines is not None:
        body["lines"] = lines
    return {**body, **extra}


@dataclass
class Procurement:
    """One case walked step by step; `steps` maps each step kind to the index it landed at."""

    net: Net
    runtime: Runtime
    number: str
    quantity: int = 10
    price: str = "185000.00"
    budget: str = "2000000.00"
    approval_limit: str | None = None
    day: int = 1  # day of March 2026 the order is placed
    buyer: str = "retailer"
    gtin: str = GTIN
    case_id: str = ""
    steps: dict[str, int] = field(default_factory=dict)

    @property
    def service(self) -> CaseService:
        return CaseService(self.runtime)

    @property
    def po(self) -> str:
        return po(self.number)

    def date(self, offset: int = 0) -> str:
        from datetime import date, timedelta

        return (date(2026, 3, 1) + timedelta(days=self.day - 1 + offset)).isoformat()

    def who(self, *names: str) -> list[Any]:
        return [self.net.accounts[n] for n in names]

    def open(self) -> Procurement:
        buyer = self.net.accounts[self.buyer]
        opening = self.service.open(buyer, self.po, metadata={"po": self.po, "title": "HV transformers"})
        self.case_id = opening.case_id
        return self

    def add(self, kind: str, names: tuple[str, ...], body: dict[str, Any] | None = None, **kwargs: Any) -> int:
        names = tuple(self.buyer if n == "retailer" else n for n in names)
        written = self.service.step(self.case_id, kind, self.who(*names), document=body, **kwargs)
        self.steps.setdefault(kind, written.index)
        return written.index

    def approval(self) -> int:
        extra: dict[str, Any] = {"plan": "Grid upgrade 2026", "budget": {"amount": self.budget, "currency": "EUR"}}
        if self.approval_limit:
            extra["approvalLimit"] = self.approval_limit
        return self.add("approval", ("retailer",), doc("approval", self.po, self.date(), **extra))

    def award(self) -> int:
        supplier = self.net.accounts["manufacturer"].address
        body = doc("award", self.po, self.date(2), supplier={"name": "Manufacturer", "account": supplier})
        return self.add("award", ("retailer",), body, supplier=supplier)

    def contract(self, price: str | None = None, quantity: int | None = None, **kwargs: Any) -> int:
        lines = [line(quantity or self.quantity, price or self.price, self.gtin, deliveryDate=self.date(60))]
        body = doc("contract", self.po, self.date(5), lines, currency="EUR", due={"delivery": self.date(60)})
        return self.add("contract", ("retailer", "manufacturer"), body, **kwargs)

    def inspection(self) -> int:
        body = doc("production_inspection", self.po, self.date(40), result="pass")
        return self.add("production_inspection", ("inspector",), body)

    def delivery(self, quantity: int | None = None, offset: int = 55) -> int:
        body = doc("delivery", self.po, self.date(offset), [line(quantity or self.quantity, gtin=self.gtin)])
        return self.add("delivery", ("manufacturer",), body)

    def acceptance(self, quantity: int | None = None) -> int:
        lines = [line(quantity or self.quantity, gtin=self.gtin)]
        body = doc("acceptance", self.po, self.date(58), lines, result="accepted")
        return self.add("acceptance", ("retailer", "inspector"), body)

    def warehousing(self, quantity: int | None = None) -> int:
        lines = [line(quantity or self.quantity, gtin=self.gtin)]
        body = doc("warehousing", self.po, self.date(59), lines, warehouse="Depot 3")
        return self.add("warehousing", ("retailer",), body)

    def invoice(self, quantity: int | None = None, price: str | None = None) -> int:
        lines = [line(quantity or self.quantity, price or self.price, self.gtin)]
        body = doc("invoice", self.po, self.date(60), lines, currency="EUR", due={"settlement": self.date(90)})
        return self.add("invoice", ("manufacturer",), body)

    def settlement(self, quantity: int | None = None, price: str | None = None) -> int:
        lines = [line(quantity or self.quantity, price or self.price, self.gtin)]
        body = doc("settlement", self.po, self.date(85), lines, currency="EUR")
        return self.add("settlement", ("retailer", "manufacturer"), body)

    def through_contract(self) -> Procurement:
        self.open()
        self.approval()
        self.award()
        self.contract()
        return self

    def complete(self, *, received: int | None = None, invoiced: int | None = None) -> Procurement:
        self.through_contract()
        self.inspection()
        self.delivery()
        self.acceptance(received)
        self.warehousing(received)
        self.invoice(invoiced)
        self.settlement(invoiced)
        return self
