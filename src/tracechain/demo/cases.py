"""The procurement chapter of the demo: a grid operator buys 40 MVA power transformers. Earlier orders
on the platform give each price its trailing median; then three procurements run their whole course —
one clean (its deliveries and warehousing are the EPCIS events of the very transformers), one where 12
units are invoiced and paid but only 10 received, one priced 35 % over the trailing median — and the
auditor's view flags exactly the two that do not add up."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from tracechain.epcis import make_object_event
from tracechain.epcis.identifiers import gtin_check_digit
from tracechain.hashing import document_hash, keccak_text
from tracechain.services.cases import CaseReader, CaseService, CaseView
from tracechain.services.provenance import ProvenanceService
from tracechain.types import Role

if TYPE_CHECKING:
    from tracechain.demo import DemoContext

GLN = "4099999000004"  # the grid operator's company GLN (bizTransaction namespace)
_BODY = "0409999900001"
GTIN = _BODY + str(gtin_check_digit(_BODY))  # power transformer 40 MVA 110/20 kV
ITEM = "Power transformer 40 MVA 110/20 kV, ONAN"
SITE = "urn:epc:id:sgln:4099999.00001.0"  # the operator's central depot
WORKS = "urn:epc:id:sgln:4012345.00007.0"  # the transformer works
RESOLVER = "https://id.voltaris.example"

# Who plays which part: fixed demo keys (no ether needed: the platform operator relays and pays).
PARTIES: dict[str, tuple[str, tuple[Role, ...]]] = {
    "buyer": ("Northgrid Energy Networks", (Role.LOGISTICS,)),
    "other_buyer": ("Rivermark Municipal Utilities", (Role.LOGISTICS,)),
    "supplier": ("Voltaris Transformer Works", (Role.MANUFACTURER,)),
    "other_supplier": ("Kestrel Power Equipment", (Role.MANUFACTURER,)),
    "inspector": ("GridCert Inspection Services", (Role.INSPECTOR,)),
}
# Earlier orders of the same transformer on the platform: (days ago, unit price in EUR, buyer, supplier).
HISTORY: tuple[tuple[int, str, str, str], ...] = (
    (330, "181500.00", "other_buyer", "other_supplier"),
    (290, "184000.00", "buyer", "supplier"),
    (250, "186500.00", "other_buyer", "supplier"),
    (210, "183000.00", "buyer", "other_supplier"),
    (170, "188000.00", "other_buyer", "other_supplier"),
)


def party(name: str) -> LocalAccount:
    """The demo key of a party (derived from its name; never use such keys with real value)."""
    account: LocalAccount = Account.from_key(keccak_text(f"tracechain-demo:cases:{name}"))
    return account


@dataclass
class Order:
    """One procurement of the chapter, as it is written."""

    number: str
    day: date  # the contract's date
    quantity: int
    price: Decimal
    buyer: str = "buyer"
    supplier: str = "supplier"
    case_id: str = ""
    gas: dict[str, int] = field(default_factory=dict)

    @property
    def po(self) -> str:
        return f"urn:epcglobal:cbv:bt:{GLN}:{self.number}"

    def on(self, days: int) -> str:
        return (self.day + timedelta(days=days)).isoformat()

    def lines(self, quantity: int | None = None, *, priced: bool = False, **extra: Any) -> list[dict[str, Any]]:
        line: dict[str, Any] = {"line": 1, "gtin": GTIN, "description": ITEM, "quantity": quantity or self.quantity,
                                "unit": "EA", **extra}  # fmt: skip
        if priced:
            line["unitPrice"] = f"{self.price:.2f}"
        return [line]

    def doc(self, kind: str, days: int, **body: Any) -> dict[str, Any]:
        return {"kind": kind, "case": self.po, "number": f"{self.number}-{kind.upper()[:3]}", "date": self.on(days),
                **body}  # fmt: skip


class Story:
    """Writes the chapter's cases through the case service (each party signs; the operator pays)."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.cases = CaseService(ctx.runtime)
        self.provenance = ProvenanceService(ctx.runtime)
        self.today = datetime.fromtimestamp(int(ctx.runtime.chain.w3.eth.get_block("latest")["timestamp"]), UTC).date()

    def step(self, order: Order, kind: str, signers: tuple[str, ...], **kwargs: Any) -> int:
        written = self.cases.step(order.case_id, kind, [party(s) for s in signers], **kwargs)
        order.gas.setdefault(kind, written.tx.gas_used)
        return written.index

    def open(self, order: Order, budget: str) -> None:
        buyer = PARTIES[order.buyer][0]
        opening = self.cases.open(party(order.buyer), order.po, metadata={
            "type": "tracechain/case", "bizTransaction": order.po, "buyer": buyer,
            "title": f"{order.quantity} x {ITEM}",
        })  # fmt: skip
        order.case_id = opening.case_id
        order.gas["open"] = opening.tx.gas_used
        plan = f"Grid reinforcement: {order.quantity} transformers for substations"
        self.step(order, "approval", (order.buyer,), document=order.doc(
            "approval", -20, plan=plan, approvedBy="Board of directors",
            budget={"amount": budget, "currency": "EUR"}, approvalLimit="2500000.00",
            due={"award": order.on(-5), "contract": order.on(0)},
        ))  # fmt: skip
        supplier = party(order.supplier).address
        award = order.doc(
            "award",
            -5,
            supplier={"name": PARTIES[order.supplier][0], "account": supplier},
            procedure="open tender",
            bids=4,
            currency="EUR",
            lines=order.lines(priced=True),
        )
        self.step(order, "award", (order.buyer,), document=award, supplier=supplier)
        contract = order.doc("contract", 0, currency="EUR", terms="Incoterms DAP depot; 24 months warranty",
                             lines=order.lines(priced=True, deliveryDate=order.on(60)),
                             due={"production_inspection": order.on(45), "delivery": order.on(60)})  # fmt: skip
        self.step(order, "contract", (order.buyer, order.supplier), document=contract)

    def run_course(self, order: Order, *, received: int, invoiced: int, epcis: bool) -> None:
        """Inspection, delivery, acceptance, warehousing, invoice and settlement of an order."""
        b, s = order.buyer, order.supplier
        self.step(order, "production_inspection", ("inspector",), document=order.doc(
            "production_inspection", 40, result="pass", report="Routine tests per IEC 60076-1 passed",
            lines=order.lines()))  # fmt: skip
        if epcis:
            serials = [f"01/{GTIN}/21/{order.number}-{i:02d}" for i in range(1, order.quantity + 1)]
            shipped = self._event(serials, "shipping", "in_transit", order, 55, party(s))
            self.step(order, "delivery", (s,), event=shipped)
        else:
            delivery = order.doc("delivery", 55, carrier="HeavyHaul", lines=order.lines())
            self.step(order, "delivery", (s,), document=delivery)
        result = "accepted" if received == order.quantity else "partially_accepted"
        remarks = None if received == order.quantity else f"{order.quantity - received} units damaged in transit"
        acceptance = order.doc("acceptance", 57, result=result, lines=order.lines(received))
        if remarks:
            acceptance["remarks"] = remarks
        self.step(order, "acceptance", (b, "inspector"), document=acceptance)
        if epcis:
            keys = [self._key(serial) for serial in serials]
            self.provenance.client.transfer_custody(party(s), keys, party(b).address)
            stored = self._event(serials, "storing", "sellable_not_accessible", order, 58, party(b))
            self.step(order, "warehousing", (b,), event=stored)
        else:
            self.step(order, "warehousing", (b,), document=order.doc("warehousing", 58, warehouse="Central depot",
                                                                      lines=order.lines(received)))  # fmt: skip
        invoice = order.doc("invoice", 60, currency="EUR", lines=order.lines(invoiced, priced=True),
                            due={"settlement": order.on(90)})  # fmt: skip
        self.step(order, "invoice", (s,), document=invoice)
        settlement = order.doc(
            "settlement",
            85,
            currency="EUR",
            lines=order.lines(invoiced, priced=True),
            payment={"reference": f"PAY-{order.number}", "method": "SEPA credit transfer"},
        )
        self.step(order, "settlement", (b, s), document=settlement)

    def _event(self, serials: list[str], step: str, disposition: str, order: Order, days: int,
               by: LocalAccount) -> str:  # fmt: skip
        when = datetime.combine(order.day + timedelta(days=days), datetime.min.time(), UTC) + timedelta(hours=9)
        where = WORKS if step == "shipping" else SITE
        event = make_object_event(product_ids=serials, biz_step=step, disposition=disposition, read_point=where,
                                  biz_location=where, event_time=when, digital_link_base=RESOLVER)  # fmt: skip
        event["bizTransactionList"] = [{"type": "po", "bizTransaction": order.po}]
        return self.provenance.record_events(by, [event]).event_hash_ids[0]

    @staticmethod
    def _key(serial: str) -> bytes:
        from tracechain.epcis import parse_product_id

        return parse_product_id(serial).key


