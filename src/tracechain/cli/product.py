"""`tracechain product`: register products, record EPCIS events, import EPCIS documents, hand over
custody, recall, and show a product's verified trace."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from tracechain import errors
from tracechain.cli.common import (
    DevAccountOption,
    KeyOption,
    RpcOption,
    node_runtime,
    print_json,
    read_json,
    signer,
)
from tracechain.epcis import make_object_event
from tracechain.services.provenance import ProvenanceService, SubjectTrace, TraceReader, WriteReceipt
from tracechain.services.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Product provenance: products, EPCIS events, custody, recalls, traces.")

DirectOption = Annotated[
    bool,
    typer.Option("--direct", help="Send and pay gas as the actor, instead of signing for the operator to relay."),
]
UNSPECIFIED_LOCATION = "urn:tracechain:location:unspecified"


def _service(runtime: Runtime, direct: bool) -> ProvenanceService:
    return ProvenanceService(runtime, runtime.transactor if direct else runtime.relaying)


def _landed(receipt: WriteReceipt) -> str:
    tx = receipt.tx
    return f"block {tx.block_number}, tx {tx.tx_hash}, gas {tx.gas_used}"


def _documents(value: Any, path: str) -> list[dict[str, Any]]:
    docs = value if isinstance(value, list) else [value]
    if not docs or not all(isinstance(d, dict) for d in docs):
        raise errors.InvalidInputError(f"{path} must hold an ObjectEvent or a list of them")
    return docs


@app.command("register")
def register_product(
    product_id: Annotated[str, typer.Argument(help="GS1 Digital Link URI/path, EPC SGTIN URN or opaque ID.")],
    metadata: Annotated[str | None, typer.Option(help="JSON file of product metadata (hash goes on-chain).")] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
) -> None:
    """Register a product as its manufacturer."""
    runtime = node_runtime(rpc)
    meta = read_json(metadata) if metadata else None
    if meta is not None and not isinstance(meta, dict):
        raise errors.InvalidInputError(f"{metadata} must hold a JSON object")
    receipt = _service(runtime, direct).register(signer(key, dev_account, runtime), product_id, meta)
    typer.echo(f"registered {receipt.product_ids[0]} ({_landed(receipt)})")
    typer.echo(f"consumer URL: {_consumer_url(runtime, receipt.product_ids[0])}")


@app.command("event")
def record_event(
    product_id: Annotated[
        str | None, typer.Argument(help="The product (when building the event from options).")
    ] = None,
    file: Annotated[str | None, typer.Option("--file", help="JSON file: an ObjectEvent or a list of them.")] = None,
    biz_step: Annotated[str | None, typer.Option(help="CBV business step, e.g. shipping.")] = None,
    disposition: Annotated[str, typer.Option(help="CBV disposition, e.g. in_transit.")] = "active",
    read_point: Annotated[str, typer.Option(help="Read point URI (e.g. an SGLN URN).")] = UNSPECIFIED_LOCATION,
    biz_location: Annotated[str, typer.Option(help="Business location URI.")] = UNSPECIFIED_LOCATION,
    event_time: Annotated[
        datetime | None,
        typer.Option(
            help="When it happened (ISO 8601; default now, UTC).", formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]
        ),
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
) -> None:
    """Record EPCIS ObjectEvents: from --file, or one built from PRODUCT_ID and --biz-step."""
    if file is not None:
        if product_id is not None or biz_step is not None:
            raise errors.InvalidInputError("give either --file or PRODUCT_ID with --biz-step, not both")
        docs = _documents(read_json(file), file)
    else:
        if product_id is None or biz_step is None:
            raise errors.InvalidInputError("give PRODUCT_ID and --biz-step (or --file)")
        moment = event_time or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        docs = [
            make_object_event(
                product_ids=[product_id],
                biz_step=biz_step,
                disposition=disposition,
                read_point=read_point,
                biz_location=biz_location,
                event_time=moment,
                digital_link_base="https://id.gs1.org",
            )
        ]
    runtime = node_runtime(rpc)
    receipt = _service(runtime, direct).record_events(signer(key, dev_account, runtime), docs)
    typer.echo(
        f"recorded {len(receipt.event_hash_ids)} event(s) for {', '.join(receipt.product_ids)} ({_landed(receipt)})"
    )
    for hash_id in receipt.event_hash_ids:
        typer.echo(f"  {hash_id}")


@app.command("import-epcis")
def import_epcis(
    file: Annotated[str, typer.Argument(help="An EPCIS 2.0 JSON document (EPCISDocument).")],
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
) -> None:
    """Record every event of an EPCIS document, in as many transactions as its size needs. Events
    already recorded are skipped, so an interrupted import resumes when run again."""
    doc = read_json(file)
    runtime = node_runtime(rpc)
    report = _service(runtime, direct).import_epcis(signer(key, dev_account, runtime), doc)
    skipped = f", {report.skipped} already recorded" if report.skipped else ""
    typer.echo(f"imported {report.recorded} event(s) in {len(report.receipts)} transaction(s){skipped}")
    for receipt in report.receipts:
        typer.echo(f"  {len(receipt.event_hash_ids)} event(s): {_landed(receipt)}")


@app.command("transfer")
def transfer(
    product_id: str,
    to: Annotated[str, typer.Argument(help="Address of the new custodian.")],
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
) -> None:
    """Hand custody of a product to another registered actor (current custodian only)."""
    runtime = node_runtime(rpc)
    receipt = _service(runtime, direct).transfer(signer(key, dev_account, runtime), product_id, to)
    typer.echo(f"custody of {receipt.product_ids[0]} passed to {to} ({_landed(receipt)})")


@app.command("recall")
def recall(
    product_id: str,
    reason: Annotated[str | None, typer.Option(help="Reason for the recall (stored as the notice).")] = None,
    notice: Annotated[str | None, typer.Option(help="JSON file of the recall notice (instead of --reason).")] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
) -> None:
    """Recall a product (its manufacturer or governance)."""
    if (reason is None) == (notice is None):
        raise errors.InvalidInputError("give exactly one of --reason or --notice")
    document = read_json(notice) if notice else {"reason": reason}
    if not isinstance(document, dict):
        raise errors.InvalidInputError(f"{notice} must hold a JSON object")
    runtime = node_runtime(rpc)
    receipt = _service(runtime, direct).recall(signer(key, dev_account, runtime), product_id, document)
    typer.echo(f"recalled {receipt.product_ids[0]} ({_landed(receipt)})")


@app.command("trace")
def trace(
    product_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole trace as JSON.")] = False,
    rpc: RpcOption = None,
) -> None:
    """Show a product's history, verified against the chain. Exits 7 when verification fails."""
    runtime = node_runtime(rpc)
    result = TraceReader(runtime).trace(product_id)
    if as_json:
        from tracechain.api.schemas.products import ProductPublic

        print_json(ProductPublic.of(result, runtime.settings.public_base_url).model_dump(mode="json"))
    else:
        _print_trace(result)
    v = result.verification
    if not v.verified:
        raise errors.IntegrityError(f"the trace of {result.product_id} is {v.verdict}: {v.problems[0].message}")


