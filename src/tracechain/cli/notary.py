"""`tracechain notarize`, `notarizations`, `receipt`, `verify` and `batch flush`: notarized records and
their receipts."""

from __future__ import annotations

import json
from pathlib import Path
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
    need_node,
    open_node,
    operator_address,
    optional_signer,
    party,
    print_json,
    prog,
    read_json,
    settings_with,
    who,
)

if TYPE_CHECKING:
    pass

DEFAULT_COSIGN_TTL = 3600

batch_app = group("The queue of records waiting to be notarized in a Merkle batch.")

KindOption = Annotated[
    str | None,
    typer.Option(
        "--kind", metavar="KIND", help='Record kind, e.g. purchase_order. Default: the record\'s "type" field.'
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", metavar="FILE", help="Write the receipt to this file. Default: receipts/HASH.json in the data dir."
    ),
]
IdOption = Annotated[
    str | None,
    typer.Option("--id", metavar="ID", help="Which notarization of the record (its id; default: the earliest)."),
]


def _kind_of(record: Any, kind: str | None) -> str:
    if kind is not None:
        return kind
    if isinstance(record, dict) and isinstance(record.get("type"), str):
        return str(record["type"])
    raise errors.InvalidInputError('the record has no "type" field to take its kind from', hint="pass --kind KIND")


