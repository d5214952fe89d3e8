"""The demo's notary chapter on the embedded chain, and `tracechain verify` checking its receipts
through the API's read-only JSON-RPC endpoint (the embedded chain has no endpoint of its own)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from typer.testing import CliRunner

from tracechain.api.app import create_app
from tracechain.chain.anvil import free_port
from tracechain.chain.connect import rpc_chain
from tracechain.cli.main import app as cli
from tracechain.demo import DemoContext
from tracechain.demo import notary as chapter


@pytest.fixture
def served(runtime) -> Iterator[str]:  # noqa: ANN001
    """The API over `runtime`, served on a free port in this process."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_demo_chapter_receipts_verify_through_the_read_only_rpc(runtime, net, served, tmp_path) -> None:
    runtime.settings = runtime.settings.model_copy(update={"public_base_url": served})
    lines: list[str] = []
    ctx = DemoContext(runtime=runtime, out=lines.append, accounts=dict(net.accounts))
    chapter.run(ctx)
    text = "\n".join(lines)
    assert "1000 records anchored" in text and "co-signed by buyer and seller" in text, text
    commands = [line.split("check it: ", 1)[1] for line in lines if "check it: " in line]
    assert len(commands) == 2
    for command in commands:
        args = command.split()[1:]
        assert args[0] == "verify" and f"{served}/v1/rpc" in args
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("OK: record ")
    # A standard client sees a standard chain there — and nothing that writes.
    chain = rpc_chain(f"{served}/v1/rpc")
    assert chain.chain_id == net.chain.chain_id
    refused = chain.w3.provider.make_request("eth_sendRawTransaction", ["0x00"])  # type: ignore[arg-type]
    assert refused["error"]["code"] == -32601
    # A tampered proof fails the same way it would against any node.
    receipt_path = next(line.split()[1] for line in lines if line.startswith("receipt:") and "delivery" in line)
    body = json.loads(open(receipt_path).read())
    body["merkle"]["proof"][3] = "0x" + "ab" * 32
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(body))
    result = CliRunner().invoke(cli, ["verify", str(forged), "--rpc", f"{served}/v1/rpc"])
    assert result.exit_code == 7 and "Merkle proof" in result.output, result.output
    body = json.loads(open(receipt_path).read())
    body["blockNumber"] += 1_000
    forged.write_text(json.dumps(body))
    result = CliRunner().invoke(cli, ["verify", str(forged), "--rpc", f"{served}/v1/rpc"])
    assert result.exit_code == 7 and "does not exist" in result.output, result.output
