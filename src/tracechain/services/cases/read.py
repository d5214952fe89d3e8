"""Case reads for auditors: one case with its timeline (every step verified: its link in the case's hash
chain, its document against the committed hash and its kind's schema, its signers against the
template's roles, an EPCIS event against the provenance record and the order it must name), the
reconciliation, price checks and findings, and the whole case checked against the contract's slot;
pages of cases filtered by buyer, supplier, status or finding; findings as CSV rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.orm import Session

from tracechain import errors
from tracechain.chain.cases import CONTRACT, ZERO_ADDRESS, CaseRegistryClient, CaseState
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.services.cases.audit import (
    AuditPolicy,
    CaseContext,
    completeness_findings,
    frequency_watch,
    integrity_findings,
    price_watch,
    reconcile,
)
from tracechain.services.cases.documents import check_document, check_epcis_event
from tracechain.services.cases.facts import ZERO_HASH, facts_of, refresh_facts, superseded, template_of
from tracechain.services.cases.model import (
    CasePage,
    CaseSummary,
    CaseVerification,
    CaseView,
    Finding,
    Party,
    Problem,
    Severity,
    Signer,
    TemplateRef,
    TimelineStep,
    Verdict,
)
from tracechain.services.cases.templates import CaseTemplate
from tracechain.services.runtime import Runtime
from tracechain.store import cases as index
from tracechain.store.db import Checkpoint, IndexedBlock
from tracechain.store.indexer import STREAM

MAX_PAGE = 200
_TAMPERING = {"document_altered", "step_altered", "signer_mismatch", "claim_mismatch", "event_id_mismatch",
              "metadata_altered"}  # fmt: skip
_SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class CaseReader:
    """Reads verified, audited cases from the index of one Runtime."""

    def __init__(self, runtime: Runtime, policy: AuditPolicy | None = None) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.client = CaseRegistryClient(runtime.contract(CONTRACT), runtime.transactor)
        self.policy = policy or AuditPolicy.from_settings()

    # ---------------------------------------------------------------- one case
    def case(self, case_id: str, *, policy: AuditPolicy | None = None) -> CaseView:
        """The case, verified against the chain and audited.

        Raises:
            InvalidInputError: not a case id.
            CaseNotFoundError: no such case.
            CaseTemplateNotFoundError: the case's template document is unknown here.
        """
        key = to_hex(parse_bytes32(case_id))
        self.runtime.refresh()
        return self._view(key, policy or self.policy)

    # ---------------------------------------------------------------- many cases
    def page(
        self,
        *,
        buyer: str | None = None,
        supplier: str | None = None,
        status: str | None = None,
        finding: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> CasePage:
        """A page of cases, newest first, each with the verdict and finding codes of its audit (audits
        are cached until any case changes, since the watches compare cases with each other).

        Raises:
            InvalidInputError: page bounds or an unknown status.
        """
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise errors.InvalidInputError(f"limit must be 1..{MAX_PAGE} and offset >= 0")
        if status is not None and status not in ("open", "closed"):
            raise errors.InvalidInputError("status is open or closed")
        self.runtime.refresh()
        filters: dict[str, Any] = {"buyer": buyer, "supplier": supplier, "status": status}
        with self.store.session() as s:
            if finding is None:
                rows, total = index.cases_page(s, **filters, limit=limit, offset=offset)
            else:
                rows, _ = index.cases_page(s, **filters, limit=None)
            s.expunge_all()
        audits = self._audits([r.case_id for r in rows])
        if finding is not None:
            rows = [r for r in rows if finding in audits[r.case_id][1]]
            total, rows = len(rows), rows[offset : offset + limit]
        names = self.store.actor_names(sorted({a for r in rows for a in (r.buyer, r.supplier) if a != ZERO_ADDRESS}))
        items = tuple(
            CaseSummary(
                case_id=r.case_id,
                biz_transaction=r.biz_transaction,
                status=r.status,
                buyer=r.buyer,
                buyer_name=names.get(r.buyer),
                supplier=r.supplier if r.supplier != ZERO_ADDRESS else None,
                supplier_name=names.get(r.supplier),
                step_count=r.step_count,
                opened_at=r.opened_at,
                verdict=audits[r.case_id][0],
                findings=tuple(audits[r.case_id][1]),
            )
            for r in rows
        )
        return CasePage(items, total, limit, offset)

    def findings(
        self,
        *,
        buyer: str | None = None,
        supplier: str | None = None,
        status: str | None = None,
        finding: str | None = None,
    ) -> list[tuple[CaseView, Finding]]:
        """Every finding of the matching cases (for the CSV export), highest severity first per case."""
        self.runtime.refresh()
        with self.store.session() as s:
            rows, _ = index.cases_page(s, buyer=buyer, supplier=supplier, status=status, limit=None)
            keys = [r.case_id for r in rows]
        out = []
        for key in keys:
            view = self._view(key, self.policy)
            out += [(view, f) for f in view.findings if finding is None or f.code == finding]
        return out

    # ---------------------------------------------------------------- internals
    def _audits(self, keys: list[str]) -> dict[str, tuple[str, list[str]]]:
        """(verdict, finding codes) per case, from the cache when no case changed since."""
        with self.store.session() as s:
            mark = index.watermark(s)
            audits = s.scalars(select(index.CaseAuditRow).where(index.CaseAuditRow.case_id.in_(keys)))
            cached = {a.case_id: a for a in audits}
            s.expunge_all()
        out = {}
        for key in keys:
            row = cached.get(key)
            if row is None or row.watermark < mark or row.stale:
                view = self._view(key, self.policy)
                out[key] = (str(view.verification.verdict), sorted({str(f.code) for f in view.findings}))
            else:
                out[key] = (row.verdict, row.findings.split(",") if row.findings else [])
        return out

    def _view(self, key: str, policy: AuditPolicy) -> CaseView:
        with self.runtime.indexer.lock:
            self._refresh_facts()
        with self.runtime.indexer.lock, self.store.session() as s:
            case = s.get(index.CaseRow, key)
            if case is None:
                raise errors.CaseNotFoundError(f"no case {key} is open")
            rows = index.steps_of(s, key)
            loaded = index.documents(s, sorted({r.document_hash for r in rows}))
            checkpoint = s.get(Checkpoint, STREAM)
            block = checkpoint.block_number if checkpoint else int(self.runtime.chain.w3.eth.block_number)
            indexed = s.get(IndexedBlock, block)
            mark = index.watermark(s)
            s.expunge_all()
        template = template_of(self.store, case.template_hash)
        timeline, problems, state = self._timeline(case, template, rows, loaded)
        # Chain reads keyed by the block's hash, not its number: after a reorganisation it is another block.
        block_id = indexed.hash if indexed is not None else f"#{block}"
        stored = self.runtime.memo(("case_state", key, block_id),
                                   lambda: self.client.state_hash_of(parse_bytes32(key), block))  # fmt: skip
        if to_hex(state.hash) != stored:
            problems += self._locate(case, rows, block)
        seconds = self.runtime.memo(("block_time", block_id),
                                    lambda: int(self.runtime.chain.w3.eth.get_block(block)["timestamp"]))  # fmt: skip
        today = datetime.fromtimestamp(seconds, UTC).date()
        context = CaseContext(key, case.biz_transaction, case.buyer, case.status == "closed", template, timeline, today)
        findings = integrity_findings(context) + completeness_findings(context)
        reconciliation, reconciled = reconcile(context)
        findings += reconciled
        with self.store.session() as s:
            checks, priced = price_watch(context, s, self.store, policy)
            findings += priced + frequency_watch(context, s, self.store, policy)
        findings.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], f.code, f.gtin or ""))
        metadata = None
        if case.metadata_hash != ZERO_HASH:
            metadata = self.store.get_document(case.metadata_hash)
            if metadata is not None and to_hex(document_hash(metadata)) != case.metadata_hash:
                problems.append(Problem("metadata_altered", "the opening document no longer matches its hash"))
        all_problems = tuple(problems) + tuple(p for t in timeline for p in t.problems)
        verdict = _verdict(all_problems)
        verification = CaseVerification(
            verdict=verdict,
            chain_id=self.runtime.chain.chain_id,
            contract=self.client.address,
            block_number=block,
            stored_state_hash=stored if stored != ZERO_HASH else None,
            recomputed_state_hash=to_hex(state.hash),
            step_count=len(rows),
            problems=tuple(problems),
        )
        self._cache(key, mark, verification, findings, policy)
        return CaseView(
            case_id=key,
            biz_transaction=case.biz_transaction,
            status=case.status,
            template=TemplateRef(template.name, template.version, template.title, template.hash, template.kind_names),
            parties=self._parties(case, timeline),
            opened_at=case.opened_at,
            opened_tx=case.opened_tx,
            opened_block=case.opened_block,
            metadata_hash=case.metadata_hash,
            metadata=metadata,
            timeline=timeline,
            reconciliation=reconciliation,
            price_checks=tuple(checks),
            findings=tuple(findings),
            verification=verification,
        )

    def _cache(self, key: str, mark: int, v: CaseVerification, findings: list[Finding], policy: AuditPolicy) -> None:
        if policy != self.policy:
            return  # an ad-hoc band (a query parameter) does not replace the audit lists filter on
        codes = ",".join(sorted({str(f.code) for f in findings}))
        try:
            with self.store.session() as s:
                row = s.get(index.CaseAuditRow, key)
                if row is None:
                    row = index.CaseAuditRow(case_id=key)
                    s.add(row)
                row.watermark, row.verdict, row.findings, row.finding_count, row.stale = (
                    mark, str(v.verdict), codes, len(findings), False
                )  # fmt: skip
        except DatabaseIntegrityError:
            pass  # another process cached the same audit at the same moment

    def _refresh_facts(self) -> None:
        """Price points of cases whose steps arrived since; a concurrent refresh elsewhere is as good."""
        try:
            with self.store.session() as s:
                _refresh_stale(s, self.store)
        except DatabaseIntegrityError:
            pass

    def _timeline(
        self, case: index.CaseRow, template: CaseTemplate, rows: list[index.CaseStepRow], loaded: dict[str, Any]
    ) -> tuple[tuple[TimelineStep, ...], list[Problem], CaseState]:
        """Every step verified, and the state folded from the steps' own fields (never the index's heads)."""
        problems: list[Problem] = []
        state = CaseState(parse_bytes32(case.genesis()), 0, case.buyer, case.opening_supplier,
                          parse_bytes32(case.rules))  # fmt: skip
        replaced = superseded(rows)
        names = self.store.actor_names(sorted({a for r in rows for a in r.signer_list}))
        timeline = []
        for row in rows:
            step_problems: list[Problem] = []
            gap = row.seq != state.steps + 1
            if gap:  # nothing to link this step to: its predecessor is not in the index
                missing = ", ".join(str(i) for i in range(state.steps + 1, row.seq))
                message = f"step(s) {missing} are missing from the index"
                problems.append(Problem("step_missing", message, state.steps + 1))
                state = replace(state, steps=row.seq - 1, supplier=state.supplier if state.supplier != ZERO_ADDRESS
                                else case.supplier)  # fmt: skip
            supplier_before = state.supplier
            state = state.after(row.step(), row.signer_list, row.timestamp)
            if not gap and to_hex(state.head) != row.head:
                step_problems.append(Problem("step_altered", "the step's fields do not give the head the index "
                                             "recorded for it", row.seq))  # fmt: skip
            kind = _kind(template, row)
            facts, doc = facts_of(self.store, row, loaded)
            step_problems += self._check_step(case, template, kind, row, doc, facts is not None, supplier_before)
            roles = kind.signers if kind else tuple("?" for _ in row.signer_list)
            timeline.append(
                TimelineStep(
                    index=row.seq,
                    kind=row.kind_name,
                    title=kind.title if kind else row.kind_name,
                    kind_code=row.kind,
                    amends=row.amends or None,
                    superseded_by=replaced.get(row.seq),
                    source="epcis" if row.ref != ZERO_HASH else "document",
                    document_hash=row.document_hash,
                    event_hash_id=f"ni:///sha-256;{row.ref[2:]}?ver=CBV2.0" if row.ref != ZERO_HASH else None,
                    party=row.party if row.party != ZERO_ADDRESS else None,
                    signers=tuple(Signer(r, a, names.get(a)) for r, a in zip(roles, row.signer_list, strict=False)),
                    timestamp=row.timestamp,
                    date=facts.date.isoformat() if facts and facts.date else None,
                    tx_hash=row.tx_hash,
                    block_number=row.block_number,
                    head=row.head,
                    document=doc,
                    verified=not step_problems,
                    problems=tuple(step_problems),
                    facts=facts,
                )
            )
        return tuple(timeline), problems, state

    def _check_step(
        self,
        case: index.CaseRow,
        template: CaseTemplate,
        kind: Any,
        row: index.CaseStepRow,
        doc: Any,
        hashed: bool,
        supplier: str,
    ) -> list[Problem]:
        seq = row.seq
        if kind is None:
            return [Problem("unknown_kind", f"kind code {row.kind} is not in template {template.label}", seq)]
        problems = []
        named = row.party if kind.names_supplier else supplier
        fits = len(row.signer_list) == len(kind.signers)
        for role, signer in zip(kind.signers, row.signer_list, strict=False):
            if role == "buyer":
                fits = fits and signer == case.buyer
            elif role == "supplier":
                fits = fits and signer == named
            else:
                fits = fits and signer not in (case.buyer, named)
        if not fits:
            problems.append(Problem("signer_mismatch", f"the signers do not fit the roles {', '.join(kind.signers)}",
                                    seq))  # fmt: skip
        if doc is None:
            message = f"the document {row.document_hash} is not in the store"
            return [*problems, Problem("document_missing", message, seq)]
        if not hashed:
            return [*problems, Problem("document_altered", "the stored document no longer matches its on-chain hash",
                                       seq)]  # fmt: skip
        if row.ref != ZERO_HASH:
            problems += self._check_event(kind, row, doc, case.biz_transaction)
        else:
            problems += [
                Problem("document_invalid", p, seq) for p in check_document(template, kind, doc, case.biz_transaction)
            ]
            account = (doc.get("supplier") or {}).get("account") if kind.names_supplier else None
            if kind.names_supplier and (not isinstance(account, str) or account.lower() != row.party.lower()):
                problems.append(Problem("claim_mismatch", f"the {kind.kind} names {account}, the chain {row.party}",
                                        seq))  # fmt: skip
        return problems

    def _check_event(self, kind: Any, row: index.CaseStepRow, doc: Any, biz_transaction: str) -> list[Problem]:
        """The event must fit the step and be the very event the provenance chain recorded: an entry with
        this event id and this document hash (whose own chain the product trace verifies)."""
        problems = [Problem("epcis_invalid", p, row.seq) for p in check_epcis_event(kind, doc, biz_transaction)]
        with self.store.session() as s:
            recorded = index.recorded_event_documents(s, row.ref)
        if not recorded:
            problems.append(Problem("epcis_not_recorded", "the event is not recorded in the provenance chain", row.seq))
        elif row.document_hash not in recorded:
            problems.append(Problem("event_id_mismatch", "the provenance chain recorded this event with another "
                                    "document", row.seq))  # fmt: skip
        return problems

    def _locate(self, case: index.CaseRow, rows: list[index.CaseStepRow], block: int) -> list[Problem]:
        """Compare the index with the contract's own logs to name what differs."""
        start = self.runtime.deployment.contracts[CONTRACT].block
        chain = self.client.read_case(parse_bytes32(case.case_id), start, block)
        problems = [Problem("state_mismatch", "the steps the index holds do not fold to the contract's state")]
        if chain is None:
            return [*problems, Problem("not_on_chain", "the contract has no such case")]
        held = {r.seq: r for r in rows}
        for s in chain.steps:
            row = held.get(s.index)
            if row is None:
                problems.append(Problem("step_missing", f"step {s.index} is on the chain but withheld from the index",
                                        s.index))  # fmt: skip
            elif (row.kind, row.document_hash, row.ref, row.amends, row.party, tuple(row.signer_list)) != (
                s.step.kind,
                to_hex(s.step.document_hash),
                to_hex(s.step.ref),
                s.step.amends,
                s.step.party,
                s.signers,
            ):
                problems.append(Problem("step_altered", f"step {s.index} in the index differs from the chain's",
                                        s.index))  # fmt: skip
        extra = sorted(set(held) - {s.index for s in chain.steps})
        if extra:
            problems.append(Problem("step_altered", f"step(s) {extra} are in the index but not on the chain", extra[0]))
        return problems

    def _parties(self, case: index.CaseRow, timeline: tuple[TimelineStep, ...]) -> tuple[Party, ...]:
        found: dict[tuple[str, str], None] = {("buyer", case.buyer): None}
        if case.supplier != ZERO_ADDRESS:
            found[("supplier", case.supplier)] = None
        for step in timeline:
            for signer in step.signers:
                if signer.role == "inspector":
                    found[("inspector", signer.address)] = None
        names = self.store.actor_names(sorted({a for _, a in found}))
        return tuple(Party(role, address, names.get(address)) for role, address in found)


def _verdict(problems: tuple[Problem, ...]) -> Verdict:
    """Tampered when something the chain committed to was changed; incomplete when something is only
    missing (a withheld step makes the state differ too, but that is what it is)."""
    codes = {p.code for p in problems}
    if not codes:
        return Verdict.VERIFIED
    if codes & _TAMPERING or ("state_mismatch" in codes and "step_missing" not in codes):
        return Verdict.TAMPERED
    return Verdict.INCOMPLETE


def _kind(template: CaseTemplate, row: index.CaseStepRow) -> Any:
    try:
        return template.step(row.kind)
    except errors.InvalidInputError:
        return None


def _refresh_stale(session: Session, store: Any) -> None:
    """Rebuild the price points of cases whose steps arrived since (through another server, or straight
    at the contract), so the watches compare every case the index holds."""
    facts, cases = index.CaseFactsRow, index.CaseRow
    query = select(cases.case_id).outerjoin(facts, facts.case_id == cases.case_id)
    stale = query.where(facts.step_count.is_(None) | (facts.step_count != cases.step_count))
    for case_id in list(session.scalars(stale)):
        refresh_facts(session, store, case_id)
    session.flush()
