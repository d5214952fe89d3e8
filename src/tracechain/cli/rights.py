"""`tracechain rights`: datasets, certificates and uses (register, grant, revoke, transfer, use,
check, show). Writes are signed by the acting account and relayed, and paid for, by the operator."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

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
    open_node,
    operator_address,
    print_json,
    read_json,
    signer,
    tx_json,
    tx_text,
    who,
)
from tracechain.cli.messages import check_choice
from tracechain.errors import InvalidInputError, NotFoundError
from tracechain.hashing import document_hash, to_hex

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from tracechain.chain.rights import Right
    from tracechain.services.rights import CertificateView, DatasetView, RightsService, Written

app = group("Data rights: datasets (the holding right), certificates and their uses.")

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
RIGHTS = ("holding", "processing", "operation")
GRANTABLE = ("processing", "operation")


def _complete_right(incomplete: str) -> list[str]:
    return [r for r in RIGHTS if r.startswith(incomplete)]


RightOption = Annotated[
    str,
    typer.Option(
        "--right", metavar="RIGHT", help="The right: processing or operation.", autocompletion=_complete_right
    ),
]
DatasetArg = Annotated[str, typer.Argument(metavar="DATASET", help="Dataset id: 0x and 64 hex digits.")]
CertificateArg = Annotated[str, typer.Argument(metavar="CERTIFICATE", help="Certificate id: 0x and 64 hex digits.")]


def _right_name(value: str, allowed: tuple[str, ...] = RIGHTS) -> str:
    """The right named `value` (checked before anything heavy is imported).

    Raises:
        InvalidInputError: no such right; the message suggests the nearest.
    """
    name = value.strip().lower()
    name = {"usage": "processing", "product-operation": "operation"}.get(name, name)
    return check_choice("right", name, allowed)


def _right(name: str) -> Right:
    from tracechain.chain.rights import Right

    return Right.parse(name)


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
    runtime = open_node(rpc)  # first: a missing node is reported before the heavy imports
    from tracechain.services.rights import RightsService

    return RightsService(runtime)


def _text_document(field: str, text: str | None, path: str | None) -> Any:
    if (text is None) == (path is None):
        raise InvalidInputError(f"give exactly one of --{field} TEXT or --{field}-file FILE")
    return read_json(path) if path is not None else {field: text}


def _written(service: RightsService, acting: LocalAccount, written: Written) -> tuple[str, dict[str, Any]]:
    runtime = service.runtime
    sentence, data = accounts(runtime, acting.address, operator_address(runtime) or acting.address)
    return sentence, {**data, **tx_json(written.tx)}


@command(app, "register")
def register_dataset(
    manifest: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="JSON file of the dataset manifest; its canonical hash is the content hash."
        ),
    ],
    metadata: Annotated[
        str | None, typer.Option("--metadata", metavar="FILE", help="JSON file describing the dataset.")
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Register a dataset; the signer receives its holding-right token.

    The dataset id is keccak256(abi.encode(contentHash, signer)): the same manifest registered by
    another actor is another dataset, so nobody who saw the content hash can claim it first.

    Examples:
      tracechain rights register examples/sales.json --dev-account 4
      DATASET=$(tracechain rights register examples/sales.json --dev-account 4 --json | jq -r .dataset)
    """
    document = read_json(manifest)
    meta = read_json(metadata) if metadata else None
    service = _service(rpc)
    acting = signer(key, dev_account, service.runtime)
    written = service.register(acting, document, meta)
    sentence, data = _written(service, acting, written)
    token = int(written.subject, 16)
    emit(
        as_json,
        {
            "dataset": written.subject,
            "contentHash": to_hex(document_hash(document)),
            "holder": acting.address,
            "token": str(token),
            "tokenContract": service.client.address,
            **data,
        },
        f"dataset {written.subject}",
        f"content hash {to_hex(document_hash(document))}",
        f"holding-right token {token} of {service.client.address}",
        f"({tx_text(written.tx)})",
        sentence,
    )


