"""Provenance reads: a subject's trace, one page at a time, verified against the chain.

The index keeps the running head after every entry, computed from the chain's own logs when they
were indexed. A read therefore costs O(page), not O(history): it checks that each entry of the page
(and the entries either side of it) links to the one before, that every document on the page still
hashes to what the chain committed, and that the newest head equals the contract's head at the
index's checkpoint block — which covers the whole history: any altered, hidden or reordered entry
anywhere would change that head.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tracechain import errors
from tracechain.chain.provenance import (
    EntryKind,
    ProvenanceRegistryClient,
    SubjectState,
    biz_step_name,
    genesis_head,
    next_head,
)
from tracechain.epcis import PreparedEvent, ProductId, parse_product_id, prepare_event
from tracechain.hashing import canonical_json, document_hash, parse_bytes32, to_hex
from tracechain.services.runtime import Runtime
from tracechain.store import provenance as index
from tracechain.store.db import Checkpoint, IndexedBlock
from tracechain.store.indexer import STREAM
from tracechain.types import to_address

CONTRACT = "ProvenanceRegistry"
ZERO_HASH = to_hex(bytes(32))
DEFAULT_PAGE = 50
MAX_PAGE = 500


def hash_id_of(event_id: str) -> str:
    """The CBV 2.0 Event Hash ID whose sha-256 digest is `event_id` (0x-hex)."""
    return f"ni:///sha-256;{event_id.removeprefix('0x')}?ver=CBV2.0"


@dataclass(frozen=True)
class TraceEntry:
    """One entry of a subject's chain as the index holds it, with its document."""

    index: int
    kind: str  # event | error_declaration | custody | forced_custody | recall
    ref: str
    event_hash_id: str | None  # events and error declarations
    document_hash: str
    biz_step: str | None
    biz_step_code: int
    actor: str
    actor_name: str | None
    timestamp: int
    tx_hash: str
    block_number: int
    head: str
    document: dict[str, Any] | None
    document_verified: bool
    custodian: str | None = None  # the new custodian, for custody entries
    custodian_name: str | None = None
    declared_erroneous: ErrorNotice | None = None  # events: a later entry declared this one erroneous


@dataclass(frozen=True)
class ErrorNotice:
    """An EPCIS error declaration of an event: which entry declares it, when, why, and its corrections."""

    index: int  # the declaration's entry in the same chain
    declaration_time: str | None  # as the declaration states it (ISO 8601)
    reason: str | None
    corrective_event_ids: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """Why (part of) a trace failed verification; `event_index` names the entry when there is one."""

    code: str
    message: str
    event_index: int | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class Verification:
    """The trace checked against the contract's state at `block_number`."""

    verdict: str  # "verified" | "tampered" | "incomplete"
    chain_id: int
    contract: str
    block_number: int
    chain_head: str | None
    recomputed_head: str  # the head the index reached by folding every entry it holds
    entry_count: int  # entries the index holds
    problems: tuple[Problem, ...] = ()

    @property
    def verified(self) -> bool:
        return self.verdict == "verified"


@dataclass(frozen=True)
class Recall:
    by: str
    by_name: str | None
    reason_hash: str
    reason: dict[str, Any] | None
    reason_verified: bool
    timestamp: int | None
    tx_hash: str | None


@dataclass(frozen=True)
class SubjectTrace:
    """A subject's state, one page of its history (newest first) and whether it is authentic."""

    product_id: str  # the canonical identifier
    product_key: str
    digital_link_path: str | None
    open: bool
    status: str  # "active" | "recalled" (the chain's, when it answers)
    originator: str
    originator_name: str | None
    custodian: str | None
    custodian_name: str | None
    metadata_hash: str
    metadata: dict[str, Any] | None
    created_at: int
    created_tx: str
    created_block: int
    entries: tuple[TraceEntry, ...]  # newest first
    next_cursor: int | None  # pass as `before` for the next (older) page
    recall: Recall | None
    verification: Verification

    @property
    def recalled(self) -> bool:
        return self.status == "recalled"

    @property
    def events(self) -> tuple[TraceEntry, ...]:
        """The page's EPCIS events (and error declarations), oldest first."""
        kinds = ("event", "error_declaration")
        return tuple(e for e in reversed(self.entries) if e.kind in kinds)

    @property
    def custody(self) -> tuple[TraceEntry, ...]:
        """The page's custody changes, oldest first."""
        return tuple(e for e in reversed(self.entries) if e.kind in ("custody", "forced_custody"))


