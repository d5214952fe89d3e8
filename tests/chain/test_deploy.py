"""Deployment: manifest contents, reuse on a second run, replacement on a new dev chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracechain import errors
from tracechain.chain.artifact import load_artifact
from tracechain.chain.connect import dev_accounts, embedded_chain
from tracechain.chain.deploy import check_deployment, deploy, deployable_specs, load_manifest


def test_deploy_writes_a_complete_manifest(tmp_path: Path) -> None:
    chain = embedded_chain()
    manifest = tmp_path / "m.json"
    deployment = deploy(chain, dev_accounts(1)[0], manifest)
    body = json.loads(manifest.read_text())
    assert body["chainId"] == chain.chain_id and body["version"] == 2
    anchor = body["anchorBlock"]
    assert anchor["number"] == min(c["block"] for c in body["contracts"].values())
    assert anchor["hash"] == chain.block_hash(anchor["number"])
    assert body["deployer"] == dev_accounts(1)[0].address
    assert set(body["contracts"]) == {s.name for s in deployable_specs()}
    for name, entry in body["contracts"].items():
        assert chain.w3.eth.get_code(entry["address"]), name
        assert entry["bytecodeHash"] == load_artifact(name).bytecode_hash
        assert entry["block"] >= 1
    assert not deployment.reused and check_deployment(chain, deployment) == []
    registry = deployment.contract(chain, "ActorRegistry")
    assert registry.functions.isTrustedForwarder(deployment.address("TraceChainForwarder")).call()


def test_second_deploy_reuses_the_manifest(tmp_path: Path) -> None:
    chain = embedded_chain()
    first = deploy(chain, dev_accounts(1)[0], tmp_path / "m.json")
    block = chain.w3.eth.block_number
    second = deploy(chain, dev_accounts(1)[0], tmp_path / "m.json")
    assert second.reused and second.contracts == first.contracts
    assert chain.w3.eth.block_number == block  # nothing was sent


def test_manifest_of_another_dev_chain_is_replaced(tmp_path: Path) -> None:
    deploy(embedded_chain(), dev_accounts(1)[0], tmp_path / "m.json")
    other = embedded_chain()
    replaced = deploy(other, dev_accounts(1)[0], tmp_path / "m.json")
    assert not replaced.reused and check_deployment(other, replaced) == []
    manifest = load_manifest(tmp_path / "m.json")
    assert manifest.anchor_hash == other.block_hash(manifest.anchor_block) and manifest.on(other)


def test_missing_or_malformed_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(errors.DeploymentError, match="no deployment manifest"):
        load_manifest(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text('{"version": 99}')
    with pytest.raises(errors.DeploymentError, match="unsupported manifest version"):
        load_manifest(tmp_path / "bad.json")
