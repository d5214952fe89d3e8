"""The one place errors become responses: every error keeps the `{"error": {...}}` shape, even when
what it carries is not JSON by itself."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tracechain import errors
from tracechain.api.errors import install_error_handlers


def test_revert_arguments_that_are_bytes_are_shown_as_hex() -> None:
    """Undecodable revert data is raw bytes: the handler itself crashed on it (a bare 500)."""
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise errors.UnknownContractError({"data": b"\xde\xad", "more": (b"\x01", 2)}, error_name="UnknownError")

    install_error_handlers(app, app.router.routes)
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "unknown_contract_error" and error["details"] == {"data": "0xdead", "more": ["0x01", 2]}
