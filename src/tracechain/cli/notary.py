"""`tracechain notarize`, `notarizations`, `receipt`, `verify` and `batch flush`: notarized records and
their receipts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount

from tracechain import errors
from tracechain.cli.common import (
    DevAccountOption,
    KeyOption,
    RpcOption,
    exit_code_for,
    node_runtime,
    read_json,
    signer,
)
from tracechain.hashing import parse_bytes32
from tracechain.types import to_address

DEFAULT_COSIGN_TTL = 3600

batch_app = typer.Typer(no_args_is_help=True, help="The queue of records waiting for batch notarization.")

KindOption = Annotated[
    str | None,
    typer.Option("--kind", help='Record kind (e.g. purchase_order); default: the record\'s "type" field.'),
]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write the receipt here (default: data dir).")]
IdOption = Annotated[
    str | None,
    typer.Option("--id", help="Which notarization of the record (its id; default: the earliest)."),
]


def _cosigner(value: str) -> LocalAccount:
    """A co-signing party from a hex private key or `dev:N` (dev account N, local chains)."""
    if value.startswith("dev:"):
        from tracechain.chain.connect import DEV_ACCOUNT_COUNT, dev_accounts

        try:
            index = int(value[4:])
        except ValueError:
            raise errors.InvalidInputError(f"--cosign {value!r}: expected dev:N") from None
        if not 0 <= index < DEV_ACCOUNT_COUNT:
            raise errors.InvalidInputError(f"--cosign {value!r}: dev accounts are 0-{DEV_ACCOUNT_COUNT - 1}")
        return dev_accounts()[index]
    try:
        account: LocalAccount = Account.from_key(value)
    except (ValueError, TypeError):
        raise errors.InvalidInputError("a --cosign value is not a private key (or dev:N)") from None
    return account


def _kind_of(record: Any, kind: str | None) -> str:
    if kind is not None:
        return kind
    if isinstance(record, dict) and isinstance(record.get("type"), str):
        return str(record["type"])
    raise errors.InvalidInputError('the record has no "type" field to take its kind from', hint="pass --kind")


def _write_receipt(body: dict[str, Any], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    tmp.replace(out)  # never a half-written receipt
    return out


def _default_receipt_path(data_dir: Path, record_hash: str, notarization_id: str) -> Path:
    return Path(data_dir) / "receipts" / f"{record_hash}.{notarization_id[:18]}.json"


def notarize(
    file: Annotated[Path, typer.Argument(help="The record: a JSON document.")],
    kind: KindOption = None,
    cosign: Annotated[
        list[str] | None,
        typer.Option("--cosign", help="A party's private key or dev:N; repeat per party (co-signed record)."),
    ] = None,
    batch: Annotated[bool, typer.Option("--batch", help="Queue for the next Merkle batch instead.")] = False,
    out: OutOption = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Notarize the record in FILE and write its receipt.

    Singly, signed by the notary given by --key/--dev-account (the operator relays and pays); co-signed
    by every --cosign party; or queued for the next Merkle batch with --batch."""
    from tracechain.services.notary import NotaryService

    if cosign and batch:
        raise errors.InvalidInputError("a record is either co-signed or batched, not both")
    record = read_json(str(file))
    kind = _kind_of(record, kind)
    runtime = node_runtime(rpc)
    acting = signer(key, dev_account, runtime) if (key is not None or dev_account is not None) else None
    svc = NotaryService(runtime, anchor=acting)
    record_hash = svc.record_hash_of(record)
    if batch:
        svc.enqueue(record_hash, kind, acting.address if acting else None)
        svc.keep(record)
        outcomes = svc.flush_due()
        status = svc.queue_entry(record_hash, kind)
        typer.echo(f"queued {status.record_hash} ({kind}) for batch notarization: {status.status}")
        for o in outcomes:
            typer.echo(f"anchored batch {o.root} ({o.record_count} records) in block {o.block_number}")
        if status.status != "notarized":
            typer.echo("anchor it now with: tracechain batch flush (it is anchored when the batch is full or old)")
            return
    elif cosign:
        parties = [_cosigner(c) for c in cosign]
        addresses = [p.address for p in parties]
        deadline = int(runtime.chain.w3.eth.get_block("latest")["timestamp"]) + DEFAULT_COSIGN_TTL
        signatures = [svc.client.cosign(p, record_hash, kind, addresses, deadline) for p in parties]
        status = svc.notarize_cosigned(record_hash, kind, addresses, deadline, signatures, submitter=acting)
        typer.echo(f"co-signed {status.record_hash} ({kind}) by {', '.join(addresses)} in block {status.block_number}")
    else:
        if acting is None:
            raise errors.InvalidInputError("a single notarization is signed by a notary: give --key or --dev-account")
        status = svc.notarize_single(acting, record_hash, kind)
        typer.echo(f"notarized {status.record_hash} ({kind}) by {status.notary} in block {status.block_number}")
    svc.keep(record)
    assert status.id is not None
    typer.echo(f"id:      {status.id}")
    receipt_body = svc.receipt(record_hash, status.id).to_json()
    path = _write_receipt(
        receipt_body, out or _default_receipt_path(runtime.settings.data_dir, status.record_hash, status.id)
    )
    typer.echo(f"receipt: {path}")
    notary = runtime.deployment.address("Notary")
    typer.echo(f"verify:  tracechain verify {path} --rpc {runtime.settings.rpc_url} --record {file} --notary {notary}")


