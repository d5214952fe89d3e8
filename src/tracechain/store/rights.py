"""Index of rights events (handlers keyed by contract and event name)."""

from __future__ import annotations

from typing import Any

HANDLERS: dict[tuple[str, str], Any] = {}
