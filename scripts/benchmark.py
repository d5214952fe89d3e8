#!/usr/bin/env python
"""Measures gas per write and throughput on the embedded chain and on Anvil; prints JSON.

    .venv/bin/python scripts/benchmark.py [--quick]

Gas is read from receipts, so it is exact and repeatable; speeds depend on the machine.
Not a test: nothing here asserts, it reports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from tracechain.chain.actors import ActorRegistryClient
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import Chain, dev_accounts, embedded_chain
from tracechain.chain.deploy import deploy
from tracechain.chain.transact import Transactor
from tracechain.hashing import keccak_text
from tracechain.types import Role

TX_FLOOR = 21_000


def _setup(chain: Chain) -> tuple[Any, Transactor, list[Any]]:
    keys = dev_accounts()
    deployment = deploy(chain, keys[0])
    tx = Transactor(chain, forwarder=deployment.contract(chain, "TraceChainForwarder"))
    return deployment, tx, keys


def actor_registry_gas(chain: Chain) -> dict[str, int]:
    """Gas of every ActorRegistry write."""
    deployment, tx, keys = _setup(chain)
    gov, a = keys[0], keys[1]
    actors = ActorRegistryClient(deployment.contract(chain, "ActorRegistry"), tx)
    relayed = ActorRegistryClient(actors.contract, tx.via_relayer(keys[9]))
    return {
        "registerActor (1 role)": actors.register_actor(gov, a.address, "Acme Dairy Co-op", [Role.MANUFACTURER]).gas_used,
        "registerActor (2 roles)": actors.register_actor(
            gov, keys[2].address, "Harbor Logistics", [Role.LOGISTICS, Role.RETAILER]
        ).gas_used,
        "grantRole": actors.grant_role(gov, a.address, Role.INSPECTOR).gas_used,
        "revokeRole": actors.revoke_role(gov, a.address, Role.INSPECTOR).gas_used,
        "updateActor": actors.update_actor(a, a.address, "Acme Dairy Co-op Ltd", keccak_text("v2")).gas_used,
        "updateActor (relayed, paid by relayer)": relayed.update_actor(a, a.address, "Acme Dairy").gas_used,
        "suspendActor": actors.suspend_actor(gov, a.address, keccak_text("audit")).gas_used,
        "reinstateActor": actors.reinstate_actor(gov, a.address).gas_used,
    }


def throughput(chain: Chain, count: int) -> dict[str, float]:
    """Sequential signed transactions per second through the one send path (Transactor.send)."""
    deployment, tx, keys = _setup(chain)
    actors = ActorRegistryClient(deployment.contract(chain, "ActorRegistry"), tx)
    gov, a = keys[0], keys[1]
    actors.register_actor(gov, a.address, "Acme", [Role.MANUFACTURER])
    start = time.perf_counter()
    for i in range(count):
        actors.update_actor(a, a.address, f"Acme {i}")
    elapsed = time.perf_counter() - start
    return {"transactions": count, "seconds": round(elapsed, 3), "tx_per_second": round(count / elapsed, 1)}


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median and p95 wall time of `fn` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
        "n": repeat,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    count = 20 if args.quick else 100
    report: dict[str, Any] = {"tx_floor_gas": TX_FLOOR}
    report["gas"] = {"ActorRegistry": actor_registry_gas(embedded_chain())}
    report["throughput"] = {"embedded": throughput(embedded_chain(), count)}
    with AnvilNode(free_port()) as node:
        report["throughput"]["anvil"] = throughput(node.start(), count)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
