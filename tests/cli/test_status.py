"""`tracechain status` (alias `doctor`): where you are — chain, block, deployment, index and its lag,
operator and balance, notary queue — each part told even when another cannot be read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.cli.main import app
from tracechain.settings import get_settings

runner = CliRunner()
OPERATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    get_settings.cache_clear()
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def node(tmp_path: Path) -> Iterator[dict[str, str]]:
    with AnvilNode(free_port()) as anvil:
        anvil.start()
        yield {"TRACECHAIN_DATA_DIR": str(tmp_path), "TRACECHAIN_RPC_URL": anvil.url}


def test_status_of_a_deployment(node: dict[str, str], tmp_path: Path) -> None:
    assert run(node, "deploy")[0] == 0
    record = tmp_path / "note.json"
    record.write_text(json.dumps({"type": "delivery", "note": "DN-1"}))
    assert run(node, "notarize", str(record), "--batch")[0] == 0
    code, out = run(node, "status")
    assert code == 0, out
    lines = dict(line.split(None, 1) if not line.startswith("notary queue") else ("queue", line[13:])
                 for line in out.splitlines() if line and not line.startswith(" "))  # fmt: skip
    assert lines["chain"] == f"31337 at {node['TRACECHAIN_RPC_URL']}, local dev chain"
    assert lines["block"].split()[0].isdigit()
    assert "deployments/31337.json (matches the chain)" in lines["deployment"]
    assert "Notary " in out and "DataRightsRegistry " in out
    assert lines["index"].startswith("block ") and "store sqlite:///" in lines["index"]
    assert lines["operator"].startswith(f"{OPERATOR} (dev account 0), balance ") and lines["operator"].endswith(" ETH")
    assert lines["queue"] == "1 record queued, 0 sealed batches"
    body = json.loads(run(node, "doctor", "--json")[1])
    assert body["chain"]["chainId"] == 31337 and body["deployment"]["matchesChain"]
    assert body["index"]["lagBlocks"] >= 0 and body["notaryQueue"]["queued"] == 1
    assert body["operator"]["address"] == OPERATOR and int(body["operator"]["balanceWei"]) > 0


def test_status_before_deploying_says_how_to_deploy(node: dict[str, str]) -> None:
    code, out = run(node, "status")
    assert code == 0, out
    assert "deployment   unavailable: no deployment manifest at" in out
    assert f"tracechain deploy --rpc {node['TRACECHAIN_RPC_URL']}" in out
    assert f"operator     {OPERATOR}" in out  # the other parts are still told


def test_status_without_a_node(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    code, out = run({"TRACECHAIN_DATA_DIR": str(tmp_path), "TRACECHAIN_RPC_URL": dead}, "status")
    assert code == 6 and f"chain        unavailable: no Ethereum node answers at {dead}" in out, out
    code, out = run({"TRACECHAIN_DATA_DIR": str(tmp_path), "TRACECHAIN_RPC_URL": ""}, "status", "--json")
    assert code == 8, out
    assert json.loads(out)["chain"]["error"].startswith("no node configured")
