"""The demo story on the embedded chain: actors, then each feature's chapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from tracechain.chain.connect import dev_accounts
from tracechain.hashing import document_hash
from tracechain.services.runtime import Runtime
from tracechain.types import Role

# Dev account index, display name and roles of the demo's cast (index 0 is governance).
CAST: dict[str, tuple[int, str, tuple[Role, ...]]] = {
    "manufacturer": (1, "Acme Dairy Co-op", (Role.MANUFACTURER,)),
    "inspector": (2, "Nordic Food Inspection AB", (Role.INSPECTOR,)),
    "logistics": (3, "Harbor Cold-Chain Logistics", (Role.LOGISTICS,)),
    "retailer": (4, "FreshMart Stores", (Role.RETAILER,)),
    "supplier": (5, "Alpine Packaging GmbH", (Role.MANUFACTURER, Role.LOGISTICS)),
    "notary": (6, "TraceChain Platform Notary", (Role.NOTARY,)),
    "auditor": (7, "Baltic Audit Partners", (Role.AUDITOR,)),
}


@dataclass
class DemoContext:
    """What each chapter of the story needs."""

    runtime: Runtime
    out: Callable[[str], None]
    accounts: dict[str, LocalAccount] = field(default_factory=dict)
    command: str = "tracechain"  # how the reader runs tracechain, in the commands the story prints
    serving: bool = True  # whether the API (and its read-only /v1/rpc) outlives the story

    @property
    def base_url(self) -> str:
        return self.runtime.settings.public_base_url.rstrip("/")

    @property
    def data_dir(self) -> Path:
        path = Path(self.runtime.settings.data_dir) / "demo"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def heading(self, title: str) -> None:
        self.out(f"\n== {title} ==")


def register_cast(ctx: DemoContext) -> None:
    """Register the demo's actors (governance registers each, with its roles)."""
    keys = dev_accounts()
    governance = keys[0]
    ctx.accounts["governance"] = governance
    ctx.heading("Actors")
    ctx.out(f"governance        {governance.address}  TraceChain Governance")
    for role_name, (index, name, roles) in CAST.items():
        account = keys[index]
        ctx.accounts[role_name] = account
        profile = {"name": name, "roles": [r.value for r in roles]}
        result = ctx.runtime.actors.register_actor(governance, account.address, name, roles, document_hash(profile))
        ctx.out(f"{role_name:17} {account.address}  {name} [{', '.join(roles)}] gas {result.gas_used}")


def run_demo(
    runtime: Runtime, out: Callable[[str], None] = print, *, command: str = "tracechain", serving: bool = True
) -> DemoContext:
    """Run the whole story; returns the context (accounts) for callers that continue."""
    from tracechain.demo import cases, notary, provenance, rights, supply_chain

    ctx = DemoContext(runtime=runtime, out=out, command=command, serving=serving)
    ctx.heading("Deployment")
    out(f"chain: {runtime.chain.label()} (chain id {runtime.chain.chain_id})")
    for name, contract in runtime.deployment.contracts.items():
        out(f"  {name:22} {contract.address}")
    register_cast(ctx)
    for chapter in (provenance, supply_chain, notary, rights, cases):
        chapter.run(ctx)
    runtime.sync()
    out(f"\nindexed up to block {runtime.chain.w3.eth.block_number}")
    return ctx
