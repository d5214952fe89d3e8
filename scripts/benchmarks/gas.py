"""Gas figures: every write of every contract on the embedded chain (py-evm), the same writes
cross-checked on Anvil, and EAS (the most used attestation contracts, from their published compiled
artifacts) deployed on the same Anvil: `timestamp`, `multiTimestamp`, `attest`, `multiAttest`.

Gas is each receipt's gasUsed, 21,000 base and calldata included. Writes whose calldata holds a
timestamp (co-signature deadlines, certificate expiries) move by 12-24 gas with the clock."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks.common import Cast, batch, build_cast, write
from tracechain.chain.actors import ActorRegistryClient
from tracechain.chain.connect import Chain, dev_accounts
from tracechain.chain.notary import LEAF_ENCODING, NotaryClient, leaf_values
from tracechain.chain.rights import DataRightsClient, Right
from tracechain.hashing import document_hash, keccak_text
from tracechain.merkle import StandardMerkleTree
from tracechain.types import Role

ROOT = Path(__file__).resolve().parents[2]
EAS_PACKAGE = "@ethereum-attestation-service/eas-contracts"
DAY = 86_400


# ---------------------------------------------------------------- TraceChain's contracts
def _anchor(client: NotaryClient, sender: Any, count: int) -> int:
    hashes = [document_hash({"type": "delivery", "count": count, "n": i}) for i in range(count)]
    tree = StandardMerkleTree.of([leaf_values(h, "delivery") for h in hashes], LEAF_ENCODING)
    return client.notarize_batch(sender, tree.root, count, document_hash({"records": count})).gas_used


def notary(chain: Chain) -> dict[str, Any]:
    """Gas of notarizing one record, co-signed records, batches of 100 and 10,000, and relayed."""
    cast = build_cast(chain)
    n = cast.accounts["notary"]
    direct = NotaryClient(cast.contract("Notary"), cast.tx)
    relayed = NotaryClient(direct.contract, cast.relayed)
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    out: dict[str, Any] = {}
    out["notarize (single)"] = write(direct.notarize(n, document_hash({"po": 1}), "purchase_order").gas_used)
    a, b = cast.accounts["retailer"], cast.accounts["manufacturer"]
    record, parties, deadline = document_hash({"po": 2}), [a.address, b.address], now + 3600
    sigs = [direct.cosign(s, record, "purchase_order", parties, deadline) for s in (a, b)]
    out["notarizeCoSigned (2 parties)"] = write(
        direct.notarize_cosigned(a, record, "purchase_order", parties, deadline, sigs).gas_used
    )
    one = [direct.cosign(a, record, "purchase_order", [a.address], deadline)]
    out["notarizeCoSigned (1 party)"] = write(
        direct.notarize_cosigned(a, record, "purchase_order", [a.address], deadline, one).gas_used
    )
    out["notarizeBatch (100 records)"] = batch(_anchor(direct, n, 100), 100)
    out["notarizeBatch (10,000 records)"] = batch(_anchor(direct, n, 10_000), 10_000)
    out["notarize relayed (signer's first forwarder request)"] = write(
        relayed.notarize(n, document_hash({"po": 3}), "purchase_order").gas_used
    )
    out["notarize relayed"] = write(relayed.notarize(n, document_hash({"po": 4}), "purchase_order").gas_used)
    return out


def actors(chain: Chain) -> dict[str, Any]:
    """Gas of every ActorRegistry write."""
    cast = build_cast(chain)
    keys = dev_accounts()
    gov, a = keys[0], keys[7]
    client = ActorRegistryClient(cast.contract("ActorRegistry"), cast.tx)
    gas = {
        "registerActor (1 role)": client.register_actor(gov, a.address, "Acme Dairy Co-op", [Role.MANUFACTURER]),
        "registerActor (2 roles)": client.register_actor(
            gov, keys[8].address, "Harbor", [Role.LOGISTICS, Role.RETAILER]
        ),
        "grantRole": client.grant_role(gov, a.address, Role.INSPECTOR),
        "revokeRole": client.revoke_role(gov, a.address, Role.INSPECTOR),
        "updateActor": client.update_actor(a, a.address, "Acme Dairy Co-op Ltd", keccak_text("v2")),
        "suspendActor": client.suspend_actor(gov, a.address, keccak_text("audit")),
        "reinstateActor": client.reinstate_actor(gov, a.address),
    }
    return {name: write(result.gas_used) for name, result in gas.items()}


def rights(chain: Chain) -> dict[str, Any]:
    """Gas of the DataRightsRegistry lifecycle: register, grant, use, revoke, transfer."""
    cast = build_cast(chain)
    client = DataRightsClient(cast.contract("DataRightsRegistry"), cast.tx)
    holder, grantee = cast.accounts["retailer"], cast.accounts["manufacturer"]
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    dataset, registered = client.register_dataset(holder, document_hash({"rows": 120_000}), document_hash({"t": 1}))
    cid, granted = client.grant_certificate(
        holder, dataset, grantee.address, Right.PROCESSING, now + 30 * DAY, document_hash({"licence": "analytics"})
    )
    gas = {"registerDataset": registered.gas_used, "grantCertificate": granted.gas_used}
    gas["recordUse"] = client.record_use(grantee, cid, Right.PROCESSING, keccak_text("forecast")).gas_used
    gas["revokeCertificate"] = client.revoke_certificate(holder, cid, keccak_text("breach")).gas_used
    gas["transferHolding"] = client.transfer_holding(holder, dataset, cast.accounts["logistics"].address).gas_used
    return {name: write(value) for name, value in gas.items()}


def contracts(chain: Chain) -> dict[str, Any]:
    from benchmarks import provenance

    return {
        "provenance": provenance.gas(chain),
        "notary": notary(chain),
        "actors": actors(chain),
        "rights": rights(chain),
    }


def _figures(tree: Any, path: str = "") -> Iterator[tuple[str, int]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key in ("gas", "total_gas"):
                yield path, value
            else:
                yield from _figures(value, f"{path}/{key}" if path else key)


def compare(embedded: dict[str, Any], anvil: dict[str, Any]) -> dict[str, Any]:
    """Whether the same writes cost the same on Anvil as on the embedded chain."""
    ours, theirs = dict(_figures(embedded)), dict(_figures(anvil))
    gaps = {path: abs(theirs.get(path, -1) - gas) for path, gas in ours.items()}
    return {
        "writes_compared": len(ours),
        "identical": sum(1 for gap in gaps.values() if gap == 0),
        "max_abs_difference_gas": max(gaps.values()),
        "differences_over_100_gas": {
            p: {"embedded": ours[p], "anvil": theirs.get(p)} for p, g in gaps.items() if g > 100
        },
    }


# ---------------------------------------------------------------- EAS on the same node
def eas_artifacts() -> Path | None:
    """The directory of EAS's compiled artifacts: $TRACECHAIN_BENCH_EAS_DIR, else node_modules."""
    for base in (os.environ.get("TRACECHAIN_BENCH_EAS_DIR"), str(ROOT / "node_modules" / EAS_PACKAGE)):
        if base and (Path(base) / "artifacts" / "contracts" / "EAS.sol" / "EAS.json").is_file():
            return Path(base) / "artifacts" / "contracts"
    return None


