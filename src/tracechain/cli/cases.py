"""`tracechain case`: register templates, open procurement cases, append co-signed steps (signing here
or with signatures collected elsewhere), show a verified and audited case, verify one from the chain's
logs alone, and list cases by buyer, supplier, status or finding."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount

from tracechain import errors
from tracechain.chain.cases import CONTRACT, CaseRegistryClient
from tracechain.cli.common import DevAccountOption, KeyOption, RpcOption, open_node, print_json, read_json, signer
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.services.cases import CaseReader, CaseService, CaseView, parse_template
from tracechain.services.runtime import Runtime
from tracechain.types import to_address

app = typer.Typer(no_args_is_help=True, help="Procurement cases: open, co-signed steps, verified and audited views.")

CaseArg = Annotated[str, typer.Argument(help="The case id (0x…, printed by `case open`).")]
KindArg = Annotated[str, typer.Argument(help="The step kind, e.g. contract (see the case's template).")]
FileOption = Annotated[Path | None, typer.Option("--file", help="The step document (JSON).")]
EventOption = Annotated[
    str | None, typer.Option("--event", help="Instead of --file: a recorded EPCIS event's Event Hash ID.")
]
AmendsOption = Annotated[int, typer.Option("--amends", min=0, help="The index of the step this one amends.")]
SupplierOption = Annotated[str | None, typer.Option("--supplier", help="Award steps: the supplier's address.")]
InspectorOption = Annotated[str | None, typer.Option("--inspector", help="Steps an inspector signs: its address.")]
DeadlineOption = Annotated[
    int | None, typer.Option("--deadline", help="Block time the signatures expire (the same for every party).")
]


def _party(value: str) -> LocalAccount:
    """A signing party from a hex private key or `dev:N` (dev account N, local chains)."""
    if value.startswith("dev:"):
        from tracechain.chain.connect import DEV_ACCOUNT_COUNT, dev_accounts

        try:
            index = int(value[4:])
        except ValueError:
            raise errors.InvalidInputError(f"--sign {value!r}: expected dev:N") from None
        if not 0 <= index < DEV_ACCOUNT_COUNT:
            raise errors.InvalidInputError(f"--sign {value!r}: dev accounts are 0-{DEV_ACCOUNT_COUNT - 1}")
        return dev_accounts()[index]
    try:
        account: LocalAccount = Account.from_key(value)
    except (ValueError, TypeError):
        raise errors.InvalidInputError("a --sign value is not a private key (or dev:N)") from None
    return account


def _document(file: Path | None) -> dict[str, Any] | None:
    if file is None:
        return None
    body = read_json(str(file))
    if not isinstance(body, dict):
        raise errors.InvalidInputError(f"{file} must hold a JSON object")
    return body


def _landed(tx: Any) -> str:
    return f"block {tx.block_number}, tx {tx.tx_hash}, gas {tx.gas_used}"


@app.command("template")
def register_template(
    file: Annotated[Path | None, typer.Option("--file", help="A template (JSON); default: the built-in one.")] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Register a process template (governance)."""
    runtime = open_node(rpc)
    service = CaseService(runtime, runtime.transactor)
    template = parse_template(read_json(str(file))) if file else service.template()
    result = service.register_template(signer(key, dev_account, runtime), template)
    state = "registered" if result else "already registered"
    typer.echo(f"template {template.label} {template.hash} {state}" + (f" ({_landed(result)})" if result else ""))
    typer.echo("steps: " + ", ".join(f"{s.code}:{s.kind}[{'+'.join(s.signers)}]" for s in template.steps))


