"""Deploys the TraceChain contracts and records them in a deployment manifest (JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from tracechain.chain.artifact import load_artifact
from tracechain.chain.connect import Chain
from tracechain.chain.transact import Transactor
from tracechain.errors import ArtifactMissingError, DeploymentError

MANIFEST_VERSION = 2
GOVERNANCE_NAME = "TraceChain Governance"


@dataclass(frozen=True)
class ContractSpec:
    """One contract of the deployment and how to build its constructor arguments."""

    name: str
    constructor_args: Callable[[dict[str, str], LocalAccount], tuple[Any, ...]]


def _domain_args(addresses: dict[str, str], _deployer: LocalAccount) -> tuple[Any, ...]:
    """Domain contracts take (actorRegistry, trustedForwarder)."""
    return (addresses["ActorRegistry"], addresses["TraceChainForwarder"])


# Deployment order; each contract may use the addresses of those before it.
CONTRACTS: tuple[ContractSpec, ...] = (
    ContractSpec("TraceChainForwarder", lambda a, d: ()),
    ContractSpec("ActorRegistry", lambda a, d: (d.address, GOVERNANCE_NAME, a["TraceChainForwarder"])),
    ContractSpec("ProvenanceRegistry", _domain_args),
    ContractSpec("Notary", _domain_args),
    ContractSpec("DataRightsRegistry", _domain_args),
    ContractSpec("CaseRegistry", _domain_args),
)


@dataclass(frozen=True)
class DeployedContract:
    """Where one contract lives and which artifact it was built from."""

    address: str
    block: int
    tx_hash: str
    bytecode_hash: str


@dataclass
class Deployment:
    """A TraceChain deployment on one chain, as recorded in its manifest.

    It is bound to its chain by the chain id and the hash of its *anchor block* (the block of its
    first contract): a node restarted from a state file keeps that block (Anvil may give block 0 a
    new hash on each restart), while another chain with the same id does not have it.
    """

    chain_id: int
    anchor_block: int
    anchor_hash: str
    deployer: str
    deployed_at: str
    contracts: dict[str, DeployedContract] = field(default_factory=dict)
    reused: bool = False

    def address(self, name: str) -> str:
        """Address of contract `name`.

        Raises:
            DeploymentError: the deployment has no such contract.
        """
        try:
            return self.contracts[name].address
        except KeyError:
            raise DeploymentError(f"the deployment has no {name} contract") from None

    def contract(self, chain: Chain, name: str) -> Contract:
        """A web3 contract object for `name` at its deployed address."""
        return chain.w3.eth.contract(address=self.address(name), abi=load_artifact(name).abi)  # type: ignore[call-overload]

    def on(self, chain: Chain) -> bool:
        """True when `chain` is the chain this deployment lives on."""
        return chain.chain_id == self.chain_id and chain.block_hash(self.anchor_block) == self.anchor_hash

    @property
    def start_block(self) -> int:
        """The first block an indexer needs to read."""
        return min(c.block for c in self.contracts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "chainId": self.chain_id,
            "anchorBlock": {"number": self.anchor_block, "hash": self.anchor_hash},
            "deployer": self.deployer,
            "deployedAt": self.deployed_at,
            "contracts": {
                name: {"address": c.address, "block": c.block, "txHash": c.tx_hash, "bytecodeHash": c.bytecode_hash}
                for name, c in self.contracts.items()
            },
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Deployment:
        """Parse a manifest.

        Raises:
            DeploymentError: unknown manifest version or missing fields.
        """
        if body.get("version") != MANIFEST_VERSION:
            raise DeploymentError(f"unsupported manifest version {body.get('version')!r}")
        try:
            return cls(
                chain_id=int(body["chainId"]),
                anchor_block=int(body["anchorBlock"]["number"]),
                anchor_hash=str(body["anchorBlock"]["hash"]),
                deployer=body["deployer"],
                deployed_at=body["deployedAt"],
                contracts={
                    name: DeployedContract(c["address"], int(c["block"]), c["txHash"], c["bytecodeHash"])
                    for name, c in body["contracts"].items()
                },
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentError(f"malformed deployment manifest: {exc}") from exc

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def deployable_specs() -> list[ContractSpec]:
    """The contracts of CONTRACTS whose artifacts exist (later features add theirs)."""
    specs = []
    for spec in CONTRACTS:
        try:
            load_artifact(spec.name)
        except ArtifactMissingError:
            continue
        specs.append(spec)
    return specs


def load_manifest(path: Path) -> Deployment:
    """Read the deployment manifest at `path`.

    Raises:
        DeploymentError: the file is missing or malformed.
    """
    if not path.is_file():
        raise DeploymentError(f"no deployment manifest at {path}", hint="run `tracechain deploy` first")
    try:
        return Deployment.from_json(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise DeploymentError(f"{path} is not JSON: {exc}") from exc


def check_deployment(chain: Chain, deployment: Deployment) -> list[str]:
    """Reasons `deployment` does not match `chain` and the current artifacts (empty if it does)."""
    problems = []
    if not deployment.on(chain):
        return [
            f"manifest is for chain {deployment.chain_id} with block {deployment.anchor_block} "
            f"{deployment.anchor_hash[:10]}…, not this chain"
        ]
    for spec in deployable_specs():
        deployed = deployment.contracts.get(spec.name)
        if deployed is None:
            problems.append(f"{spec.name} is not deployed")
            continue
        if deployed.bytecode_hash != load_artifact(spec.name).bytecode_hash:
            problems.append(f"{spec.name} was deployed from a different build")
        if not chain.w3.eth.get_code(deployed.address):  # type: ignore[arg-type]
            problems.append(f"{spec.name} has no code at {deployed.address}")
    return problems


def deploy(
    chain: Chain, deployer: LocalAccount, manifest_path: Path | None = None, *, fresh: bool = False
) -> Deployment:
    """Deploy every contract, or reuse the deployment in `manifest_path` when it matches.

    A manifest that matches this chain and the current artifacts is reused as is. One for
    another instance of a local dev chain (restarted without state) is replaced. Otherwise the
    mismatch is an error unless `fresh` asks for a new deployment.

    Raises:
        DeploymentError: the manifest names this chain but no longer matches it.
    """
    if manifest_path is not None and manifest_path.is_file() and not fresh:
        existing = load_manifest(manifest_path)
        problems = check_deployment(chain, existing)
        if not problems:
            existing.reused = True
            return existing
        same_chain = existing.on(chain)
        if same_chain and not chain.is_dev:
            raise DeploymentError(
                f"{manifest_path} does not match the chain: {'; '.join(problems)}",
                hint="pass --fresh to deploy a new set of contracts",
            )
    transactor = Transactor(chain)
    addresses: dict[str, str] = {}
    contracts: dict[str, DeployedContract] = {}
    for spec in deployable_specs():
        artifact = load_artifact(spec.name)
        address, result = transactor.deploy(deployer, artifact, *spec.constructor_args(addresses, deployer))
        addresses[spec.name] = address
        contracts[spec.name] = DeployedContract(address, result.block_number, result.tx_hash, artifact.bytecode_hash)
    anchor = min(c.block for c in contracts.values())
    deployment = Deployment(
        chain_id=chain.chain_id,
        anchor_block=anchor,
        anchor_hash=str(chain.block_hash(anchor)),
        deployer=deployer.address,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        contracts=contracts,
    )
    if manifest_path is not None:
        deployment.write(manifest_path)
    return deployment


def default_manifest_path(data_dir: Path, chain: Chain) -> Path:
    """Where the manifest of `chain` lives by default: one file per chain id."""
    name = "embedded" if chain.embedded else str(chain.chain_id)
    return data_dir / "deployments" / f"{name}.json"


def find_manifest(data_dir: Path, chain: Chain) -> Path:
    """The manifest of `chain` in `data_dir`: the default one, or any other manifest there that names
    this chain (its id and anchor block), such as the demo's embedded chain served over JSON-RPC."""
    default = default_manifest_path(data_dir, chain)
    if default.is_file():
        return default
    for path in sorted((data_dir / "deployments").glob("*.json")):
        try:
            deployment = load_manifest(path)
        except DeploymentError:
            continue
        if deployment.on(chain):
            return path
    return default