_TAMPERING = {
    "document_altered",
    "metadata_altered",
    "recall_notice_altered",
    "event_altered",
    "state_mismatch",
    "event_invalid",
    "event_id_mismatch",
    "biz_step_mismatch",
    "product_mismatch",
}


class TraceReader:
    """Reads verified traces from the index of one Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.client = ProvenanceRegistryClient(runtime.contract(CONTRACT), runtime.transactor)

    def trace(
        self, product_id: str | ProductId, *, limit: int = DEFAULT_PAGE, before: int | None = None
    ) -> SubjectTrace:
        """One page of the subject's history (newest first; `before` continues with older entries),
        verified against the chain.

        Raises:
            InvalidInputError: invalid identifier or page bounds.
            ProductNotFoundError: no such subject.
        """
        pid = product_id if isinstance(product_id, ProductId) else parse_product_id(product_id)
        if not 1 <= limit <= MAX_PAGE:
            raise errors.InvalidInputError(f"limit must be 1..{MAX_PAGE}")
        if before is not None and before < 0:
            raise errors.InvalidInputError("before must be a non-negative entry index")
        self.runtime.refresh()
        key = to_hex(pid.key)
        # Rows and checkpoint are read together, so a sync in another thread cannot slip between
        # them and make an honest trace look altered.
        with self.runtime.indexer.lock, self.store.session() as s:
            subject = s.get(index.SubjectRow, key)
            if subject is None:
                raise errors.ProductNotFoundError(f"no product or other subject {pid.canonical} is registered")
            page = index.entries_page(s, key, before=before, limit=limit)
            oldest = page[-1].seq if page else None
            previous = index.entry_at(s, key, oldest - 1) if oldest else None
            following = index.entry_at(s, key, page[0].seq + 1) if page else None
            checkpoint = s.get(Checkpoint, STREAM)
            block = checkpoint.block_number if checkpoint else int(self.runtime.chain.w3.eth.block_number)
            indexed = s.get(IndexedBlock, block)
            s.expunge_all()
        # Keyed by the block's hash, not its number: after a reorganisation the same number is another block.
        block_id = indexed.hash if indexed is not None else f"#{block}"
        chain = self.runtime.memo(("subject", key, block_id), lambda: self.client.get_subject(pid.key, block))
        return self._assemble(pid, subject, page, previous, following, chain, block)

    # ---------------------------------------------------------------- internals
    def _assemble(
        self,
        pid: ProductId,
        subject: index.SubjectRow,
        page: list[index.EntryRow],
        previous: index.EntryRow | None,
        following: index.EntryRow | None,
        chain: SubjectState | None,
        block: int,
    ) -> SubjectTrace:
        problems: list[Problem] = []
        accounts = {subject.originator, subject.custodian, *(e.actor for e in page), *map(_custodian_of, page)}
        names = self.store.actor_names([a for a in accounts if a])
        metadata = None
        if subject.metadata_hash != ZERO_HASH:
            metadata = self.store.get_document(subject.metadata_hash)
            problems += _document_problems(metadata, subject.metadata_hash, "metadata", "the metadata")

        # Links: each entry's head must follow from the one before it (the genesis for entry 0).
        prior: str | None = None
        if previous is not None:
            prior = previous.head
        elif page and page[-1].seq == 0:
            prior = _genesis(subject)
        elif page:
            problems.append(
                Problem("event_missing", f"entry #{page[-1].seq - 1} is missing from the index", page[-1].seq - 1)
            )
        expected_seq = page[-1].seq if page else 0
        for row in list(reversed(page)) + ([following] if following is not None else []):
            if row.seq != expected_seq:  # the index lost entries in between: nothing to link
                missing = ", ".join(f"#{i}" for i in range(expected_seq, row.seq))
                problems.append(Problem("event_missing", f"entries {missing} are missing from the index", expected_seq))
                prior = None
            expected_seq = row.seq + 1
            if prior is not None:
                expected = next_head(
                    parse_bytes32(prior),
                    row.kind,
                    parse_bytes32(row.ref),
                    parse_bytes32(row.document_hash),
                    row.code,
                    row.actor,
                    row.timestamp,
                )
                if to_hex(expected) != row.head:
                    problems.append(
                        Problem(
                            "event_altered",
                            f"entry #{row.seq} in the index does not follow from the entry before it",
                            row.seq,
                            row.ref,
                        )
                    )
            prior = row.head

        declared = self._declarations(subject.subject_key, page)
        entries = []
        for row in page:
            entry, entry_problems = self._entry(row, pid, names, declared.get(row.ref) if row.kind == 1 else None)
            entries.append(entry)
            problems += entry_problems

        status, custodian = subject.status, subject.custodian
        if chain is None:
            problems.append(Problem("not_on_chain", f"the contract holds no subject {pid.canonical}"))
        else:
            status, custodian = chain.status.label, chain.custodian
            if chain.head != subject.head:
                problems.append(self._locate(pid, subject, chain, block))
            if (subject.status, subject.custodian) != (status, custodian):
                problems.append(
                    Problem(
                        "state_mismatch",
                        f"the index says {subject.status}/{subject.custodian}, the chain {status}/{custodian}; "
                        "serving the chain's",
                    )
                )
        recall = self._recall(subject, chain, status, names, problems)
        if custodian and custodian not in names:
            names.update(self.store.actor_names([custodian]))
        verdict = "verified"
        if problems:
            verdict = "tampered" if any(p.code in _TAMPERING for p in problems) else "incomplete"
        return SubjectTrace(
            product_id=pid.canonical,
            product_key=to_hex(pid.key),
            digital_link_path=pid.digital_link_path,
            open=subject.open,
            status=status,
            originator=subject.originator,
            originator_name=names.get(subject.originator),
            custodian=custodian,
            custodian_name=names.get(custodian) if custodian else None,
            metadata_hash=subject.metadata_hash,
            metadata=metadata,
            created_at=subject.created_at,
            created_tx=subject.created_tx,
            created_block=subject.created_block,
            entries=tuple(entries),
            next_cursor=page[-1].seq if page and page[-1].seq > 0 else None,
            recall=recall,
            verification=Verification(
                verdict=verdict,
                chain_id=self.runtime.chain.chain_id,
                contract=self.client.address,
                block_number=block,
                chain_head=chain.head if chain else None,
                recomputed_head=subject.head,
                entry_count=subject.entry_count,
                problems=tuple(problems),
            ),
        )

    def _declarations(self, subject_key: str, page: list[index.EntryRow]) -> dict[str, ErrorNotice]:
        """Error declarations (anywhere in the chain) of the page's events, by event id."""
        refs = [row.ref for row in page if row.kind == EntryKind.EVENT]
        with self.store.session() as s:
            rows = index.declarations_of(s, subject_key, refs)
            s.expunge_all()
        notices: dict[str, ErrorNotice] = {}
        for row in rows:
            doc = self.store.get_document(row.document_hash)
            declaration = doc.get("errorDeclaration") if isinstance(doc, dict) else None
            declaration = declaration if isinstance(declaration, dict) else {}
            corrective = declaration.get("correctiveEventIDs")
            notices[row.ref] = ErrorNotice(
                index=row.seq,
                declaration_time=declaration.get("declarationTime"),
                reason=declaration.get("reason"),
                corrective_event_ids=tuple(corrective) if isinstance(corrective, list) else (),
            )
        return notices

    def _entry(
        self, row: index.EntryRow, pid: ProductId, names: dict[str, str], declared: ErrorNotice | None = None
    ) -> tuple[TraceEntry, list[Problem]]:
        kind = EntryKind(row.kind).label if row.kind in {k.value for k in EntryKind} else f"kind_{row.kind}"
        problems: list[Problem] = []
        doc = None
        is_event = row.kind in (EntryKind.EVENT, EntryKind.ERROR_DECLARATION)
        if row.document_hash != ZERO_HASH:
            doc = self.store.get_document(row.document_hash)
            what = f"entry #{row.seq}'s document"
            problems = _document_problems(doc, row.document_hash, "document", what)
            if not problems and is_event:
                problems = _event_claim_problems(doc, row, pid)
        problems = [Problem(p.code, p.message, row.seq, row.ref) for p in problems]
        custodian = _custodian_of(row)
        entry = TraceEntry(
            index=row.seq,
            kind=kind,
            ref=row.ref,
            event_hash_id=hash_id_of(row.ref) if is_event else None,
            document_hash=row.document_hash,
            biz_step=biz_step_name(row.code) if is_event and row.code else None,
            biz_step_code=row.code,
            actor=row.actor,
            actor_name=names.get(row.actor),
            timestamp=row.timestamp,
            tx_hash=row.tx_hash,
            block_number=row.block_number,
            head=row.head,
            document=doc,
            document_verified=not problems,
            custodian=custodian,
            custodian_name=names.get(custodian) if custodian else None,
            declared_erroneous=declared,
        )
        return entry, problems

    def _recall(
        self,
        subject: index.SubjectRow,
        chain: SubjectState | None,
        status: str,
        names: dict[str, str],
        problems: list[Problem],
    ) -> Recall | None:
        if status != "recalled":
            return None
        with self.store.session() as s:
            entry = index.recall_entry(s, subject.subject_key)
            s.expunge_all()
        reason_hash = (chain.recall_reason_hash if chain else None) or (entry.document_hash if entry else None)
        if reason_hash is None:
            return None
        notice = self.store.get_document(reason_hash)
        notice_problems = _document_problems(notice, reason_hash, "recall_notice", "the recall notice")
        problems += notice_problems
        by = entry.actor if entry else ""
        if by and by not in names:
            names.update(self.store.actor_names([by]))
        return Recall(
            by=by,
            by_name=names.get(by),
            reason_hash=reason_hash,
            reason=notice,
            reason_verified=not notice_problems,
            timestamp=entry.timestamp if entry else None,
            tx_hash=entry.tx_hash if entry else None,
        )

    def _locate(self, pid: ProductId, subject: index.SubjectRow, chain: SubjectState, block: int) -> Problem:
        """Compare the index with the contract's own logs to name the first entry that differs."""
        start = self.runtime.deployment.contracts[CONTRACT].block
        logs = self.client.entry_logs(pid.key, start, block)
        with self.store.session() as s:
            rows = index.entries_of(s, subject.subject_key)
            s.expunge_all()
        for row, log in zip(rows, logs, strict=False):
            a = log["args"]
            fields = (
                int(a["kind"]),
                to_hex(bytes(a["ref"])),
                to_hex(bytes(a["documentHash"])),
                int(a["code"]),
                to_address(a["actor"]),
            )
            if fields != (row.kind, row.ref, row.document_hash, row.code, row.actor):
                return Problem(
                    "event_altered",
                    f"entry #{row.seq} in the index differs from what the chain recorded",
                    row.seq,
                    row.ref,
                )
        if len(logs) > len(rows):
            missing = ", ".join(f"#{i}" for i in range(len(rows), len(logs)))
            return Problem("event_missing", f"the chain holds {len(logs)} entries; missing: {missing}", len(rows))
        if len(logs) < len(rows):
            return Problem("event_altered", f"the index holds {len(rows)} entries, the chain {len(logs)}")
        return Problem(
            "event_altered", "the recomputed head does not match the chain's (the subject's creation was altered)"
        )


