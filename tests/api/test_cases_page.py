"""The auditors' case page in Debian's chromium (driven by Python Playwright) against a live server on
Anvil: the list shows the case with its verdict and finding, the case view its verified timeline,
reconciliation and findings with their evidence, and the printable report opens."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Net
from tests.services.cases.conftest import make_runtime
from tests.services.cases.kit import Procurement
from tracechain.chain.anvil import free_port
from tracechain.services.cases import CaseService

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
WAIT_MS = 60_000  # bounds a broken run; every wait is for something the page shows


@pytest.fixture(scope="module")
def served(anvil_net: Net, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import uvicorn

    from tracechain.api.app import create_app

    snapshot = anvil_net.chain.snapshot()
    server = None
    try:
        runtime = make_runtime(anvil_net, Path(tmp_path_factory.mktemp("cases-page")))
        CaseService(runtime).register_template(anvil_net.accounts["governance"])
        short = Procurement(anvil_net, runtime, "PO-PAGE", quantity=12).complete(received=10, invoiced=12)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield {"url": f"http://127.0.0.1:{port}", "case": short}
    finally:
        if server is not None:
            server.should_exit = True
        anvil_net.chain.revert(snapshot)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (Debian's package `chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_auditor_finds_the_case_and_reads_why_it_is_flagged(served: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    case = served["case"]

    page.goto(served["url"] + "/cases")
    row = page.locator("#cases tr.pick", has_text=case.po)
    row.wait_for()
    assert "verified" in row.inner_text() and "invoiced_not_received" in row.inner_text()

    page.select_option("#finding-filter", "price_outlier")
    page.click("#filters button[type=submit]")
    page.locator("#cases", has_text="No cases match.").wait_for()
    page.select_option("#finding-filter", "invoiced_not_received")
    page.click("#filters button[type=submit]")
    page.locator("#cases tr.pick", has_text=case.po).click()

    banner = page.locator("#banner.verified")
    banner.wait_for()
    assert "Verified: complete and unaltered" in banner.inner_text()
    findings = page.locator("#findings").inner_text()
    assert "invoiced_not_received" in findings and "12 invoiced but 10 received" in findings
    assert "✔ verified" in findings
    mismatch = page.locator("#reconciliation tr.mismatch").inner_text()
    assert "12" in mismatch and "10" in mismatch
    assert page.locator("#timeline li").count() == 9
    assert page.url.endswith(f"/cases?id={case.case_id}")

    assert not errors, errors
    page.goto(served["url"] + page.locator("#report").get_attribute("href"))
    assert "VERIFIED" in page.locator("body").inner_text() and "invoiced_not_received" in page.content()