@app.command("open")
def open_case(
    biz_transaction: Annotated[str, typer.Argument(help="The purchase order, e.g. urn:epcglobal:cbv:bt:GLN:PO-1.")],
    template: Annotated[str | None, typer.Option("--template", help="Template hash; default the built-in.")] = None,
    supplier: SupplierOption = None,
    metadata: Annotated[Path | None, typer.Option("--metadata", help="The case's opening document (JSON).")] = None,
    direct: Annotated[bool, typer.Option("--direct", help="Pay gas as the buyer instead of relaying.")] = False,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Open a case as its buyer (signed; relayed by the operator unless --direct)."""
    runtime = open_node(rpc)
    service = CaseService(runtime, runtime.transactor if direct else runtime.relaying)
    opening = service.open(
        signer(key, dev_account, runtime), biz_transaction, template=service.template(template),
        metadata=_document(metadata), supplier=supplier,
    )  # fmt: skip
    typer.echo(f"opened case {opening.case_id} for {biz_transaction} ({_landed(opening.tx)})")


@app.command("sign")
def sign_step(
    case_id: CaseArg,
    kind: KindArg,
    file: FileOption = None,
    event: EventOption = None,
    amends: AmendsOption = 0,
    supplier: SupplierOption = None,
    inspector: InspectorOption = None,
    deadline: DeadlineOption = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
) -> None:
    """Sign a step as one of its parties; prints the signature to pass to `case step --signature`."""
    runtime = open_node(rpc)
    service = CaseService(runtime)
    prepared = service.prepare_step(case_id, kind, document=_document(file), event=event, amends=amends,
                                    supplier=supplier, inspector=inspector, deadline=deadline)  # fmt: skip
    account = signer(key, dev_account, runtime)
    if account.address not in prepared.signers:
        raise errors.StepSignatureError(
            f"{account.address} is not a signer of this {kind}: {', '.join(prepared.signers)}"
        )
    signature = service.client.sign(account, parse_bytes32(prepared.case_id), prepared.index, prepared.step,
                                    prepared.signers, prepared.deadline)  # fmt: skip
    print_json({"index": prepared.index, "deadline": prepared.deadline, "signer": account.address,
                "signature": signature, "pass": f"--signature {account.address}={signature}"})  # fmt: skip


@app.command("step")
def append_step(
    case_id: CaseArg,
    kind: KindArg,
    file: FileOption = None,
    event: EventOption = None,
    amends: AmendsOption = 0,
    supplier: SupplierOption = None,
    inspector: InspectorOption = None,
    sign: Annotated[
        list[str] | None, typer.Option("--sign", help="A party's private key or dev:N; repeat per party.")
    ] = None,
    signature: Annotated[
        list[str] | None, typer.Option("--signature", help="ADDRESS=0xSIGNATURE from `case sign`; repeat.")
    ] = None,
    deadline: DeadlineOption = None,
    rpc: RpcOption = None,
) -> None:
    """Append a step: signed here by every --sign party, or with --signature values (and their --deadline)
    collected with `case sign`. The operator submits it; the contract checks every signer's role."""
    runtime = open_node(rpc)
    service = CaseService(runtime)
    doc = _document(file)
    if sign and not signature:
        written = service.step(case_id, kind, [_party(v) for v in sign], document=doc, event=event, amends=amends,
                               supplier=supplier)  # fmt: skip
    elif signature and not sign:
        if deadline is None:
            raise errors.InvalidInputError("--signature needs the --deadline the parties signed")
        pairs = dict(_signature_pair(v) for v in signature)
        prepared = service.prepare_step(case_id, kind, document=doc, event=event, amends=amends, supplier=supplier,
                                        inspector=inspector, deadline=deadline)  # fmt: skip
        written = service.submit_step(prepared, pairs)
    else:
        raise errors.InvalidInputError("give --sign (keys at hand) or --signature (collected), not both or neither")
    typer.echo(f"step {written.index} ({written.kind}) appended to case {written.case_id} ({_landed(written.tx)})")
    typer.echo(f"document {written.document_hash}")


def _signature_pair(value: str) -> tuple[str, str]:
    address, _, sig = value.partition("=")
    if not sig.startswith("0x"):
        raise errors.InvalidInputError(f"--signature {value!r}: expected ADDRESS=0xSIGNATURE")
    return to_address(address), sig


@app.command("show")
def show_case(
    case_id: CaseArg,
    as_json: Annotated[bool, typer.Option("--json", help="The full answer of GET /v1/cases/{id}, as JSON.")] = False,
    rpc: RpcOption = None,
) -> None:
    """Show a case verified against the chain: parties, timeline, reconciliation and findings."""
    runtime = open_node(rpc)
    view = CaseReader(runtime).case(case_id)
    if as_json:
        from tracechain.api.schemas.cases import CasePublic

        print_json(CasePublic.of(view, str(runtime.settings.public_base_url).rstrip("/")).model_dump(mode="json"))
        return
    _print_view(view)


def _print_view(view: CaseView) -> None:
    v = view.verification
    typer.echo(f"case {view.case_id}  {view.biz_transaction}  [{view.status}]  {str(v.verdict).upper()}")
    typer.echo(f"  state {v.recomputed_state_hash} (chain: {v.stored_state_hash}) at block {v.block_number}")
    for p in v.problems:
        typer.echo(f"  ! {p.code}: {p.message}")
    for party in view.parties:
        typer.echo(f"  {party.role:9} {party.address}  {party.name or ''}")
    typer.echo("timeline:")
    for s in view.timeline:
        mark = "ok" if s.verified else "NOT VERIFIED: " + ", ".join(p.code for p in s.problems)
        notes = (f" amends #{s.amends}" if s.amends else "") + (f" (amended by #{s.superseded_by})" if s.superseded_by
                                                                 else "")  # fmt: skip
        signers = ", ".join(f"{x.role} {x.name or x.address}" for x in s.signers)
        typer.echo(f"  #{s.index:<2} {s.kind:22} {s.date or '':10}  {s.source:8} by {signers}{notes}  [{mark}]")
    r = view.reconciliation
    typer.echo(f"reconciliation ({r.currency or '-'}; budget {r.budget}, ordered {r.ordered_amount}, invoiced "
               f"{r.invoiced_amount}, paid {r.paid_amount}):")  # fmt: skip
    typer.echo("  item            ordered  shipped  received  warehoused  invoiced  paid   status")
    for line in r.lines:
        cells = [line.ordered, line.shipped, line.received, line.warehoused, line.invoiced, line.paid]
        shown = "  ".join(f"{('-' if c is None else format(c, 'f')):>7}" for c in cells)
        typer.echo(f"  {line.gtin}  {shown}  {line.status}")
    for c in view.price_checks:
        dev = "-" if c.deviation is None else f"{c.deviation * 100:+.1f} %"
        typer.echo(f"price #{c.index} {c.gtin}: {c.unit_price} {c.currency} vs median {c.median} ({dev}, "
                   f"{c.history} prices): {c.status}")  # fmt: skip
    typer.echo(f"findings ({len(view.findings)}):")
    for f in view.findings:
        steps = ", ".join(f"#{e.index} {e.kind}{'' if e.verified else ' (unverified)'}" for e in f.evidence
                          if e.case_id == view.case_id)  # fmt: skip
        others = sum(1 for e in f.evidence if e.case_id != view.case_id)
        more = f" + {others} step(s) of other cases" if others else ""
        typer.echo(f"  [{f.severity}] {f.code}: {f.message}  <- {steps}{more}")


@app.command("verify")
def verify_case(
    case_id: CaseArg,
    documents: Annotated[
        Path | None, typer.Option("--documents", help="A folder of the steps' documents (JSON) to check too.")
    ] = None,
    rpc: RpcOption = None,
) -> None:
    """Verify a case from the chain alone (its logs and the contract's slot; no index, no server): the
    steps fold to the stored state, and each document given hashes to its step. Exit 7 if not."""
    runtime = open_node(rpc)
    client = CaseRegistryClient(runtime.contract(CONTRACT), runtime.transactor)
    start = runtime.deployment.contracts[CONTRACT].block
    chain_case = client.read_case(parse_bytes32(case_id), start)
    if chain_case is None:
        raise errors.CaseNotFoundError(f"no case {case_id} on this chain")
    problems = list(chain_case.problems)
    if documents is not None:
        held = {to_hex(document_hash(read_json(str(p)))) for p in sorted(documents.glob("*.json"))}
        absent = [s.index for s in chain_case.steps if to_hex(s.step.document_hash) not in held]
        if absent:
            problems.append(f"no document in {documents} hashes to step(s) {absent}")
    if problems:
        raise errors.IntegrityError(f"case {chain_case.case_id}: " + "; ".join(problems))
    checked = f"; {len(chain_case.steps)} documents match" if documents is not None else ""
    typer.echo(f"OK: case {chain_case.case_id} ({chain_case.opened.biz_transaction}) has {len(chain_case.steps)} "
               f"steps folding to the on-chain state {chain_case.stored_state_hash} at block "
               f"{chain_case.block_number}{checked}")  # fmt: skip


@app.command("list")
def list_cases(
    buyer: Annotated[str | None, typer.Option("--buyer")] = None,
    supplier: Annotated[str | None, typer.Option("--supplier")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open or closed")] = None,
    finding: Annotated[str | None, typer.Option("--finding", help="a finding code, e.g. price_outlier")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    rpc: RpcOption = None,
) -> None:
    """List cases, newest first, with each one's verdict and findings."""
    runtime = open_node(rpc)
    page = _page(runtime, buyer, supplier, status, finding, limit, offset)
    typer.echo(f"{page.total} case(s)")
    for c in page.items:
        typer.echo(f"{c.case_id}  {c.biz_transaction}  [{c.status}, {c.step_count} steps, {c.verdict}]  "
                   f"{', '.join(c.findings) or 'no findings'}")  # fmt: skip


def _page(runtime: Runtime, buyer: str | None, supplier: str | None, status: str | None, finding: str | None,
          limit: int, offset: int) -> Any:  # fmt: skip
    from tracechain.services.cases import FindingCode

    if finding is not None and finding not in {str(c) for c in FindingCode}:
        raise errors.InvalidInputError(f"unknown finding {finding!r}", hint=", ".join(str(c) for c in FindingCode))
    return CaseReader(runtime).page(
        buyer=to_address(buyer) if buyer else None, supplier=to_address(supplier) if supplier else None,
        status=status, finding=finding, limit=limit, offset=offset,
    )  # fmt: skip


def register(root: typer.Typer) -> None:
    """Add `tracechain case ...` to the root app."""
    root.add_typer(app, name="case")
