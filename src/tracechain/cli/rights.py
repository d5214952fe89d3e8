"""`tracechain rights`: datasets, certificates and uses (register, grant, revoke, transfer, use,
check, show). Writes are signed by the acting account and relayed by the operator."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import typer

from tracechain.chain.rights import Right
from tracechain.cli.common import DevAccountOption, KeyOption, RpcOption, node_runtime, print_json, read_json, signer
from tracechain.errors import InvalidInputError, NotFoundError
from tracechain.hashing import document_hash, to_hex
from tracechain.services.rights import CertificateView, DatasetView, RightsService

app = typer.Typer(no_args_is_help=True, help="Data rights: datasets (holding right), certificates and uses.")

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}

RightOption = Annotated[str, typer.Option("--right", help="processing or operation.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def parse_time(value: str, now: int) -> int:
    """Unix seconds from `value`: a duration from now ("30d", "12h"), unix seconds, or ISO 8601.

    Raises:
        InvalidInputError: none of those.
    """
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        return now + int(match.group(1)) * _UNIT[match.group(2)]
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"not a time: {value!r}", hint='use a duration ("30d", "12h"), unix seconds, or ISO 8601'
        ) from None
    if moment.tzinfo is None:
        raise InvalidInputError(f"{value!r} has no time zone", hint="add one, e.g. 2027-01-01T00:00:00+00:00")
    return int(moment.timestamp())


def _service(rpc: str | None) -> RightsService:
    return RightsService(node_runtime(rpc))


def _text_document(field: str, text: str | None, path: str | None) -> Any:
    if (text is None) == (path is None):
        raise InvalidInputError(f"give exactly one of --{field} or --{field}-file")
    return read_json(path) if path is not None else {field: text}


@app.command("register")
def register_dataset(
    manifest: Annotated[
        str, typer.Argument(help="JSON file of the dataset manifest; its canonical hash is the content hash.")
    ],
    metadata: Annotated[str | None, typer.Option(help="JSON file describing the dataset.")] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Register a dataset; the signer receives its holding-right token. The dataset id is
    keccak256(abi.encode(contentHash, signer)): the same manifest registered by another actor is
    another dataset."""
    service = _service(rpc)
    document = read_json(manifest)
    written = service.register(
        signer(key, dev_account, service.runtime), document, read_json(metadata) if metadata else None
    )
    typer.echo(f"dataset {written.subject}")
    typer.echo(f"content hash {to_hex(document_hash(document))}")
    typer.echo(f"holding-right token {int(written.subject, 16)} of {service.client.address}")
    typer.echo(f"tx {written.tx.tx_hash} block {written.tx.block_number} gas {written.tx.gas_used}")


