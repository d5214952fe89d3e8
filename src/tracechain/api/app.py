"""Builds the FastAPI application over a Runtime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from tracechain import __version__
from tracechain.api.errors import install_error_handlers
from tracechain.api.routers import documents, masterdata, notary, products, rights, system
from tracechain.api.web import page_html
from tracechain.services.notary import NotaryService
from tracechain.services.runtime import Runtime

log = logging.getLogger("tracechain.api")


async def anchor_due_batches(runtime: Runtime, interval: float) -> None:
    """Every `interval` seconds, anchor notary batches that became due by age while no request came."""
    service = NotaryService(runtime)
    while True:
        await asyncio.sleep(interval)
        try:
            outcomes = await run_in_threadpool(service.flush_due)
        except Exception:  # keep the loop alive; the next round retries sealed batches
            log.exception("anchoring due notary batches failed")
            continue
        for outcome in outcomes:
            log.info("notary batch %s", outcome)


def create_app(runtime: Runtime, *, batch_interval: float | None = None) -> FastAPI:
    """The API for `runtime`: consumers, auditors and writers, with docs at /docs.

    While it runs, a background task anchors notary batches that are due by age, every
    `batch_interval` seconds (default: a quarter of the batch age limit, at most 30 s).
    """
    interval = batch_interval or min(30.0, runtime.settings.batch_max_age_seconds / 4)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(anchor_due_batches(runtime, interval))
        try:
            yield
        finally:
            task.cancel()

    app = FastAPI(
        lifespan=lifespan,
        title="TraceChain",
        version=__version__,
        description="Product provenance, data-rights certificates and notarized records, "
        "each answer with what you need to check it against the chain yourself.",
        docs_url=None,  # served below from bundled assets: no CDN, works offline
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    for module in (system, products, notary, rights, masterdata, documents):
        app.include_router(module.router)
    install_web(app, runtime)

    return app


def install_web(app: FastAPI, runtime: Runtime) -> None:
    """The web page at `/`, its static files at `/static`, and the API docs at `/docs` and `/redoc`
    from assets bundled out of pinned npm packages (scripts/bundle-web.js), never a CDN."""
    static = resources.files("tracechain.api").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static), check_dir=False), name="static")
    openapi = app.openapi_url or "/openapi.json"

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        html = page_html(static.joinpath("index.html").read_text(encoding="utf-8"), request, runtime.settings)
        return HTMLResponse(html, headers={"Vary": "Accept-Language", "Cache-Control": "no-cache"})

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi,
            title=f"{app.title} API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/vendor/favicon-32x32.png",
        )

    @app.get("/redoc", response_class=HTMLResponse, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi,
            title=f"{app.title} API",
            redoc_js_url="/static/vendor/redoc.standalone.js",
            redoc_favicon_url="/static/vendor/favicon-32x32.png",
            with_google_fonts=False,
        )