def notarizations(
    record_hash: Annotated[str, typer.Argument(metavar="HASH", help="The record hash (0x + 64 hex digits).")],
    rpc: RpcOption = None,
) -> None:
    """List every notarization of a record, newest first, with the id `receipt --id` takes."""
    from tracechain.services.notary import NotaryService

    for n in NotaryService(node_runtime(rpc)).notarizations(parse_bytes32(record_hash)):
        who = ", ".join(n.parties) if n.method == "cosigned" else (n.notary or "-")
        where = f"block {n.block_number}" if n.block_number is not None else f"batch {n.batch_root or '-'}"
        typer.echo(f"{n.status:9} {n.method:8} {n.kind} by {who}, {where}, id {n.id or '-'}")


def receipt(
    record_hash: Annotated[str, typer.Argument(metavar="HASH", help="The record hash (0x + 64 hex digits).")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the receipt to this file.")] = None,
    notarization: IdOption = None,
    rpc: RpcOption = None,
) -> None:
    """Print (or write) the receipt of a notarization of a record (the earliest, or --id)."""
    from tracechain.services.notary import NotaryService

    runtime = node_runtime(rpc)
    body = NotaryService(runtime).receipt(parse_bytes32(record_hash), notarization).to_json()
    if out is None:
        typer.echo(json.dumps(body, indent=2))
    else:
        typer.echo(f"receipt: {_write_receipt(body, out)}")


def verify(
    receipt_file: Annotated[Path, typer.Argument(metavar="RECEIPT.json", help="A notary receipt.")],
    record: Annotated[
        Path | None, typer.Option("--record", help="Also check that this record file hashes to the receipt.")
    ] = None,
    rpc: RpcOption = None,
    notary: Annotated[
        str | None,
        typer.Option("--notary", help="The Notary address you trust; the receipt must name it."),
    ] = None,
) -> None:
    """Check a receipt against the chain alone (no store, no API). Exit 0 only when everything holds.

    Pass --notary with the deployment's published Notary address: without it the receipt's own
    contract address is taken at its word, and anyone can deploy a look-alike contract."""
    from tracechain.chain.connect import rpc_chain
    from tracechain.errors import ReceiptMismatchError
    from tracechain.services.receipts import NotaryReceipt, verify_receipt

    parsed = NotaryReceipt.from_json(read_json(str(receipt_file)))
    document = read_json(str(record)) if record is not None else None
    if not rpc:
        raise errors.ConfigurationError(
            "verify checks the receipt against a chain: give --rpc URL (or TRACECHAIN_RPC_URL)"
        )
    verdict = verify_receipt(rpc_chain(rpc), parsed, document, notary=to_address(notary) if notary else None)
    if not verdict.ok:
        raise ReceiptMismatchError(verdict.reason or "the chain does not confirm the receipt")
    typer.echo(verdict.summary())


@batch_app.command("flush")
def flush(
    due_only: Annotated[bool, typer.Option("--due-only", help="Only anchor batches that are full or old.")] = False,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Anchor the queued records now, in batches.

    The notary anchoring them is --key/--dev-account (default: the operator, who then needs the notary
    role). Batches left sealed by an interrupted run, or whose anchor the chain has forgotten (a
    reorganisation, a node restarted from older state), are reconciled with the chain first."""
    from tracechain.services.notary import NotaryService

    runtime = node_runtime(rpc)
    acting = signer(key, dev_account, runtime) if (key is not None or dev_account is not None) else None
    svc = NotaryService(runtime, anchor=acting)
    outcomes = svc.flush(force=not due_only)
    if not outcomes:
        typer.echo(f"nothing to anchor ({svc.pending_count()} queued)")
    for o in outcomes:
        if o.action == "failed":
            # One line: what went wrong, and that nothing is lost (the next flush reconciles it).
            exc = o.exception or errors.TransactionError(o.error or "not anchored")
            typer.echo(f"error: {exc} (batch {o.root}, {o.record_count} records, stays sealed; flush again)", err=True)
            raise typer.Exit(exit_code_for(exc))
        typer.echo(f"{o.action} batch {o.root}: {o.record_count} records in block {o.block_number} (tx {o.tx_hash})")


@batch_app.command("status")
def batch_status(rpc: RpcOption = None) -> None:
    """How many records wait in the queue, and any sealed batch still waiting to be anchored (again,
    when the chain forgot its anchor)."""
    from tracechain.services.notary import NotaryService

    svc = NotaryService(node_runtime(rpc))
    typer.echo(f"{svc.pending_count()} records queued")
    for batch in svc.sealed_batches():
        error = f", last error: {batch.last_error}" if batch.last_error else ""
        typer.echo(f"sealed batch {batch.root}: {batch.record_count} records, {batch.attempts} attempts{error}")


def register(app: typer.Typer) -> None:
    """Add `notarize`, `notarizations`, `receipt`, `verify` and `batch` to `app`."""
    app.command("notarize")(notarize)
    app.command("notarizations")(notarizations)
    app.command("receipt")(receipt)
    app.command("verify")(verify)
    app.add_typer(batch_app, name="batch")
