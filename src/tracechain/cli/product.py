"""`tracechain product`: register products, record EPCIS events, import EPCIS documents, hand over
custody, recall, and show a product's verified trace."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracechain import errors
from tracechain.cli.common import (
    DevAccountOption,
    JsonOption,
    KeyOption,
    RpcOption,
    VerboseOption,
    accounts,
    command,
    emit,
    group,
    mention,
    open_node,
    operator_address,
    print_json,
    read_json,
    read_object,
    signer,
    tx_json,
    tx_text,
    who,
)
from tracechain.cli.messages import check_choice

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from tracechain.services.provenance import ProvenanceService, SubjectTrace, WriteReceipt
    from tracechain.services.provenance.lineage import Lineage
    from tracechain.services.runtime import Runtime

app = group("Product provenance: products, EPCIS events, custody, recalls and verified traces.")

UNSPECIFIED_LOCATION = "urn:tracechain:location:unspecified"


def _biz_steps(incomplete: str) -> list[str]:
    from tracechain.epcis import BIZ_STEPS

    return sorted(s for s in BIZ_STEPS if s.startswith(incomplete))


def _dispositions(incomplete: str) -> list[str]:
    from tracechain.epcis import DISPOSITIONS

    return sorted(d for d in DISPOSITIONS if d.startswith(incomplete))


ProductArg = Annotated[
    str,
    typer.Argument(
        metavar="PRODUCT_ID",
        help="The product: a GS1 Digital Link (URI or 01/GTIN/21/SERIAL path), an EPC SGTIN URN or an opaque ID.",
    ),
]
DirectOption = Annotated[
    bool,
    typer.Option(
        "--direct", help="Send the transaction and pay its gas yourself, instead of having the operator relay it."
    ),
]


def _service(runtime: Runtime, direct: bool) -> ProvenanceService:
    from tracechain.services.provenance import ProvenanceService

    return ProvenanceService(runtime, runtime.transactor if direct else runtime.relaying)


def _written(runtime: Runtime, acting: LocalAccount, direct: bool, receipt: WriteReceipt) -> tuple[str, dict[str, Any]]:
    payer = acting.address if direct else (operator_address(runtime) or acting.address)
    text, data = accounts(runtime, acting.address, payer)
    return text, {**data, **tx_json(receipt.tx)}


def _consumer_url(runtime: Runtime, canonical: str) -> str:
    base = runtime.settings.public_base_url.rstrip("/")
    return f"{base}/{canonical}" if canonical.startswith("01/") else f"{base}/v1/products/{canonical}"


@command(app, "register")
def register_product(
    product_id: ProductArg,
    metadata: Annotated[
        str | None,
        typer.Option("--metadata", metavar="FILE", help="JSON file of product metadata; its hash goes on-chain."),
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Register a product, as its manufacturer.

    Examples:
      tracechain product register 01/09506000134352/21/SN-0001 --dev-account 1
      tracechain product register https://id.gs1.org/01/09506000134352/21/SN-0002 \\
          --metadata examples/milk.json --dev-account 1
    """
    mention(product_id)
    meta = read_object(metadata, "a JSON object (the product's metadata)") if metadata else None
    runtime = open_node(rpc)
    acting = signer(key, dev_account, runtime)
    receipt = _service(runtime, direct).register(acting, product_id, meta)
    canonical = receipt.product_ids[0]
    sentence, data = _written(runtime, acting, direct, receipt)
    url = _consumer_url(runtime, canonical)
    emit(
        as_json,
        {"productId": canonical, "consumerUrl": url, **data},
        f"registered {canonical} ({tx_text(receipt.tx)})",
        sentence,
        f"consumer URL: {url}",
    )