def _print_trace(t: SubjectTrace) -> None:
    def who(address: str | None, name: str | None) -> str:
        return f"{name} ({address})" if name else str(address)

    if t.recalled:
        notice = t.recall.reason if t.recall else None
        said = notice.get("reason", notice) if isinstance(notice, dict) else "(notice not in the store)"
        typer.echo(f"*** RECALLED *** {said}")
    typer.echo(f"product      {t.product_id}  [{t.status}]")
    typer.echo(f"originator   {who(t.originator, t.originator_name)}")
    typer.echo(f"custodian    {who(t.custodian, t.custodian_name) if t.custodian else '(open: a lot or class)'}")
    for e in reversed(t.entries):
        when = datetime.fromtimestamp(e.timestamp, UTC).isoformat(timespec="seconds")
        mark = "ok" if e.document_verified else "!!"
        what = e.biz_step or e.kind
        if e.custodian:
            what = f"{e.kind} -> {who(e.custodian, e.custodian_name)}"
        typer.echo(f"  #{e.index:<3} {when}  {what:<16} {who(e.actor, e.actor_name)}  [{mark}]")
    v = t.verification
    typer.echo(
        f"verification {v.verdict.upper()}: head {v.recomputed_head} ({v.entry_count} entries) "
        f"vs chain {v.chain_head} at block {v.block_number}"
    )
    for p in v.problems:
        typer.echo(f"  problem {p.code}: {p.message}")


def _consumer_url(runtime: Runtime, canonical: str) -> str:
    base = runtime.settings.public_base_url.rstrip("/")
    return f"{base}/{canonical}" if canonical.startswith("01/") else f"{base}/v1/products/{canonical}"


def register(root: typer.Typer) -> None:
    """Add `tracechain product ...` to the root app."""
    root.add_typer(app, name="product")
