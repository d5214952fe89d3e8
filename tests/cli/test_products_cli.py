"""`tracechain product` against a real Anvil node: register, events, EPCIS import, custody, recall,
trace — and the refusals, as exit codes with one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.services.test_provenance_service import GTIN, epcis_document, event_doc
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import dev_accounts
from tracechain.cli.main import app

runner = CliRunner()
ACCOUNTS = dev_accounts()
# dev account: 0 governance/operator, 1 manufacturer, 2 logistics, 3 retailer, 4 unregistered
CAST = [(1, "Acme Dairy", "manufacturer"), (2, "Harbor Logistics", "logistics"), (3, "FreshMart", "retailer")]


def _ok(args: list[str], env: dict[str, str]) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def node_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("product-cli")
    with AnvilNode(free_port()) as node:
        node.start()
        env = {"TRACECHAIN_DATA_DIR": str(tmp), "TRACECHAIN_RPC_URL": node.url}
        _ok(["deploy"], env)
        for index, name, role in CAST:
            _ok(
                ["actors", "register", ACCOUNTS[index].address, "--name", name, "--role", role, "--dev-account", "0"],
                env,
            )
        yield env


def test_product_lifecycle_through_the_cli(node_env: dict[str, str], tmp_path: Path) -> None:
    pid = f"https://id.example.com/01/{GTIN}/21/CLI-1"
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"name": "Organic milk"}))
    out = _ok(["product", "register", pid, "--metadata", str(meta), "--dev-account", "1"], node_env)
    assert f"registered 01/{GTIN}/21/CLI-1" in out and f"/01/{GTIN}/21/CLI-1" in out
    out = _ok(
        [
            "product",
            "event",
            pid,
            "--biz-step",
            "commissioning",
            "--read-point",
            "urn:epc:id:sgln:9506000.13435.1",
            "--event-time",
            "2026-03-01T08:00:00+01:00",
            "--dev-account",
            "1",
        ],
        node_env,
    )
    assert "recorded 1 event(s)" in out and "ni:///sha-256;" in out
    _ok(["product", "transfer", pid, ACCOUNTS[2].address, "--dev-account", "1", "--direct"], node_env)
    events = tmp_path / "events.json"
    events.write_text(json.dumps([event_doc([pid], "shipping", 60, "in_transit"), event_doc([pid], "receiving", 90)]))
    _ok(["product", "event", "--file", str(events), "--dev-account", "2"], node_env)
    forced = _ok(
        ["product", "force-custody", pid, ACCOUNTS[1].address, "--reason", "key lost", "--dev-account", "0"], node_env
    )
    assert "forced to Acme Dairy" in forced
    _ok(["product", "recall", pid, "--reason", "Listeria in lot L-42", "--dev-account", "1"], node_env)

    out = _ok(["product", "trace", pid], node_env)
    assert out.startswith("*** RECALLED *** Listeria in lot L-42")
    assert "custodian    Acme Dairy" in out and "verification VERIFIED" in out
    assert [line.split()[2] for line in out.splitlines() if line.startswith("  #")] == [
        "commissioning",
        "custody",
        "shipping",
        "receiving",
        "forced_custody",
        "recall",
    ]
    body = json.loads(_ok(["product", "trace", pid, "--json"], node_env))
    assert body["recalled"] and body["verification"]["verified"]
    assert [e["kind"] for e in body["entries"]].count("event") == 3


def test_import_epcis_in_one_batch(node_env: dict[str, str], tmp_path: Path) -> None:
    pids = [f"01/{GTIN}/21/CLI-B{i}" for i in range(3)]
    _ok(["product", "register", pids[0], "--dev-account", "1"], node_env)  # the others are created by the import
    doc = tmp_path / "epcis.json"
    doc.write_text(
        json.dumps(epcis_document([event_doc(pids, "commissioning", 0, "active"), event_doc(pids[:1], "packing", 5)]))
    )
    out = _ok(["product", "import-epcis", str(doc), "--dev-account", "1"], node_env)
    assert "imported 2 event(s) in 1 transaction(s)" in out
    assert "verification VERIFIED" in _ok(["product", "trace", pids[2]], node_env)
    again = _ok(["product", "import-epcis", str(doc), "--dev-account", "1"], node_env)
    assert "imported 0 event(s) in 0 transaction(s), 2 already recorded" in again


def test_refusals_are_exit_codes_with_clear_messages(node_env: dict[str, str], tmp_path: Path) -> None:
    pid = f"01/{GTIN}/21/CLI-R"
    _ok(["product", "register", pid, "--dev-account", "1"], node_env)
    cases = [
        (["product", "register", f"{pid}X", "--dev-account", "0"], 4, "is not an active manufacturer, logistics"),
        (["product", "register", pid, "--dev-account", "1"], 5, f"{pid} is already registered"),
        (
            ["product", "event", pid, "--biz-step", "shipping", "--dev-account", "2"],
            4,
            f"Harbor Logistics ({ACCOUNTS[2].address}) is not the custodian of {pid}; Acme Dairy",
        ),
        (["product", "event", pid, "--biz-step", "teleporting", "--dev-account", "1"], 2, "teleporting"),
        (["product", "transfer", pid, ACCOUNTS[4].address, "--dev-account", "1"], 4, "is not a registered actor"),
        (["product", "recall", pid, "--reason", "x", "--dev-account", "2"], 4, f"may not recall {pid}"),
        (
            ["product", "force-custody", pid, ACCOUNTS[2].address, "--reason", "x", "--dev-account", "1"],
            4,
            "governance",
        ),
        (["product", "trace", f"01/{GTIN}/21/NOPE"], 3, "no product"),
        (["product", "trace", f"01/{GTIN[:-1]}0/21/X"], 2, "check digit"),
    ]
    for args, code, text in cases:
        result = runner.invoke(app, args, env=node_env)
        assert result.exit_code == code, f"{args}: {result.output}"
        assert result.output.startswith("error: ") and text in result.output, result.output
    bad_doc = tmp_path / "bad.json"
    bad_doc.write_text(json.dumps(epcis_document([{**event_doc([pid], "packing"), "eventTime": "yesterday"}])))
    result = runner.invoke(app, ["product", "import-epcis", str(bad_doc), "--dev-account", "1"], env=node_env)
    assert result.exit_code == 2 and "eventTime" in result.output
