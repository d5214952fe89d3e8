"""The Runtime: one connected deployment with its store, built from settings by the CLI, the API
and tests — never at import time."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

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

_T = TypeVar("_T")
MEMO_SIZE = 4096
# While a background task follows the chain, reads may reuse a checkpoint read this recently (seconds).
CHECKPOINT_MAX_AGE = 0.25


@dataclass(frozen=True)
class IndexLag:
    """Where the index stands against the chain head."""

    head_block: int
    indexed_block: int | None
    blocks: int | None
    seconds: int | None
    following: bool


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
        confirmations = lambda: self.settings.confirmations_for(self.chain.is_dev)  # noqa: E731 - asked lazily
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

    # Set while a background task follows the chain for this runtime (the API): reads then answer
    # at the index's checkpoint instead of indexing inside the request.
    following: bool = field(default=False, init=False)
    _memo: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict, init=False, repr=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def sync(self) -> int:
        """Bring the store's index up to the chain head; returns the number of logs applied."""
        return self.indexer.sync()

    def refresh(self) -> None:
        """Before a read: index new blocks, unless a background task does that already."""
        if not self.following:
            self.sync()

    def memo(self, key: tuple[Any, ...], compute: Callable[[], _T]) -> _T:
        """`compute()`, remembered under `key` (small LRU shared by every request of this runtime).
        Keys that name a block (a chain read at the index's checkpoint) stay true forever, so a burst
        of scans of one product costs one chain read per block."""
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = compute()
        with self._memo_lock:
            self._memo[key] = value
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return value

    def indexed_block_id(self) -> str:
        """The hash of the block the index has reached (a reorganised block number is another block)."""
        return self.indexer.checkpoint_hash(max_age=CHECKPOINT_MAX_AGE if self.following else 0.0) or "none"

    def index_lag(self) -> IndexLag:
        """How far the index is behind the chain head, in blocks and seconds."""
        w3 = self.chain.w3
        head = w3.eth.get_block("latest")
        checkpoint = self.indexer.checkpoint()
        indexed = w3.eth.get_block(checkpoint) if checkpoint is not None and checkpoint <= head["number"] else None
        behind_seconds = int(head["timestamp"]) - int(indexed["timestamp"]) if indexed is not None else None
        return IndexLag(
            head_block=int(head["number"]),
            indexed_block=checkpoint,
            blocks=int(head["number"]) - checkpoint if checkpoint is not None else None,
            seconds=behind_seconds,
            following=self.following,
        )


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
        if not deployment.on(chain):
            raise DeploymentError(f"{manifest} is for another chain", hint="run `tracechain deploy`")
    url = settings.database_url or _default_store_url(Path(settings.data_dir), chain, deployment)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = Store(url)
    store.bind_chain(deployment.chain_id, deployment.anchor_hash)
    return Runtime(settings=settings, chain=chain, deployment=deployment, store=store, operator=operator)


def _default_store_url(data_dir: Path, chain: Chain, deployment: Deployment) -> str:
    """One SQLite store per chain instance (named by what binds the deployment to its chain), so
    stores never mix chains and a process reading a chain over JSON-RPC shares the store of the
    process that serves it (the demo)."""
    path = data_dir / "stores" / f"{deployment.chain_id}-{deployment.anchor_hash[2:14]}.db"
    if chain.embedded:  # lives only in this process: earlier runs' stores are of chains that are gone
        for stale in path.parent.glob(f"{deployment.chain_id}-*.db*"):
            if stale.name != path.name:
                stale.unlink()
    return f"sqlite:///{path}"
