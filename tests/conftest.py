"""Shared fixtures: a real chain (embedded eth-tester, or Anvil from node_modules) with every
contract deployed and a cast of registered actors, reverted to a snapshot after each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from tracechain.chain.actors import ActorRegistryClient
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import Chain, dev_accounts, embedded_chain
from tracechain.chain.deploy import Deployment, deploy
from tracechain.chain.transact import Transactor
from tracechain.types import Role

# Dev account index of each cast member; "outsider" is never registered, "relayer" pays gas.
CAST: dict[str, tuple[int, tuple[Role, ...]]] = {
    "governance": (0, (Role.GOVERNANCE,)),
    "manufacturer": (1, (Role.MANUFACTURER,)),
    "logistics": (2, (Role.LOGISTICS,)),
    "retailer": (3, (Role.RETAILER,)),
    "inspector": (4, (Role.INSPECTOR,)),
    "notary": (5, (Role.NOTARY,)),
    "auditor": (6, (Role.AUDITOR,)),
    "manufacturer2": (7, (Role.MANUFACTURER, Role.LOGISTICS)),
}
OUTSIDER = 8
RELAYER = 9


@dataclass
class Net:
    """A deployed TraceChain on one chain, with the cast's accounts."""

    chain: Chain
    deployment: Deployment
    accounts: dict[str, LocalAccount]
    tx: Transactor

    def contract(self, name: str):  # noqa: ANN201 - web3 Contract
        return self.deployment.contract(self.chain, name)

    @property
    def actors(self) -> ActorRegistryClient:
        return ActorRegistryClient(self.contract("ActorRegistry"), self.tx)

    @property
    def relayed(self) -> Transactor:
        """A transactor whose writes are signed by the actor and relayed by the relayer."""
        return self.tx.via_relayer(self.accounts["relayer"])


def _build(chain: Chain) -> Net:
    keys = dev_accounts(10)
    deployment = deploy(chain, keys[0])
    tx = Transactor(chain, forwarder=deployment.contract(chain, "TraceChainForwarder"))
    accounts = {name: keys[i] for name, (i, _) in CAST.items()}
    accounts["outsider"] = keys[OUTSIDER]
    accounts["relayer"] = keys[RELAYER]
    net = Net(chain, deployment, accounts, tx)
    for name, (i, roles) in CAST.items():
        if name != "governance":
            net.actors.register_actor(keys[0], keys[i].address, name.title(), roles)
    return net


@pytest.fixture(scope="session")
def embedded_net() -> Net:
    return _build(embedded_chain(manual_clock=True))


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    """An Anvil node from node_modules for the whole session (never skipped: CI must run it)."""
    state = Path(tmp_path_factory.mktemp("anvil")) / "state.json"
    node = AnvilNode(free_port(), state)
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def anvil_net(anvil_node: AnvilNode) -> Net:
    from tracechain.chain.connect import rpc_chain

    return _build(rpc_chain(anvil_node.url))


def _reverting(net: Net) -> Iterator[Net]:
    snapshot = net.chain.snapshot()
    try:
        yield net
    finally:
        net.chain.revert(snapshot)


@pytest.fixture
def net(embedded_net: Net) -> Iterator[Net]:
    """The embedded deployment, reverted after the test."""
    yield from _reverting(embedded_net)


@pytest.fixture(params=["embedded", "anvil"])
def any_net(request: pytest.FixtureRequest) -> Iterator[Net]:
    """The deployment on the embedded chain and on Anvil, reverted after the test."""
    yield from _reverting(request.getfixturevalue(f"{request.param}_net"))


@pytest.fixture
def runtime(net: Net, tmp_path: Path):  # noqa: ANN201 - Runtime
    """A Runtime over the embedded deployment with a fresh store (the chain reverts after the test)."""
    from tracechain.services.runtime import Runtime
    from tracechain.settings import Settings
    from tracechain.store.db import Store

    settings = Settings(data_dir=tmp_path, public_base_url="http://testserver")
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.bind_chain(net.chain.chain_id, net.deployment.anchor_hash)
    return Runtime(
        settings=settings, chain=net.chain, deployment=net.deployment, store=store, operator=net.accounts["relayer"]
    )


@pytest.fixture
def api(runtime):  # noqa: ANN001, ANN201 - TestClient
    """A TestClient of the API over `runtime`."""
    from fastapi.testclient import TestClient

    from tracechain.api.app import create_app

    with TestClient(create_app(runtime)) as client:
        yield client


@pytest.fixture(scope="session")
def pg_cluster():  # noqa: ANN201 - ThrowawayCluster
    """A throwaway PostgreSQL cluster from Debian's binaries for the whole session (never skipped:
    `make install` installs them)."""
    from tracechain.store.pg_cluster import ThrowawayCluster

    cluster = ThrowawayCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store database: SQLite, and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_cluster").new_database())


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Settings are cached per process; each test reads the environment it sets up."""
    from tracechain.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
