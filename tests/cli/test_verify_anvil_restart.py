"""End to end on a real node: notarize with the CLI (single, co-signed, batched), stop Anvil, restart
it from its state file, and `tracechain verify` every receipt against the restarted chain alone —
and fail, with one line and exit code 7, on every tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import CAST, _build
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.cli.main import app
from tracechain.hashing import document_hash, to_hex

runner = CliRunner()
NOTARY = str(CAST["notary"][0])
ORDER = {"type": "purchase_order", "number": "PO-2026-1001", "buyer": "Retailer", "total": "480.00"}


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Receipts made on an Anvil node, and the URL of that node after a restart from its state."""
    tmp = tmp_path_factory.mktemp("restart")
    state, port = tmp / "anvil-state.json", free_port()
    env = {"TRACECHAIN_DATA_DIR": str(tmp / "data"), "TRACECHAIN_BATCH_MAX_RECORDS": "1000"}
    node = AnvilNode(port, state)
    chain = node.start()
    try:
        net = _build(chain)
        net.deployment.write(tmp / "data" / "deployments" / f"{chain.chain_id}.json")
        url = node.url
        files = {}
        for name, doc in {
            "order": ORDER,
            "contract": {"type": "contract", "ref": "C-2026-7", "parties": ["Retailer", "Manufacturer"]},
            **{f"note{i}": {"type": "delivery", "note": f"DN-{i}"} for i in range(5)},
        }.items():
            files[name] = tmp / f"{name}.json"
            files[name].write_text(json.dumps(doc))
        receipts = {k: tmp / f"{k}.receipt.json" for k in ("order", "contract", "note3")}

        code, out = run(env, "notarize", str(files["order"]), "--rpc", url, "--dev-account", NOTARY,
                        "--out", str(receipts["order"]))  # fmt: skip
        assert code == 0, out
        assert f"tracechain verify {receipts['order']} --record {files['order']} --rpc {url}" in out
        code, out = run(env, "notarize", str(files["contract"]), "--rpc", url, "--cosign", "dev:3", "--cosign",
                        "dev:1", "--out", str(receipts["contract"]))  # fmt: skip
        assert code == 0, out
        for i in range(5):
            code, out = run(env, "notarize", str(files[f"note{i}"]), "--batch", "--rpc", url)
            assert code == 0 and "queued" in out, out
        code, out = run(env, "batch", "flush", "--rpc", url, "--dev-account", NOTARY)
        assert code == 0 and "anchored batch" in out and "5 records" in out, out
        code, out = run(env, "receipt", to_hex(document_hash({"type": "delivery", "note": "DN-3"})), "--rpc", url,
                        "--out", str(receipts["note3"]))  # fmt: skip
        assert code == 0, out
        head = chain.w3.eth.block_number
    finally:
        node.stop()
    node = AnvilNode(port, state)
    chain = node.start()
    try:
        assert chain.w3.eth.block_number == head
        yield {"url": node.url, "env": env, "files": files, "receipts": receipts}
    finally:
        node.stop()


@pytest.mark.parametrize(("receipt", "record"), [("order", "order"), ("contract", "contract"), ("note3", "note3")])
def test_receipts_verify_after_anvil_restarts_from_state(restarted, receipt, record) -> None:
    r = restarted
    code, out = run(r["env"], "verify", str(r["receipts"][receipt]), "--rpc", r["url"], "--record",
                    str(r["files"][record]))  # fmt: skip
    assert code == 0, out
    assert out.startswith("OK: record ") and len(out.strip().splitlines()) == 1


def _tampered(tmp_path: Path, source: Path, change) -> Path:  # noqa: ANN001
    body = json.loads(source.read_text())
    change(body)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(body))
    return path


