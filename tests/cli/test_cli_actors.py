"""`tracechain actors` against a real Anvil node: governance writes, reads, and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import dev_accounts
from tracechain.cli.main import app

runner = CliRunner()


@pytest.fixture
def node_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with AnvilNode(free_port()) as node:
        node.start()
        env = {"TRACECHAIN_DATA_DIR": str(tmp_path), "TRACECHAIN_RPC_URL": node.url}
        deployed = runner.invoke(app, ["deploy"], env=env)
        assert deployed.exit_code == 0, deployed.output
        yield env


def test_governance_registers_and_suspends_an_actor(node_env: dict[str, str]) -> None:
    newcomer = dev_accounts(5)[4].address
    args = ["actors", "register", newcomer, "--name", "Harbor Logistics", "--role", "logistics", "--dev-account", "0"]
    result = runner.invoke(app, args, env=node_env)
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["actors", "show", newcomer], env=node_env)
    assert "Harbor Logistics  [logistics]  active" in shown.output
    suspend = ["actors", "suspend", newcomer, "--reason", "audit", "--dev-account", "0"]
    suspended = runner.invoke(app, suspend, env=node_env)
    assert suspended.exit_code == 0, suspended.output
    listed = runner.invoke(app, ["actors", "list"], env=node_env)
    assert f"{newcomer}  Harbor Logistics  [logistics]  SUSPENDED" in listed.output


def test_non_governance_is_refused_with_exit_code_4(node_env: dict[str, str]) -> None:
    target = dev_accounts(5)[4].address
    args = ["actors", "register", target, "--name", "X", "--role", "retailer", "--dev-account", "3"]
    result = runner.invoke(app, args, env=node_env)
    assert result.exit_code == 4, result.output
    assert result.output.startswith(f"error: {dev_accounts(4)[3].address} is not a registered actor")


def test_bad_role_and_missing_signer_are_input_errors(node_env: dict[str, str]) -> None:
    target = dev_accounts(5)[4].address
    bad_role = runner.invoke(app, ["actors", "grant", target, "wizard", "--dev-account", "0"], env=node_env)
    assert bad_role.exit_code == 2 and "role 'wizard' is unknown" in bad_role.output
    no_signer = runner.invoke(app, ["actors", "grant", target, "retailer"], env=node_env)
    assert no_signer.exit_code == 2 and "--key or --dev-account" in no_signer.output


def test_commands_that_need_a_node_say_so_with_exit_code_8(tmp_path: Path) -> None:
    env = {"TRACECHAIN_DATA_DIR": str(tmp_path), "TRACECHAIN_RPC_URL": ""}
    result = runner.invoke(app, ["actors", "list"], env=env)
    assert result.exit_code == 8 and "needs a node" in result.output, result.output
    assert "tracechain node" in result.output
