"""Browser tests: Debian's chromium driven by Python Playwright (never a downloaded browser), one
browser and one demo server per session, screenshots kept under .tracechain/screenshots/."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.server import DemoServer, start_demo_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".tracechain" / "screenshots"
VENDOR = ROOT / "src" / "tracechain" / "api" / "static" / "vendor" / "MANIFEST.json"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every wait in these tests is for something the page shows; this only bounds a broken run.
WAIT_MS = 60_000

pytestmark = pytest.mark.browser


def chromium_path() -> str | None:
    """Debian's chromium (or TRACECHAIN_CHROMIUM)."""
    return os.environ.get("TRACECHAIN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if shutil.which("apt-get"):
            pytest.fail("chromium is not installed: run `make install` (it installs Debian's chromium)")
        pytest.skip(
            "no chromium and no apt on this OS: install Chromium and set TRACECHAIN_CHROMIUM to run the browser tests"
        )
    return path


@pytest.fixture(scope="session")
def web_assets() -> None:
    """The bundled JavaScript (scripts/bundle-web.js), built now if `make install` has not."""
    if not VENDOR.exists():
        subprocess.run(["node", str(ROOT / "scripts" / "bundle-web.js")], check=True, cwd=ROOT)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, web_assets: None) -> Iterator[DemoServer]:
    server = start_demo_server(tmp_path_factory.mktemp("web-demo"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, *, width: int = 390, height: int = 844, language: str = "en-GB"):  # noqa: ANN001, ANN201
    """A page in a fresh context (phone-sized by default) whose browser asks for `language`."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=language.split(",")[0].split(";")[0],
        extra_http_headers={"Accept-Language": language},
        device_scale_factor=1,
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture
def phone(browser) -> Iterator[object]:  # noqa: ANN001
    page = new_page(browser)
    yield page
    page.context.close()


def screenshot(page, name: str) -> Path:  # noqa: ANN001
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
