"""Dependency aliases for routers (one place, as in the FastAPI full-stack template)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tracechain.services.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """The Runtime the app was created with (async: no worker thread just to read an attribute)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