def _write_receipt(body: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    tmp.replace(out)  # never a half-written receipt
    return out


def _default_receipt_path(data_dir: Path, record_hash: str, notarization_id: str) -> Path:
    return Path(data_dir) / "receipts" / f"{record_hash}.{notarization_id[:18]}.json"


def notarize(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The record: a JSON document.")],
    kind: KindOption = None,
    cosign: Annotated[
        list[str] | None,
        typer.Option(
            "--cosign",
            metavar="KEY",
            help="A party's private key, or dev:N for dev account N. Repeat it for every party.",
        ),
    ] = None,
    batch: Annotated[bool, typer.Option("--batch", help="Queue the record for the next Merkle batch instead.")] = False,
    out: OutOption = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Notarize the record in FILE and write its receipt.

    A single record is signed by a notary (--key or --dev-account) and relayed by the operator,
    who pays. With --cosign it is co-signed by every party named, and sent by the signer (or the
    operator). With --batch it is queued and anchored with others under one Merkle root.

    Examples:
      tracechain notarize examples/po.json --dev-account 6
      tracechain notarize examples/contract.json --cosign dev:1 --cosign dev:3
      tracechain notarize examples/delivery-note.json --batch
    """
    if cosign and batch:
        raise errors.InvalidInputError("a record is either co-signed or batched, not both")
    record = read_json(str(file))
    kind = _kind_of(record, kind)
    runtime = open_node(rpc)
    from tracechain.services.notary import NotaryService

    acting = optional_signer(key, dev_account, runtime)
    svc = NotaryService(runtime, anchor=acting)
    record_hash = svc.record_hash_of(record)
    operator = operator_address(runtime)
    lines: list[str] = []
    data: dict[str, Any] = {"kind": kind}
    if batch:
        svc.enqueue(record_hash, kind, acting.address if acting else None)
        svc.keep(record)
        outcomes = svc.flush_due()
        status = svc.queue_entry(record_hash, kind)
        lines.append(f"queued {status.record_hash} ({kind}) for batch notarization: {status.status}")
        for o in outcomes:
            lines.append(f"anchored batch {o.root} ({o.record_count} records) in block {o.block_number}")
        if status.status != "notarized":
            lines.append(
                f"next: {prog()} batch flush --rpc {runtime.settings.rpc_url}  (anchors it now; "
                "otherwise it is anchored when the batch is full or old)"
            )
            emit(as_json, {**data, "recordHash": status.record_hash, "status": status.status, "receipt": None}, *lines)
            return
    elif cosign:
        parties = [party(c, "--cosign") for c in cosign]
        addresses = [p.address for p in parties]
        deadline = int(runtime.chain.w3.eth.get_block("latest")["timestamp"]) + DEFAULT_COSIGN_TTL
        signatures = [svc.client.cosign(p, record_hash, kind, addresses, deadline) for p in parties]
        status = svc.notarize_cosigned(record_hash, kind, addresses, deadline, signatures, submitter=acting)
        payer = acting.address if acting else (operator or "")
        lines.append(
            f"co-signed {status.record_hash} ({kind}) by {', '.join(addresses)} in block {status.block_number}"
        )
        lines.append(f"sent and paid by {who(runtime, payer)}")
        data.update(parties=addresses, paidBy=payer)
    else:
        if acting is None:
            raise errors.InvalidInputError(
                "a single notarization is signed by a notary: give --key or --dev-account",
                hint="or queue it with --batch, or have the parties co-sign it with --cosign",
            )
        status = svc.notarize_single(acting, record_hash, kind)
        sentence, who_data = accounts(runtime, acting.address, operator or acting.address)
        lines.append(f"notarized {status.record_hash} ({kind}) by {status.notary} in block {status.block_number}")
        lines.append(sentence)
        data.update(who_data)
    svc.keep(record)
    assert status.id is not None
    lines.append(f"id:      {status.id}")
    path = _write_receipt(
        svc.receipt(record_hash, status.id).to_json(),
        out or _default_receipt_path(runtime.settings.data_dir, status.record_hash, status.id),
    )
    notary_address = runtime.deployment.address("Notary")
    check = f"{prog()} verify {path} --record {file} --rpc {runtime.settings.rpc_url} --notary {notary_address}"
    lines += [f"receipt: {path}", f"verify:  {check}"]
    data.update(
        recordHash=status.record_hash,
        id=status.id,
        status=status.status,
        method=status.method,
        blockNumber=status.block_number,
        receipt=str(path),
        verify=check,
    )
    emit(as_json, data, *lines)


def notarizations(
    record_hash: Annotated[str, typer.Argument(metavar="HASH", help="The record hash: 0x and 64 hex digits.")],
    rpc: RpcOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """List every notarization of a record, newest first, with the id `receipt --id` takes. Needs no key.

    Examples:
      tracechain notarizations 0x5f8e6c1d9a0b4e7f2c3d1a6b9e8f7c0d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d
    """
    from tracechain.hashing import parse_bytes32
    from tracechain.services.notary import NotaryService

    runtime = open_node(rpc)
    found = NotaryService(runtime).notarizations(parse_bytes32(record_hash))
    rows = [
        {"id": n.id, "status": n.status, "method": n.method, "kind": n.kind, "notary": n.notary,
         "parties": list(n.parties), "blockNumber": n.block_number, "batchRoot": n.batch_root}
        for n in found
    ]  # fmt: skip
    lines = []
    for n in found:
        by = ", ".join(who(runtime, p) for p in n.parties) if n.method == "cosigned" else who(runtime, n.notary or "-")
        where = f"block {n.block_number}" if n.block_number is not None else f"batch {n.batch_root or '-'}"
        lines.append(f"{n.status:9} {n.method:8} {n.kind} by {by}, {where}, id {n.id or '-'}")
    emit(as_json, {"recordHash": record_hash.lower(), "notarizations": rows}, *(lines or ["not notarized"]))


def receipt(
    record_hash: Annotated[str, typer.Argument(metavar="HASH", help="The record hash: 0x and 64 hex digits.")],
    out: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write the receipt to this file.")] = None,
    notarization: IdOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Print, or write to a file, the receipt of a notarized record. Needs no key.

    A record may be notarized more than once (by several notaries, party sets or batches): the
    receipt is of the earliest, or of the one --id names (`notarizations HASH` lists them). The
    receipt is JSON either way; --json prints it even when --out writes it.

    Examples:
      tracechain receipt 0x5f8e6c1d9a0b4e7f2c3d1a6b9e8f7c0d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d
      tracechain receipt 0x5f8e6c1d9a0b4e7f2c3d1a6b9e8f7c0d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d --out po.receipt.json
    """
    from tracechain.hashing import parse_bytes32

    digest = parse_bytes32(record_hash)
    runtime = open_node(rpc)
    from tracechain.services.notary import NotaryService

    body = NotaryService(runtime).receipt(digest, notarization).to_json()
    if out is None or as_json:
        print_json(body)
    if out is not None:
        path = _write_receipt(body, out)
        if not as_json:
            typer.echo(f"receipt: {path}")


def _not_a_receipt(path: Path, body: Any) -> errors.InvalidReceiptError:
    """Why `body` is not a notary receipt, in terms of what it is and what verify expects."""
    expects = f"verify expects the receipt file `{prog()} notarize` writes (it prints the path)"
    if not isinstance(body, dict):
        kind = (
            "a JSON array" if isinstance(body, list) else "a JSON string" if isinstance(body, str) else "a JSON value"
        )
        return errors.InvalidReceiptError(f"{path} holds {kind}, not a notary receipt", hint=expects)
    fmt, typ = body.get("format"), body.get("type")
    if isinstance(fmt, str):
        what = f'a "{fmt}" document'
    elif typ == "EPCISDocument" or "epcisBody" in body:
        what = "an EPCIS document"
    elif isinstance(typ, str):
        what = f'a record (a JSON document of type "{typ}")'
    else:
        what = "a JSON object without a receipt's fields (format, version, recordHash, txHash)"
    hint = f"{expects}; to check a record against its receipt, pass the record with --record {path}"
    return errors.InvalidReceiptError(f"{path} is {what}, not a TraceChain notary receipt", hint=hint)


def verify(
    receipt_file: Annotated[
        Path, typer.Argument(metavar="RECEIPT", help="A notary receipt (JSON), as written by notarize or receipt.")
    ],
    record: Annotated[
        Path | None,
        typer.Option("--record", metavar="FILE", help="Also check that this record file hashes to the receipt."),
    ] = None,
    rpc: RpcOption = None,
    notary: Annotated[
        str | None,
        typer.Option("--notary", metavar="ADDRESS", help="The Notary contract you trust; the receipt must name it."),
    ] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check a receipt against the chain alone: no store, no API, no key. Exits 0 only when every
    check holds, 7 when one fails.

    Pass --notary with the deployment's published Notary address: without it the receipt's own
    contract address is taken at its word, and anyone can deploy a look-alike contract.

    Examples:
      tracechain verify po.receipt.json --record examples/po.json --rpc http://127.0.0.1:8545
      tracechain verify po.receipt.json --notary 0x5FC8d32690cc91D4c39d9d3abcBD16989F875707
    """
    from tracechain.services.receipts import RECEIPT_FORMAT, NotaryReceipt, verify_receipt
    from tracechain.types import to_address

    body = read_json(str(receipt_file))
    if not isinstance(body, dict) or body.get("format") != RECEIPT_FORMAT:
        raise _not_a_receipt(receipt_file, body)
    parsed = NotaryReceipt.from_json(body)
    document = read_json(str(record)) if record is not None else None
    trusted = to_address(notary) if notary else None
    url = need_node(settings_with(rpc), "verify")
    from tracechain.chain.connect import rpc_chain

    verdict = verify_receipt(rpc_chain(url), parsed, document, notary=trusted)
    if not verdict.ok:
        if as_json:
            print_json({"ok": False, "reason": verdict.reason, "checks": verdict.checks})
        raise errors.ReceiptMismatchError(verdict.reason or "the chain does not confirm the receipt")
    emit(as_json, {"ok": True, "summary": verdict.summary(), "checks": verdict.checks}, verdict.summary())


@command(batch_app, "flush")
def flush(
    due_only: Annotated[bool, typer.Option("--due-only", help="Only anchor batches that are full or old.")] = False,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Anchor the queued records now, in batches.

    The notary anchoring them, who also pays, is --key or --dev-account (default: the operator,
    who then needs the notary role). Batches left sealed by an interrupted run, or whose anchor the
    chain has forgotten (a reorganisation, a node restarted from older state), are reconciled with
    the chain first.

    Examples:
      tracechain batch flush --dev-account 6
      tracechain batch flush --due-only --json
    """
    runtime = open_node(rpc)
    from tracechain.services.notary import NotaryService

    acting = optional_signer(key, dev_account, runtime)
    svc = NotaryService(runtime, anchor=acting)
    outcomes = svc.flush(force=not due_only)
    payer = acting.address if acting else operator_address(runtime)
    rows = [
        {
            "root": o.root,
            "records": o.record_count,
            "action": o.action,
            "blockNumber": o.block_number,
            "txHash": o.tx_hash,
            "error": o.error,
        }
        for o in outcomes
    ]
    failed = next((o for o in outcomes if o.action == "failed"), None)
    if failed is not None:
        sealed = f"batch {failed.root} ({failed.record_count} records) stays sealed"
        if as_json:
            print_json({"batches": rows, "anchoredBy": payer})
        cause = failed.exception
        if isinstance(cause, errors.UnavailableError):  # one line: what stays, and why
            raise errors.ChainUnavailableError(f"{sealed} (flush again to retry): {cause.message}") from cause
        if not as_json:
            typer.echo(f"{sealed}; flush again to retry", err=True)
        raise cause or errors.TransactionError(f"batch {failed.root} was not anchored: {failed.error}")
    lines = [f"nothing to anchor ({svc.pending_count()} queued)"] if not outcomes else []
    lines += [
        f"{o.action} batch {o.root}: {o.record_count} records in block {o.block_number} (tx {o.tx_hash})"
        for o in outcomes
    ]
    if outcomes and payer:
        lines.append(f"signed and paid by {payer}")
    emit(as_json, {"batches": rows, "anchoredBy": payer, "queued": svc.pending_count()}, *lines)


@command(batch_app, "status")
def batch_status(rpc: RpcOption = None, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """Show how many records wait in the queue, and any sealed batch still waiting to be anchored.

    Examples:
      tracechain batch status
    """
    runtime = open_node(rpc)
    from tracechain.services.notary import NotaryService

    svc = NotaryService(runtime)
    batches = svc.sealed_batches()
    rows = [
        {"root": b.root, "records": b.record_count, "attempts": b.attempts, "lastError": b.last_error} for b in batches
    ]
    lines = [f"{svc.pending_count()} records queued"]
    for b in batches:
        error = f", last error: {b.last_error}" if b.last_error else ""
        lines.append(f"sealed batch {b.root}: {b.record_count} records, {b.attempts} attempts{error}")
    emit(as_json, {"queued": svc.pending_count(), "sealedBatches": rows}, *lines)


def register(app: typer.Typer) -> None:
    """Add `notarize`, `notarizations`, `receipt`, `verify` and `batch` to `app`."""
    command(app, "notarize")(notarize)
    command(app, "notarizations")(notarizations)
    command(app, "receipt")(receipt)
    command(app, "verify")(verify)
    app.add_typer(batch_app, name="batch")
