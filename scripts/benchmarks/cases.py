"""Procurement cases: gas of opening a case and of each step kind of the default template (one
signature or two, a document or an EPCIS event standing for the step, an amendment), and the time of
GET /v1/cases/{id} for a case of 20 steps on a platform with price history."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import Cast, build_cast, runtime_over, timed, write
from benchmarks.gas import compare
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import Chain, embedded_chain
from tracechain.epcis import make_object_event


def _event_doc(pid: str, step: str, minutes: int, disposition: str) -> dict[str, Any]:
    return make_object_event(
        product_ids=[pid],
        biz_step=step,
        disposition=disposition,
        read_point="urn:epc:id:sgln:9506000.13435.1",
        biz_location="urn:epc:id:sgln:9506000.13435.0",
        event_time=datetime(2026, 3, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes),
        digital_link_base="https://id.example.com",
    )


def _ok(response: Any) -> Any:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response


# ---------------------------------------------------------------- procurement cases (self-contained section)
# Gas of opening a case and of each step kind of the default template (one signature or two, a document or
# an EPCIS event standing for the step, an amendment), and the time of GET /v1/cases/{id} for a case of 20
# steps on a platform with price history. Run alone with `--only cases`.
CASE_GTIN = "04012345000016"


def _case_doc(kind: str, po: str, day: int, quantity: int | None = None, price: str | None = None,
              **extra: Any) -> dict[str, Any]:  # fmt: skip
    when = (datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=day)).date().isoformat()
    body: dict[str, Any] = {"kind": kind, "case": po, "number": f"{kind}-{day}", "date": when, **extra}
    if quantity is not None:
        line: dict[str, Any] = {"line": 1, "gtin": CASE_GTIN, "quantity": quantity, "unit": "EA"}
        if price is not None:
            line["unitPrice"] = price
        body["lines"] = [line]
    return body


def _case_steps(
    cast: Cast, runtime: Any, number: str, price: str = "185000.00", day: int = 0
) -> tuple[Any, str, dict[str, int]]:
    """Open a case and run approval, award and contract; returns (service, case id, gas by write)."""
    from tracechain.services.cases import CaseService

    service = CaseService(runtime)
    buyer, supplier = cast.accounts["retailer"], cast.accounts["manufacturer"]
    po = f"urn:epcglobal:cbv:bt:4012345000009:{number}"
    opened = service.open(buyer, po)
    gas = {"openCase (relayed; the buyer's first forwarder request)": opened.tx.gas_used}
    budget = {"amount": "5000000.00", "currency": "EUR"}
    gas["approval (buyer)"] = service.step(opened.case_id, "approval", [buyer], document=_case_doc(
        "approval", po, day, plan="Grid upgrade", budget=budget)).tx.gas_used  # fmt: skip
    award = _case_doc("award", po, day + 2, supplier={"name": "Manufacturer", "account": supplier.address})
    gas["award (buyer, names the supplier)"] = service.step(
        opened.case_id, "award", [buyer], document=award, supplier=supplier.address
    ).tx.gas_used
    contract = _case_doc("contract", po, day + 4, 10, price, currency="EUR")
    gas["contract (buyer + supplier)"] = service.step(
        opened.case_id, "contract", [buyer, supplier], document=contract
    ).tx.gas_used
    return service, opened.case_id, gas


def case_gas(chain: Chain) -> dict[str, Any]:
    """Gas of every case write: templates, opening (relayed and direct), each step kind, an amendment and an
    EPCIS-backed delivery."""
    from tracechain.services.cases import CaseService
    from tracechain.services.provenance import ProvenanceService

    cast = build_cast(chain)
    a = cast.accounts
    with runtime_over(cast) as runtime:
        registered = CaseService(runtime).register_template(a["governance"])
        assert registered is not None
        service, case_id, gas = _case_steps(cast, runtime, "PO-GAS-1")
        direct = CaseService(runtime, runtime.transactor).open(a["retailer"], "urn:epcglobal:cbv:bt:4012345000009:PO-X")
        po = "urn:epcglobal:cbv:bt:4012345000009:PO-GAS-1"
        steps = (
            ("production_inspection (inspector)", "production_inspection", [a["inspector"]],
             _case_doc("production_inspection", po, 20, result="pass")),
            ("delivery (supplier, a document)", "delivery", [a["manufacturer"]], _case_doc("delivery", po, 25, 5)),
            ("acceptance (buyer + inspector)", "acceptance", [a["retailer"], a["inspector"]],
             _case_doc("acceptance", po, 27, 5, result="accepted")),
            ("warehousing (buyer)", "warehousing", [a["retailer"]], _case_doc("warehousing", po, 28, 5)),
            ("invoice (supplier)", "invoice", [a["manufacturer"]], _case_doc("invoice", po, 30, 5, "185000.00",
                                                                             currency="EUR")),
            ("settlement (buyer + supplier)", "settlement", [a["retailer"], a["manufacturer"]],
             _case_doc("settlement", po, 50, 5, "185000.00", currency="EUR")),
        )  # fmt: skip
        for label, kind, signers, body in steps:
            gas[label] = service.step(case_id, kind, signers, document=body).tx.gas_used
        amended = _case_doc("contract", po, 6, 9, "185000.00", currency="EUR")
        gas["contract amendment (buyer + supplier)"] = service.step(
            case_id, "contract", [a["retailer"], a["manufacturer"]], document=amended, amends=3
        ).tx.gas_used
        items = [f"01/{CASE_GTIN}/21/BENCH-{i}" for i in range(5)]
        event = _event_doc(items[0], "shipping", 0, "in_transit")
        event["epcList"] = [f"https://id.example.com/{pid}" for pid in items]
        event["bizTransactionList"] = [{"type": "po", "bizTransaction": po}]
        shipped = ProvenanceService(runtime).record_events(a["manufacturer"], [event])
        gas["delivery (supplier, an EPCIS event)"] = service.step(
            case_id, "delivery", [a["manufacturer"]], event=shipped.event_hash_ids[0]
        ).tx.gas_used
    out = {"registerTemplate (9 kinds)": write(registered.gas_used), "openCase (direct)": write(direct.tx.gas_used)}
    out.update({label: write(g) for label, g in gas.items()})
    return out


def case_read_latency(chain: Chain, repeat: int) -> dict[str, Any]:
    """GET /v1/cases/{id} of a 20-step case (every step verified, reconciled, price-watched against three
    other cases) through the API (TestClient) over `chain`."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx`")
        from fastapi.testclient import TestClient

    from tracechain.api.app import create_app
    from tracechain.services.cases import CaseService

    cast = build_cast(chain)
    a = cast.accounts
    with runtime_over(cast) as runtime:
        CaseService(runtime).register_template(a["governance"])
        for i, price in enumerate(("180000.00", "186000.00", "183000.00")):
            _case_steps(cast, runtime, f"PO-HIST-{i}", price, day=-90 + 20 * i)
        service, case_id, _ = _case_steps(cast, runtime, "PO-TWENTY")
        po = "urn:epcglobal:cbv:bt:4012345000009:PO-TWENTY"
        raised = {"amount": "6000000.00", "currency": "EUR"}
        service.step(case_id, "approval", [a["retailer"]], amends=1,  # the budget raised: an amendment
                     document=_case_doc("approval", po, 10, plan="Grid upgrade", budget=raised))  # fmt: skip
        service.step(case_id, "production_inspection", [a["inspector"]],
                     document=_case_doc("production_inspection", po, 20, result="pass"))  # fmt: skip
        for lot in range(4):  # four partial deliveries, each accepted and warehoused: 12 steps
            day = 22 + 3 * lot
            service.step(case_id, "delivery", [a["manufacturer"]], document=_case_doc("delivery", po, day, 2 + lot % 2))
            service.step(case_id, "acceptance", [a["retailer"], a["inspector"]],
                         document=_case_doc("acceptance", po, day + 1, 2 + lot % 2, result="accepted"))  # fmt: skip
            service.step(case_id, "warehousing", [a["retailer"]],
                         document=_case_doc("warehousing", po, day + 2, 2 + lot % 2))  # fmt: skip
        for part, quantity in enumerate((5, 5)):
            service.step(
                case_id,
                "invoice",
                [a["manufacturer"]],
                document=_case_doc("invoice", po, 40 + part, quantity, "185000.00", currency="EUR"),
            )
        service.step(case_id, "settlement", [a["retailer"], a["manufacturer"]],
                     document=_case_doc("settlement", po, 60, 10, "185000.00", currency="EUR"))  # fmt: skip
        with TestClient(create_app(runtime)) as api:
            body = _ok(api.get(f"/v1/cases/{case_id}")).json()
            if len(body["timeline"]) != 20 or not body["verification"]["verified"] or body["findings"]:
                problem = f"{body['verification']} {body['findings']}"
                raise RuntimeError(f"setup did not give a clean 20-step case: {problem}")
            for _ in range(3):
                api.get(f"/v1/cases/{case_id}")
            timing = timed(lambda: _ok(api.get(f"/v1/cases/{case_id}")), repeat)
    return {
        "GET /v1/cases/{id}": {
            **timing,
            "steps": len(body["timeline"]),
            "findings": [f["code"] for f in body["findings"]],
            "price_history": body["price_checks"][0]["history"],
            "verdict": body["verification"]["verdict"],
        }
    }


def cases_report(repeat: int) -> dict[str, Any]:
    """The cases section: gas on the embedded chain (cross-checked on Anvil) and read latency on both."""
    report: dict[str, Any] = {"gas": case_gas(embedded_chain())}
    report["read_latency"] = {"embedded": case_read_latency(embedded_chain(), repeat)}
    with AnvilNode(free_port()) as node:
        anvil = node.start()
        report["read_latency"]["anvil"] = case_read_latency(anvil, repeat)
        report["gas_check_on_anvil"] = compare(report["gas"], case_gas(anvil))
    return report
