"""Typed client of the ActorRegistry contract."""

from __future__ import annotations

from collections.abc import Iterable

from eth_account.signers.local import LocalAccount

from tracechain.chain.client import ContractClient
from tracechain.chain.transact import TxResult
from tracechain.models import Actor
from tracechain.types import Role, to_address

ZERO32 = bytes(32)


class ActorRegistryClient(ContractClient):
    """Reads and writes actors and roles; writes go through the given Transactor."""

    # ---------------------------------------------------------------- writes
    def register_actor(
        self,
        sender: LocalAccount,
        account: str,
        name: str,
        roles: Iterable[Role] = (),
        metadata_hash: bytes = ZERO32,
    ) -> TxResult:
        """Register `account` as an actor with `roles` (governance only)."""
        fn = self.contract.functions.registerActor(to_address(account), name, metadata_hash, [r.id for r in roles])
        return self.tx.send(sender, fn)

    def update_actor(self, sender: LocalAccount, account: str, name: str, metadata_hash: bytes = ZERO32) -> TxResult:
        """Change an actor's name and metadata hash (the actor itself or governance)."""
        return self.tx.send(sender, self.contract.functions.updateActor(to_address(account), name, metadata_hash))

    def grant_role(self, sender: LocalAccount, account: str, role: Role) -> TxResult:
        """Grant `role` to a registered actor (governance only)."""
        return self.tx.send(sender, self.contract.functions.grantRole(role.id, to_address(account)))

    def revoke_role(self, sender: LocalAccount, account: str, role: Role) -> TxResult:
        """Revoke `role` from `account` (governance only)."""
        return self.tx.send(sender, self.contract.functions.revokeRole(role.id, to_address(account)))

    def suspend_actor(self, sender: LocalAccount, account: str, reason_hash: bytes = ZERO32) -> TxResult:
        """Suspend `account`; all its role checks fail until reinstated (governance only)."""
        return self.tx.send(sender, self.contract.functions.suspendActor(to_address(account), reason_hash))

    def reinstate_actor(self, sender: LocalAccount, account: str) -> TxResult:
        """Lift a suspension (governance only)."""
        return self.tx.send(sender, self.contract.functions.reinstateActor(to_address(account)))

    # ---------------------------------------------------------------- reads
    def get_actor(self, account: str) -> Actor | None:
        """The actor record of `account`, or None if it is not registered."""
        address = to_address(account)
        name, metadata_hash, registered_at, suspended_at, registered = self.contract.functions.getActor(address).call()
        if not registered:
            return None
        roles = tuple(r for r in Role if self.contract.functions.hasRole(r.id, address).call())
        return Actor(
            address=address,
            name=name,
            metadata_hash="0x" + bytes(metadata_hash).hex(),
            registered_at=int(registered_at),
            suspended_at=int(suspended_at),
            roles=roles,
        )

    def standing(self, account: str) -> tuple[bool, bool]:
        """Whether `account` is registered, and whether it is suspended: one call (`get_actor` also
        reads every role)."""
        _, _, _, suspended_at, registered = self.contract.functions.getActor(to_address(account)).call()
        return bool(registered), int(suspended_at) != 0

    def is_active(self, account: str, role: Role) -> bool:
        """True when `account` is registered, not suspended and holds `role`."""
        return bool(self.contract.functions.isActive(to_address(account), role.id).call())
