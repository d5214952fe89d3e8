"""The Runtime: one connected deployment with its store, built from settings by the CLI, the API
and tests — never at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from tracechain.chain.actors import ActorRegistryClient
from tracechain.chain.connect import Chain, connect, operator_account
from tracechain.chain.deploy import Deployment, deploy, find_manifest, load_manifest
from tracechain.chain.transact import Transactor
from tracechain.errors import DeploymentError
from tracechain.settings import Settings
from tracechain.store.db import Store
from tracechain.store.indexer import Indexer


@dataclass
class Runtime:
    """A deployment on a connected chain, its store and the operator account that pays gas."""

    settings: Settings
    chain: Chain
    deployment: Deployment
    store: Store
    operator: LocalAccount
    _contracts: dict[str, Contract] = field(default_factory=dict, repr=False)
    indexer: Indexer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Built eagerly: one indexer (and its lock) per runtime, whichever thread asks first.
        self.indexer = Indexer(self.chain, self.deployment, self.store, confirmations=self.settings.confirmations)

    def contract(self, name: str) -> Contract:
        """The web3 contract `name` of this deployment."""
        if name not in self._contracts:
            self._contracts[name] = self.deployment.contract(self.chain, name)
        return self._contracts[name]

    @cached_property
    def transactor(self) -> Transactor:
        """Sends as the signer itself; `.relay(request)` submits pre-signed requests as operator."""
        return Transactor(self.chain, forwarder=self.contract("TraceChainForwarder"), relayer=None)

    @cached_property
    def relaying(self) -> Transactor:
        """Sends each write as a request signed by the actor and paid by the operator."""
        return self.transactor.via_relayer(self.operator)

    @cached_property
    def actors(self) -> ActorRegistryClient:
        return ActorRegistryClient(self.contract("ActorRegistry"), self.transactor)

    def sync(self) -> int:
        """Bring the store's index up to the chain head; returns the number of logs applied."""
        return self.indexer.sync()


def open_runtime(
    settings: Settings, chain: Chain | None = None, *, deploy_missing: bool = True, read_only: bool = False
) -> Runtime:
    """Connect, deploy (or reuse the manifest's deployment) and open the store.

    On the embedded chain, which lives only in this process, the store starts empty each time.
    With `read_only`, no operator key is needed: whatever would sign or pay raises instead.

    Raises:
        ChainUnavailableError: the RPC node does not answer.
        ConfigurationError: no operator key for a chain that is not a local dev chain (unless `read_only`).
        DeploymentError: no usable deployment and `deploy_missing` is false.
        StoreChainMismatchError: the store belongs to another chain.
    """
    chain = chain or connect(settings)
    operator = operator_account(settings, chain, required=not read_only)
    manifest = settings.manifest_path or find_manifest(settings.data_dir, chain)
    if deploy_missing:
        deployment = deploy(chain, operator, manifest)
    else:
        deployment = load_manifest(manifest)
        if deployment.chain_id != chain.chain_id or deployment.genesis_hash != chain.genesis_hash:
            raise DeploymentError(f"{manifest} is for another chain", hint="run `tracechain deploy`")
    url = settings.database_url or _default_store_url(Path(settings.data_dir), chain, deployment)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = Store(url)
    store.bind_chain(chain.chain_id, chain.genesis_hash)
    return Runtime(settings=settings, chain=chain, deployment=deployment, store=store, operator=operator)


def _default_store_url(data_dir: Path, chain: Chain, deployment: Deployment) -> str:
    """One SQLite store per chain instance (named by what binds the deployment to its chain), so
    stores never mix chains and a process reading a chain over JSON-RPC shares the store of the
    process that serves it (the demo)."""
    path = data_dir / "stores" / f"{deployment.chain_id}-{deployment.genesis_hash[2:14]}.db"
    if chain.embedded:  # lives only in this process: earlier runs' stores are of chains that are gone
        for stale in path.parent.glob(f"{deployment.chain_id}-*.db*"):
            if stale.name != path.name:
                stale.unlink()
    return f"sqlite:///{path}"
