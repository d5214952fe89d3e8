"""The notary chapter of the demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracechain.demo import DemoContext


def run(ctx: DemoContext) -> None:
    """Tell this chapter (not written yet)."""
