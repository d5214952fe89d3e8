"""The web page in a real browser (Debian's chromium through Playwright) over the demo story: what a
shopper sees on a phone, in English and Chinese; what the page checks by itself; the auditor desk."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.web.conftest import new_page, screenshot
from tests.web.server import DemoServer
from tracechain.hashing import document_hash, to_hex
from tracechain.store.db import Document

pytestmark = pytest.mark.browser

MILK = "01/09506000134352/21/MLK-2611-0001"
GOUDA = "01/09506000134369/21/GOU-0042"
YOGURT = "01/09506000134376/21/YOG-2611-0003"
CHECKED = "[data-browser-verdict]:not([data-browser-verdict='pending'])"

# Every element inside the viewport; every text node of 8+ characters at least 8 characters wide.
LAYOUT = """() => {
  const vw = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > vw + 1 || r.left < -1) {
      wide.push(`${el.tagName}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  const narrow = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    const parent = node.parentElement;
    if (text.length < 8 || !parent) continue;
    if (parent.closest("script, style, svg, option, datalist, select, textarea")) continue;
    if (!parent.checkVisibility()) continue;  // e.g. inside a closed <details>
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    if (!rects.length) continue;
    if (rects.length < 2) continue;  // on one line: as wide as its own text
    // Wrapped: the box it wraps in must hold at least 8 of its characters a line.
    let box = parent;
    while (box.parentElement && getComputedStyle(box).display === "inline") box = box.parentElement;
    const style = getComputedStyle(box);
    const inner = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const perChar = rects.reduce((sum, r) => sum + r.width, 0) / text.length;
    if (inner / perChar < 8) narrow.push(`${text.slice(0, 24)} (${(inner / perChar).toFixed(1)} characters a line)`);
  }
  return {vw, scroll: document.documentElement.scrollWidth, wide, narrow};
}"""


def open_product(page, demo: DemoServer, product_id: str, query: str = "") -> None:  # noqa: ANN001
    page.goto(f"{demo.url}/?id={product_id}{query}")
    page.wait_for_selector(CHECKED)


def assert_fits(page) -> None:  # noqa: ANN001
    layout = page.evaluate(LAYOUT)
    assert layout["scroll"] <= layout["vw"], layout
    assert not layout["wide"], layout["wide"][:10]
    assert not layout["narrow"], layout["narrow"][:10]


def test_the_demo_milk_on_a_phone_shows_what_a_shopper_needs(phone, demo: DemoServer) -> None:  # noqa: ANN001
    open_product(phone, demo, MILK)
    card = phone.locator(".product-card")
    assert card.locator("h2").inner_text() == "Organic whole milk 1 L"
    facts = card.inner_text()
    for fact in (
        "Produced",
        "16 November 2026",
        "Best before",
        "26 November 2026",
        "Lot",
        "L-2611-A",
        "Acme Dairy Co-op",
        "Acme Dairy, filling line 7, Lindholm",
        "09506000134352",
        "1 L",
    ):
        assert fact in facts, fact
    assert phone.get_attribute("#verdict", "data-verdict") == "authentic"
    assert phone.get_attribute("[data-browser-verdict]", "data-browser-verdict") == "verified"
    assert "Genuine product" in phone.inner_text("#verdict")
    inspection = phone.inner_text("#inspection")
    assert "Passed" in inspection and "Total bacteria count" in inspection
    phone.wait_for_selector("[data-report-check='match']")
    assert "matches its on-chain hash" in phone.inner_text("#inspection")
    journey = phone.inner_text("#journey")
    for seen in (
        "Produced and labelled",
        "16 Nov 2026, 05:30",
        "UTC+1",
        "Inspected",
        "Passed inspection",
        "Harbor cold store, Malmö port",
        "FreshMart Malmö Centrum",
        "Sold",
        "Sold to a customer",
    ):
        assert seen in journey, seen
    assert "urn:epc" not in journey  # places by name, never by GLN
    assert phone.get_attribute("#cold-chain [data-excursions]", "data-excursions") == "0"
    assert_fits(phone)
    screenshot(phone, "milk-390")
    assert not phone.errors  # type: ignore[attr-defined]


def test_a_recalled_product_shows_its_reason(phone, demo: DemoServer) -> None:  # noqa: ANN001
    open_product(phone, demo, GOUDA)
    verdict = phone.locator("#verdict")
    assert verdict.get_attribute("data-verdict") == "recalled"
    text = verdict.inner_text()
    assert "do not eat" in text.lower() and "Listeria monocytogenes found in lot L-2511-G" in text
    assert "Return it to the shop" in text and "National Food Safety Agency" in text
    assert int(phone.get_attribute("#cold-chain [data-excursions]", "data-excursions")) > 0  # the flagged excursion
    assert_fits(phone)
    screenshot(phone, "gouda-recalled-390")


def test_an_unknown_code_says_so(phone, demo: DemoServer) -> None:  # noqa: ANN001
    phone.goto(f"{demo.url}/?id=01/09506000134352/21/NOT-A-REAL-ONE")
    phone.wait_for_selector("[data-verdict='unknown']")
    assert "Unknown product" in phone.inner_text("#verdict")
    assert_fits(phone)
    screenshot(phone, "unknown-390")


@pytest.mark.parametrize("width", [360, 430])
def test_every_view_fits_phones(browser, demo: DemoServer, width: int) -> None:  # noqa: ANN001
    page = new_page(browser, width=width)
    try:
        open_product(page, demo, MILK)
        page.click("#self-check summary")
        page.click("#details summary")
        assert_fits(page)
        screenshot(page, f"milk-{width}-open")
        page.click("nav.tabs button[data-tab='auditor']")
        assert_fits(page)
    finally:
        page.context.close()


def test_chinese_is_chosen_from_accept_language_and_switchable(browser, demo: DemoServer) -> None:  # noqa: ANN001
    page = new_page(browser, language="zh-CN,zh;q=0.9,en;q=0.5")
    try:
        open_product(page, demo, MILK)
        assert page.get_attribute("html", "lang") == "zh-CN"
        assert page.inner_text(".product-card h2") == "有机全脂牛奶 1 升"
        assert "正品" in page.inner_text("#verdict")
        journey = page.inner_text("#journey")
        assert "生产并贴标" in journey and "马尔默港冷库" in journey and "检验合格" in journey
        assert "与链上哈希一致" in page.inner_text("#inspection") or page.wait_for_selector(
            "[data-report-check='match']"
        )
        assert_fits(page)
        screenshot(page, "milk-390-zh-CN")
        page.click(".lang button[data-lang='en']")
        assert page.inner_text(".product-card h2") == "Organic whole milk 1 L"
        page.click(".lang button[data-lang='zh-CN']")
        page.goto(f"{demo.url}/?id=01/09506000134352/21/NOPE")
        page.wait_for_selector("[data-verdict='unknown']")
        assert "未知商品" in page.inner_text("#verdict")  # messages, not only labels
        page.goto(f"{demo.url}/?id={GOUDA}")
        page.wait_for_selector(CHECKED)
        assert "李斯特菌" in page.inner_text("#verdict")
        screenshot(page, "gouda-390-zh-CN")
    finally:
        page.context.close()


def test_a_lying_server_is_caught_by_the_page_alone(phone, demo: DemoServer) -> None:  # noqa: ANN001
    """The server answers 'verified' for a history whose document it altered: the page's own check,
    against the chain, says it is altered."""

    def lie(route) -> None:  # noqa: ANN001
        if "qr.svg" in route.request.url:
            return route.continue_()
        response = route.fetch()
        body = response.json()
        for entry in body["entries"]:
            if entry["biz_step"] == "inspecting":
                entry["document"]["disposition"] = "conformant"
                entry["document"]["acme:result"] = "all fine, trust us"
        route.fulfill(
            response=response, body=json.dumps(body), headers={**response.headers, "content-type": "application/json"}
        )

    phone.route(re.compile(r".*/v1/products/[^?]*MLK-2611-0002.*"), lie)
    open_product(phone, demo, "01/09506000134352/21/MLK-2611-0002")
    assert phone.get_attribute("[data-browser-verdict]", "data-browser-verdict") == "tampered"
    assert phone.get_attribute("#verdict", "data-verdict") == "altered"
    assert "altered" in phone.inner_text("#verdict")
    assert phone.locator("#journey li.altered").count() == 1
    assert "altered" in phone.inner_text("#inspection")
    screenshot(phone, "lying-server-390")


def test_a_lying_server_that_rewrites_hashes_too_is_caught_by_the_chain_head(phone, demo: DemoServer) -> None:  # noqa: ANN001
    def lie(route) -> None:  # noqa: ANN001
        if "qr.svg" in route.request.url:
            return route.continue_()
        response = route.fetch()
        body = response.json()
        for entry in body["entries"]:
            if entry["document"] and entry["biz_step"] == "storing":
                entry["document"]["sensorElementList"][0]["sensorReport"][0]["value"] = 2.5
                entry["document_hash"] = to_hex(document_hash(entry["document"]))
        route.fulfill(
            response=response, body=json.dumps(body), headers={**response.headers, "content-type": "application/json"}
        )

    phone.route(re.compile(r".*/v1/products/[^?]*MLK-2611-0001.*"), lie)
    open_product(phone, demo, MILK)
    assert phone.get_attribute("[data-browser-verdict]", "data-browser-verdict") == "tampered"
    assert "does not add up to the head" in phone.inner_text("#verdict")


def test_a_tampered_document_in_the_store_is_caught_by_the_page(phone, demo: DemoServer) -> None:  # noqa: ANN001
    store = demo.runtime.store
    trace = phone.request.get(f"{demo.url}/v1/products/{YOGURT}").json()
    entry = next(e for e in trace["entries"] if e["biz_step"] == "storing")
    with store.session() as s:
        row = s.get(Document, entry["document_hash"])
        original = row.body
        row.body = original.replace('"storing"', '"storing","acme:note":"edited later"', 1)
    try:
        open_product(phone, demo, YOGURT)
        assert phone.get_attribute("[data-browser-verdict]", "data-browser-verdict") == "tampered"
        assert phone.get_attribute("#verdict", "data-verdict") == "altered"
        screenshot(phone, "tampered-store-390")
    finally:
        with store.session() as s:
            s.get(Document, entry["document_hash"]).body = original


def test_api_docs_are_served_from_local_assets(browser, demo: DemoServer) -> None:  # noqa: ANN001
    page = new_page(browser, width=1280)
    outside: list[str] = []

    def only_local(route) -> None:  # noqa: ANN001
        if route.request.url.startswith(demo.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    try:
        page.route("**/*", only_local)
        page.goto(f"{demo.url}/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "TraceChain" in page.inner_text(".swagger-ui .info .title")
        page.goto(f"{demo.url}/redoc")
        page.wait_for_selector("h1:has-text('TraceChain')")
        assert not outside, outside
    finally:
        page.context.close()


def test_actor_activity_filters_and_csv(phone, demo: DemoServer) -> None:  # noqa: ANN001
    manufacturer = demo.context.accounts["manufacturer"].address
    phone.goto(f"{demo.url}/?actor={manufacturer}")
    phone.wait_for_selector("#activity-csv")
    everything = phone.locator("ol.activity li").count()
    kinds = [o.get_attribute("value") for o in phone.locator("#activity-kind option").all() if o.get_attribute("value")]
    assert everything > 0 and "subject.create" in kinds
    assert "Registered a product" in phone.inner_text("#activity-result")
    phone.select_option("#activity-kind", "subject.create")
    filtered = phone.locator("ol.activity li").count()
    assert 0 < filtered < everything
    with phone.expect_download() as download:
        phone.click("#activity-csv")
    csv = Path(download.value.path()).read_text()
    assert csv.splitlines()[0].startswith("block_number,time,timestamp,actor,kind")
    assert len(csv.splitlines()) == filtered + 1
    assert_fits(phone)
    screenshot(phone, "activity-390")


def _verify(page, demo: DemoServer, *, text: str | None = None, file: Path | None = None) -> None:  # noqa: ANN001
    page.goto(f"{demo.url}/?tab=auditor")
    if text is not None:
        page.fill("#verify-input", text)
        page.click("#verify-form button[type='submit']")
    else:
        page.set_input_files("#verify-file", str(file))
    page.wait_for_selector("#verify-verdict, #verify-result .banner.bad")


def test_a_receipt_a_record_and_a_hash_verify(phone, demo: DemoServer) -> None:  # noqa: ANN001
    data = demo.context.data_dir
    receipt = data / "receipts" / "purchase-order.receipt.json"
    record = data / "records" / "purchase-order.json"
    _verify(phone, demo, file=receipt)
    assert phone.get_attribute("#verify-verdict", "data-ok") == "true"
    screenshot(phone, "verify-receipt-390")
    _verify(phone, demo, text=record.read_text())
    assert phone.get_attribute("#verify-verdict", "data-ok") == "true"
    record_hash = json.loads(receipt.read_text())["recordHash"]
    _verify(phone, demo, text=record_hash)
    assert phone.get_attribute("#verify-verdict", "data-ok") == "true"
    assert_fits(phone)
    phone.emulate_media(media="print")
    report = phone.inner_text("#verify-report")
    assert "verification report" in report.lower() and str(demo.runtime.chain.chain_id) in report
    assert demo.runtime.deployment.address("Notary") in report
    screenshot(phone, "verify-report-print")


def test_any_file_whose_hash_was_notarized_verifies(phone, demo: DemoServer, tmp_path: Path) -> None:  # noqa: ANN001
    from eth_utils import keccak

    from tracechain.services.notary import NotaryService

    scan = tmp_path / "signed-contract.pdf"
    scan.write_bytes(b"%PDF-1.4 a signed delivery contract, scanned\n" + bytes(range(256)))
    NotaryService(demo.runtime).notarize_single(demo.context.accounts["notary"], keccak(scan.read_bytes()), "contract")
    _verify(phone, demo, file=scan)
    assert phone.get_attribute("#verify-verdict", "data-ok") == "true"


def test_a_certificate_reads_in_words(phone, demo: DemoServer) -> None:  # noqa: ANN001
    text = "\n".join(demo.lines)
    revoked = re.search(
        r"revoked operation certificate\s+\S+/(?:v1/certificates/|\?certificate=)(0x[0-9a-f]{64})", text
    )
    processing = re.search(
        r"processing certificate \(live status\)\s+\S+/(?:v1/certificates/|\?certificate=)(0x[0-9a-f]{64})", text
    )
    assert revoked and processing, text[-2000:]
    phone.goto(f"{demo.url}/?certificate={processing.group(1)}")
    phone.wait_for_selector("#cert-verdict")
    body = phone.inner_text("#tab-auditor")
    assert phone.get_attribute("#cert-verdict", "data-status") == "valid"
    assert "Acme Dairy Co-op" in body and "FreshMart" in body and "1970" not in body
    assert_fits(phone)
    screenshot(phone, "certificate-390")
    phone.goto(f"{demo.url}/?certificate={revoked.group(1)}")
    phone.wait_for_selector("#cert-verdict")
    assert phone.get_attribute("#cert-verdict", "data-status") == "revoked"
    assert "Harbor Cold-Chain Logistics" in phone.inner_text("#tab-auditor")


def test_the_browser_hashes_documents_as_the_server_does(phone, demo: DemoServer) -> None:  # noqa: ANN001
    """RFC 8785 in the page (key order by UTF-16 code units, ECMAScript numbers) agrees with Python's."""
    docs = [
        {"b": 1, "a": [1.0, 2.5, -0.0, 1e21, 1e-7, 123456789012], "é": "ünïcödé", "\u20ac": "€", "\U0001f600": "😀"},
        {"nested": {"z": None, "y": True, "x": 'line\nbreak "quoted" \\ tab\t'}, "empty": {}, "list": []},
        {"name": {"en": "Organic whole milk 1 L", "zh-CN": "有机全脂牛奶 1 升"}, "n": 0.1 + 0.2},
    ]
    phone.goto(demo.url)
    hashes = phone.evaluate("(docs) => docs.map((d) => window.TraceChainVerify.documentHash(d))", docs)
    assert hashes == [to_hex(document_hash(d)) for d in docs]


def test_a_pasted_receipt_is_sent_as_a_receipt(phone, demo: DemoServer) -> None:  # noqa: ANN001
    """Receipts say recordHash (camelCase): the page recognises them and posts {receipt: …}."""
    receipt = {
        "format": "tracechain-notary-receipt",
        "version": 1,
        "recordHash": "0x" + "ab" * 32,
        "txHash": "0x" + "cd" * 32,
    }
    phone.goto(f"{demo.url}/?tab=auditor")
    phone.fill("#verify-input", json.dumps(receipt))
    with phone.expect_request("**/v1/verify") as request:
        phone.click("#verify-form button[type='submit']")
    assert json.loads(request.value.post_data) == {"receipt": receipt}
    phone.fill("#verify-input", "0x" + "ab" * 32)
    with phone.expect_request("**/v1/verify") as request:
        phone.click("#verify-form button[type='submit']")
    assert json.loads(request.value.post_data) == {"record_hash": "0x" + "ab" * 32}


def test_the_digital_link_a_phone_camera_opens_lands_on_the_page(phone, demo: DemoServer) -> None:  # noqa: ANN001
    phone.goto(f"{demo.url}/01/09506000134352/21/MLK-2611-0002")
    phone.wait_for_selector(CHECKED)
    assert "/?id=" in phone.url and phone.get_attribute("#verdict", "data-verdict") == "authentic"


def test_a_wheel_made_from_a_recalled_lot_says_so_with_its_lineage(phone, demo: DemoServer) -> None:  # noqa: ANN001
    open_product(phone, demo, "01/09506000134390/21/G1102-001")
    assert phone.inner_text(".product-card h2") == "Farmhouse gouda wheel 4 kg"
    assert phone.get_attribute("#verdict", "data-verdict") == "recalled"
    verdict = phone.inner_text("#verdict")
    assert "Listeria monocytogenes found in farm A" in verdict and "Raw milk (farm delivery)" in verdict
    lineage = phone.inner_text("#lineage")
    assert "Made from" in lineage and "FARM-A-1102" in lineage and "Packed in" in lineage
    journey = phone.inner_text("#journey")
    assert "Ekgården farm" in journey or "Acme Dairy, cheese house" in journey
    assert phone.locator("#journey li.inherited").count() > 0 and "While inside" in journey
    phone.click(".lang button[data-lang='zh-CN']")  # the source lot's notice, in the reader's language
    phone.locator("#verdict .reason", has_text="农场 A").wait_for()
    assert "请勿食用" in phone.inner_text("#verdict")
    assert "Sensor readings" in journey and phone.locator("#cold-chain svg").count() == 1
    assert phone.get_attribute("[data-browser-verdict]", "data-browser-verdict") == "verified"
    assert_fits(phone)
    screenshot(phone, "wheel-recalled-via-lot-390")
