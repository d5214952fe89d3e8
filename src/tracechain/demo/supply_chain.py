"""The supply-chain chapter of the demo: two farms' raw-milk lots made into cheese, the wheels packed
into cases on a pallet that ships in a cold truck (temperature readings), received against the
purchase order, then one farm's lot recalled — and a scan of a wheel says RECALLED with the path, and
shows the pallet's journey it inherited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tracechain.epcis import (
    EPCIS_CONTEXT,
    make_aggregation_event,
    make_object_event,
    make_transaction_event,
    make_transformation_event,
    parse_identifier,
)
from tracechain.hashing import to_hex
from tracechain.services.provenance import ProvenanceService, TraceReader
from tracechain.services.provenance.lineage import LineageReader

if TYPE_CHECKING:
    from tracechain.demo import DemoContext

CET = timezone(timedelta(hours=1))
DAY0 = datetime(2026, 11, 2, 5, 0, tzinfo=CET)
RESOLVER = "https://id.acme-dairy.example"

MILK, GOUDA = "09506000134383", "09506000134390"
FARM_A, FARM_B = f"01/{MILK}/10/FARM-A-1102", f"01/{MILK}/10/FARM-B-1102"
CHEESE_LOT = f"01/{GOUDA}/10/G-1102"
WHEELS = [f"01/{GOUDA}/21/G1102-{i:03d}" for i in range(1, 7)]
CASES = ["00/095060000000000015", "00/095060000000000022"]
PALLET = "00/095060000000000039"

FARM_A_GATE = "urn:epc:id:sgln:9506100.00001.0"
FARM_B_GATE = "urn:epc:id:sgln:9506200.00001.0"
CHEESE_PLANT = "urn:epc:id:sgln:9506000.13435.3"
DISPATCH = "urn:epc:id:sgln:9506000.13435.0"
RETAIL_DC = "urn:epc:id:sgln:9506030.00001.0"
PO = "urn:epcglobal:cbv:bt:9506030000019:PO-2026-1102"


def _at(hours: float) -> datetime:
    return DAY0 + timedelta(hours=hours)


def _temperatures(start: float, readings: list[float]) -> dict[str, Any]:
    """An ObjectEvent of the pallet with the truck logger's temperature readings (°C, every 30 min)."""
    event = make_object_event(
        product_ids=[PALLET],
        event_time=_at(start + len(readings) / 2),
        biz_step="sensor_reporting",
        read_point=DISPATCH,
        digital_link_base=RESOLVER,
    )
    event["sensorElementList"] = [
        {
            "sensorMetadata": {"time": _at(start + len(readings) / 2).isoformat(timespec="milliseconds"),
                               "deviceID": "urn:epc:id:giai:9506000.LOGGER0042"},
            "sensorReport": [
                {"type": "Temperature", "value": value, "uom": "CEL",
                 "time": _at(start + i / 2).isoformat(timespec="milliseconds")}
                for i, value in enumerate(readings)
            ],
        }
    ]  # fmt: skip
    return event


def _key(identifier: str) -> str:
    return to_hex(parse_identifier(identifier).key)