@app.command("grant")
def grant(
    dataset: Annotated[str, typer.Argument(help="Dataset id (0x bytes32).")],
    grantee: Annotated[str, typer.Argument(help="Address of the registered actor to license.")],
    right: RightOption,
    terms: Annotated[str, typer.Option(help="JSON file of the licence terms.")],
    expires: Annotated[str, typer.Option(help='End of validity: "30d", unix seconds or ISO 8601.')],
    not_before: Annotated[str | None, typer.Option(help="Start of validity (default: now).")] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Grant a processing or operation certificate (the holder)."""
    service = _service(rpc)
    now = service.now().timestamp
    start = parse_time(not_before, now) if not_before else 0
    written = service.grant(
        signer(key, dev_account, service.runtime),
        dataset,
        grantee,
        Right.parse(right),
        parse_time(expires, start or now),
        read_json(terms),
        not_before=start,
    )
    typer.echo(f"certificate {written.subject}")
    typer.echo(f"tx {written.tx.tx_hash} block {written.tx.block_number} gas {written.tx.gas_used}")


@app.command("revoke")
def revoke(
    certificate: Annotated[str, typer.Argument(help="Certificate id (0x bytes32).")],
    reason: Annotated[str | None, typer.Option(help='Reason text (stored as {"reason": text}).')] = None,
    reason_file: Annotated[str | None, typer.Option(help="JSON file of the reason document.")] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Revoke a certificate (the holder, governance, or the grantee itself)."""
    service = _service(rpc)
    document = _text_document("reason", reason, reason_file)
    written = service.revoke(signer(key, dev_account, service.runtime), certificate, document)
    typer.echo(f"revoked {written.subject} (tx {written.tx.tx_hash}, gas {written.tx.gas_used})")


@app.command("transfer")
def transfer(
    dataset: Annotated[str, typer.Argument(help="Dataset id (0x bytes32).")],
    to: Annotated[str, typer.Argument(help="Address of the new holder (a registered actor).")],
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Transfer the holding right; existing certificates stay valid until they expire or are revoked."""
    service = _service(rpc)
    written = service.transfer(signer(key, dev_account, service.runtime), dataset, to)
    typer.echo(f"dataset {written.subject} now held by {to} (tx {written.tx.tx_hash})")


@app.command("use")
def use(
    certificate: Annotated[str, typer.Argument(help="Certificate id (0x bytes32).")],
    right: RightOption,
    purpose: Annotated[str | None, typer.Option(help='Purpose text (stored as {"purpose": text}).')] = None,
    purpose_file: Annotated[str | None, typer.Option(help="JSON file of the purpose document.")] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Record a use under a certificate (its grantee); refused on-chain outside the validity window."""
    service = _service(rpc)
    document = _text_document("purpose", purpose, purpose_file)
    written = service.use(signer(key, dev_account, service.runtime), certificate, Right.parse(right), document)
    typer.echo(f"use #{written.use_index} of {written.subject} recorded (tx {written.tx.tx_hash})")


@app.command("check")
def check(
    dataset: Annotated[str, typer.Argument(help="Dataset id (0x bytes32).")],
    account: Annotated[str, typer.Argument(help="Account to ask about.")],
    right: Annotated[str, typer.Option("--right", help="holding, processing or operation.")],
    rpc: RpcOption = None,
) -> None:
    """Ask the chain whether ACCOUNT may exercise a right now. Exit code 0 if yes, 1 if not."""
    result = _service(rpc).check_right(dataset, account, Right.parse(right))
    basis = f" as {result.basis}" if result.basis else ""
    cert = (
        f"; latest certificate {result.certificate_id} is {result.certificate_status}" if result.certificate_id else ""
    )
    verdict = "yes" if result.has_right else "no"
    unknown = "" if result.dataset_registered else " (no dataset is registered under this id)"
    typer.echo(f"{verdict}: {result.account} {result.right} on {result.dataset_id}{basis}{cert}{unknown}")
    typer.echo(f"checked at block {result.checked_at.block_number} (time {result.checked_at.timestamp})")
    if not result.has_right:
        raise typer.Exit(1)


@app.command("show")
def show(
    id: Annotated[str, typer.Argument(help="A dataset id or a certificate id.")],
    rpc: RpcOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a dataset (holder, history, certificates) or a certificate (live status and uses)."""
    from dataclasses import asdict

    service = _service(rpc)
    view: DatasetView | CertificateView
    try:
        view = service.dataset(id)
    except NotFoundError:
        try:
            view = service.certificate(id)
        except NotFoundError:
            raise NotFoundError(f"{id} is neither a registered dataset nor a certificate") from None
    if as_json:
        print_json(asdict(view))
        return
    if isinstance(view, DatasetView):
        _print_dataset(view)
    else:
        _print_certificate(view)
        uses = service.uses(view.certificate.certificate_id)
        for u in uses.uses:
            typer.echo(f"  use #{u.use_index} by {u.user} purpose {u.purpose_hash} (tx {u.tx.tx_hash})")


def _print_dataset(view: DatasetView) -> None:
    typer.echo(f"dataset {view.dataset_id}")
    typer.echo(f"  content     {view.content_hash}")
    typer.echo(f"  holder      {view.holder}")
    typer.echo(f"  registrant  {view.registrant}")
    typer.echo(f"  token       {view.token_id} of {view.contract}")
    for h in view.holders:
        typer.echo(f"  holder change {h.from_address} -> {h.to_address} (block {h.tx.block_number})")
    for c in view.certificates:
        cert = c.certificate
        typer.echo(f"  certificate {cert.certificate_id} {cert.right} to {cert.grantee}: {c.status} ({c.reasons[0]})")


def _print_certificate(view: CertificateView) -> None:
    c = view.certificate
    typer.echo(f"certificate {c.certificate_id}: {view.status}")
    for reason in view.reasons:
        typer.echo(f"  {reason}")
    typer.echo(f"  dataset {c.dataset_id}")
    typer.echo(f"  {c.right} right to {c.grantee} (granted by {view.grantor})")
    typer.echo(f"  terms {c.terms_hash}  uses {c.use_count}")
    typer.echo(f"  checked at block {view.checked_at.block_number}")


def register(root: typer.Typer) -> None:
    """Add `tracechain rights ...` to the root app."""
    root.add_typer(app, name="rights")
