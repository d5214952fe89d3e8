"""Case fixtures. Procurements take many signed transactions, so they run on Anvil (the same contracts,
a faster EVM than py-evm's): `case_runtime` per test (reverted after it), `world` once per module —
a platform with price history, a clean procurement, one invoiced beyond what was received, one priced
35 % over the trailing median, split orders, a disorderly one and an amended one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Net
from tests.services.cases.kit import GTIN2, Procurement, doc, line
from tracechain.services.cases import CaseService
from tracechain.services.runtime import Runtime
from tracechain.settings import Settings
from tracechain.store.db import Store

HISTORY_PRICES = ("180000.00", "185000.00", "190000.00", "182000.00")  # median 183500
# Before PO-PRICEY (day 41) the platform has the four above plus PO-CLEAN and PO-SHORT at 185,000:
# the trailing median is 185,000, and 249,750 is 35 % over it.
MEDIAN = "185000"
PRICEY = "249750.00"


def make_runtime(net: Net, folder: Path) -> Runtime:
    settings = Settings(data_dir=folder, public_base_url="http://testserver")
    store = Store(f"sqlite:///{folder / 'store.db'}")
    store.bind_chain(net.chain.chain_id, net.deployment.anchor_hash)
    return Runtime(settings, net.chain, net.deployment, store, net.accounts["relayer"])


@pytest.fixture
def case_runtime(anvil_net: Net, tmp_path: Path) -> Iterator[Runtime]:
    """A Runtime on Anvil with the default template registered; the chain reverts after the test."""
    snapshot = anvil_net.chain.snapshot()
    try:
        runtime = make_runtime(anvil_net, tmp_path)
        CaseService(runtime).register_template(anvil_net.accounts["governance"])
        yield runtime
    finally:
        anvil_net.chain.revert(snapshot)


@dataclass
class World:
    net: Net
    runtime: Runtime
    history: list[Procurement]
    clean: Procurement
    short: Procurement
    pricey: Procurement
    splits: list[Procurement]
    disorderly: Procurement
    amended: Procurement
    costly: Procurement


def build_world(net: Net, runtime: Runtime) -> World:
    CaseService(runtime).register_template(net.accounts["governance"])
    history = []
    for i, price in enumerate(HISTORY_PRICES):  # another buyer's earlier orders of the same transformer
        p = Procurement(net, runtime, f"PO-H{i}", price=price, buyer="logistics", day=-80 + 10 * i)
        history.append(p.through_contract())
    clean = Procurement(net, runtime, "PO-CLEAN", price="185000.00").complete()
    short = Procurement(net, runtime, "PO-SHORT", quantity=12, day=21).complete(received=10, invoiced=12)
    pricey = Procurement(net, runtime, "PO-PRICEY", price=PRICEY, day=41).through_contract()
    splits = []
    for i, quantity in enumerate((95, 92, 97)):  # three orders of 1,000 EUR items, each just under 100,000
        p = Procurement(net, runtime, f"PO-SPLIT{i}", quantity=quantity, price="1000.00", gtin=GTIN2,
                        approval_limit="100000.00", budget="100000.00", day=10 + 7 * i)  # fmt: skip
        splits.append(p.through_contract())
    costly = Procurement(net, runtime, "PO-COSTLY", budget="1000000.00", day=101).through_contract()
    disorderly = Procurement(net, runtime, "PO-DISORDER", day=61).through_contract()
    disorderly.delivery(offset=75)  # promised for day 60: late; and no production inspection before it
    disorderly.invoice()  # billed before any acceptance
    disorderly.acceptance()
    amended = Procurement(net, runtime, "PO-AMEND", day=81).through_contract()
    contract = amended.steps["contract"]
    body = doc("contract", amended.po, amended.date(7), [line(8, amended.price, deliveryDate=amended.date(60))],
               currency="EUR", due={"delivery": amended.date(60)})  # fmt: skip
    amended.add("contract", ("retailer", "manufacturer"), body, amends=contract)
    amended.quantity = 8
    amended.inspection()
    amended.delivery()
    amended.acceptance()
    raised = doc("approval", amended.po, amended.date(50), plan="Grid upgrade 2026",
                 budget={"amount": "2500000.00", "currency": "EUR"})  # fmt: skip
    amended.add("approval", ("retailer",), raised, amends=amended.steps["approval"])  # the budget raised, late on
    return World(net, runtime, history, clean, short, pricey, splits, disorderly, amended, costly)


@pytest.fixture(scope="module")
def world(anvil_net: Net, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    snapshot = anvil_net.chain.snapshot()
    try:
        runtime = make_runtime(anvil_net, tmp_path_factory.mktemp("cases"))
        yield build_world(anvil_net, runtime)
    finally:
        anvil_net.chain.revert(snapshot)
