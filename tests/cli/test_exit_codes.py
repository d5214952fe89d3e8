"""Exit codes exactly as documented: the one table (README, `tracechain --help`) against the code's
mapping, every error class against a documented code, and real failures against the table."""

from __future__ import annotations

import inspect
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracechain import errors
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import dev_accounts
from tracechain.cli import common
from tracechain.cli.exitcodes import EXIT_CODES, INTERNAL, exit_code_for, exit_code_table
from tracechain.cli.main import app
from tracechain.settings import get_settings

runner = CliRunner()
DOCUMENTED = {e.code for e in EXIT_CODES}
ACCOUNTS = dev_accounts()
ORDER = {"type": "purchase_order", "number": "PO-1", "total": "1.00"}


def test_the_table_is_in_the_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert f"Exit codes:\n{exit_code_table()}\n" in result.output


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.InvalidInputError("x"), 2),
        (errors.NotFoundError("x"), 3),
        (errors.PermissionDeniedError("x"), 4),
        (errors.SignatureError("x"), 4),
        (errors.ConflictError("x"), 5),
        (errors.DeploymentError("x"), 5),
        (errors.ChainUnavailableError("x"), 6),
        (errors.NodeStartError("x"), 6),
        (errors.IntegrityError("x"), 7),
        (errors.ReceiptMismatchError("x"), 7),
        (errors.ConfigurationError("x"), 8),
        (errors.ArtifactMissingError("x"), 8),
        (errors.CompilationError("x"), 8),
        (errors.TransactionError("x"), 9),
        (errors.UnknownContractError({"data": "0x12345678"}), 9),
        (ZeroDivisionError(), INTERNAL),
    ],
)
def test_each_category_has_its_code(exc: BaseException, code: int) -> None:
    assert exit_code_for(exc) == code


def test_every_error_class_ends_with_a_documented_code_and_never_as_internal() -> None:
    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if not issubclass(cls, errors.TraceChainError) or cls in (errors.TraceChainError, errors.ContractRevertError):
            continue
        exc = cls({}) if issubclass(cls, errors.ContractRevertError) else cls("x")
        code = exit_code_for(exc)
        assert code in DOCUMENTED and code != INTERNAL, f"{name} exits {code}"


# ---------------------------------------------------------------- real failures
@pytest.fixture(scope="module")
def node_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("exit-codes")
    with AnvilNode(free_port()) as node:
        node.start()
        env = {"TRACECHAIN_DATA_DIR": str(tmp), "TRACECHAIN_RPC_URL": node.url}
        for args in (
            ["deploy"],
            ["actors", "register", ACCOUNTS[1].address, "--name", "Acme Dairy Co-op", "--role", "manufacturer",
             "--dev-account", "0"],
            ["actors", "register", ACCOUNTS[6].address, "--name", "Platform Notary", "--role", "notary",
             "--dev-account", "0"],
        ):  # fmt: skip
            result = runner.invoke(app, args, env=env)
            assert result.exit_code == 0, result.output
        order = tmp / "po.json"
        order.write_text(json.dumps(ORDER))
        done = runner.invoke(app, ["notarize", str(order), "--dev-account", "6", "--out", str(tmp / "po.receipt.json")],
                             env=env)  # fmt: skip
        assert done.exit_code == 0, done.output
        yield env


