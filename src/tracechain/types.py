"""Validated value types used across TraceChain: addresses, 32-byte hashes and actor roles."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

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


@lru_cache(maxsize=1 << 16)  # the same few actors' addresses come by in every log: checksum each once
def to_address(value: str) -> str:
    """`value` as a checksummed address.

    Raises:
        InvalidInputError: not a 20-byte hex address.
    """
    checksummed = _checksummed(value) if isinstance(value, str) else None
    if checksummed is None:
        raise InvalidInputError(f"not an Ethereum address: {value!r}")
    return checksummed


@lru_cache(maxsize=4096)
def _checksummed(value: str) -> str | None:
    """`value` checksummed, or None when it is no address. Remembered: checking and making a
    checksum hash the address each time, and a bulk request names the same few submitters
    thousands of times."""
    from eth_utils import is_address, to_checksum_address  # imported where used (start-up time)

    return str(to_checksum_address(value)) if is_address(value) else None


def iso_utc(timestamp: int) -> str:
    """A block timestamp as ISO 8601 UTC with a Z, e.g. 2026-11-23T12:00:00Z (receipts, answers)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
