"""The provenance chapter of the demo: dairy products from farm gate to shop shelf as EPCIS events,
one EPCIS document imported in a single batch, a gouda recalled on its way to the shop, and the
consumer URLs (GS1 Digital Link) that show each verified trace."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tracechain.epcis import EPCIS_CONTEXT, make_object_event
from tracechain.services.provenance import ProvenanceService, TraceReader

if TYPE_CHECKING:
    from tracechain.demo import DemoContext

CET = timezone(timedelta(hours=1))
DAY0 = datetime(2026, 11, 16, 5, 30, tzinfo=CET)
RESOLVER = "https://id.acme-dairy.example"
NS = {"acme": "https://acme-dairy.example/epcis/"}

# Locations (GS1 SGLN URNs) along the way.
DAIRY = "urn:epc:id:sgln:9506000.13435.0"
DAIRY_LINE = "urn:epc:id:sgln:9506000.13435.7"
LAB = "urn:epc:id:sgln:9506010.00001.0"
COLD_STORE = "urn:epc:id:sgln:9506020.00010.0"
SHOP = "urn:epc:id:sgln:9506030.00042.0"
PACKAGING_PLANT = "urn:epc:id:sgln:9506040.00003.0"

MILK, GOUDA, YOGURT = "09506000134352", "09506000134369", "09506000134376"
PRODUCTS: dict[str, dict[str, Any]] = {
    MILK: {"name": "Organic whole milk 1 L", "brand": "Acme Dairy", "category": "milk", "shelf_life_days": 10},
    GOUDA: {"name": "Aged gouda 500 g", "brand": "Acme Dairy", "category": "cheese", "ripened_months": 12},
    YOGURT: {"name": "Plain yogurt 4 x 125 g", "brand": "Acme Dairy", "category": "yogurt", "shelf_life_days": 21},
}


def _pid(gtin: str, serial: str) -> str:
    return f"01/{gtin}/21/{serial}"


def _event(pids: list[str], step: str, hours: float, disposition: str, where: str, **extra: Any) -> dict[str, Any]:
    return make_object_event(
        product_ids=pids,
        biz_step=step,
        disposition=disposition,
        read_point=where,
        biz_location=where,
        event_time=DAY0 + timedelta(hours=hours),
        digital_link_base=RESOLVER,
        extensions={f"acme:{k}": v for k, v in extra.items()},
        namespaces=NS if extra else None,
    )


def run(ctx: DemoContext) -> None:
    """Register products and walk them through the supply chain; recall one; print their URLs."""
    service = ProvenanceService(ctx.runtime)  # every actor signs; the platform operator relays and pays
    m, inspector, logistics, retailer, supplier = (
        ctx.accounts[n] for n in ("manufacturer", "inspector", "logistics", "retailer", "supplier")
    )
    ctx.heading("Product provenance")
    ctx.out("actors sign every write (EIP-712); the platform relays it and pays the gas")

    milk = [_pid(MILK, f"MLK-2611-{i:04d}") for i in (1, 2)]
    gouda = _pid(GOUDA, "GOU-0042")
    yogurts = [_pid(YOGURT, f"YOG-2611-{i:04d}") for i in (1, 2, 3)]
    crate = "opaque:ALP-CRATE-7731"

    items = [*milk, gouda, *yogurts]
    registered = service.register_many(
        m, [(pid, {**PRODUCTS[pid.split("/")[1]], "gtin": pid.split("/")[1]}) for pid in items]
    )
    service.register(supplier, crate, {"name": "Returnable dairy crate", "material": "HDPE"})
    ctx.out(
        f"Acme Dairy registered {len(items)} items in one transaction (gas {registered.tx.gas_used}); "
        "Alpine Packaging registered a crate"
    )

    # Milk: dairy -> lab check -> cold chain -> shop; one is sold.
    service.record_events(m, [_event(milk, "commissioning", 0, "active", DAIRY_LINE, lot="L-2611-A", fat_percent=3.8)])
    service.record_events(
        inspector, [_event(milk, "inspecting", 1, "conformant", LAB, test="bacteria count", result="< 10 cfu/ml")]
    )
    service.record_events(m, [_event(milk, "shipping", 3, "in_transit", DAIRY, temperature_c=3.9)])
    for pid in milk:
        service.transfer(m, pid, logistics.address)
    service.record_events(
        logistics,
        [
            _event(milk, "receiving", 4, "in_progress", COLD_STORE),
            _event(milk, "storing", 4.5, "sellable_not_accessible", COLD_STORE, temperature_c=3.1),
        ],
    )
    service.record_events(logistics, [_event(milk, "shipping", 20, "in_transit", COLD_STORE, temperature_c=3.4)])
    for pid in milk:
        service.transfer(logistics, pid, retailer.address)
    service.record_events(retailer, [_event(milk, "receiving", 22, "sellable_accessible", SHOP)])
    sale = service.record_events(retailer, [_event(milk[:1], "retail_selling", 30, "retail_sold", SHOP)])
    ctx.out(f"milk: commissioned, lab-checked, cold-chained and sold (last event gas {sale.tx.gas_used})")

    # Yogurt: the dairy's own system exports one EPCIS document; it lands in one transaction.
    yogurt_events = [
        _event(yogurts, "commissioning", 6, "active", DAIRY_LINE, lot="L-2611-Y"),
        _event(yogurts, "packing", 7, "in_progress", DAIRY_LINE),
        _event(yogurts, "storing", 8, "sellable_not_accessible", DAIRY, temperature_c=4.2),
    ]
    document: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT, NS],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": (DAY0 + timedelta(hours=9)).isoformat(timespec="milliseconds"),
        "epcisBody": {"eventList": yogurt_events},
    }
    batch = service.import_epcis(m, document)
    records = sum(len(e["epcList"]) for e in yogurt_events)
    gas = sum(r.tx.gas_used for r in batch.receipts)
    ctx.out(
        f"yogurt: EPCIS document with {len(batch.event_hash_ids)} events ({records} product records) imported "
        f"in {len(batch.receipts)} transaction(s), gas {gas} ({gas // records} per record)"
    )

    # Gouda: recalled while in the cold store; the carrier sends it back.
    service.record_events(m, [_event([gouda], "commissioning", -24 * 365, "active", DAIRY_LINE, lot="L-2511-G")])
    service.record_events(m, [_event([gouda], "shipping", 2, "in_transit", DAIRY)])
    service.transfer(m, gouda, logistics.address)
    service.record_events(logistics, [_event([gouda], "receiving", 4, "in_progress", COLD_STORE)])
    notice = {
        "type": "recall-notice/v1",
        "reason": "Listeria monocytogenes found in lot L-2511-G",
        "authority": "National Food Safety Agency",
        "lots": ["L-2511-G"],
        "action": "do not sell; return to manufacturer",
    }
    recall = service.recall(m, gouda, notice)
    service.record_events(
        logistics, [_event([gouda], "shipping", 26, "recalled", COLD_STORE, returned_to="Acme Dairy")]
    )
    ctx.out(f"gouda: RECALLED by Acme Dairy (gas {recall.tx.gas_used}); the carrier ships it back")

    # The crate: an opaque ID, shipped by the packaging supplier to the dairy.
    service.record_events(supplier, [_event([crate], "commissioning", -48, "active", PACKAGING_PLANT)])
    service.record_events(supplier, [_event([crate], "shipping", -30, "in_transit", PACKAGING_PLANT)])

    ctx.runtime.sync()
    ctx.out("scan any of these (consumer URLs, each a verified trace):")
    for pid in [*milk, gouda, *yogurts, crate]:
        trace = TraceReader(ctx.runtime).trace(pid)
        path = trace.digital_link_path or f"/v1/products/{pid}"
        flag = "RECALLED" if trace.recalled else trace.status
        verdict = trace.verification.verdict
        ctx.out(f"  {ctx.base_url}{path}  [{flag}, {len(trace.events)} events, {verdict}]")