def _code(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = runner.invoke(app, args, env=env)
    return result.exit_code, result.output


def test_real_failures_exit_as_documented(node_env: dict[str, str], tmp_path: Path) -> None:
    data = Path(node_env["TRACECHAIN_DATA_DIR"])
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**ORDER, "total": "9.99"}))
    outsider, acme = ACCOUNTS[8].address, ACCOUNTS[1].address
    register = ["actors", "register", acme, "--name", "Acme again", "--role", "retailer"]
    cases = [
        (["product", "event", "01/09506000134352/21/X", "--biz-step", "shiping"], 2, "did you mean 'shipping'?"),
        (["product", "trace", "x", "--no-such-option"], 2, "no such option"),
        (["actors", "show", outsider], 3, f"{outsider} is not a registered actor"),
        ([*register[:2], outsider, *register[3:], "--dev-account", "1"], 4, "Acme Dairy Co-op ("),
        ([*register, "--dev-account", "0"], 5, f"Acme Dairy Co-op ({acme}) is already a registered actor"),
        (["product", "trace", "x", "--rpc", f"http://127.0.0.1:{free_port()}"], 6, "no Ethereum node answers"),
        (["verify", str(data / "po.receipt.json"), "--record", str(other)], 7, "the record hashes to"),
        (["product", "trace", "x"], 8, "needs a node"),  # with TRACECHAIN_RPC_URL unset, below
    ]
    for args, code, text in cases:
        get_settings.cache_clear()  # each command is a process of its own, reading its environment
        got, out = _code(args, {**node_env, "TRACECHAIN_RPC_URL": ""} if code == 8 else node_env)
        assert got == code, f"{args}: {out}"
        assert text in out, f"{args}: {out}"
        assert out.startswith("error: ") and "Traceback" not in out, out


def test_a_node_without_a_deployment_is_not_set_up(tmp_path: Path) -> None:
    with AnvilNode(free_port()) as node:
        node.start()
        env = {"TRACECHAIN_DATA_DIR": str(tmp_path), "TRACECHAIN_RPC_URL": node.url}
        code, out = _code(["actors", "list"], env)
    assert code == 8 and "no TraceChain deployment is recorded for chain 31337" in out, out
    assert f"tracechain deploy --rpc {node.url}" in out


def test_deploy_refuses_the_embedded_chain(tmp_path: Path) -> None:
    code, out = _code(["deploy"], {"TRACECHAIN_DATA_DIR": str(tmp_path), "TRACECHAIN_RPC_URL": ""})
    assert code == 8, out
    assert out.startswith("error: deploy needs a node: the embedded chain lives only inside one command")
    assert "tracechain node" in out and "tracechain deploy --rpc http://127.0.0.1:8545" in out
    assert not (tmp_path / "deployments").exists()


def test_serve_on_a_busy_port_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out = _code(["serve", "--port", str(port)], {"TRACECHAIN_DATA_DIR": str(tmp_path)})
    assert code == 6, out
    assert f"cannot listen on 127.0.0.1:{port}" in out and "--port" in out


def test_a_check_that_says_no_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracechain.chain.compile as compile_module

    monkeypatch.setattr(compile_module, "artifacts_are_fresh", lambda: ["Notary"])
    code, out = _code(["compile", "--check"], {})
    assert code == 1 and "stale artifacts: Notary" in out, out


def test_a_bug_is_an_internal_error_with_its_traceback_behind_verbose(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(path: str) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(common, "read_json", broken)
    monkeypatch.setattr("tracechain.cli.notary.read_json", broken)
    code, out = _code(["notarize", str(tmp_path / "po.json")], {})
    assert code == INTERNAL and out.startswith("error: ZeroDivisionError: division by zero\nhint: this is a bug"), out
    assert "Traceback" not in out
    code, out = _code(["notarize", str(tmp_path / "po.json"), "--verbose"], {})
    assert code == INTERNAL and "Traceback (most recent call last)" in out, out


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(path: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("tracechain.cli.notary.read_json", interrupted)
    code, _ = _code(["notarize", str(tmp_path / "po.json")], {})
    assert code == 130


def test_errors_are_json_with_json(node_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["actors", "show", ACCOUNTS[8].address, "--json"], env=node_env)
    assert result.exit_code == 3
    assert result.stdout == ""
    body = json.loads(result.stderr)["error"]
    assert body["code"] == "not_found" and body["exitCode"] == 3 and ACCOUNTS[8].address in body["message"]
    usage = runner.invoke(app, ["actors", "show", "--json"], env=node_env)
    assert usage.exit_code == 2 and json.loads(usage.stderr)["error"]["code"] == "usage", usage.output
