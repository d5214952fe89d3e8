"""The provenance chapter of the demo: dairy products from farm gate to shop shelf as EPCIS events,
one EPCIS document imported in a single batch, a gouda recalled on its way to the shop, and the
consumer URLs (GS1 Digital Link) that show each verified trace."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tracechain.demo import masterdata as md
from tracechain.demo import supply_chain as sc
from tracechain.epcis import EPCIS_CONTEXT, make_object_event
from tracechain.services.masterdata import MasterDataService
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
# Temperature data loggers (GS1 GIAI) riding in the truck and hanging in the cold store.
LOGGER_TRUCK = "urn:epc:id:giai:9506020.TL-0007"
LOGGER_STORE = "urn:epc:id:giai:9506020.CS-0001"

MILK, GOUDA, YOGURT = "09506000134352", "09506000134369", "09506000134376"
PRODUCTS: dict[str, dict[str, Any]] = {
    MILK: {"name": "Organic whole milk 1 L", "brand": "Acme Dairy", "category": "milk", "shelf_life_days": 10},
    GOUDA: {"name": "Aged gouda 500 g", "brand": "Acme Dairy", "category": "cheese", "ripened_months": 12},
    YOGURT: {"name": "Plain yogurt 4 x 125 g", "brand": "Acme Dairy", "category": "yogurt", "shelf_life_days": 21},
}


def _pid(gtin: str, serial: str) -> str:
    return f"01/{gtin}/21/{serial}"


def _event(
    pids: list[str],
    step: str,
    hours: float,
    disposition: str,
    where: str,
    *,
    ilmd: dict[str, Any] | None = None,
    sensors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    standard: dict[str, Any] = {"sensorElementList": sensors} if sensors else {}
    return make_object_event(
        product_ids=pids,
        biz_step=step,
        disposition=disposition,
        read_point=where,
        biz_location=where,
        event_time=DAY0 + timedelta(hours=hours),
        action="ADD" if ilmd else "OBSERVE",  # lot master data (ILMD) comes with the items' creation
        ilmd={f"cbvmda:{k}": v for k, v in ilmd.items()} if ilmd else None,
        digital_link_base=RESOLVER,
        extensions={**standard, **{f"acme:{k}": v for k, v in extra.items()}},
        namespaces=NS if extra else None,
    )


def _time(hours: float) -> str:
    return (DAY0 + timedelta(hours=hours)).isoformat(timespec="milliseconds")


def _temperatures(logger: str, start: float, end: float, every: float, values: list[float]) -> list[dict[str, Any]]:
    """An EPCIS 2.0 sensorElementList: a data logger's temperature readings (°C) from `start` to
    `end` hours after DAY0, one every `every` hours, cycling through `values`."""
    count = int(round((end - start) / every)) + 1
    reports = [
        {"type": "gs1:Temperature", "value": values[i % len(values)], "uom": "CEL", "time": _time(start + i * every)}
        for i in range(count)
    ]
    return [{"sensorMetadata": {"deviceID": logger, "time": _time(start)}, "sensorReport": reports}]


# Product and location master data (EPCIS 2.0 vocabularies), published signed by who knows them.
PRODUCT_MASTER_DATA = md.master_document([(md.EPC_CLASS, [
    md.product(MILK, name=md.text("Organic whole milk 1 L", "有机全脂牛奶 1 升"), net="1 L",
               image="/static/demo/milk.svg", allergens=md.text("Contains milk", "含乳制品"),
               storage=md.text("Keep refrigerated at 2-6 °C", "请于 2-6 °C 冷藏"), low=2, high=6,
               extra={"cbvmda:fatPercentInDryMatter": 3.8}),
    md.product(GOUDA, name=md.text("Aged gouda 500 g", "陈年高达奶酪 500 克"), net="500 g",
               image="/static/demo/gouda.svg", allergens=md.text("Contains milk", "含乳制品"),
               storage=md.text("Keep refrigerated at 2-8 °C", "请于 2-8 °C 冷藏"), low=2, high=8),
    md.product(YOGURT, name=md.text("Plain yogurt 4 x 125 g", "原味酸奶 4 x 125 克"), net="4 x 125 g",
               image="/static/demo/yogurt.svg", allergens=md.text("Contains milk", "含乳制品"),
               storage=md.text("Keep refrigerated at 2-6 °C", "请于 2-6 °C 冷藏"), low=2, high=6),
    md.product(sc.MILK, name=md.text("Raw milk (farm delivery)", "生牛乳（牧场交付）"), net="bulk",
               image="/static/demo/milk.svg", allergens=md.text("Contains milk", "含乳制品"),
               storage=md.text("Keep at 2-4 °C", "请于 2-4 °C 保存"), low=2, high=4),
    md.product(sc.GOUDA, name=md.text("Farmhouse gouda wheel 4 kg", "农家高达奶酪轮 4 公斤"), net="4 kg",
               image="/static/demo/gouda.svg", allergens=md.text("Contains milk", "含乳制品"),
               storage=md.text("Keep refrigerated at 2-8 °C", "请于 2-8 °C 冷藏"), low=2, high=8),
])])  # fmt: skip
DAIRY_PLACES = md.master_document([(md.BUSINESS_LOCATION, [
    md.location(DAIRY, name=md.text("Acme Dairy, Lindholm", "Acme 乳业林德霍尔姆工厂"), street="Mejerivägen 4",
                city="Lindholm", postal="245 62", lat=55.6312, lon=13.2140, kind="201"),
    md.location(DAIRY_LINE, name=md.text("Acme Dairy, filling line 7", "Acme 乳业 7 号灌装线"),
                street="Mejerivägen 4", city="Lindholm", postal="245 62", lat=55.6312, lon=13.2140, kind="251"),
    md.location(sc.CHEESE_PLANT, name=md.text("Acme Dairy, cheese house", "Acme 乳业奶酪坊"),
                street="Mejerivägen 4", city="Lindholm", postal="245 62", lat=55.6312, lon=13.2140, kind="251"),
    md.location(sc.FARM_A_GATE, name=md.text("Ekgården farm", "埃克农场"), street="Ekvägen 2", city="Veberöd",
                postal="247 65", lat=55.6333, lon=13.4961, kind="201"),
    md.location(sc.FARM_B_GATE, name=md.text("Björkhaga farm", "比约克哈加农场"), street="Björkvägen 9",
                city="Dalby", postal="247 50", lat=55.6655, lon=13.3491, kind="201"),
])])  # fmt: skip
LAB_PLACES = md.master_document([(md.BUSINESS_LOCATION, [
    md.location(LAB, name=md.text("Nordic Food Inspection laboratory", "北欧食品检验实验室"),
                street="Analysgatan 12", city="Lund", postal="223 63", lat=55.7047, lon=13.1910, kind="201"),
])])  # fmt: skip
LOGISTICS_PLACES = md.master_document([(md.BUSINESS_LOCATION, [
    md.location(COLD_STORE, name=md.text("Harbor cold store, Malmö port", "马尔默港冷库"),
                street="Frihamnsgatan 30", city="Malmö", postal="211 20", lat=55.6175, lon=12.9982, kind="202"),
])])  # fmt: skip
SHOP_PLACES = md.master_document([(md.BUSINESS_LOCATION, [
    md.location(SHOP, name=md.text("FreshMart Malmö Centrum", "FreshMart 马尔默中心店"),
                street="Södergatan 15", city="Malmö", postal="211 34", lat=55.6036, lon=13.0007, kind="203"),
    md.location(sc.RETAIL_DC, name=md.text("FreshMart distribution centre", "FreshMart 配送中心"),
                street="Lagergatan 1", city="Arlöv", postal="232 37", lat=55.6366, lon=13.0748, kind="202"),
])])  # fmt: skip
SUPPLIER_PLACES = md.master_document([(md.BUSINESS_LOCATION, [
    md.location(PACKAGING_PLANT, name=md.text("Alpine Packaging, Kempten plant", "阿尔卑斯包装肯普滕工厂"),
                street="Industriestraße 8", city="Kempten", postal="87437", lat=47.7267, lon=10.3139, kind="201"),
])])  # fmt: skip

# The laboratory's report on the milk lot; the inspecting event names it by its canonical hash.
MILK_LAB_REPORT: dict[str, Any] = {
    "type": "inspection-report/v1",
    "number": "LR-2611-0042",
    "laboratory": "Nordic Food Inspection AB",
    "accreditation": "ISO/IEC 17025, SWEDAC 1234",
    "lot": "L-2611-A",
    "sampled": _time(0.5),
    "issued": _time(1),
    "tests": [
        {"name": "Total bacteria count", "method": "ISO 4833-1", "result": "< 10 cfu/ml", "limit": "100,000 cfu/ml",
         "pass": True},
        {"name": "Listeria monocytogenes", "method": "ISO 11290-1", "result": "not detected in 25 ml",
         "limit": "not detected", "pass": True},
        {"name": "Antibiotic residues", "method": "Delvotest T", "result": "negative", "limit": "negative",
         "pass": True},
        {"name": "Fat content", "method": "ISO 1211", "result": "3.8 %", "limit": "3.5-4.2 %", "pass": True},
    ],
    "conclusion": "conformant",
    "summary": {"en": "All tests passed", "zh-CN": "全部检测合格"},
}  # fmt: skip


def run(ctx: DemoContext) -> None:
    """Register products and walk them through the supply chain; recall one; print their URLs."""
    service = ProvenanceService(ctx.runtime)  # every actor signs; the platform operator relays and pays
    m, inspector, logistics, retailer, supplier = (
        ctx.accounts[n] for n in ("manufacturer", "inspector", "logistics", "retailer", "supplier")
    )
    ctx.heading("Product provenance")
    ctx.out("actors sign every write (EIP-712); the platform relays it and pays the gas")
    published = sum(
        md.publish(ctx, who, doc)
        for who, doc in ((m, PRODUCT_MASTER_DATA), (m, DAIRY_PLACES), (inspector, LAB_PLACES),
                         (logistics, LOGISTICS_PLACES), (retailer, SHOP_PLACES), (supplier, SUPPLIER_PLACES))
    )  # fmt: skip
    ctx.out(f"master data: {published} products and places (names in English and Chinese), signed by who knows them")

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
    milk_lot = {"lotNumber": "L-2611-A", "bestBeforeDate": "2026-11-26"}
    service.record_events(
        m, [_event(milk, "commissioning", 0, "active", DAIRY_LINE, ilmd=milk_lot, lot="L-2611-A", fat_percent=3.8)]
    )
    report_hash = ctx.runtime.store.put_document(MILK_LAB_REPORT)
    report = {"name": "Lab report LR-2611-0042", "documentHash": report_hash, "mediaType": "application/json"}
    service.record_events(
        inspector,
        [_event(milk, "inspecting", 1, "conformant", LAB, test="bacteria count", result="< 10 cfu/ml",
                labReport=report)],
    )  # fmt: skip
    service.record_events(
        m,
        [_event(milk, "shipping", 3, "in_transit", DAIRY, temperature_c=3.9,
                sensors=_temperatures(LOGGER_TRUCK, 3, 4, 0.25, [3.9, 4.1, 4.3, 4.2, 4.0]))],
    )  # fmt: skip
    for pid in milk:
        service.transfer(m, pid, logistics.address)
    service.record_events(
        logistics,
        [
            _event(milk, "receiving", 4, "in_progress", COLD_STORE),
            _event(milk, "storing", 4.5, "sellable_not_accessible", COLD_STORE, temperature_c=3.1,
                   sensors=_temperatures(LOGGER_STORE, 4.5, 19.5, 1, [3.1, 3.3, 3.6, 3.4, 3.2, 3.0])),
        ],
    )  # fmt: skip
    service.record_events(
        logistics,
        [_event(milk, "shipping", 20, "in_transit", COLD_STORE, temperature_c=3.4,
                sensors=_temperatures(LOGGER_TRUCK, 20, 22, 0.25, [3.4, 3.7, 4.0, 4.4, 4.1, 3.8]))],
    )  # fmt: skip
    for pid in milk:
        service.transfer(logistics, pid, retailer.address)
    service.record_events(retailer, [_event(milk, "receiving", 22, "sellable_accessible", SHOP)])
    sale = service.record_events(retailer, [_event(milk[:1], "retail_selling", 30, "retail_sold", SHOP)])
    ctx.out(f"milk: commissioned, lab-checked, cold-chained and sold (last event gas {sale.tx.gas_used})")

    # Yogurt: the dairy's own system exports one EPCIS document; it lands in one transaction.
    yogurt_events = [
        _event(
            yogurts,
            "commissioning",
            6,
            "active",
            DAIRY_LINE,
            ilmd={"lotNumber": "L-2611-Y", "bestBeforeDate": "2026-12-07"},
            lot="L-2611-Y",
        ),
        _event(yogurts, "packing", 7, "in_progress", DAIRY_LINE),
        _event(yogurts, "storing", 8, "sellable_not_accessible", DAIRY, temperature_c=4.2),
    ]
    document: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT, NS],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": (DAY0 + timedelta(hours=9)).isoformat(timespec="milliseconds"),
        "epcisHeader": DAIRY_PLACES["epcisHeader"],  # the dairy's export carries its places as master data
        "epcisBody": {"eventList": yogurt_events},
    }
    batch = service.import_epcis(m, document)
    MasterDataService(ctx.runtime).capture(document, m.address)
    records = sum(len(e["epcList"]) for e in yogurt_events)
    gas = sum(r.tx.gas_used for r in batch.receipts)
    ctx.out(
        f"yogurt: EPCIS document with {len(batch.event_hash_ids)} events ({records} product records) imported "
        f"in {len(batch.receipts)} transaction(s), gas {gas} ({gas // records} per record)"
    )

    # Gouda: recalled while in the cold store; the carrier sends it back.
    gouda_lot = {"lotNumber": "L-2511-G", "bestBeforeDate": "2027-03-31"}
    service.record_events(
        m, [_event([gouda], "commissioning", -24 * 365, "active", DAIRY_LINE, ilmd=gouda_lot, lot="L-2511-G")]
    )
    service.record_events(
        m,
        [_event([gouda], "shipping", 2, "in_transit", DAIRY,
                sensors=_temperatures(LOGGER_TRUCK, 2, 4, 0.25, [4.0, 4.6, 5.9, 8.7, 9.4, 7.2, 5.1, 4.4, 4.1]))],
    )  # fmt: skip
    service.transfer(m, gouda, logistics.address)
    service.record_events(logistics, [_event([gouda], "receiving", 4, "in_progress", COLD_STORE)])
    notice = {
        "type": "recall-notice/v1",
        "reason": "Listeria monocytogenes found in lot L-2511-G",
        "authority": "National Food Safety Agency",
        "lots": ["L-2511-G"],
        "action": "do not sell; return to manufacturer",
        "consumerAdvice": "Do not eat it. Return it to the shop for a full refund.",
        "translations": {
            "zh-CN": {
                "reason": "批次 L-2511-G 检出单核细胞增生李斯特菌",
                "authority": "国家食品安全局",
                "action": "停止销售；退回生产商",
                "consumerAdvice": "请勿食用。可退回商店全额退款。",
            }
        },
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
