"""Compiles contracts/ with the npm solc compiler (through scripts/solc-shim.js) into artifacts."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from tracechain.chain.artifact import ARTIFACTS_DIR, Artifact
from tracechain.errors import CompilationError

# Fixed compiler settings: the same sources always give the same bytecode.
COMPILER_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}


def project_root() -> Path:
    """The source checkout holding contracts/, scripts/ and node_modules/."""
    return Path(__file__).resolve().parents[3]


def contract_sources(root: Path) -> dict[str, str]:
    """Every deployable contract file (contracts/*.sol) and interface, keyed by import path."""
    files = sorted((root / "contracts").rglob("*.sol"))
    if not files:
        raise CompilationError(f"no Solidity sources under {root / 'contracts'}")
    return {f.relative_to(root).as_posix(): f.read_text() for f in files}


def compile_contracts(root: Path | None = None, out_dir: Path = ARTIFACTS_DIR) -> list[Artifact]:
    """Compile every contract and write one artifact per contracts/<Name>.sol defining <Name>.

    Raises:
        CompilationError: node_modules is missing or the compiler reports an error.
    """
    import solcx  # imported here: only compiling needs it

    root = root or project_root()
    shim = root / "scripts" / "solc-shim.js"
    if shutil.which("node") is None or not (root / "node_modules" / "solc").is_dir():
        raise CompilationError("the npm compiler is missing: run `make install` (needs node and npm)")
    sources = contract_sources(root)
    standard_input = {
        "language": "Solidity",
        "sources": {path: {"content": text} for path, text in sources.items()},
        "settings": COMPILER_SETTINGS,
    }
    try:
        output = solcx.compile_standard(standard_input, solc_binary=shim.resolve(), allow_empty=True)
    except solcx.exceptions.SolcError as exc:
        raise CompilationError(str(exc)) from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilationError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    version = _shim_version(shim)
    digest = sources_digest(root)
    artifacts = []
    for path, contracts in sorted(output["contracts"].items()):
        name = Path(path).stem
        if Path(path).parent.as_posix() != "contracts" or name not in contracts:
            continue
        compiled = contracts[name]
        artifacts.append(
            Artifact(
                contract_name=name,
                source_path=path,
                abi=compiled["abi"],
                bytecode="0x" + compiled["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + compiled["evm"]["deployedBytecode"]["object"],
                compiler_version=version,
                settings=COMPILER_SETTINGS,
                sources_sha256=digest,
            )
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.json"):
        stale.unlink()
    for artifact in artifacts:
        artifact.write(out_dir)
    return artifacts


def sources_digest(root: Path) -> str:
    """sha256 over every contract source and the pinned compiler/library versions."""
    h = hashlib.sha256()
    for path, text in contract_sources(root).items():
        h.update(path.encode() + b"\0" + text.encode() + b"\0")
    h.update(json.dumps(COMPILER_SETTINGS, sort_keys=True).encode())
    package = json.loads((root / "package.json").read_text())
    h.update(json.dumps(package.get("dependencies", {}), sort_keys=True).encode())
    return h.hexdigest()


def _shim_version(shim: Path) -> str:
    import subprocess

    out = subprocess.run([str(shim), "--version"], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1].removeprefix("Version: ")


def artifacts_are_fresh(root: Path | None = None, out_dir: Path = ARTIFACTS_DIR) -> list[str]:
    """Names of committed artifacts whose recorded source digest no longer matches the sources
    (plus contracts with no artifact at all); empty when everything is fresh. Needs no Node."""
    from tracechain.chain.artifact import all_artifacts

    root = root or project_root()
    digest = sources_digest(root)
    artifacts = {a.contract_name: a for a in all_artifacts(out_dir)}
    stale = [name for name, a in artifacts.items() if a.sources_sha256 != digest]
    expected = {p.stem for p in (root / "contracts").glob("*.sol") if p.stem != "Common"}
    stale += sorted(expected - artifacts.keys())
    return sorted(stale)