def _artifact(directory: Path, name: str) -> Any:
    body = json.loads((directory / f"{name}.sol" / f"{name}.json").read_text())
    return SimpleNamespace(abi=body["abi"], bytecode=body["bytecode"])


def _rate_of(send: Callable[[int], int], rounds: int, per_round: int) -> dict[str, Any]:
    start = time.perf_counter()
    for i in range(rounds):
        send(i)
    seconds = time.perf_counter() - start
    records = rounds * per_round
    return {"records": records, "seconds": round(seconds, 2), "records_per_second": round(records / seconds, 1)}


def eas(chain: Chain, rounds: int = 10) -> dict[str, Any] | None:
    """EAS deployed from its npm package's artifacts: gas of timestamp, multiTimestamp (100), attest
    and multiAttest (100) of a one-`bytes32` schema, and multiAttest's records/s sent one transaction
    after another through the same send path as TraceChain's writes; beside it, TraceChain's bare
    recordEvents loop (100 events on 100 new subjects per transaction) on the same node."""
    directory = eas_artifacts()
    if directory is None:
        return None
    from benchmarks import provenance
    from tracechain.chain.provenance import ProvenanceRegistryClient

    cast: Cast = build_cast(chain)
    sender = cast.accounts["governance"]
    registry_address, _ = cast.tx.deploy(sender, _artifact(directory, "SchemaRegistry"))
    eas_address, _ = cast.tx.deploy(sender, _artifact(directory, "EAS"), registry_address)
    registry = chain.w3.eth.contract(address=registry_address, abi=_artifact(directory, "SchemaRegistry").abi)
    contract = chain.w3.eth.contract(address=eas_address, abi=_artifact(directory, "EAS").abi)
    schema = "bytes32 documentHash"
    cast.tx.send(sender, registry.functions.register(schema, "0x" + "00" * 20, True))
    uid = keccak_schema(schema, "0x" + "00" * 20, True)

    def data(i: int) -> tuple[Any, ...]:  # recipient, expirationTime, revocable, refUID, data, value
        return ("0x" + "00" * 20, 0, True, bytes(32), keccak_text(f"att {i}"), 0)

    f = contract.functions
    out: dict[str, Any] = {
        "package": f"{EAS_PACKAGE} {json.loads((directory.parents[1] / 'package.json').read_text())['version']}",
        "schema": schema,
    }
    out["timestamp"] = write(cast.tx.send(sender, f.timestamp(keccak_text("ts 1"))).gas_used)
    out["multiTimestamp (100)"] = batch(
        cast.tx.send(sender, f.multiTimestamp([keccak_text(f"mts {i}") for i in range(100)])).gas_used, 100
    )
    out["attest"] = write(cast.tx.send(sender, f.attest((uid, data(0)))).gas_used)
    out["multiAttest (100)"] = batch(
        cast.tx.send(sender, f.multiAttest([(uid, [data(i) for i in range(1, 101)])])).gas_used, 100
    )

    def multi_attest(n: int) -> int:
        return cast.tx.send(sender, f.multiAttest([(uid, [data(1000 + 100 * n + i) for i in range(100)])])).gas_used

    out["multiAttest (100 a transaction), records/s"] = _rate_of(multi_attest, rounds, 100)
    client = ProvenanceRegistryClient(cast.contract("ProvenanceRegistry"), cast.tx)
    m = cast.accounts["manufacturer"]

    def record_events(n: int) -> int:
        return provenance.record_new_subjects(client, m, f"loop{n}", 100)

    out["TraceChain recordEvents loop (100 new subjects a transaction), events/s"] = _rate_of(
        record_events, rounds, 100
    )
    return out


def keccak_schema(schema: str, resolver: str, revocable: bool) -> bytes:
    """A schema's UID as SchemaRegistry computes it: keccak256(abi.encodePacked(schema, resolver, revocable))."""
    from eth_utils import keccak, to_bytes

    return keccak(schema.encode() + to_bytes(hexstr=resolver) + (b"\x01" if revocable else b"\x00"))