def _event_time(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise errors.InvalidInputError(
            f"--event-time {value!r} is not an ISO 8601 time",
            hint="e.g. 2026-03-01T08:00:00+01:00 or 2026-03-01T07:00:00Z",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _vocabulary(biz_step: str, disposition: str) -> None:
    from tracechain.epcis import BIZ_STEPS, DISPOSITIONS

    if ":" not in biz_step:  # a URI names an extension step; bare names must be CBV's
        check_choice("business step", biz_step, BIZ_STEPS)
    if ":" not in disposition:
        check_choice("disposition", disposition, DISPOSITIONS)


@command(app, "event")
def record_event(
    product_id: Annotated[
        str | None,
        typer.Argument(
            metavar="PRODUCT_ID", help="The product, when the event is built from --biz-step and the options below."
        ),
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", metavar="FILE", help="JSON file holding an ObjectEvent or a list of them.")
    ] = None,
    biz_step: Annotated[
        str | None,
        typer.Option("--biz-step", metavar="STEP", help="CBV business step, e.g. shipping.", autocompletion=_biz_steps),
    ] = None,
    disposition: Annotated[
        str,
        typer.Option(
            "--disposition",
            metavar="DISPOSITION",
            help="CBV disposition, e.g. in_transit.",
            autocompletion=_dispositions,
        ),
    ] = "active",
    read_point: Annotated[
        str | None,
        typer.Option(
            "--read-point", metavar="URI", help="Where the event was seen, e.g. an SGLN URN. Default: unspecified."
        ),
    ] = None,
    biz_location: Annotated[
        str | None,
        typer.Option("--biz-location", metavar="URI", help="Where the product is afterwards. Default: unspecified."),
    ] = None,
    event_time: Annotated[
        str | None,
        typer.Option(
            "--event-time",
            metavar="TIME",
            help="When it happened, in ISO 8601 with a time zone, e.g. 2026-03-01T08:00:00+01:00. Default: now.",
        ),
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Record EPCIS ObjectEvents: from --file, or one built from PRODUCT_ID and --biz-step.

    The signer must be the product's current custodian (or its manufacturer, for commissioning).

    Examples:
      tracechain product event 01/09506000134352/21/SN-0001 --biz-step commissioning --dev-account 1
      tracechain product event 01/09506000134352/21/SN-0001 --biz-step shipping --disposition in_transit --dev-account 3
      tracechain product event --file examples/events.json --dev-account 3
    """
    if file is not None:
        if product_id is not None or biz_step is not None:
            raise errors.InvalidInputError("give either --file or PRODUCT_ID with --biz-step, not both")
        value = read_json(file)
        docs = value if isinstance(value, list) else [value]
        if not docs or not all(isinstance(d, dict) for d in docs):
            raise errors.InvalidInputError(f"{file} must hold an ObjectEvent or a list of them")
    else:
        if product_id is None or biz_step is None:
            raise errors.InvalidInputError("give PRODUCT_ID and --biz-step, or --file FILE")
        _vocabulary(biz_step, disposition)
        from tracechain.epcis import make_object_event

        docs = [
            make_object_event(
                product_ids=[product_id],
                biz_step=biz_step,
                disposition=disposition,
                read_point=read_point or UNSPECIFIED_LOCATION,
                biz_location=biz_location or UNSPECIFIED_LOCATION,
                event_time=_event_time(event_time),
                digital_link_base="https://id.gs1.org",
            )
        ]
        mention(product_id)
    runtime = open_node(rpc)
    acting = signer(key, dev_account, runtime)
    receipt = _service(runtime, direct).record_events(acting, docs)
    mention(*receipt.product_ids)
    sentence, data = _written(runtime, acting, direct, receipt)
    emit(
        as_json,
        {"productIds": list(receipt.product_ids), "eventHashIds": list(receipt.event_hash_ids), **data},
        f"recorded {len(receipt.event_hash_ids)} event(s) for {', '.join(receipt.product_ids)} ({tx_text(receipt.tx)})",
        sentence,
        *(f"  {h}" for h in receipt.event_hash_ids),
    )


@command(app, "import-epcis")
def import_epcis(
    file: Annotated[str, typer.Argument(metavar="FILE", help="An EPCIS 2.0 JSON document (EPCISDocument).")],
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Record every event of an EPCIS document, in as many transactions as its size needs.

    Events already recorded are skipped, so an interrupted import resumes where it stopped when it
    is run again; nothing is recorded twice.

    Examples:
      tracechain product import-epcis examples/epcis-document.json --dev-account 1
    """
    doc = read_object(file, "an EPCIS document (a JSON object)")
    runtime = open_node(rpc)
    acting = signer(key, dev_account, runtime)
    report = _service(runtime, direct).import_epcis(acting, doc, progress=_progress(as_json))
    skipped = f", {report.skipped} already recorded" if report.skipped else ""
    lines = [f"imported {report.recorded} event(s) in {len(report.receipts)} transaction(s){skipped}"]
    lines += [f"  {len(r.event_hash_ids)} event(s): {tx_text(r.tx)}" for r in report.receipts]
    emit(
        as_json,
        {
            "recorded": report.recorded,
            "skipped": report.skipped,
            "eventHashIds": list(report.event_hash_ids),
            "transactions": [tx_json(r.tx) for r in report.receipts],
        },
        *lines,
    )


@command(app, "transfer")
def transfer(
    product_id: ProductArg,
    to: Annotated[str, typer.Argument(metavar="ADDRESS", help="Address of the new custodian, a registered actor.")],
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Hand custody of a product to another registered actor (the current custodian only).

    Examples:
      tracechain product transfer 01/09506000134352/21/SN-0001 \\
          0x90F79bf6EB2c4f870365E785982E1f101E93b906 --dev-account 1
    """
    mention(product_id)
    runtime = open_node(rpc)
    acting = signer(key, dev_account, runtime)
    receipt = _service(runtime, direct).transfer(acting, product_id, to)
    sentence, data = _written(runtime, acting, direct, receipt)
    emit(
        as_json,
        {"productId": receipt.product_ids[0], "custodian": to, **data},
        f"custody of {receipt.product_ids[0]} passed to {who(runtime, to)} ({tx_text(receipt.tx)})",
        sentence,
    )


@command(app, "force-custody")
def force_custody(
    product_id: ProductArg,
    to: Annotated[str, typer.Argument(metavar="ADDRESS", help="Address of the new custodian, a registered actor.")],
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why (stored; its hash goes on-chain).")],
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Move custody a custodian cannot hand over — suspended, or its key lost (governance only).

    Examples:
      tracechain product force-custody 01/09506000134352/21/SN-0001 \\
          0x90F79bf6EB2c4f870365E785982E1f101E93b906 --reason "retailer key lost" --dev-account 0
    """
    mention(product_id)
    runtime = open_node(rpc)
    acting = signer(key, dev_account, runtime)
    receipt = _service(runtime, direct).force_custody(acting, product_id, to, {"reason": reason})
    sentence, data = _written(runtime, acting, direct, receipt)
    emit(
        as_json,
        {"productId": receipt.product_ids[0], "custodian": to, **data},
        f"custody of {receipt.product_ids[0]} forced to {who(runtime, to)} ({tx_text(receipt.tx)})",
        sentence,
    )


@command(app, "recall")
def recall(
    product_id: ProductArg,
    reason: Annotated[
        str | None, typer.Option("--reason", metavar="TEXT", help="Why it is recalled (stored as the recall notice).")
    ] = None,
    notice: Annotated[
        str | None,
        typer.Option("--notice", metavar="FILE", help="JSON file of the recall notice, instead of --reason."),
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    direct: DirectOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Recall a product (its manufacturer, or governance).

    Examples:
      tracechain product recall 01/09506000134352/21/SN-0001 --reason "Listeria found in lot L-42" --dev-account 1
      tracechain product recall 01/09506000134352/21/SN-0001 --notice examples/recall-notice.json --dev-account 1
    """
    if (reason is None) == (notice is None):
        raise errors.InvalidInputError("give exactly one of --reason TEXT or --notice FILE")
    document = read_object(notice, "a JSON object (the recall notice)") if notice else {"reason": reason}
    mention(product_id)
    runtime = open_node(rpc)
    acting = signer(key, dev_account, runtime)
    receipt = _service(runtime, direct).recall(acting, product_id, document)
    sentence, data = _written(runtime, acting, direct, receipt)
    emit(
        as_json,
        {"productId": receipt.product_ids[0], **data},
        f"recalled {receipt.product_ids[0]} ({tx_text(receipt.tx)})",
        sentence,
    )


@command(app, "trace")
def trace(
    product_id: ProductArg,
    rpc: RpcOption = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", min=1, max=500, help="Entries per page.")] = 50,
    before: Annotated[
        int | None, typer.Option("--before", metavar="INDEX", min=0, help="Show entries older than INDEX (paging).")
    ] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Show a product's history, newest first, verified against the on-chain hash chain. Needs no key.

    Also shows what it was made from and packed in, the events it inherited from its containers,
    and a recall upstream that reaches it. The command exits 7 when the history does not verify
    (an entry altered, missing or not in the store).

    Examples:
      tracechain product trace 01/09506000134352/21/SN-0001
      tracechain product trace 01/09506000134352/21/SN-0001 --limit 20 --before 40
      tracechain product trace 01/09506000134352/21/SN-0001 --json
    """
    mention(product_id)
    runtime = open_node(rpc)
    from tracechain.services.provenance import TraceReader
    from tracechain.services.provenance.lineage import LineageReader

    result = TraceReader(runtime).trace(product_id, limit=limit, before=before)
    lineage = LineageReader(runtime).lineage(result.product_key)
    if as_json:
        from tracechain.api.schemas.products import ProductPublic

        public = ProductPublic.of(result, runtime.settings.public_base_url, lineage)
        print_json(public.model_dump(mode="json"))
    else:
        _print_trace(result, lineage)
    v = result.verification
    if not v.verified:
        raise errors.IntegrityError(f"the trace of {result.product_id} is {v.verdict}: {v.problems[0].message}")


def _print_trace(t: SubjectTrace, lineage: Lineage) -> None:
    def named(address: str | None, name: str | None) -> str:
        return f"{name} ({address})" if name else str(address)

    via = lineage.recall_path
    if t.recalled:
        notice = t.recall.reason if t.recall else None
        said = notice.get("reason", notice) if isinstance(notice, dict) else "(notice not in the store)"
        typer.echo(f"*** RECALLED *** {said}")
    elif via is not None:
        chain = " > ".join([via.recalled, *(link.identifier for link in via.links[1:]), t.product_id])
        typer.echo(f"*** RECALLED *** through {chain} ({'verified' if via.verified else 'NOT verified'})")
    typer.echo(f"product      {t.product_id}  [{t.status}]")
    typer.echo(f"originator   {named(t.originator, t.originator_name)}")
    typer.echo(f"custodian    {named(t.custodian, t.custodian_name) if t.custodian else '(open: a lot or class)'}")
    for label, links in (("made from", lineage.inputs), ("in lot", lineage.lots), ("packed in", lineage.containers),
                         ("contains", lineage.contents), ("made into", lineage.outputs)):  # fmt: skip
        for link in links:
            typer.echo(f"{label:<12} {link.identifier}  [{link.verdict}{', recalled' if link.recalled else ''}]")
    for e in reversed(t.entries):
        when = datetime.fromtimestamp(e.timestamp, UTC).isoformat(timespec="seconds")
        mark = "ok" if e.document_verified else "!!"
        what = e.biz_step or e.kind
        if e.custodian:
            what = f"{e.kind} -> {named(e.custodian, e.custodian_name)}"
        if e.declared_erroneous:
            what += f" (declared erroneous: {e.declared_erroneous.reason or 'no reason given'})"
        typer.echo(f"  #{e.index:<3} {when}  {what:<16} {named(e.actor, e.actor_name)}  [{mark}]")
    if t.next_cursor is not None:
        typer.echo(f"  ... older entries: --before {t.next_cursor}")
    for i in lineage.inherited:
        typer.echo(f"  inherited from {i.container}: {i.biz_step or i.event_type}  [{i.container_verdict}]")
    v = t.verification
    typer.echo(
        f"verification {v.verdict.upper()}: head {v.recomputed_head} ({v.entry_count} entries) "
        f"vs chain {v.chain_head} at block {v.block_number}"
    )
    for p in v.problems:
        typer.echo(f"  problem {p.code}: {p.message}")


def _progress(as_json: bool) -> Callable[[int, int], None] | None:
    """A progress line on stderr (events done, rate, time left), redrawn in place."""
    if as_json:
        return None
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = done / elapsed if done else 0.0
        left = (total - done) / rate if rate else 0.0
        typer.echo(f"\r  {done}/{total} events, {rate:,.0f}/s, {left:,.0f}s left ", nl=False, err=True)
        if done >= total:
            typer.echo("", err=True)

    return show


def register(root: typer.Typer) -> None:
    """Add `tracechain product ...` to the root app."""
    root.add_typer(app, name="product")
