"""Health, the deployment (addresses to verify against) and the actor directory."""

from __future__ import annotations

from fastapi import APIRouter

from tracechain.api.bodies import StrictJsonRoute
from tracechain.api.deps import RuntimeDep
from tracechain.api.errors import READ_STATUSES, error_responses
from tracechain.api.params import AddressPath, LimitQuery, OffsetQuery
from tracechain.api.schemas.common import ActorPublic, ActorsPublic, DeploymentPublic, HealthPublic, IndexLagPublic
from tracechain.chain.transact import FORWARDER_NAME, FORWARDER_VERSION
from tracechain.errors import ActorNotFoundError
from tracechain.store.actors import get_actor as stored_actor
from tracechain.store.actors import list_actors as stored_actors
from tracechain.types import to_address

router = APIRouter(prefix="/v1", tags=["system"], route_class=StrictJsonRoute)


@router.get("/health", response_model=HealthPublic, responses=error_responses(503))
def health(runtime: RuntimeDep) -> HealthPublic:
    """Liveness, the chain head, and how far the index (which every read answers from) lags behind
    it, in blocks and in seconds of chain time."""
    lag = runtime.index_lag()
    return HealthPublic(
        status="ok",
        chain_id=runtime.chain.chain_id,
        block=lag.head_block,
        index=IndexLagPublic(
            block=lag.indexed_block, lag_blocks=lag.blocks, lag_seconds=lag.seconds, following=lag.following
        ),
    )


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


@router.get("/actors", response_model=ActorsPublic, responses=error_responses(*READ_STATUSES))
def list_actors(runtime: RuntimeDep, limit: LimitQuery = 100, offset: OffsetQuery = 0) -> ActorsPublic:
    """A page of the registered actors, in order of registration, from the index."""
    runtime.refresh()
    with runtime.store.session() as s:
        rows, total = stored_actors(s, limit, offset)
        items = [ActorPublic.of(r) for r in rows]
    next_offset = offset + len(items) if offset + len(items) < total else None
    return ActorsPublic(items=items, total=total, limit=limit, offset=offset, next_offset=next_offset)


@router.get(
    "/actors/{address}",
    response_model=ActorPublic,
    responses=error_responses(*READ_STATUSES, _404="No registered actor at this address (`actor_not_found`)"),
)
def get_actor(address: AddressPath, runtime: RuntimeDep) -> ActorPublic:
    """One registered actor."""
    runtime.refresh()
    with runtime.store.session() as s:
        row = stored_actor(s, to_address(address))
        if row is None:
            raise ActorNotFoundError(f"no registered actor at {address}")
        return ActorPublic.of(row)