@command(app, "grant")
def grant(
    dataset: DatasetArg,
    grantee: Annotated[str, typer.Argument(metavar="ADDRESS", help="Address of the registered actor to license.")],
    right: RightOption,
    terms: Annotated[str, typer.Option("--terms", metavar="FILE", help="JSON file of the licence terms.")],
    expires: Annotated[
        str,
        typer.Option(
            "--expires", metavar="WHEN", help='End of validity: a duration such as "30d", unix seconds or ISO 8601.'
        ),
    ],
    not_before: Annotated[
        str | None,
        typer.Option("--not-before", metavar="WHEN", help="Start of validity, in the same forms. Default: now."),
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Grant a processing or operation certificate on a dataset (its holder only).

    Examples:
      tracechain rights grant "$DATASET" 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
          --right processing --terms examples/terms.json --expires 30d --dev-account 4
    """
    name = _right_name(right, GRANTABLE)
    document = read_json(terms)
    service = _service(rpc)
    chosen = _right(name)
    acting = signer(key, dev_account, service.runtime)
    now = service.now().timestamp
    start = parse_time(not_before, now) if not_before else 0
    written = service.grant(
        acting, dataset, grantee, chosen, parse_time(expires, start or now), document, not_before=start
    )
    sentence, data = _written(service, acting, written)
    emit(
        as_json,
        {"certificate": written.subject, "dataset": dataset, "grantee": grantee, "right": chosen.value, **data},
        f"certificate {written.subject}",
        f"{chosen.value} right on {dataset} to {who(service.runtime, grantee)}",
        f"({tx_text(written.tx)})",
        sentence,
    )


@command(app, "revoke")
def revoke(
    certificate: CertificateArg,
    reason: Annotated[
        str | None, typer.Option("--reason", metavar="TEXT", help='Why, as text (stored as {"reason": TEXT}).')
    ] = None,
    reason_file: Annotated[
        str | None, typer.Option("--reason-file", metavar="FILE", help="JSON file of the reason document, instead.")
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Revoke a certificate (its dataset's holder, governance, or the grantee itself).

    Examples:
      tracechain rights revoke "$CERT" --reason "fee agreement ended" --dev-account 4
    """
    document = _text_document("reason", reason, reason_file)
    service = _service(rpc)
    acting = signer(key, dev_account, service.runtime)
    written = service.revoke(acting, certificate, document)
    sentence, data = _written(service, acting, written)
    emit(
        as_json,
        {"certificate": written.subject, **data},
        f"revoked {written.subject} ({tx_text(written.tx)})",
        sentence,
    )


@command(app, "transfer")
def transfer(
    dataset: DatasetArg,
    to: Annotated[str, typer.Argument(metavar="ADDRESS", help="Address of the new holder, a registered actor.")],
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Transfer the holding right; certificates already granted stay valid until they expire or are revoked.

    Examples:
      tracechain rights transfer "$DATASET" 0x90F79bf6EB2c4f870365E785982E1f101E93b906 --dev-account 4
    """
    service = _service(rpc)
    acting = signer(key, dev_account, service.runtime)
    written = service.transfer(acting, dataset, to)
    sentence, data = _written(service, acting, written)
    emit(
        as_json,
        {"dataset": written.subject, "holder": to, **data},
        f"dataset {written.subject} now held by {who(service.runtime, to)} ({tx_text(written.tx)})",
        sentence,
    )


@command(app, "use")
def use(
    certificate: CertificateArg,
    right: RightOption,
    purpose: Annotated[
        str | None, typer.Option("--purpose", metavar="TEXT", help='What for, as text (stored as {"purpose": TEXT}).')
    ] = None,
    purpose_file: Annotated[
        str | None, typer.Option("--purpose-file", metavar="FILE", help="JSON file of the purpose document, instead.")
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Record a use under a certificate (its grantee); refused on-chain outside the validity window.

    Examples:
      tracechain rights use "$CERT" --right processing --purpose "weekly demand forecast" --dev-account 1
    """
    name = _right_name(right, GRANTABLE)
    document = _text_document("purpose", purpose, purpose_file)
    service = _service(rpc)
    chosen = _right(name)
    acting = signer(key, dev_account, service.runtime)
    written = service.use(acting, certificate, chosen, document)
    sentence, data = _written(service, acting, written)
    emit(
        as_json,
        {"certificate": written.subject, "use": written.use_index, **data},
        f"use #{written.use_index} of {written.subject} recorded ({tx_text(written.tx)})",
        sentence,
    )


@command(app, "check")
def check(
    dataset: DatasetArg,
    account: Annotated[str, typer.Argument(metavar="ADDRESS", help="The account to ask about.")],
    right: Annotated[
        str,
        typer.Option(
            "--right",
            metavar="RIGHT",
            help="The right: holding, processing or operation.",
            autocompletion=_complete_right,
        ),
    ],
    rpc: RpcOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Ask the chain whether ADDRESS may exercise a right on DATASET now. Needs no key.

    The command exits 0 if it may and 1 if it may not, so scripts can test it.

    Examples:
      tracechain rights check "$DATASET" 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --right processing
    """
    name = _right_name(right)
    service = _service(rpc)
    chosen = _right(name)
    result = service.check_right(dataset, account, chosen)
    basis = f" as {result.basis}" if result.basis else ""
    cert = (
        f"; latest certificate {result.certificate_id} is {result.certificate_status}" if result.certificate_id else ""
    )
    verdict = "yes" if result.has_right else "no"
    emit(
        as_json,
        {
            "hasRight": result.has_right,
            "datasetRegistered": result.dataset_registered,
            "dataset": result.dataset_id,
            "account": result.account,
            "right": str(result.right),
            "basis": result.basis,
            "certificate": result.certificate_id,
            "certificateStatus": str(result.certificate_status) if result.certificate_status else None,
            "blockNumber": result.checked_at.block_number,
            "timestamp": result.checked_at.timestamp,
        },
        f"{verdict}: {who(service.runtime, result.account)} {result.right} on {result.dataset_id}{basis}{cert}"
        + ("" if result.dataset_registered else " (no dataset is registered under this id)"),
        f"checked at block {result.checked_at.block_number} (time {result.checked_at.timestamp})",
    )
    if not result.has_right:
        raise typer.Exit(1)


@command(app, "show")
def show(
    id: Annotated[str, typer.Argument(metavar="ID", help="A dataset id or a certificate id.")],
    rpc: RpcOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Show a dataset (holder, history, certificates) or a certificate (live status and uses). Needs no key.

    Examples:
      tracechain rights show "$DATASET"
      tracechain rights show "$CERT" --json
    """
    from dataclasses import asdict

    from tracechain.services.rights import DatasetView

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
        _print_dataset(service, view)
    else:
        _print_certificate(service, view)
        for u in service.uses(view.certificate.certificate_id).uses:
            typer.echo(
                f"  use #{u.use_index} by {who(service.runtime, u.user)} purpose {u.purpose_hash} (tx {u.tx.tx_hash})"
            )


def _print_dataset(service: RightsService, view: DatasetView) -> None:
    def name(address: str | None) -> str:
        return who(service.runtime, address) if address else "unknown"

    typer.echo(f"dataset {view.dataset_id}")
    typer.echo(f"  content     {view.content_hash}")
    typer.echo(f"  holder      {name(view.holder)}")
    typer.echo(f"  registrant  {name(view.registrant)}")
    typer.echo(f"  token       {view.token_id} of {view.contract}")
    for h in view.holders:
        was = "registered" if not int(h.from_address, 16) else f"from {name(h.from_address)}"
        typer.echo(f"  held by {name(h.to_address)} since block {h.tx.block_number} ({was})")
    for c in view.certificates:
        cert = c.certificate
        typer.echo(
            f"  certificate {cert.certificate_id} {cert.right} to {name(cert.grantee)}: {c.status} ({c.reasons[0]})"
        )


def _print_certificate(service: RightsService, view: CertificateView) -> None:
    c = view.certificate
    typer.echo(f"certificate {c.certificate_id}: {view.status}")
    for reason in view.reasons:
        typer.echo(f"  {reason}")
    typer.echo(f"  dataset {c.dataset_id}")
    grantor = who(service.runtime, view.grantor) if view.grantor else "unknown"
    typer.echo(f"  {c.right} right to {who(service.runtime, c.grantee)} (granted by {grantor})")
    typer.echo(f"  terms {c.terms_hash}  uses {c.use_count}")
    typer.echo(f"  checked at block {view.checked_at.block_number}")


def register(root: typer.Typer) -> None:
    """Add `tracechain rights ...` to the root app."""
    root.add_typer(app, name="rights")