def _genesis(subject: index.SubjectRow) -> str:
    return to_hex(
        genesis_head(parse_bytes32(subject.subject_key), subject.originator, parse_bytes32(subject.metadata_hash))
    )


def _custodian_of(row: index.EntryRow) -> str | None:
    if row.kind in (EntryKind.CUSTODY, EntryKind.FORCED_CUSTODY):
        return to_address("0x" + row.ref[-40:])
    return None


def _document_problems(doc: Any, expected: str, code: str, what: str) -> list[Problem]:
    if doc is None:
        return [Problem(f"{code}_missing", f"{what} ({expected}) is not in the store")]
    if to_hex(document_hash(doc)) != expected:
        return [Problem(f"{code}_altered", f"{what} no longer matches its on-chain hash {expected}")]
    return []


def _event_claim_problems(doc: Any, row: index.EntryRow, pid: ProductId) -> list[Problem]:
    """What an authentic event document contradicts in its on-chain entry: the Event Hash ID, the
    business step, or the subject (a writer talking to the contract directly could commit any)."""
    try:
        prepared = _prepared(canonical_json(doc))
    except errors.InvalidInputError as exc:
        return [Problem("event_invalid", f"entry #{row.seq}'s document is not a valid EPCIS event: {exc.message}")]
    problems = []
    if to_hex(prepared.event_id) != row.ref:
        problems.append(
            Problem(
                "event_id_mismatch",
                f"entry #{row.seq}'s document has Event Hash ID digest "
                f"{to_hex(prepared.event_id)}, the chain records {row.ref}",
            )
        )
    if prepared.biz_step_code != row.code:
        problems.append(
            Problem(
                "biz_step_mismatch",
                f"entry #{row.seq}'s document says {prepared.biz_step}, the chain records {biz_step_name(row.code)}",
            )
        )
    if pid.key not in {s.identifier.key for s in prepared.subjects}:
        problems.append(Problem("product_mismatch", f"entry #{row.seq}'s document does not name {pid.canonical}"))
    return problems


@lru_cache(maxsize=16_384)
def _prepared(canonical: bytes) -> PreparedEvent:
    """Memoised by content: traces recheck the same documents."""
    return prepare_event(json.loads(canonical), schema=False)
