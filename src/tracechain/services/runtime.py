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
from tracechain.chain.deploy import Deployment, default_manifest_path, deploy, load_manifest
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
        confirmations = self.settings.confirmations_for(self.chain.is_dev)
        self.indexer = Indexer(self.chain, self.deployment, self.store, confirmations=confirmations)

    def contract(self, name: str) -> Contract:
        """The web3 contract `name` of this deployment."""
        if name not in self._contracts:
            self._contracts[name] = self.deployment.contract(self.chain, name)
        return self._contracts[name]

    @cached_property
    def transactor(self) -> Transactor:
        """Sends as the signer itself; `.relay(request)` submits pre-signed requests as operator."""
        return Transactor(
            self.chain, forwarder=self.contract("TraceChainForwarder"), relayer=None, sender_lock=self.store.sender_lock
        )

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


def open_runtime(settings: Settings, chain: Chain | None = None, *, deploy_missing: bool = True) -> Runtime:
    """Connect, deploy (or reuse the manifest's deployment) and open the store.

    On the embedded chain, which lives only in this process, the store starts empty each time.

    Raises:
        ChainUnavailableError: the RPC node does not answer.
        DeploymentError: no usable deployment and `deploy_missing` is false.
        StoreChainMismatchError: the store belongs to another chain.
    """
    chain = chain or connect(settings)
    operator = operator_account(settings, chain)
    manifest = settings.manifest_path or default_manifest_path(settings.data_dir, chain)
    if deploy_missing:
        deployment = deploy(chain, operator, manifest)
    else:
        deployment = load_manifest(manifest)
        if not deployment.on(chain):
            raise DeploymentError(f"{manifest} is for another chain", hint="run `tracechain deploy`")
    url = settings.store_url()
    if chain.embedded and settings.database_url is None:
        path = Path(settings.data_dir) / "embedded.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob("embedded.db*"):
            stale.unlink()
        url = f"sqlite:///{path}"
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = Store(url)
    store.bind_chain(deployment.chain_id, deployment.anchor_hash)
    return Runtime(settings=settings, chain=chain, deployment=deployment, store=store, operator=operator)
