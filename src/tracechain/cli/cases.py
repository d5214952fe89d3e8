"""`tracechain case`: register templates, open procurement cases, append co-signed steps (signing here
or with signatures collected elsewhere), show a verified and audited case, verify one from the chain's
logs alone, and list cases by buyer, supplier, status or finding.

Nothing heavy is imported at module level: help and completion must start fast."""

from __future__ import annotations

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
    command,
    emit,
    group,
    open_node,
    party,
    read_object,
    signer,
    tx_json,
    tx_text,
)

if TYPE_CHECKING:
    from tracechain.services.cases import CaseView

app = group("Procurement cases: open, co-signed steps, verified and audited views. Writes are paid by the operator.")

FINDINGS = (
    "unverified_step missing_step out_of_order late_step overdue_step amendment_kind_mismatch over_shipped "
    "short_shipped received_more_than_shipped short_received not_warehoused invoiced_not_received "
    "invoiced_over_ordered price_mismatch paid_not_received overpaid unordered_item over_budget currency_mismatch "
    "price_outlier split_order frequent_orders"
).split()
CASE = "0x4d1f8e0c3b2a19f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7"  # an example case id

CaseArg = Annotated[str, typer.Argument(metavar="CASE_ID", help="The case id (0x and 64 hex digits).")]
KindArg = Annotated[str, typer.Argument(metavar="KIND", help="The step kind, e.g. contract (see the template).")]
FileOption = Annotated[Path | None, typer.Option("--file", metavar="FILE", help="The step document (JSON).")]
EventOption = Annotated[
    str | None,
    typer.Option("--event", metavar="EVENT_HASH_ID", help="Instead of --file: a recorded EPCIS event's hash ID."),
]
AmendsOption = Annotated[
    int, typer.Option("--amends", metavar="INDEX", min=0, help="The index of the step this one amends (0: none).")
]
SupplierOption = Annotated[
    str | None, typer.Option("--supplier", metavar="ADDRESS", help="Award steps: the supplier named.")
]
InspectorOption = Annotated[
    str | None, typer.Option("--inspector", metavar="ADDRESS", help="Steps an inspector signs: the inspector.")
]
DeadlineOption = Annotated[
    int | None,
    typer.Option("--deadline", metavar="TIME", help="Block time the signatures expire, the same for every party."),
]


def _document(file: Path | None) -> dict[str, Any] | None:
    return None if file is None else read_object(str(file), "a JSON object (the step document)")


