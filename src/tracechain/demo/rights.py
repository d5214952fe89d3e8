"""The data-rights chapter of the demo: a retailer's sales dataset, a processing and an operation
certificate, a recorded use, a revocation, and where to see each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracechain.chain.rights import Right
from tracechain.services.rights import RightsService

if TYPE_CHECKING:
    from tracechain.demo import DemoContext

DAY = 86_400

SALES_MANIFEST = {
    "type": "dataset-manifest/v1",
    "title": "FreshMart store sales, dairy, October 2026",
    "publisher": "FreshMart Stores",
    "period": {"from": "2026-10-01", "to": "2026-10-31"},
    "schema": ["date", "store", "gtin", "units", "revenue_eur"],
    "rows": 48211,
    "file": {
        "name": "sales-dairy-2026-10.csv",
        "sha256": "5f0c8e1b6a3d47f29c1e0b7a9d2f4c6e8a1b3d5f7e9c0a2b4d6f8e1c3a5b7d9f",
    },
}
SALES_METADATA = {"description": "Daily unit sales of dairy GTINs in 42 stores", "format": "text/csv"}
PROCESSING_TERMS = {
    "right": "processing",
    "purpose": "demand forecasting for production planning",
    "onward_transfer": False,
    "fee": {"amount": 1200, "currency": "EUR"},
}
OPERATION_TERMS = {
    "right": "operation",
    "product": "regional dairy demand index",
    "revenue_share_percent": 15,
}


def run(ctx: DemoContext) -> None:
    """Register the sales dataset, grant both certificates, record a use, revoke one."""
    service = RightsService(ctx.runtime)
    retailer, manufacturer, logistics = (ctx.accounts[n] for n in ("retailer", "manufacturer", "logistics"))
    ctx.heading("Data rights")

    dataset = service.register(retailer, SALES_MANIFEST, SALES_METADATA)
    dataset_id = dataset.subject
    ctx.out(f"FreshMart registers its October sales dataset (holding right = ERC-721 token): gas {dataset.tx.gas_used}")
    ctx.out(f"  dataset id   {dataset_id}  (keccak256 of the manifest's hash and FreshMart's address)")
    ctx.out(f"  token        {int(dataset_id, 16)} of {service.client.address}")

    now = service.now().timestamp
    processing = service.grant(
        retailer, dataset_id, manufacturer.address, Right.PROCESSING, now + 90 * DAY, PROCESSING_TERMS
    )
    ctx.out(f"processing certificate to Acme Dairy (90 days): gas {processing.tx.gas_used}")
    ctx.out(f"  {processing.subject}")
    operation = service.grant(retailer, dataset_id, logistics.address, Right.OPERATION, now + 30 * DAY, OPERATION_TERMS)
    ctx.out(f"operation certificate to Harbor Logistics (30 days): gas {operation.tx.gas_used}")
    ctx.out(f"  {operation.subject}")

    used = service.use(
        manufacturer, processing.subject, Right.PROCESSING, {"purpose": "weekly forecast, week 45", "model": "v3"}
    )
    ctx.out(f"Acme Dairy records use #{used.use_index} (checked on-chain against the window): gas {used.tx.gas_used}")
    revoked = service.revoke(retailer, operation.subject, {"reason": "index published before the fee agreement"})
    ctx.out(f"FreshMart revokes the operation certificate (reason hash on-chain): gas {revoked.tx.gas_used}")
    check = service.check_right(dataset_id, logistics.address, Right.OPERATION)
    ctx.out(f"Harbor may operate products on the dataset now: {'yes' if check.has_right else 'no'}")

    base = ctx.base_url
    ctx.out("where to see it:")
    ctx.out(f"  dataset, holder history, certificates  {base}/v1/datasets/{dataset_id}")
    ctx.out(f"  processing certificate (live status)   {base}/v1/certificates/{processing.subject}")
    ctx.out(f"  its uses                               {base}/v1/certificates/{processing.subject}/uses")
    ctx.out(f"  revoked operation certificate          {base}/v1/certificates/{operation.subject}")
    ctx.out(
        f"  rights check                           {base}/v1/datasets/{dataset_id}/rights"
        f"?account={manufacturer.address}&right=processing"
    )
    if ctx.serving or not ctx.runtime.chain.embedded:
        rpc = f"{base}/v1/rpc" if ctx.runtime.chain.embedded else ctx.runtime.settings.rpc_url
        ctx.out(f"  or: {ctx.command} rights show {processing.subject} --rpc {rpc}")
