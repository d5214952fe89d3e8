"""Validated value types used across TraceChain: addresses, 32-byte hashes and actor roles."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from tracechain.errors import InvalidInputError


class Role(StrEnum):
    """Actor roles; `id` is the bytes32 the contracts use (see contracts/Common.sol)."""

    GOVERNANCE = "governance"
    MANUFACTURER = "manufacturer"
    LOGISTICS = "logistics"
    RETAILER = "retailer"
    INSPECTOR = "inspector"
    NOTARY = "notary"
    AUDITOR = "auditor"

    @property
    def id(self) -> bytes:
        """The on-chain role identifier: 0x00 for governance, else keccak256(UPPERCASE name)."""
        from eth_utils import keccak  # imported where used: the CLI's start-up never needs it

        if self is Role.GOVERNANCE:
            return bytes(32)
        return keccak(text=self.value.upper())

    @classmethod
    def parse(cls, value: str) -> Role:
        """The role named `value` (any case).

        Raises:
            InvalidInputError: no such role.
        """
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise InvalidInputError(f"unknown role {value!r}", hint=f"one of: {names}") from None

    @classmethod
    def from_id(cls, role_id: bytes) -> Role | None:
        """The role whose on-chain id is `role_id`, if any."""
        return next((r for r in cls if r.id == role_id), None)


def to_address(value: str) -> str:
    """`value` as a checksummed address.

    Raises:
        InvalidInputError: not a 20-byte hex address.
    """
    from eth_utils import is_address, to_checksum_address  # imported where used (start-up time)

    if not isinstance(value, str) or not is_address(value):
        raise InvalidInputError(f"not an Ethereum address: {value!r}")
    return str(to_checksum_address(value))


def iso_utc(timestamp: int) -> str:
    """A block timestamp as ISO 8601 UTC with a Z, e.g. 2026-11-23T12:00:00Z (receipts, answers)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
