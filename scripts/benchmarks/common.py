"""What every benchmark section shares: a deployed cast on a chain, runtimes over a store, timing."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from tracechain.chain.actors import ActorRegistryClient
from tracechain.chain.connect import Chain, dev_accounts
from tracechain.chain.deploy import Deployment, deploy
from tracechain.chain.transact import Transactor
from tracechain.types import Role

TX_FLOOR = 21_000
# Dev account index and roles of each cast member (as the tests); dev account 9 relays and pays.
CAST: dict[str, tuple[int, tuple[Role, ...]]] = {
    "governance": (0, (Role.GOVERNANCE,)),
    "manufacturer": (1, (Role.MANUFACTURER,)),
    "logistics": (2, (Role.LOGISTICS,)),
    "retailer": (3, (Role.RETAILER,)),
    "inspector": (4, (Role.INSPECTOR,)),
    "notary": (5, (Role.NOTARY,)),
    "auditor": (6, (Role.AUDITOR,)),
}
RELAYER = 9


@dataclass
class Cast:
    """A fresh deployment with registered actors; `tx` sends as the actor, `relayed` as ERC-2771 requests."""

    chain: Chain
    deployment: Deployment
    tx: Transactor
    relayed: Transactor
    accounts: dict[str, LocalAccount]

    def contract(self, name: str) -> Any:
        return self.deployment.contract(self.chain, name)


def build_cast(chain: Chain) -> Cast:
    """Deploy every contract on `chain` and register the cast."""
    keys = dev_accounts()
    deployment = deploy(chain, keys[0])
    tx = Transactor(chain, forwarder=deployment.contract(chain, "TraceChainForwarder"))
    accounts = {name: keys[i] for name, (i, _) in CAST.items()}
    accounts["relayer"] = keys[RELAYER]
    actors = ActorRegistryClient(deployment.contract(chain, "ActorRegistry"), tx)
    for name, (i, roles) in CAST.items():
        if name != "governance":
            actors.register_actor(keys[0], keys[i].address, name.title(), roles)
    return Cast(chain, deployment, tx, tx.via_relayer(accounts["relayer"]), accounts)


# Where every fresh store of a run lives: None = a SQLite file in a temporary directory; else a function
# giving the URL of a new empty database (scripts/benchmark.py --store postgresql sets it).
fresh_store: Callable[[], str] | None = None


@contextmanager
def runtime_over(cast: Cast, store_url: str | None = None) -> Iterator[Any]:
    """A Runtime over `cast`'s deployment with a fresh store (`store_url`, else as `fresh_store` says)."""
    from tracechain.services.runtime import Runtime
    from tracechain.settings import Settings
    from tracechain.store.db import Store

    with tempfile.TemporaryDirectory(prefix="tracechain-bench-") as tmp:
        url = store_url or (fresh_store() if fresh_store is not None else f"sqlite:///{Path(tmp) / 'store.db'}")
        store = Store(url)
        store.bind_chain(cast.chain.chain_id, cast.deployment.anchor_hash)
        settings = Settings(data_dir=Path(tmp), public_base_url="http://testserver")
        try:
            yield Runtime(settings, cast.chain, cast.deployment, store, cast.accounts["relayer"])
        finally:
            store.engine.dispose()


def write(gas: int) -> dict[str, Any]:
    """One transaction's gas and its multiple of the 21,000 floor."""
    return {"gas": gas, "x_floor": round(gas / TX_FLOOR, 2)}


def batch(gas: int, items: int) -> dict[str, Any]:
    """A batch transaction's total gas and what each item costs, against the 21,000 floor."""
    per_item = round(gas / items, 1)
    return {
        "items": items,
        "total_gas": gas,
        "per_item_gas": per_item,
        "per_item_x_floor": round(per_item / TX_FLOOR, 4),
    }


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median, p95, p99 and max wall time of `fn` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
        "p99_ms": round(samples[int(0.99 * (len(samples) - 1))], 2),
        "max_ms": round(samples[-1], 2),
        "n": repeat,
    }


def rate(count: int, seconds: float, unit: str) -> dict[str, Any]:
    return {unit: count, "seconds": round(seconds, 2), f"{unit}_per_second": round(count / seconds, 1)}
