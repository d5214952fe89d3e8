"""`tracechain rights` against a real Anvil node: the lifecycle from the shell, and refusals as
exit codes with one-line messages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import dev_accounts
from tracechain.cli.main import app
from tracechain.cli.rights import parse_time
from tracechain.errors import InvalidInputError

runner = CliRunner()
ACCOUNTS = dev_accounts(5)
RETAILER, ANALYST, LOGISTICS = ACCOUNTS[3].address, ACCOUNTS[1].address, ACCOUNTS[2].address


def _ok(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def node_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with AnvilNode(free_port()) as node:
        node.start()
        env = {"TRACECHAIN_DATA_DIR": str(tmp_path), "TRACECHAIN_RPC_URL": node.url}
        _ok(env, "deploy")
        for address, name, role in ((RETAILER, "FreshMart", "retailer"), (ANALYST, "Acme", "manufacturer"),
                                    (LOGISTICS, "Harbor", "logistics")):  # fmt: skip
            _ok(env, "actors", "register", address, "--name", name, "--role", role, "--dev-account", "0")
        (tmp_path / "manifest.json").write_text(json.dumps({"dataset": "sales 2026-10", "rows": 4821}))
        (tmp_path / "terms.json").write_text(json.dumps({"licence": "forecasting only"}))
        yield env


def _id(output: str, label: str) -> str:
    match = re.search(rf"{label} (0x[0-9a-f]{{64}})", output)
    assert match, output
    return match.group(1)


def test_rights_lifecycle_from_the_shell(node_env: dict[str, str], tmp_path: Path) -> None:
    env = node_env
    dataset = _id(_ok(env, "rights", "register", str(tmp_path / "manifest.json"), "--dev-account", "3"), "dataset")
    granted = _ok(env, "rights", "grant", dataset, ANALYST, "--right", "processing",
                  "--terms", str(tmp_path / "terms.json"), "--expires", "30d", "--dev-account", "3")  # fmt: skip
    cert = _id(granted, "certificate")
    assert "use #0" in _ok(env, "rights", "use", cert, "--right", "processing", "--purpose", "forecast",
                           "--dev-account", "1")  # fmt: skip
    assert _ok(env, "rights", "check", dataset, ANALYST, "--right", "processing").startswith("yes:")

    shown = _ok(env, "rights", "show", cert)
    assert f"certificate {cert}: valid" in shown and "use #0 by" in shown
    as_json = json.loads(_ok(env, "rights", "show", dataset, "--json"))
    assert as_json["holder"] == RETAILER and as_json["certificates"][0]["status"] == "valid"

    _ok(env, "rights", "transfer", dataset, LOGISTICS, "--dev-account", "3")
    assert f"holder      Harbor ({LOGISTICS})" in _ok(env, "rights", "show", dataset)
    _ok(env, "rights", "revoke", cert, "--reason", "renegotiation", "--dev-account", "2")
    refused = runner.invoke(app, ["rights", "use", cert, "--right", "processing", "--purpose", "x",
                                  "--dev-account", "1"], env=env)  # fmt: skip
    assert refused.exit_code == 4, refused.output
    assert refused.output.startswith(f"error: certificate {cert} was revoked on 20")
    no = runner.invoke(app, ["rights", "check", dataset, ANALYST, "--right", "processing"], env=env)
    assert no.exit_code == 1 and no.output.startswith("no:") and "is revoked" in no.output


def test_refusals_are_exit_codes(node_env: dict[str, str], tmp_path: Path) -> None:
    env = node_env
    manifest = str(tmp_path / "manifest.json")
    outsider = runner.invoke(app, ["rights", "register", manifest, "--dev-account", "4"], env=env)
    assert outsider.exit_code == 4 and "is not a registered actor" in outsider.output
    dataset = _id(_ok(env, "rights", "register", manifest, "--dev-account", "3"), "dataset")
    again = runner.invoke(app, ["rights", "register", manifest, "--dev-account", "3"], env=env)
    assert again.exit_code == 5 and f"dataset {dataset} is already registered" in again.output
    # Another actor registering the same manifest gets a dataset of its own.
    other = _id(_ok(env, "rights", "register", manifest, "--dev-account", "1"), "dataset")
    assert other != dataset
    args = ["rights", "grant", dataset, LOGISTICS, "--right", "processing", "--terms", str(tmp_path / "terms.json"),
            "--expires", "1d"]  # fmt: skip
    not_holder = runner.invoke(app, [*args, "--dev-account", "1"], env=env)
    assert not_holder.exit_code == 4 and f"Acme ({ANALYST}) does not hold dataset {dataset}" in not_holder.output
    bad_right = runner.invoke(app, ["rights", "check", dataset, ANALYST, "--right", "flying"], env=env)
    assert bad_right.exit_code == 2 and "right 'flying' is unknown" in bad_right.output
    missing = runner.invoke(app, ["rights", "show", "0x" + "12" * 32], env=env)
    assert missing.exit_code == 3 and "neither a registered dataset nor a certificate" in missing.output
    unknown = runner.invoke(app, ["rights", "check", "0x" + "12" * 32, ANALYST, "--right", "processing"], env=env)
    assert unknown.exit_code == 1 and unknown.output.startswith("no:") and "no dataset is registered" in unknown.output


def test_parse_time() -> None:
    assert parse_time("30d", 1000) == 1000 + 30 * 86_400
    assert parse_time("12h", 0) == 43_200
    assert parse_time("1767225600", 0) == 1_767_225_600
    assert parse_time("2026-01-01T00:00:00+00:00", 0) == 1_767_225_600
    for bad in ("soon", "2026-01-01T00:00:00"):
        with pytest.raises(InvalidInputError):
            parse_time(bad, 0)