@command(app, "template")
def register_template(
    file: Annotated[
        Path | None, typer.Option("--file", metavar="FILE", help="A template (JSON); default: the built-in one.")
    ] = None,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Register a process template on the chain (governance signs and pays).

    Examples:
      tracechain case template --dev-account 0
      tracechain case template --file my-template.json --key 0x59c6...
    """
    from tracechain.services.cases import CaseService, parse_template

    runtime = open_node(rpc)
    service = CaseService(runtime, runtime.transactor)
    template = parse_template(read_object(str(file), "a case template")) if file else service.template()
    result = service.register_template(signer(key, dev_account, runtime), template)
    state = "registered" if result else "already registered"
    steps = ", ".join(f"{s.code}:{s.kind}[{'+'.join(s.signers)}]" for s in template.steps)
    data = {"template": template.hash, "name": template.name, "version": template.version, "state": state,
            "steps": [s.kind for s in template.steps], **(tx_json(result) if result else {})}  # fmt: skip
    landed = f" ({tx_text(result)})" if result else ""
    emit(as_json, data, f"template {template.label} {template.hash} {state}{landed}", f"steps: {steps}")


@command(app, "open")
def open_case(
    biz_transaction: Annotated[
        str, typer.Argument(metavar="ORDER", help="The purchase order as a CBV bizTransaction URI.")
    ],
    template: Annotated[
        str | None, typer.Option("--template", metavar="HASH", help="A registered template; default the built-in.")
    ] = None,
    supplier: SupplierOption = None,
    metadata: Annotated[
        Path | None, typer.Option("--metadata", metavar="FILE", help="The case's opening document (JSON).")
    ] = None,
    direct: Annotated[bool, typer.Option("--direct", help="Pay the gas as the buyer instead of relaying.")] = False,
    rpc: RpcOption = None,
    key: KeyOption = None,
    dev_account: DevAccountOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Open a case as its buyer (signed by the buyer; relayed and paid by the operator unless --direct).

    Examples:
      tracechain case open urn:epcglobal:cbv:bt:4012345000009:PO-1 --dev-account 3
      tracechain case open urn:epcglobal:cbv:bt:4012345000009:PO-2 --metadata po.json --key 0x59c6...
    """
    from tracechain.services.cases import CaseService

    runtime = open_node(rpc)
    service = CaseService(runtime, runtime.transactor if direct else runtime.relaying)
    opening = service.open(
        signer(key, dev_account, runtime), biz_transaction, template=service.template(template),
        metadata=_document(metadata), supplier=supplier,
    )  # fmt: skip
    data = {"caseId": opening.case_id, "bizTransaction": biz_transaction, "buyer": opening.buyer,
            "template": opening.template_hash, **tx_json(opening.tx)}  # fmt: skip
    emit(as_json, data, f"opened case {opening.case_id} for {biz_transaction} ({tx_text(opening.tx)})")


@command(app, "sign")
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
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Sign a step as one of its parties and print the signature to pass to `case step --signature`.

    Examples:
      tracechain case sign 0x4d1f8e0c3b2a19f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7 contract --file contract.json --deadline 1790000000 --dev-account 3
    """  # noqa: E501
    from tracechain.hashing import parse_bytes32
    from tracechain.services.cases import CaseService

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
    passing = f"{account.address}={signature}"
    data = {"index": prepared.index, "deadline": prepared.deadline, "signer": account.address,
            "signature": signature, "pass": f"--signature {passing}"}  # fmt: skip
    emit(as_json, data, f"step {prepared.index} ({kind}) signed by {account.address}, valid until {prepared.deadline}",
         f"pass it on: --signature {passing} --deadline {prepared.deadline}")  # fmt: skip


@command(app, "step")
def append_step(
    case_id: CaseArg,
    kind: KindArg,
    file: FileOption = None,
    event: EventOption = None,
    amends: AmendsOption = 0,
    supplier: SupplierOption = None,
    inspector: InspectorOption = None,
    sign: Annotated[
        list[str] | None,
        typer.Option("--sign", metavar="KEY", help="A party's private key, or dev:N; repeat it per party."),
    ] = None,
    signature: Annotated[
        list[str] | None,
        typer.Option("--signature", metavar="ADDRESS=SIG", help="A party's signature from `case sign`; repeat it."),
    ] = None,
    deadline: DeadlineOption = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Append a step signed here by every --sign party, or with the --signature values (and their
    --deadline) collected by `case sign`. The operator submits it; the contract checks each signer's role.

    Examples:
      tracechain case step 0x4d1f8e0c3b2a19f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7 approval --file approval.json --sign dev:3
      tracechain case step 0x4d1f8e0c3b2a19f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7 delivery --event ni:///sha-256;9c1e...?ver=CBV2.0 --sign dev:1
    """  # noqa: E501
    from tracechain.services.cases import CaseService
    from tracechain.types import to_address

    runtime = open_node(rpc)
    service = CaseService(runtime)
    doc = _document(file)
    if sign and not signature:
        parties = [party(v, "--sign") for v in sign]
        written = service.step(case_id, kind, parties, document=doc, event=event, amends=amends, supplier=supplier)
    elif signature and not sign:
        if deadline is None:
            raise errors.InvalidInputError("--signature needs the --deadline the parties signed")
        pairs: dict[str, str] = {}
        for value in signature:
            address, _, sig = value.partition("=")
            if not sig.startswith("0x"):
                raise errors.InvalidInputError(f"--signature {value!r}: expected ADDRESS=0xSIGNATURE")
            pairs[to_address(address)] = sig
        prepared = service.prepare_step(case_id, kind, document=doc, event=event, amends=amends, supplier=supplier,
                                        inspector=inspector, deadline=deadline)  # fmt: skip
        written = service.submit_step(prepared, pairs)
    else:
        raise errors.InvalidInputError("give --sign (keys at hand) or --signature (collected), not both or neither")
    data = {"caseId": written.case_id, "index": written.index, "kind": written.kind,
            "documentHash": written.document_hash, **tx_json(written.tx)}  # fmt: skip
    emit(as_json, data, f"step {written.index} ({written.kind}) appended to case {written.case_id} "
         f"({tx_text(written.tx)})", f"document {written.document_hash}")  # fmt: skip


@command(app, "show")
def show_case(
    case_id: CaseArg, rpc: RpcOption = None, as_json: JsonOption = False, verbose: VerboseOption = False
) -> None:
    """Show a case verified against the chain: parties, timeline, reconciliation and findings. Needs no key.

    Examples:
      tracechain case show 0x4d1f8e0c3b2a19f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7
      tracechain case show 0x4d1f8e0c3b2a19f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7 --json
    """
    from tracechain.api.schemas.cases import CasePublic
    from tracechain.services.cases import CaseReader

    runtime = open_node(rpc)
    view = CaseReader(runtime).case(case_id)
    data = CasePublic.of(view, str(runtime.settings.public_base_url).rstrip("/")).model_dump(mode="json")
    emit(as_json, data, *_view_lines(view))


def _view_lines(view: CaseView) -> list[str]:
    v = view.verification
    lines = [f"case {view.case_id}  {view.biz_transaction}  [{view.status}]  {str(v.verdict).upper()}",
             f"  state {v.recomputed_state_hash} (chain: {v.stored_state_hash}) at block {v.block_number}"]  # fmt: skip
    lines += [f"  ! {p.code}: {p.message}" for p in v.problems]
    lines += [f"  {party.role:9} {party.address}  {party.name or ''}" for party in view.parties]
    lines.append("timeline:")
    for s in view.timeline:
        mark = "ok" if s.verified else "NOT VERIFIED: " + ", ".join(p.code for p in s.problems)
        notes = (f" amends #{s.amends}" if s.amends else "") + (
            f" (amended by #{s.superseded_by})" if s.superseded_by else ""
        )
        signers = ", ".join(f"{x.role} {x.name or x.address}" for x in s.signers)
        lines.append(f"  #{s.index:<2} {s.kind:22} {s.date or '':10}  {s.source:8} by {signers}{notes}  [{mark}]")
    r = view.reconciliation
    lines.append(f"reconciliation ({r.currency or '-'}; budget {r.budget}, ordered {r.ordered_amount}, invoiced "
                 f"{r.invoiced_amount}, paid {r.paid_amount}):")  # fmt: skip
    lines.append("  item            ordered  shipped  received  warehoused  invoiced  paid   status")
    for line in r.lines:
        cells = [line.ordered, line.shipped, line.received, line.warehoused, line.invoiced, line.paid]
        shown = "  ".join(f"{('-' if c is None else format(c, 'f')):>7}" for c in cells)
        lines.append(f"  {line.gtin}  {shown}  {line.status}")
    for c in view.price_checks:
        dev = "-" if c.deviation is None else f"{c.deviation * 100:+.1f} %"
        lines.append(f"price #{c.index} {c.gtin}: {c.unit_price} {c.currency} vs median {c.median} ({dev}, "
                     f"{c.history} prices): {c.status}")  # fmt: skip
    lines.append(f"findings ({len(view.findings)}):")
    for f in view.findings:
        steps = ", ".join(f"#{e.index} {e.kind}{'' if e.verified else ' (unverified)'}" for e in f.evidence
                          if e.case_id == view.case_id)  # fmt: skip
        others = sum(1 for e in f.evidence if e.case_id != view.case_id)
        more = f" + {others} step(s) of other cases" if others else ""
        lines.append(f"  [{f.severity}] {f.code}: {f.message}  <- {steps}{more}")
    return lines


@command(app, "verify")
def verify_case(
    case_id: CaseArg,
    documents: Annotated[
        Path | None,
        typer.Option("--documents", metavar="DIR", help="A folder of the steps' documents (JSON) to check too."),
    ] = None,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Verify a case from the chain alone (its logs and the contract's slot; no index, no server): the steps
    fold to the stored state, and each document given hashes to its step. Exit code 7 if not.

    Examples:
      tracechain case verify 0x4d1f8e0c3b2a19f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7
      tracechain case verify 0x4d1f8e0c3b2a19f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7 --documents docs/
    """
    from tracechain.chain.cases import CONTRACT, CaseRegistryClient
    from tracechain.cli.common import read_json
    from tracechain.hashing import document_hash, parse_bytes32, to_hex

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
    data = {"ok": True, "caseId": chain_case.case_id, "bizTransaction": chain_case.opened.biz_transaction,
            "steps": len(chain_case.steps), "stateHash": chain_case.stored_state_hash,
            "blockNumber": chain_case.block_number}  # fmt: skip
    emit(as_json, data, f"OK: case {chain_case.case_id} ({chain_case.opened.biz_transaction}) has "
         f"{len(chain_case.steps)} steps folding to the on-chain state {chain_case.stored_state_hash} at block "
         f"{chain_case.block_number}{checked}")  # fmt: skip


@command(app, "list")
def list_cases(
    buyer: Annotated[str | None, typer.Option("--buyer", metavar="ADDRESS", help="Only this buyer's cases.")] = None,
    supplier: Annotated[
        str | None, typer.Option("--supplier", metavar="ADDRESS", help="Only this supplier's cases.")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", metavar="STATUS", help="Open or closed.")] = None,
    finding: Annotated[
        str | None, typer.Option("--finding", metavar="CODE", help="Only cases with this finding, e.g. price_outlier.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", min=1, max=200, help="Cases per page.")] = 50,
    offset: Annotated[int, typer.Option("--offset", metavar="N", min=0, help="Cases to skip.")] = 0,
    rpc: RpcOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """List cases, newest first, with each one's verdict and findings. Needs no key.

    Examples:
      tracechain case list
      tracechain case list --finding invoiced_not_received --json
    """
    from tracechain.services.cases import CaseReader
    from tracechain.types import to_address

    if finding is not None and finding not in FINDINGS:
        raise errors.InvalidInputError(f"unknown finding {finding!r}", hint=", ".join(FINDINGS))
    runtime = open_node(rpc)
    page = CaseReader(runtime).page(
        buyer=to_address(buyer) if buyer else None, supplier=to_address(supplier) if supplier else None,
        status=status.lower() if status else None, finding=finding, limit=limit, offset=offset,
    )  # fmt: skip
    items = [{"caseId": c.case_id, "bizTransaction": c.biz_transaction, "status": c.status, "steps": c.step_count,
              "verdict": c.verdict, "findings": list(c.findings)} for c in page.items]  # fmt: skip
    lines = [f"{page.total} case(s)"] + [
        f"{c.case_id}  {c.biz_transaction}  [{c.status}, {c.step_count} steps, {c.verdict}]  "
        f"{', '.join(c.findings) or 'no findings'}"
        for c in page.items
    ]
    emit(as_json, {"total": page.total, "cases": items}, *lines)


def register(root: typer.Typer) -> None:
    """Add `tracechain case ...` to the root app."""
    root.add_typer(app, name="case")
