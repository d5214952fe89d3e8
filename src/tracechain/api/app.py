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
from tracechain.api.bodies import BodyLimitMiddleware
from tracechain.api.errors import install_error_handlers
from tracechain.api.routers import cases, documents, epcis, masterdata, notary, products, rights, system
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


async def follow_chain(runtime: Runtime, interval: float, standby: float = 5.0) -> None:
    """Index new blocks as they come, so no read request does indexing work. Only the process that
    holds the store's indexer lease does this; the others read what it writes, and try for the lease
    every `standby` seconds, so that one of them takes over when the indexing process stops."""
    lease = None
    try:
        while True:
            if lease is None:
                lease = await run_in_threadpool(runtime.store.try_indexer_lease)
                if lease is None:  # another process follows the chain for this store
                    await asyncio.sleep(standby)
                    continue
                log.info("this process indexes the store")
            await asyncio.sleep(interval)  # the app indexed once at start-up
            try:
                await run_in_threadpool(runtime.sync)
            except Exception:  # keep following; the next round retries (a node restart, say)
                log.exception("indexing new blocks failed")
    finally:
        if lease is not None:
            runtime.store.release_lease(lease)


def create_app(
    runtime: Runtime, *, batch_interval: float | None = None, index_interval: float | None = None
) -> FastAPI:
    """The API for `runtime`: consumers, auditors and writers, with docs at /docs.

    While it runs, one background task follows the chain into the index every `index_interval`
    seconds (default 0.5; reads answer at the index's checkpoint) and another anchors notary batches
    that are due by age, every `batch_interval` seconds (default: a quarter of the batch age limit,
    at most 30 s).
    """
    interval = batch_interval or min(30.0, runtime.settings.batch_max_age_seconds / 4)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(runtime.sync)  # the index is current before the first request
        except Exception:  # a node that does not answer yet: requests say so (503); the follower retries
            log.exception("indexing at start-up failed")
        runtime.following = True  # reads answer at the checkpoint this process (or another) keeps
        tasks = [
            asyncio.create_task(anchor_due_batches(runtime, interval)),
            asyncio.create_task(follow_chain(runtime, index_interval or 0.5)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            runtime.following = False

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
    settings = runtime.settings
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth)
    routers = [module.router for module in (system, products, notary, rights, masterdata, documents, epcis, cases)]
    for router in routers:
        app.include_router(router)
    install_web(app, runtime)

    install_error_handlers(app, [route for router in routers for route in router.routes] + list(app.router.routes))
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


def app_from_environment() -> FastAPI:
    """The app of one worker of `tracechain serve --workers N`: settings from the environment, the
    deployment from its manifest (the parent process deployed or checked it)."""
    from tracechain.services.runtime import open_runtime
    from tracechain.settings import get_settings

    return create_app(open_runtime(get_settings(), deploy_missing=False))
