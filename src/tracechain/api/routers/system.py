"""Health, the deployment (addresses to verify against) and the actor directory."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from tracechain.api.deps import RuntimeDep
from tracechain.api.schemas.common import ActorPublic, DeploymentPublic
from tracechain.chain.transact import FORWARDER_NAME, FORWARDER_VERSION
from tracechain.errors import ActorNotFoundError
from tracechain.store.db import ActorRow
from tracechain.types import to_address

router = APIRouter(prefix="/v1", tags=["system"])


@router.get("/health")
def health(runtime: RuntimeDep) -> dict[str, object]:
    """Liveness, the chain head, and how far the index (which every read answers from) lags behind
    it, in blocks and in seconds of chain time."""
    lag = runtime.index_lag()
    return {
        "status": "ok",
        "chain_id": runtime.chain.chain_id,
        "block": lag.head_block,
        "index": {
            "block": lag.indexed_block,
            "lag_blocks": lag.blocks,
            "lag_seconds": lag.seconds,
            "following": lag.following,
        },
    }


@router.get("/deployment", response_model=DeploymentPublic)
def deployment(runtime: RuntimeDep) -> DeploymentPublic:
    """Chain id, anchor block and contract addresses of this deployment."""
    d = runtime.deployment
    return DeploymentPublic(
        chain_id=d.chain_id,
        anchor_block=d.anchor_block,
        anchor_hash=d.anchor_hash,
        contracts={name: c.address for name, c in d.contracts.items()},
        forwarder_domain={
            "name": FORWARDER_NAME,
            "version": FORWARDER_VERSION,
            "chainId": d.chain_id,
            "verifyingContract": d.address("TraceChainForwarder"),
        },
    )


def _public(row: ActorRow) -> ActorPublic:
    return ActorPublic(
        address=row.address,
        name=row.name,
        metadata_hash=row.metadata_hash,
        roles=[r for r in row.roles.split(",") if r],
        suspended=row.suspended,
    )


@router.get("/actors", response_model=list[ActorPublic])
def list_actors(runtime: RuntimeDep) -> list[ActorPublic]:
    """Every registered actor, from the index."""
    runtime.refresh()
    with runtime.store.session() as s:
        return [_public(r) for r in s.scalars(select(ActorRow).order_by(ActorRow.registered_block))]


@router.get("/actors/{address}", response_model=ActorPublic)
def get_actor(address: str, runtime: RuntimeDep) -> ActorPublic:
    """One registered actor."""
    runtime.refresh()
    with runtime.store.session() as s:
        row = s.get(ActorRow, to_address(address))
        if row is None:
            raise ActorNotFoundError(f"no registered actor at {address}")
        return _public(row)
