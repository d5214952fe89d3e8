"""Builds the FastAPI application over a Runtime."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from tracechain import __version__
from tracechain.api.errors import install_error_handlers
from tracechain.api.routers import notary, products, rights, system
from tracechain.services.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    """The API for `runtime`: consumers, auditors and writers, with docs at /docs."""
    app = FastAPI(
        title="TraceChain",
        version=__version__,
        description="Product provenance, data-rights certificates and notarized records, "
        "each answer with what you need to check it against the chain yourself.",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    for module in (system, products, notary, rights):
        app.include_router(module.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return resources.files("tracechain.api").joinpath("static/index.html").read_text()

    return app