def _flip(h: str) -> str:
    return h[:-1] + ("0" if h[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("receipt", "change", "reason"),
    [
        ("note3", lambda b: b["merkle"]["proof"].__setitem__(0, _flip(b["merkle"]["proof"][0])), "Merkle proof"),
        ("note3", lambda b: b["merkle"].__setitem__("root", _flip(b["merkle"]["root"])), "is not the id"),
        ("order", lambda b: b.__setitem__("contract", "0x" + "33" * 20), "no contract"),
        ("contract", lambda b: b["parties"].reverse(), "is not the id"),
        ("order", lambda b: b.__setitem__("blockNumber", b["blockNumber"] + 1_000), "does not exist"),
        ("order", lambda b: b.__setitem__("txHash", _flip(b["txHash"])), "not on this chain"),
    ],
    ids=["proof", "root", "contract", "parties", "block", "tx"],
)
def test_tampered_receipt_fails_with_one_line(restarted, tmp_path, receipt, change, reason) -> None:
    path = _tampered(tmp_path, restarted["receipts"][receipt], change)
    code, out = run(restarted["env"], "verify", str(path), "--rpc", restarted["url"])
    assert code == 7, out
    assert reason in out and len(out.strip().splitlines()) == 1, out


def test_tampered_record_fails(restarted, tmp_path) -> None:
    record = tmp_path / "order.json"
    record.write_text(json.dumps({**ORDER, "total": "4800.00"}))
    code, out = run(restarted["env"], "verify", str(restarted["receipts"]["order"]), "--rpc", restarted["url"],
                    "--record", str(record))  # fmt: skip
    assert code == 7 and "the record hashes to" in out, out


def test_malformed_receipt_is_invalid_input(restarted, tmp_path) -> None:
    path = _tampered(tmp_path, restarted["receipts"]["order"], lambda b: b.__setitem__("version", 99))
    code, out = run(restarted["env"], "verify", str(path), "--rpc", restarted["url"])
    assert code == 2 and "unsupported receipt version" in out, out


def test_verify_needs_a_node(restarted) -> None:
    code, out = run({"TRACECHAIN_RPC_URL": ""}, "verify", str(restarted["receipts"]["order"]))
    assert code == 8 and "--rpc" in out, out


def test_cli_writes_by_non_notaries_are_refused(restarted) -> None:
    r, retailer = restarted, str(CAST["retailer"][0])
    code, out = run(r["env"], "notarize", str(r["files"]["order"]), "--kind", "invoice", "--rpc", r["url"],
                    "--dev-account", retailer)  # fmt: skip
    assert code == 4 and "does not hold the notary role" in out, out
    queued = r["files"]["note0"].with_name("late.json")
    queued.write_text(json.dumps({"type": "delivery", "note": "late"}))
    code, out = run(r["env"], "notarize", str(queued), "--batch", "--rpc", r["url"])
    assert code == 0, out
    code, out = run(r["env"], "batch", "flush", "--rpc", r["url"], "--dev-account", retailer)
    assert code == 4 and "stays sealed" in out, out
    code, out = run(r["env"], "batch", "status", "--rpc", r["url"])
    assert code == 0 and "0 records queued" in out and "sealed batch" in out and "ActorRegistryMissingRole" in out, out
    code, out = run(r["env"], "batch", "flush", "--rpc", r["url"], "--dev-account", NOTARY)
    assert code == 0 and "anchored batch" in out and "1 records" in out, out


def test_notarizing_twice_is_a_conflict(restarted) -> None:
    r = restarted
    code, out = run(r["env"], "notarize", str(r["files"]["order"]), "--rpc", r["url"], "--dev-account", NOTARY)
    assert code == 5 and "is already notarized (block" in out, out


def test_verify_against_a_dead_node_is_unavailable(restarted) -> None:
    code, out = run(restarted["env"], "verify", str(restarted["receipts"]["order"]), "--rpc",
                    f"http://127.0.0.1:{free_port()}")  # fmt: skip
    assert code == 6 and "no Ethereum node answers" in out, out


def test_verify_pins_the_trusted_notary(restarted) -> None:
    r = restarted
    receipt = str(r["receipts"]["order"])
    notary = json.loads(Path(receipt).read_text())["contract"]
    code, out = run(r["env"], "verify", receipt, "--rpc", r["url"], "--notary", notary)
    assert code == 0, out
    other = "0x" + "12" * 20
    code, out = run(r["env"], "verify", receipt, "--rpc", r["url"], "--notary", other)
    assert code == 7 and "not the trusted Notary" in out, out
