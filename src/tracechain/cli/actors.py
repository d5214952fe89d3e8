"""`tracechain actors`: the actor directory and governance's writes (register, roles, suspension)."""

from __future__ import annotations

from typing import Annotated

import typer

from tracechain.cli.common import DevAccountOption, KeyOption, RpcOption, node_runtime, signer
from tracechain.errors import NotFoundError
from tracechain.hashing import keccak_text, parse_bytes32
from tracechain.models import Actor
from tracechain.types import Role

app = typer.Typer(no_args_is_help=True, help="Registered actors and their roles (writes need governance).")

RoleArg = Annotated[list[str], typer.Option("--role", help="Role to grant (repeatable): " + ", ".join(Role))]


def _show(actor: Actor) -> str:
    state = "SUSPENDED" if actor.suspended else "active"
    return f"{actor.address}  {actor.name}  [{', '.join(actor.roles) or 'no roles'}]  {state}"


@app.command("show")
def show(address: str, rpc: RpcOption = None) -> None:
    """Show one actor as the registry holds it now."""
    actor = node_runtime(rpc).actors.get_actor(address)
    if actor is None:
        raise NotFoundError(f"{address} is not a registered actor")
    typer.echo(_show(actor))


@app.command("list")
def list_actors(rpc: RpcOption = None) -> None:
    """List every registered actor (from the index, brought up to date first)."""
    runtime = node_runtime(rpc)
    runtime.sync()
    from sqlalchemy import select

    from tracechain.store.db import ActorRow

    with runtime.store.session() as s:
        for row in s.scalars(select(ActorRow).order_by(ActorRow.registered_block)):
            state = "SUSPENDED" if row.suspended else "active"
            typer.echo(f"{row.address}  {row.name}  [{row.roles or 'no roles'}]  {state}")


@app.command("register")
def register_actor(
    address: str,
    name: Annotated[str, typer.Option(help="Public display name (a business name).")],
    role: RoleArg,
    metadata_hash: Annotated[str | None, typer.Option(help="0x bytes32 hash of the profile document.")] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Register ADDRESS as an actor with roles (governance)."""
    runtime = node_runtime(rpc)
    roles = [Role.parse(r) for r in role]
    meta = parse_bytes32(metadata_hash) if metadata_hash else bytes(32)
    result = runtime.actors.register_actor(signer(key, dev_account, runtime), address, name, roles, meta)
    typer.echo(f"registered {address} as {name} in block {result.block_number} (tx {result.tx_hash})")


@app.command("grant")
def grant(
    address: str, role: str, rpc: RpcOption = None, key: KeyOption = None, dev_account: DevAccountOption = None
) -> None:
    """Grant ROLE to a registered actor (governance)."""
    runtime = node_runtime(rpc)
    result = runtime.actors.grant_role(signer(key, dev_account, runtime), address, Role.parse(role))
    typer.echo(f"granted {role} to {address} (tx {result.tx_hash})")


@app.command("revoke")
def revoke(
    address: str, role: str, rpc: RpcOption = None, key: KeyOption = None, dev_account: DevAccountOption = None
) -> None:
    """Revoke ROLE from an actor (governance)."""
    runtime = node_runtime(rpc)
    result = runtime.actors.revoke_role(signer(key, dev_account, runtime), address, Role.parse(role))
    typer.echo(f"revoked {role} from {address} (tx {result.tx_hash})")


@app.command("suspend")
def suspend(
    address: str,
    reason: Annotated[str, typer.Option(help="Reason; only its keccak-256 hash goes on-chain.")] = "",
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Suspend an actor: every role check fails until reinstated (governance)."""
    runtime = node_runtime(rpc)
    reason_hash = keccak_text(reason) if reason else bytes(32)
    result = runtime.actors.suspend_actor(signer(key, dev_account, runtime), address, reason_hash)
    typer.echo(f"suspended {address} (tx {result.tx_hash})")


@app.command("reinstate")
def reinstate(address: str, rpc: RpcOption = None, key: KeyOption = None, dev_account: DevAccountOption = None) -> None:
    """Lift an actor's suspension (governance)."""
    runtime = node_runtime(rpc)
    result = runtime.actors.reinstate_actor(signer(key, dev_account, runtime), address)
    typer.echo(f"reinstated {address} (tx {result.tx_hash})")


def register(root: typer.Typer) -> None:
    """Add `tracechain actors ...` to the root app."""
    root.add_typer(app, name="actors")
