"""The notary chapter of the demo: a purchase order co-signed by buyer and seller, an invoice
notarized by the platform notary, and 1,000 delivery notes anchored under one Merkle root — each
with a receipt anyone can check against the chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracechain.hashing import to_hex
from tracechain.services.notary import NotaryService
from tracechain.services.receipts import NotaryReceipt, verify_receipt
from tracechain.types import Role

if TYPE_CHECKING:
    from tracechain.demo import DemoContext

DELIVERIES = 1_000
COSIGN_TTL = 3600


def _write(path: Path, body: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def _save_receipt(ctx: DemoContext, name: str, receipt: NotaryReceipt) -> Path:
    return _write(ctx.data_dir / "receipts" / f"{name}.receipt.json", receipt.to_json())


def run(ctx: DemoContext) -> None:
    """Co-sign a purchase order, notarize an invoice, batch 1,000 delivery notes; print receipts."""
    ctx.heading("Notarization")
    runtime, out = ctx.runtime, ctx.out
    buyer, seller, notary = ctx.accounts["retailer"], ctx.accounts["manufacturer"], ctx.accounts["notary"]
    svc = NotaryService(runtime, anchor=notary)
    _let_operator_anchor(ctx)

    order = {
        "type": "purchase_order",
        "number": "PO-2026-0042",
        "buyer": {"name": "FreshMart Stores", "account": buyer.address},
        "seller": {"name": "Acme Dairy Co-op", "account": seller.address},
        "lines": [{"gtin": "09506000134352", "description": "Organic milk 1 l", "quantity": 2400, "unitPrice": "0.89"}],
        "currency": "EUR",
        "deliverBy": "2026-12-01",
    }
    order_path = _write(ctx.data_dir / "records" / "purchase-order.json", order)
    order_hash = svc.record_hash_of(order)
    parties = [buyer.address, seller.address]
    deadline = int(runtime.chain.w3.eth.get_block("latest")["timestamp"]) + COSIGN_TTL
    signatures = [svc.client.cosign(p, order_hash, "purchase_order", parties, deadline) for p in (buyer, seller)]
    status = svc.notarize_cosigned(order_hash, "purchase_order", parties, deadline, signatures)
    svc.keep(order)
    out(f"purchase order {to_hex(order_hash)} co-signed by buyer and seller (EIP-712), block {status.block_number}")
    out(f"  its id {status.id} derives from the record, its kind and the two parties: nobody else can take it")

    invoice = {"type": "invoice", "number": "INV-2026-0042", "order": to_hex(order_hash), "total": "2136.00"}
    _write(ctx.data_dir / "records" / "invoice.json", invoice)
    status = svc.notarize_single(notary, svc.record_hash_of(invoice), "invoice")
    svc.keep(invoice)
    out(f"invoice {status.record_hash} notarized by the platform notary, block {status.block_number}, id {status.id}")

    notes = [
        {"type": "delivery", "note": f"DN-2026-{i:05d}", "order": to_hex(order_hash), "pallets": 1 + i % 4}
        for i in range(DELIVERIES)
    ]
    queued = svc.enqueue_many([(svc.record_hash_of(n), "delivery") for n in notes], notary.address)
    for note in notes:
        svc.keep(note)
    out(f"{queued} delivery notes queued for batch notarization (batches of up to {svc.max_records})")
    for batch in svc.flush():
        gas = batch.gas_used or 0
        out(
            f"  batch {batch.root}: {batch.record_count} records {batch.action} in block {batch.block_number}, "
            f"{gas} gas ({gas / batch.record_count:.1f} a record)"
        )

    order_receipt = _save_receipt(ctx, "purchase-order", svc.receipt(order_hash))
    note_path = _write(ctx.data_dir / "records" / "delivery-DN-2026-00417.json", notes[417])
    note_receipt = svc.receipt(svc.record_hash_of(notes[417]))
    note_receipt_path = _save_receipt(ctx, "delivery-DN-2026-00417", note_receipt)
    for receipt_path, record_path in ((order_receipt, order_path), (note_receipt_path, note_path)):
        verdict = verify_receipt(runtime.chain, NotaryReceipt.from_json(json.loads(receipt_path.read_text())))
        out(f"receipt: {receipt_path}  ({'verified' if verdict.ok else verdict.reason})")
        notary_address = ctx.runtime.deployment.address("Notary")
        if ctx.serving or not runtime.chain.embedded:
            out(
                f"  check it: {ctx.command} verify {receipt_path} --record {record_path} --rpc {_rpc_url(ctx)} "
                f"--notary {notary_address}"
            )
    out(f"  (proof of the delivery note: {len(note_receipt.merkle.proof) if note_receipt.merkle else 0} hashes)")
    if runtime.chain.embedded and ctx.serving:
        out("  the embedded chain is served read-only at /v1/rpc while the demo's API runs;")
        out("  an audit that must not trust this server points --rpc at its own node instead")
    if ctx.serving:
        out(f"  or: curl -s {ctx.base_url}/v1/notarizations/{to_hex(order_hash)}/receipt")


def _let_operator_anchor(ctx: DemoContext) -> None:
    """Batches queued through the API are anchored by the server's operator, which must be a notary."""
    runtime, governance = ctx.runtime, ctx.accounts.get("governance")
    operator = runtime.operator.address
    if governance is None or runtime.actors.is_active(operator, Role.NOTARY):
        return
    if runtime.actors.get_actor(operator) is None:
        ctx.out(f"note: the operator {operator} is not a registered actor, so API batches will not be anchored")
        return
    runtime.actors.grant_role(governance, operator, Role.NOTARY)
    ctx.out(f"the operator {operator} (it anchors batches queued through the API) now holds the notary role")


def _rpc_url(ctx: DemoContext) -> str:
    runtime = ctx.runtime
    if runtime.chain.embedded:
        return f"{ctx.base_url}/v1/rpc"
    return str(runtime.settings.rpc_url or runtime.chain.url)
