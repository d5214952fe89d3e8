"""`tracechain actors`: the actor directory and governance's writes (register, roles, suspension)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracechain.cli.common import (
    DevAccountOption,
    JsonOption,
    KeyOption,
    RpcOption,
    VerboseOption,
    command,
    emit,
    group,
    open_node,
    signer,
    tx_json,
    who,
)
from tracechain.cli.messages import check_choice
from tracechain.errors import NotFoundError
from tracechain.types import Role

if TYPE_CHECKING:
    from tracechain.chain.transact import TxResult
    from tracechain.models import Actor
    from tracechain.services.runtime import Runtime

app = group("Registered actors and their roles. Writes are governance's, signed and paid by the governor.")

ROLES = [r.value for r in Role]


def _complete_role(incomplete: str) -> list[str]:
    return [r for r in ROLES if r.startswith(incomplete)]


AddressArg = Annotated[str, typer.Argument(metavar="ADDRESS", help="The actor's account address.")]
RoleArg = Annotated[
    str, typer.Argument(metavar="ROLE", help=f"One of: {', '.join(ROLES)}.", autocompletion=_complete_role)
]


def _role(value: str) -> Role:
    return Role.parse(check_choice("role", value.strip().lower(), ROLES))


def _actor_json(actor: Actor) -> dict[str, Any]:
    return {
        "address": actor.address,
        "name": actor.name,
        "roles": [str(r) for r in actor.roles],
        "suspended": actor.suspended,
        "metadataHash": actor.metadata_hash,
    }


def _show(address: str, name: str, roles: str, suspended: bool) -> str:
    return f"{address}  {name}  [{roles or 'no roles'}]  {'SUSPENDED' if suspended else 'active'}"


def _governed(runtime: Runtime, governor: str, result: TxResult) -> tuple[str, dict[str, Any]]:
    return f"signed and paid by {who(runtime, governor)}", {"signedBy": governor, "paidBy": governor, **tx_json(result)}


@command(app, "show")
def show(
    address: AddressArg, rpc: RpcOption = None, as_json: JsonOption = False, verbose: VerboseOption = False
) -> None:
    """Show one actor as the registry holds it now. Needs no key.

    Examples:
      tracechain actors show 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
    """
    actor = open_node(rpc).actors.get_actor(address)
    if actor is None:
        raise NotFoundError(f"{address} is not a registered actor")
    emit(as_json, _actor_json(actor), _show(actor.address, actor.name, ", ".join(actor.roles), actor.suspended))


@command(app, "list")
def list_actors(rpc: RpcOption = None, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """List every registered actor, from the index (brought up to date first). Needs no key.

    Examples:
      tracechain actors list
      tracechain actors list --json
    """
    runtime = open_node(rpc)
    runtime.sync()
    from sqlalchemy import select

    from tracechain.store.db import ActorRow

    with runtime.store.session() as s:
        rows = [
            (r.address, r.name, r.roles, r.suspended)
            for r in s.scalars(select(ActorRow).order_by(ActorRow.registered_block))
        ]
    emit(
        as_json,
        {
            "actors": [
                {"address": a, "name": n, "roles": [x for x in r.split(",") if x], "suspended": s}
                for a, n, r, s in rows
            ]
        },
        *(_show(*row) for row in rows),
    )


@command(app, "register")
def register_actor(
    address: AddressArg,
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="Public display name, e.g. a business name.")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            metavar="ROLE",
            help=f"Role to grant; repeat it for several. One of: {', '.join(ROLES)}.",
            autocompletion=_complete_role,
        ),
    ],
    metadata_hash: Annotated[
        str | None,
        typer.Option("--metadata-hash", metavar="HASH", help="Hash (0x and 64 hex digits) of the profile document."),
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Register ADDRESS as an actor with roles (governance).

    Examples:
      tracechain actors register 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
          --name "Acme Dairy Co-op" --role manufacturer --dev-account 0
    """
    from tracechain.hashing import parse_bytes32

    roles = [_role(r) for r in role]
    meta = parse_bytes32(metadata_hash) if metadata_hash else bytes(32)
    runtime = open_node(rpc)
    governor = signer(key, dev_account, runtime)
    result = runtime.actors.register_actor(governor, address, name, roles, meta)
    sentence, data = _governed(runtime, governor.address, result)
    emit(
        as_json,
        {"address": address, "name": name, "roles": [str(r) for r in roles], **data},
        f"registered {address} as {name} [{', '.join(roles)}] in block {result.block_number} (tx {result.tx_hash})",
        sentence,
    )


@command(app, "grant")
def grant(
    address: AddressArg,
    role: RoleArg,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Grant ROLE to a registered actor (governance).

    Examples:
      tracechain actors grant 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 logistics --dev-account 0
    """
    chosen = _role(role)
    runtime = open_node(rpc)
    governor = signer(key, dev_account, runtime)
    result = runtime.actors.grant_role(governor, address, chosen)
    sentence, data = _governed(runtime, governor.address, result)
    emit(
        as_json,
        {"address": address, "role": str(chosen), **data},
        f"granted {chosen} to {who(runtime, address)} (tx {result.tx_hash})",
        sentence,
    )


@command(app, "revoke")
def revoke(
    address: AddressArg,
    role: RoleArg,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Revoke ROLE from an actor (governance).

    Examples:
      tracechain actors revoke 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 logistics --dev-account 0
    """
    chosen = _role(role)
    runtime = open_node(rpc)
    governor = signer(key, dev_account, runtime)
    result = runtime.actors.revoke_role(governor, address, chosen)
    sentence, data = _governed(runtime, governor.address, result)
    emit(
        as_json,
        {"address": address, "role": str(chosen), **data},
        f"revoked {chosen} from {who(runtime, address)} (tx {result.tx_hash})",
        sentence,
    )


@command(app, "suspend")
def suspend(
    address: AddressArg,
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why; only its keccak-256 hash goes on-chain.")
    ] = "",
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Suspend an actor: every role check fails until it is reinstated (governance).

    Examples:
      tracechain actors suspend 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --reason "failed audit" --dev-account 0
    """
    from tracechain.hashing import keccak_text

    runtime = open_node(rpc)
    governor = signer(key, dev_account, runtime)
    reason_hash = keccak_text(reason) if reason else bytes(32)
    result = runtime.actors.suspend_actor(governor, address, reason_hash)
    sentence, data = _governed(runtime, governor.address, result)
    emit(
        as_json,
        {"address": address, "suspended": True, **data},
        f"suspended {who(runtime, address)} (tx {result.tx_hash})",
        sentence,
    )


@command(app, "reinstate")
def reinstate(
    address: AddressArg,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Lift an actor's suspension (governance).

    Examples:
      tracechain actors reinstate 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --dev-account 0
    """
    runtime = open_node(rpc)
    governor = signer(key, dev_account, runtime)
    result = runtime.actors.reinstate_actor(governor, address)
    sentence, data = _governed(runtime, governor.address, result)
    emit(
        as_json,
        {"address": address, "suspended": False, **data},
        f"reinstated {who(runtime, address)} (tx {result.tx_hash})",
        sentence,
    )


def register(root: typer.Typer) -> None:
    """Add `tracechain actors ...` to the root app."""
    root.add_typer(app, name="actors")
