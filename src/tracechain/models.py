"""Frozen records passed between layers (chain clients, store, services)."""

from __future__ import annotations

from dataclasses import dataclass

from tracechain.types import Role


@dataclass(frozen=True)
class Actor:
    """A registered actor as the ActorRegistry holds it."""

    address: str
    name: str
    metadata_hash: str  # 0x-hex bytes32
    registered_at: int  # block timestamp
    suspended_at: int  # 0 unless suspended
    roles: tuple[Role, ...]

    @property
    def suspended(self) -> bool:
        return self.suspended_at != 0
