"""The CLI's foundation commands: node, deploy (and reuse), compile --check, and clear failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from tracechain.chain.anvil import free_port
from tracechain.chain.connect import rpc_chain
from tracechain.cli.main import app

runner = CliRunner()


def _tracechain(*args: str) -> list[str]:
    return [sys.executable, "-c", "from tracechain.cli.main import main; main()", *args]


def test_node_keeps_state_across_restarts_and_deploy_reuses_the_manifest(tmp_path: Path) -> None:
    port, state = free_port(), tmp_path / "anvil.json"
    env = {**os.environ, "TRACECHAIN_DATA_DIR": str(tmp_path / "data")}
    url = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            _tracechain("node", "--port", str(port), "--state", str(state)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(f"Anvil listening on {url}"), first
        return proc

    def stop(proc: subprocess.Popen[str]) -> str:
        proc.send_signal(signal.SIGTERM)
        assert proc.stdout is not None
        out = proc.stdout.read()  # to the end, through what readline() already buffered
        assert proc.wait(30) == 0, out
        return out

    node = start()
    try:
        deployed = runner.invoke(app, ["deploy", "--rpc", url], env=env)
        assert deployed.exit_code == 0, deployed.output
        assert deployed.output.startswith("deployed on node at")
        block = rpc_chain(url).w3.eth.block_number
    finally:
        out = stop(node)
    assert "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in out and "state saved" in out
    assert state.stat().st_size > 0

    node = start()
    try:
        assert rpc_chain(url).w3.eth.block_number == block
        again = runner.invoke(app, ["deploy", "--rpc", url], env=env)
        assert again.exit_code == 0, again.output
        assert again.output.startswith("reused on node at")
        assert rpc_chain(url).w3.eth.block_number == block
    finally:
        stop(node)


def test_deploy_without_a_node_says_so_plainly() -> None:
    result = runner.invoke(app, ["deploy", "--rpc", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 6, result.output
    assert "no Ethereum node answers" in result.output
    assert "Traceback" not in result.output


def test_node_refuses_a_busy_port(tmp_path: Path) -> None:
    port = free_port()
    first = subprocess.Popen(
        _tracechain("node", "--port", str(port), "--state", str(tmp_path / "a.json")), stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout is not None and first.stdout.readline().startswith("Anvil listening")
        start = time.monotonic()
        second = runner.invoke(app, ["node", "--port", str(port), "--state", str(tmp_path / "b.json")])
        assert second.exit_code == 6 and "already in use" in second.output, second.output
        assert time.monotonic() - start < 10
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)


def test_compile_check_reports_fresh_artifacts() -> None:
    result = runner.invoke(app, ["compile", "--check"])
    assert result.exit_code == 0, result.output
    assert "artifacts are fresh" in result.output


def test_demo_runs_to_completion_without_serving(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--no-serve"], env={"TRACECHAIN_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "Acme Dairy Co-op" in result.output and "indexed up to block" in result.output
    assert "check it:" not in result.output  # no command that could not work once the chain is gone
    assert result.output.rstrip().endswith("`tracechain demo` serves them.")
