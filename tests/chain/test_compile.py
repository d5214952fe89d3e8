"""The committed artifacts are exactly what the pinned compiler makes of contracts/ today."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tracechain.chain.artifact import ARTIFACTS_DIR, load_artifact
from tracechain.chain.compile import artifacts_are_fresh, compile_contracts, project_root


def test_committed_artifacts_match_a_fresh_compile(tmp_path: Path) -> None:
    fresh = {a.contract_name for a in compile_contracts(out_dir=tmp_path)}
    committed = {p.stem for p in ARTIFACTS_DIR.glob("*.json")}
    assert fresh == committed, "run `tracechain compile` and commit the artifacts"
    for name in sorted(fresh):
        expected = json.loads((tmp_path / f"{name}.json").read_text())
        actual = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
        assert actual == expected, f"{name}.json is stale: run `tracechain compile` and commit it"
    assert artifacts_are_fresh() == []


def test_an_edited_contract_makes_its_artifacts_stale(tmp_path: Path) -> None:
    root = project_root()
    shutil.copytree(root / "contracts", tmp_path / "contracts")
    shutil.copy(root / "package.json", tmp_path / "package.json")
    source = tmp_path / "contracts" / "ActorRegistry.sol"
    source.write_text(source.read_text() + "\n// an edit nobody compiled\n")
    stale = artifacts_are_fresh(root=tmp_path)
    assert "ActorRegistry" in stale and "TraceChainForwarder" in stale  # one digest covers all sources


def test_artifacts_record_how_they_were_built() -> None:
    artifact = load_artifact("ActorRegistry")
    assert artifact.compiler_version.startswith("0.8.28+commit")
    assert artifact.settings["optimizer"] == {"enabled": True, "runs": 200}
    assert artifact.settings["evmVersion"] == "cancun"
    assert artifact.bytecode.startswith("0x60") and len(artifact.sources_sha256) == 64