def run(ctx: DemoContext) -> None:
    """Lots, a transformation, cases, a pallet, a cold truck, a PO, a recall — and two scans."""
    service = ProvenanceService(ctx.runtime)
    m, logistics, retailer = (ctx.accounts[n] for n in ("manufacturer", "logistics", "retailer"))
    ctx.heading("Supply chain: from two farms' milk to a recalled cheese")

    # The dairy receives two farms' milk (lots), makes one batch of gouda (a lot of six wheels),
    # packs the wheels into two cases and the cases onto a pallet: one EPCIS document, as its plant
    # system would send it.
    plant: list[dict[str, Any]] = [
        make_object_event(product_ids=[], quantities=[(FARM_A, 4000, "LTR")], event_time=_at(0), action="ADD",
                          biz_step="receiving", read_point=FARM_A_GATE, digital_link_base=RESOLVER),
        make_object_event(product_ids=[], quantities=[(FARM_B, 3500, "LTR")], event_time=_at(0.5), action="ADD",
                          biz_step="receiving", read_point=FARM_B_GATE, digital_link_base=RESOLVER),
        make_transformation_event(event_time=_at(30), input_quantities=[(FARM_A, 4000, "LTR"), (FARM_B, 3500, "LTR")],
                                  output_ids=WHEELS, output_quantities=[(CHEESE_LOT, 6, None)],
                                  transformation_id="urn:uuid:0b1c5d7e-1102-4a3b-9f00-9e5a00000001",
                                  biz_step="commissioning", read_point=CHEESE_PLANT, digital_link_base=RESOLVER),
        make_aggregation_event(parent_id=CASES[0], child_ids=WHEELS[:3], event_time=_at(31), biz_step="packing",
                               read_point=CHEESE_PLANT, digital_link_base=RESOLVER),
        make_aggregation_event(parent_id=CASES[1], child_ids=WHEELS[3:], event_time=_at(31.2), biz_step="packing",
                               read_point=CHEESE_PLANT, digital_link_base=RESOLVER),
        make_aggregation_event(parent_id=PALLET, child_ids=CASES, event_time=_at(32), biz_step="packing",
                               read_point=DISPATCH, digital_link_base=RESOLVER),
        make_object_event(product_ids=[PALLET], event_time=_at(33), biz_step="shipping", disposition="in_transit",
                          read_point=DISPATCH, biz_transactions=[("po", PO)], digital_link_base=RESOLVER),
    ]  # fmt: skip
    document = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _at(33).isoformat(timespec="milliseconds"),
        "epcisBody": {"eventList": plant},
    }
    report = service.import_epcis(m, document)
    gas = sum(r.tx.gas_used for r in report.receipts)
    ctx.out(
        f"the dairy's plant system sent one EPCIS document: {report.recorded} events (2 milk lots received, "
        f"1 transformation into {len(WHEELS)} wheels, 3 aggregations, 1 shipping) in "
        f"{len(report.receipts)} transaction(s), gas {gas}"
    )

    # The carrier takes the pallet (with the cases and wheels on it) and logs the truck's temperature.
    moved = service.transfer(m, PALLET, logistics.address)
    ctx.out(f"custody of the pallet and the {len(moved.product_ids) - 1} things on it passed to the carrier")
    service.record_events(logistics, [_temperatures(33.5, [3.1, 3.4, 3.9, 4.6, 7.8, 6.2, 4.1, 3.6])])
    ctx.out("the carrier's logger reported 8 temperatures in transit (one excursion to 7.8 °C)")

    # The retailer's distribution centre receives it against its purchase order.
    service.transfer(logistics, PALLET, retailer.address)
    received = make_transaction_event(
        parent_id=PALLET,
        product_ids=CASES,
        event_time=_at(40),
        action="ADD",
        biz_transactions=[("po", PO)],
        biz_step="receiving",
        disposition="in_progress",
        read_point=RETAIL_DC,
        digital_link_base=RESOLVER,
    )
    service.record_events(retailer, [received])
    ctx.out(f"FreshMart received the pallet against {PO.rsplit(':', 1)[-1]} (a TransactionEvent)")

    # Farm A's milk is found contaminated: one recall of the lot reaches every wheel made from it.
    notice = {
        "type": "recall-notice/v1",
        "reason": "Listeria monocytogenes found in farm A's raw milk delivered on 2 November",
        "authority": "National Food Safety Agency",
        "lots": ["FARM-A-1102"],
        "action": "do not sell or eat; return to the store",
        "consumerAdvice": "Do not eat it. Return it to the shop for a full refund.",
        "translations": {
            "zh-CN": {
                "reason": "农场 A 于 11 月 2 日交付的生乳检出单核细胞增生李斯特菌",
                "authority": "国家食品安全局",
                "action": "停止销售或食用；退回商店",
                "consumerAdvice": "请勿食用。可退回商店全额退款。",
            }
        },
    }
    service.recall(m, FARM_A, notice)
    reach, total = LineageReader(ctx.runtime).affected(_key(FARM_A), limit=1000)
    wheels = sum(1 for a in reach if a.identifier in WHEELS)
    ctx.out(f"Acme Dairy recalled farm A's milk lot: the recall reaches {total} identifiers ({wheels} wheels, "
            "the cheese lot)")  # fmt: skip

    wheel = WHEELS[0]
    trace = TraceReader(ctx.runtime).trace(wheel)
    lineage = LineageReader(ctx.runtime).lineage(trace.product_key)
    path = lineage.recall_path
    inherited = lineage.inherited
    said = "RECALLED" if path else trace.status
    how = f" (made from {path.recalled}, recalled: {notice['reason']})" if path else ""
    ctx.out(f"scan a wheel: {ctx.base_url}{trace.digital_link_path}  [{said}{how}]")
    from_pallet = sum(1 for e in inherited if e.container == PALLET)
    ctx.out(f"  it rode in a case on the pallet: {len(inherited)} events inherited ({from_pallet} of the pallet's: "
            "shipping, temperatures, receiving), each verified on its container's own chain")  # fmt: skip
    ctx.out(f"  what the recall reaches: {ctx.base_url}/v1/recalls/{quote(FARM_A, safe='/')}/affected")
