"""Start-up: `tracechain --help`, every help page and shell completion import no heavy module (web3,
eth-account, py-evm, FastAPI, SQLAlchemy, pydantic, the EPCIS hash generator, ...), and a command
whose node is down says so before importing any. Checked by what a fresh process imports, never by
the clock: the time itself is measured by scripts/benchmark.py (its cli section)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tracechain.chain.anvil import free_port

ROOT = Path(__file__).resolve().parents[2]
HEAVY = frozenset(
    {
        "web3",
        "eth_account",
        "eth_keyfile",
        "eth_utils",
        "eth_abi",
        "eth_tester",
        "eth",  # py-evm
        "py_ecc",
        "fastapi",
        "starlette",
        "uvicorn",
        "sqlalchemy",
        "epcis_event_hash_generator",
        "pyld",
        "epcpy",
        "pydantic",
        "pydantic_settings",
        "rich",
        "requests",
        "aiohttp",
    }
)
# The only TraceChain modules the command line may load before a command runs.
LIGHT = {"tracechain", "tracechain.errors", "tracechain.types"}

WALK_ALL_HELP = """
from tracechain.cli.main import app
from typer.main import get_command

def paths(command, path):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from paths(sub, [*path, name])

for path in paths(get_command(app), []):
    try:
        app([*path, "--help"])
    except SystemExit:
        pass
"""
# Typer coerces every parameter through pydantic once a command line is parsed (completion parses it).
TYPER_PARSING = {"pydantic", "pydantic_core", "annotated_types"}


def _imports(code: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """Top-level package names, and TraceChain modules, a fresh interpreter has loaded after `code`."""
    probe = (
        "import sys, json\ntry:\n"
        + "".join(f"    {line}\n" for line in code.strip().splitlines())
        + "except SystemExit:\n    pass\n"
        + "print('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        timeout=120,
    )
    lines = done.stdout.rstrip("\n").rsplit("\n", 1)
    modules = set(json.loads(lines[-1]))
    return modules, (lines[0] if len(lines) > 1 else "") + done.stderr


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def _tracechain(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("tracechain")}


def test_help_imports_nothing_heavy() -> None:
    modules, out = _imports("from tracechain.cli.main import app\napp(['--help'])")
    assert "usage: tracechain" in out
    assert not _heavy(modules), sorted(_heavy(modules))
    assert _tracechain(modules) - LIGHT <= {m for m in modules if m.startswith("tracechain.cli")}


def test_every_help_page_imports_nothing_heavy() -> None:
    modules, out = _imports(WALK_ALL_HELP)
    assert out.count("usage: tracechain") >= 35, out
    assert not _heavy(modules), f"{sorted(_heavy(modules))}\n{out}"


def test_shell_completion_imports_nothing_heavy() -> None:
    env = {"_TRACECHAIN_COMPLETE": "complete_bash", "COMP_WORDS": "tracechain prod", "COMP_CWORD": "1"}
    modules, out = _imports("from tracechain.cli.main import app\napp()", env)
    assert out.strip().startswith("product"), out
    assert {m.split(".")[0] for m in _heavy(modules)} <= TYPER_PARSING, sorted(_heavy(modules))


def test_a_missing_node_is_reported_before_any_heavy_import(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    code = (
        f"from tracechain.cli.main import app\napp(['product', 'trace', '01/09506000134352/21/X', '--rpc', '{dead}'])"
    )
    modules, out = _imports(code, {"TRACECHAIN_DATA_DIR": str(tmp_path)})
    assert f"error: no Ethereum node answers at {dead}" in out, out
    assert {m.split(".")[0] for m in _heavy(modules)} <= {"pydantic", "pydantic_settings"}, sorted(_heavy(modules))


def test_the_cli_modules_import_only_typer_and_the_standard_library() -> None:
    modules, out = _imports("import tracechain.cli.main")
    assert not _heavy(modules), sorted(_heavy(modules))
    assert {m.split(".")[0] for m in modules} >= {"typer", "tracechain"}