def register_parties(ctx: DemoContext) -> None:
    """Governance registers each party. Each also gets a little dev ether: the operator pays for every
    write, but the embedded chain refuses even a simulated call from an empty account."""
    governance = ctx.accounts["governance"]
    runtime = ctx.runtime
    for name, (display, roles) in PARTIES.items():
        account = party(name)
        ctx.accounts[f"cases:{name}"] = account
        if runtime.actors.get_actor(account.address) is None:
            profile = document_hash({"name": display, "roles": [r.value for r in roles]})
            runtime.actors.register_actor(governance, account.address, display, roles, profile)
        if runtime.chain.is_dev and runtime.chain.w3.eth.get_balance(account.address) == 0:
            funding: Any = {"from": governance.address, "to": account.address, "value": 10**17}
            tx = runtime.chain.w3.eth.send_transaction(funding)
            runtime.chain.w3.eth.wait_for_transaction_receipt(tx)
        ctx.out(f"  {name:15} {account.address}  {display} [{', '.join(roles)}]")


def run(ctx: DemoContext) -> list[Order]:
    """Seed price history, run the three procurements, and print what the auditor sees."""
    ctx.heading("Procurement cases")
    register_parties(ctx)
    story = Story(ctx)
    registered = story.cases.register_template(ctx.accounts["governance"])
    template = story.cases.template()
    gas = f"gas {registered.gas_used}" if registered else "already registered"
    ctx.out(f"template {template.label} {template.hash} ({len(template.steps)} step kinds, {gas})")

    for i, (days_ago, unit_price, buyer, supplier) in enumerate(HISTORY):
        earlier = Order(f"PO-{2025 + i // 3}-{700 + i}", story.today - timedelta(days=days_ago), 4, Decimal(unit_price),
                        buyer, supplier)  # fmt: skip
        story.open(earlier, budget="900000.00")
        story.run_course(earlier, received=4, invoiced=4, epcis=False)
    prices = [Decimal(p) for _, p, _, _ in HISTORY]
    ctx.out(
        f"{len(HISTORY)} earlier procurements of {ITEM} (GTIN {GTIN}) on the platform, "
        f"{min(prices)}-{max(prices)} EUR a unit"
    )

    clean = Order("PO-2026-0117", story.today - timedelta(days=150), 10, Decimal("185000"))
    story.open(clean, budget="2000000.00")
    story.run_course(clean, received=10, invoiced=10, epcis=True)
    short = Order("PO-2026-0142", story.today - timedelta(days=135), 12, Decimal("184500"))
    story.open(short, budget="2400000.00")
    story.run_course(short, received=10, invoiced=12, epcis=False)
    trailing = [*prices, clean.price, short.price]
    median = Decimal(str(statistics.median(trailing)))
    price = (median * Decimal("1.35")).quantize(Decimal("0.01"))
    pricey = Order("PO-2026-0188", story.today - timedelta(days=110), 8, price)
    story.open(pricey, budget="2000000.00")
    story.run_course(pricey, received=8, invoiced=8, epcis=False)

    ctx.runtime.sync()
    reader = CaseReader(ctx.runtime)
    for title, order in (("clean", clean), ("12 invoiced, 10 received", short), ("35 % over the median", pricey)):
        _report(ctx, title, order, reader.case(order.case_id))
    ctx.out("gas per step kind (first of each kind in the clean case): "
            + ", ".join(f"{k} {v}" for k, v in clean.gas.items()))  # fmt: skip
    ctx.out(f"auditors' case page: {ctx.base_url}/cases   findings as CSV: {ctx.base_url}/v1/cases/findings.csv")
    return [clean, short, pricey]


def _report(ctx: DemoContext, title: str, order: Order, view: CaseView) -> None:
    v = view.verification
    ctx.out(f"{order.number} ({title}): {len(view.timeline)} steps, {view.status}, {v.verdict}; "
            f"{len(view.findings)} finding(s)")  # fmt: skip
    for f in view.findings:
        steps = ", ".join(f"#{e.index} {e.kind}" for e in f.evidence if e.case_id == view.case_id)
        others = sum(1 for e in f.evidence if e.case_id != view.case_id)
        if others:
            steps += f" and the contracts of {others} earlier cases"
        verified = "each verified" if f.evidence_verified else "NOT ALL VERIFIED"
        ctx.out(f"  [{f.severity}] {f.code}: {f.message} (rests on {steps}, {verified})")
    ctx.out(f"  {ctx.base_url}/cases?id={view.case_id}   report: {ctx.base_url}/v1/cases/{view.case_id}/report")
