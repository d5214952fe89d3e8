"""`tracechain batch flush` when the node fails (issue 8, sections 2 and 3), on a real Anvil node:

- the node stops answering just after the anchoring transaction is mined: one line, exit code 6,
  the batch stays sealed, and the next flush notes it anchored without sending it again;
- the node comes back from an older state that lacks the anchor: no receipt is served, the batch is
  sealed again, and the next flush anchors the same root in a new block whose receipt verifies.

The node "stops answering" behind a JSON-RPC relay that forwards to Anvil and goes away, without
answering, at the first receipt of a mined transaction: a real node, a real failure, at an exact
moment (no timing).
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import CAST, _build
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.cli.main import app
from tracechain.hashing import document_hash, to_hex
from tracechain.store.db import Store
from tracechain.store.notary import SEALED, NotaryBatchRow

runner = CliRunner()
NOTARY = str(CAST["notary"][0])
NOTES = [{"type": "delivery", "note": f"DN-{i}"} for i in range(3)]


class DyingRelay(ThreadingHTTPServer):
    """Forwards JSON-RPC to `upstream` until it sees a mined transaction's receipt; then it goes
    away without answering, and nothing answers on its port any more."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.dead = threading.Event()
        super().__init__(("127.0.0.1", free_port()), _RelayHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def die(self) -> None:
        self.dead.set()
        threading.Thread(target=lambda: (self.shutdown(), self.server_close()), daemon=True).start()


class _RelayHandler(BaseHTTPRequestHandler):
    server: DyingRelay

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.dead.is_set():
            self.close_connection = True
            return
        headers = {"Content-Type": "application/json"}
        answer = requests.post(self.server.upstream, data=body, headers=headers, timeout=10)
        request: Any = json.loads(body)
        if isinstance(request, dict) and request.get("method") == "eth_getTransactionReceipt":
            if answer.json().get("result") is not None:  # mined: the node "dies" before saying so
                self.close_connection = True
                self.server.die()
                return
        self.send_response(answer.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args: Any) -> None:
        pass


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def node(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An Anvil node with the deployment and its actors, a copy of its state from before any
    anchoring (to restart from, as after a crash that lost the last blocks), and the CLI's env."""
    state, port = tmp_path / "anvil-state.json", free_port()
    anvil = AnvilNode(port, state)
    chain = anvil.start()
    net = _build(chain)
    net.deployment.write(tmp_path / "data" / "deployments" / f"{chain.chain_id}.json")
    anvil.stop()  # saves the state
    shutil.copy(state, tmp_path / "older-state.json")
    anvil = AnvilNode(port, state)
    anvil.start()
    env = {"TRACECHAIN_DATA_DIR": str(tmp_path / "data"), "TRACECHAIN_RPC_URL": anvil.url}
    context = {"anvil": anvil, "env": env, "state": state, "tmp": tmp_path, "port": port, "net": net}
    try:
        yield context
    finally:
        context["anvil"].stop()


def _restart_from_older_state(node: dict[str, Any]) -> None:
    node["anvil"].stop()
    shutil.copy(node["tmp"] / "older-state.json", node["state"])
    node["anvil"] = AnvilNode(node["port"], node["state"])
    node["anvil"].start()


def test_flush_survives_a_dying_node_and_a_node_that_comes_back_without_the_anchor(node) -> None:
    env, tmp = node["env"], node["tmp"]
    files = []
    for i, note in enumerate(NOTES):
        files.append(tmp / f"note{i}.json")
        files[-1].write_text(json.dumps(note))
        code, out = run(env, "notarize", str(files[-1]), "--batch")
        assert code == 0 and "queued" in out, out
    h = to_hex(document_hash(NOTES[1]))

    # 1. The node dies just after the anchoring transaction is mined.
    relay = DyingRelay(env["TRACECHAIN_RPC_URL"])
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    code, out = run(env, "batch", "flush", "--rpc", relay.url, "--dev-account", NOTARY)
    assert code == 6, out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out, out
    assert out.startswith("error: ") and "stays sealed" in out, out
    with Store(f"sqlite:///{tmp / 'data' / 'tracechain.db'}").session() as s:
        (batch,) = s.scalars(select(NotaryBatchRow)).all()
        assert batch.status == SEALED and "did not answer" in (batch.last_error or "")

    # 2. The node is back (it had mined the anchor): the flush notes it and sends nothing.
    notary = node["net"].accounts["notary"].address
    nonce = node["net"].chain.w3.eth.get_transaction_count(notary)
    code, out = run(env, "batch", "flush", "--dev-account", NOTARY)
    assert code == 0 and out.startswith("confirmed batch") and "3 records" in out, out
    assert node["net"].chain.w3.eth.get_transaction_count(notary) == nonce
    first_block = int(out.split(" in block ")[1].split()[0])
    receipt = tmp / "first.receipt.json"
    code, out = run(env, "receipt", h, "--out", str(receipt))
    assert code == 0, out
    code, out = run(env, "verify", str(receipt), "--record", str(files[1]))
    assert code == 0 and out.startswith("OK: record "), out

    # 3. The node restarts from an older state, without the anchoring block.
    _restart_from_older_state(node)
    code, out = run(env, "receipt", h)
    assert code == 3 and "not hold" in out, out  # no receipt for an anchor the chain does not have
    code, out = run(env, "batch", "status")
    assert code == 0 and "sealed batch" in out, out
    code, out = run(env, "verify", str(receipt))
    assert code == 7, out  # the old receipt no longer holds, and says so

    # 4. The next flush anchors the same batch again, in a new block; its receipt verifies.
    code, out = run(env, "batch", "flush", "--dev-account", NOTARY)
    assert code == 0 and out.startswith("anchored batch") and "3 records" in out, out
    assert int(out.split(" in block ")[1].split()[0]) <= first_block  # the chain restarted lower
    code, out = run(env, "receipt", h, "--out", str(receipt))
    assert code == 0, out
    code, out = run(env, "verify", str(receipt), "--record", str(files[1]))
    assert code == 0 and out.startswith("OK: record "), out
    code, out = run(env, "batch", "flush", "--dev-account", NOTARY)
    assert code == 0 and out.startswith("nothing to anchor"), out
