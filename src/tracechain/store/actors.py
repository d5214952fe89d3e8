"""Index of registered actors, rebuilt from ActorRegistry logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracechain.store.db import ActorRow
from tracechain.types import Role

if TYPE_CHECKING:
    from tracechain.store.indexer import ChainLog, Handler, Rewind

CONTRACT = "ActorRegistry"


def _registered(session: Session, log: ChainLog) -> None:
    a = log.args
    session.merge(
        ActorRow(
            address=a["account"],
            name=a["name"],
            metadata_hash="0x" + bytes(a["metadataHash"]).hex(),
            roles="",
            suspended=False,
            registered_block=log.block_number,
        )
    )


def _updated(session: Session, log: ChainLog) -> None:
    row = session.get(ActorRow, log.args["account"])
    if row is not None:
        row.name = log.args["name"]
        row.metadata_hash = "0x" + bytes(log.args["metadataHash"]).hex()


def _suspension(suspended: bool) -> Handler:
    def handle(session: Session, log: ChainLog) -> None:
        row = session.get(ActorRow, log.args["account"])
        if row is not None:
            row.suspended = suspended

    return handle


def _role(granted: bool) -> Handler:
    def handle(session: Session, log: ChainLog) -> None:
        row = session.get(ActorRow, log.args["account"])
        role = Role.from_id(bytes(log.args["role"]))
        if row is None or role is None:
            return
        roles = set(filter(None, row.roles.split(",")))
        roles = roles | {role.value} if granted else roles - {role.value}
        row.roles = ",".join(sorted(roles))

    return handle


HANDLERS: dict[tuple[str, str], Handler] = {
    ("ActorRegistry", "ActorRegistered"): _registered,
    ("ActorRegistry", "ActorUpdated"): _updated,
    ("ActorRegistry", "ActorSuspended"): _suspension(True),
    ("ActorRegistry", "ActorReinstated"): _suspension(False),
    ("ActorRegistry", "RoleGranted"): _role(True),
    ("ActorRegistry", "RoleRevoked"): _role(False),
}


def rewind(context: Rewind) -> None:
    """Rebuild the actor table from the registry's logs up to `context.to_block`: names, roles
    and suspensions change in place, so replaying is simpler than undoing (actors are few)."""
    context.session.execute(delete(ActorRow))
    for log in context.replay(CONTRACT):
        handler = HANDLERS.get((log.contract, log.event))
        if handler is not None:
            handler(context.session, log)


# ---------------------------------------------------------------- queries
def list_actors(session: Session, limit: int, offset: int = 0) -> tuple[list[ActorRow], int]:
    """One page of the registered actors in order of registration, and how many there are."""
    total = int(session.scalar(select(func.count()).select_from(ActorRow)) or 0)
    page = select(ActorRow).order_by(ActorRow.registered_block, ActorRow.address).offset(offset).limit(limit)
    return list(session.scalars(page)), total


def get_actor(session: Session, address: str) -> ActorRow | None:
    """The registered actor at checksummed `address`, if any."""
    return session.get(ActorRow, address)
