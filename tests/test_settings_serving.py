"""Printed URLs and QR codes follow the port a server really listens on."""

from __future__ import annotations

import pytest

from tracechain.settings import Settings


def test_the_public_base_url_follows_the_port() -> None:
    settings = Settings().serving_at(port=18601)
    assert settings.api_port == 18601 and settings.public_base_url == "http://127.0.0.1:18601"
    assert Settings().serving_at("0.0.0.0", 9000).public_base_url == "http://127.0.0.1:9000"


def test_an_explicit_public_base_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACECHAIN_PUBLIC_BASE_URL", "https://trace.example.com")
    settings = Settings().serving_at(port=18601)
    assert settings.api_port == 18601 and settings.public_base_url == "https://trace.example.com"


def test_demo_refuses_a_busy_port_before_telling_the_story() -> None:
    import socket

    from typer.testing import CliRunner

    from tracechain.cli.main import app

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = CliRunner().invoke(app, ["demo", "--port", str(port)])
    assert result.exit_code != 0, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "== Actors ==" not in result.output
