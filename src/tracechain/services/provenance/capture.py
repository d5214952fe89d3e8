"""Provenance writes: create subjects, record EPCIS events (one transaction, or a whole document in as
many transactions as its size needs, resumable), hand over custody, recall. Writes are sent signed by
the actor (directly, or relayed with the operator paying); API writes arrive pre-signed and are checked
against the documents they come with before anything is stored or relayed.

Each event is recorded once: before its transaction is sent the event is reserved in the store
(unique by Event Hash ID), so two captures of the same event cannot both be relayed; a reservation
whose transaction vanished from the chain (a rollback) is released, so the event can be sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from web3.exceptions import TransactionNotFound

from tracechain import errors
from tracechain.chain.provenance import (
    EntryKind,
    EventInput,
    NewSubject,
    ProvenanceRegistryClient,
)
from tracechain.chain.transact import Call, ForwardRequest, Transactor, TxResult, decode_request
from tracechain.epcis import PreparedEvent, ProductId, parse_product_id
from tracechain.hashing import document_hash, keccak_text, parse_bytes32, to_hex
from tracechain.services.provenance.events import (
    Batch,
    chain_input,
    entry_kind,
    is_open,
    plan_batches,
    prepare_epcis_document,
    prepare_events,
    record_key,
)
from tracechain.services.provenance.lineage import LineageReader, edge_rows
from tracechain.services.runtime import Runtime
from tracechain.store import provenance as index
from tracechain.store.lineage import LineageEdgeRow
from tracechain.types import to_address

CONTRACT = "ProvenanceRegistry"
ZERO32 = bytes(32)
# A reservation whose transaction was never sent (its server stopped) is released after this long.
RESERVATION_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class WriteReceipt:
    """A provenance write that landed, with what it committed."""

    tx: TxResult
    product_ids: tuple[str, ...] = ()
    event_hash_ids: tuple[str, ...] = ()
    document_hashes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ImportReport:
    """What a (possibly resumed) import did: one receipt per transaction, and the events it found
    already recorded and skipped."""

    receipts: tuple[WriteReceipt, ...]
    recorded: int
    skipped: int

    @property
    def event_hash_ids(self) -> tuple[str, ...]:
        return tuple(h for r in self.receipts for h in r.event_hash_ids)


Progress = Callable[[int, int], None]  # (events done, events in all)


@dataclass(frozen=True)
class CallToSign:
    """A contract call an actor signs as a forward request, with the gas it needs when known."""

    call: Call
    gas: int | None = None


class ProvenanceService:
    """Provenance over one Runtime. `transactor` decides how direct writes are sent: the runtime's
    relaying transactor (actor signs, operator pays; the default) or its plain one (actor pays)."""

    def __init__(self, runtime: Runtime, transactor: Transactor | None = None) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.client = ProvenanceRegistryClient(runtime.contract(CONTRACT), transactor or runtime.relaying)

    # ---------------------------------------------------------------- direct writes (actor key at hand)
    def register(self, sender: LocalAccount, product_id: str, metadata: dict[str, Any] | None = None) -> WriteReceipt:
        """Create a subject (a product, lot, pallet, ...) with its metadata document (stored off-chain,
        its hash on-chain); `sender` becomes its originator and, unless it is class-level, custodian.

        Raises:
            InvalidInputError: invalid identifier or metadata that is not canonical JSON.
            ContractRevertError: the contract refused (e.g. it exists, `sender` holds no supply-chain role).
        """
        return self.register_many(sender, [(product_id, metadata)])

    def register_many(
        self, sender: LocalAccount, products: Sequence[tuple[str, dict[str, Any] | None]]
    ) -> WriteReceipt:
        """Create many subjects in one transaction (all or none).

        Raises:
            InvalidInputError: none given, an invalid identifier, or the same one twice.
            ContractRevertError: the contract refused (e.g. one exists already).
        """
        subjects, documents = self._new_subjects(products)
        call = self.client.create_call(subjects)
        tx = self._send(sender, call, documents)
        ids = tuple(s.identifier for s in subjects)
        return WriteReceipt(tx, ids, document_hashes=tuple(to_hex(s.metadata_hash) for s in subjects))

    def record_events(self, sender: LocalAccount, documents: Sequence[dict[str, Any]]) -> WriteReceipt:
        """Record EPCIS events in one transaction, each in the chain of every identifier it names
        (identifiers seen for the first time are created, `sender` their originator).

        Raises:
            InvalidInputError: an invalid event, or more than one transaction can hold.
            EventAlreadyRecordedError / EventBeingRecordedError: an event is recorded or being recorded.
            ContractRevertError: the contract refused (e.g. not the custodian).
        """
        prepared = prepare_events(documents)
        batch = self._single_batch(prepared)
        return self._record_batch(sender, batch)

    def import_epcis(
        self, sender: LocalAccount, epcis_doc: dict[str, Any], progress: Progress | None = None
    ) -> ImportReport:
        """Record every event of an EPCISDocument, in as many transactions as its size needs, in
        order. Events already recorded are skipped, so an interrupted import resumes when run again.

        Raises:
            InvalidInputError: not an EPCISDocument, or an invalid event (nothing is sent).
            ContractRevertError: the contract refused a batch (earlier batches stay recorded).
        """
        prepared = self._prepare_document(epcis_doc)
        todo = self._unrecorded(prepared)
        skipped = len(prepared) - len(todo)
        receipts: list[WriteReceipt] = []
        done = skipped
        if progress:
            progress(done, len(prepared))
        for batch in self._plan(todo):
            receipts.append(self._record_batch(sender, batch, sync=False))
            done += len(batch.events)
            if progress:
                progress(done, len(prepared))
        self.runtime.sync()  # read-your-writes, once for the whole import
        return ImportReport(tuple(receipts), len(todo), skipped)

    def transfer(self, sender: LocalAccount, product_id: str, to: str, *, with_contents: bool = True) -> WriteReceipt:
        """Hand custody of a subject to another supply-chain actor — with what is packed inside it
        (that `sender` holds), so whoever receives a pallet may also unpack it.

        Raises:
            ProductNotFoundError: unknown subject.
            ContractRevertError: not the custodian, a class-level subject, or the recipient may not hold goods.
        """
        pid = self._require_known(parse_product_id(product_id))
        keys = [pid.key, *(self._held_contents(pid, sender.address) if with_contents else [])]
        tx = self._send(sender, self.client.transfer_call(keys, to_address(to)), [])
        with self.store.session() as s:
            moved = [row.identifier for row in index.known_subjects(s, [to_hex(k) for k in keys[1:]]).values()]
        return WriteReceipt(tx, (pid.canonical, *moved))

    def force_custody(self, sender: LocalAccount, product_id: str, to: str, reason: dict[str, Any]) -> WriteReceipt:
        """Governance moves custody of a subject whose custodian cannot act (suspended, key lost);
        `reason` (a document) is stored, its hash goes on-chain.

        Raises:
            ProductNotFoundError: unknown subject.
            ContractRevertError: `sender` is not governance, or the recipient may not hold goods.
        """
        pid = self._require_known(parse_product_id(product_id))
        reason_hash = self._document_hash(reason, "reason")
        call = self.client.contract.functions.forceCustody(pid.key, to_address(to), reason_hash)
        tx = self._send(sender, call, [reason])
        return WriteReceipt(tx, (pid.canonical,), document_hashes=(to_hex(reason_hash),))

    def recall(self, sender: LocalAccount, product_id: str, notice: dict[str, Any]) -> WriteReceipt:
        """Recall a subject; `notice` (the recall notice document) is stored, its hash goes on-chain.

        Raises:
            ProductNotFoundError: unknown subject.
            ContractRevertError: not its originator or governance, or already recalled.
        """
        pid = self._require_known(parse_product_id(product_id))
        reason = self._document_hash(notice, "recall notice")
        tx = self._send(sender, self.client.recall_call(pid.key, reason), [notice])
        return WriteReceipt(tx, (pid.canonical,), document_hashes=(to_hex(reason),))

    # ---------------------------------------------------------------- calls to sign (for clients)
    def register_call(self, product_id: str, metadata: dict[str, Any] | None = None) -> CallToSign:
        """The createSubjects call an actor signs for `product_id` and `metadata`."""
        subjects, _ = self._new_subjects([(product_id, metadata)])
        return CallToSign(self.client.create_call(subjects))

    def events_call(self, documents: Sequence[dict[str, Any]]) -> CallToSign:
        """The recordEvent(s) call an actor signs to record `documents` in one transaction."""
        batch = self._single_batch(prepare_events(documents), check_recorded=False)
        return CallToSign(self.client.record_call(batch.chain_inputs(), batch.create), batch.gas)

    def epcis_calls(self, epcis_doc: dict[str, Any]) -> list[CallToSign]:
        """The recordEvents calls, in order, an actor signs to import the unrecorded events of an
        EPCISDocument (one per transaction)."""
        batches = self._plan(self._unrecorded(self._prepare_document(epcis_doc)))
        if not batches:
            raise errors.EventAlreadyRecordedError("every event of the document is recorded already")
        return [CallToSign(self.client.record_call(b.chain_inputs(), b.create), b.gas) for b in batches]

    def transfer_call(self, product_id: str, to: str, holder: str | None = None) -> CallToSign:
        """The transferCustody call for `product_id` — with what is packed inside it that `holder`
        holds, as `transfer` does."""
        pid = self._require_known(parse_product_id(product_id))
        contents = self._held_contents(pid, to_address(holder)) if holder else []
        return CallToSign(self.client.transfer_call([pid.key, *contents], to_address(to)))

    def force_custody_call(self, product_id: str, to: str, reason: dict[str, Any]) -> CallToSign:
        """The forceCustody call governance signs to move `product_id` to `to` for `reason`."""
        pid = self._require_known(parse_product_id(product_id))
        reason_hash = self._document_hash(reason, "reason")
        return CallToSign(self.client.contract.functions.forceCustody(pid.key, to_address(to), reason_hash))

    def recall_call(self, product_id: str, notice: dict[str, Any]) -> CallToSign:
        reason = self._document_hash(notice, "recall notice")
        return CallToSign(self.client.recall_call(parse_product_id(product_id).key, reason))

    def unsigned_requests(self, sender: str, calls: Sequence[CallToSign], ttl: int = 3600) -> list[ForwardRequest]:
        """The forward requests `sender` signs for `calls`, with consecutive nonces. The first is
        checked against the chain now (a refusal raises); later ones depend on the earlier being mined.

        Raises:
            ContractRevertError: the contract would refuse the first call from `sender`.
        """
        transactor = self.runtime.transactor
        sender = to_address(sender)
        try:  # every provenance write needs an actor in good standing: said first, whatever else fails
            self.runtime.actors.contract.functions.requireActor(sender).call()
        except Exception as exc:
            raise transactor.translate(exc) from exc
        first = calls[0]
        if first.gas is not None:
            transactor.simulate(sender, first.call, gas=first.gas)
        head = transactor.build_request(sender, first.call, ttl=ttl, gas=first.gas)
        requests = [head]
        for i, later in enumerate(calls[1:], start=1):
            gas = later.gas if later.gas is not None else head.gas
            data = later.call._encode_transaction_data()
            requests.append(ForwardRequest(sender, later.call.address, 0, gas, head.nonce + i, head.deadline, data))
        return requests

    # ---------------------------------------------------------------- relayed writes (pre-signed requests)
    def relay_register(self, request: ForwardRequest, product_id: str, metadata: dict[str, Any] | None) -> WriteReceipt:
        """Relay a signed `createSubjects` after checking it creates `product_id` with `metadata`.

        Raises:
            RequestMismatchError: the request is for another subject, metadata or function.
            SignatureError: bad signature, used nonce or expired request.
        """
        self.runtime.transactor.check_signature(request)  # before hashing what it carries
        (expected,), documents = self._new_subjects([(product_id, metadata)])
        args = self._decode(request, "createSubjects")
        signed = [_new_subject(s) for s in args["subjects"]]
        if signed != [expected]:
            raise errors.RequestMismatchError(
                f"the signed request creates {[s.identifier for s in signed]}, not {expected.identifier!r} "
                "with the metadata sent",
                hint="sign createSubjects([(canonical identifier, metadata hash, open)])",
            )
        tx = self._relay(request, documents)
        return WriteReceipt(tx, (expected.identifier,), document_hashes=(to_hex(expected.metadata_hash),))

    def relay_events(
        self, request: ForwardRequest, documents: Sequence[dict[str, Any]], product_id: str | None = None
    ) -> WriteReceipt:
        """Relay a signed `recordEvent(s)` after checking it records exactly `documents` (and, with
        `product_id`, that every event names that subject).

        Raises:
            RequestMismatchError: the signed records differ from the documents, or in order.
            EventAlreadyRecordedError / EventBeingRecordedError: an event is recorded or being recorded.
        """
        self.runtime.transactor.check_signature(request)  # before any work on what it carries
        prepared = prepare_events(documents)
        if product_id is not None:
            pid = parse_product_id(product_id)
            strays = [p.event_hash_id for p in prepared if pid.key not in {s.identifier.key for s in p.subjects}]
            if strays:
                raise errors.RequestMismatchError(
                    f"events posted for {pid.canonical} do not name it: {', '.join(strays)}",
                    hint="post events about several identifiers to /v1/epcis/capture",
                )
        return self._relay_events(request, prepared)

    def relay_epcis(self, requests: Sequence[ForwardRequest], epcis_doc: dict[str, Any]) -> ImportReport:
        """Relay the signed `recordEvents` requests of an EPCISDocument import, in order, after
        checking that together they record exactly its unrecorded events.

        Raises:
            RequestMismatchError: the requests do not cover the document's events in order.
        """
        if not requests:
            raise errors.InvalidInputError("no signed requests")
        self.runtime.transactor.check_signature(requests[0])  # before any work on the document
        prepared = self._unrecorded(self._prepare_document(epcis_doc))
        batches: list[list[PreparedEvent]] = []
        position = 0
        for request in requests:
            _, events = self._decode_events(request)
            batches.append(prepared[position : position + len(events)])
            position += len(events)
        if position != len(prepared):
            raise errors.RequestMismatchError(
                f"the signed requests record {position} events; the document has {len(prepared)} not yet recorded",
                hint="prepare the requests again with POST /v1/provenance/requests (action epcis)",
            )
        receipts = [
            self._relay_events(request, batch, sync=False) for request, batch in zip(requests, batches, strict=True)
        ]
        self.runtime.sync()  # read-your-writes, once for the whole import
        return ImportReport(tuple(receipts), len(prepared), 0)

    def relay_transfer(self, request: ForwardRequest, product_id: str) -> WriteReceipt:
        """Relay a signed `transferCustody` of `product_id` (first), with any of its contents after it."""
        pid = self._require_known(parse_product_id(product_id))
        keys = [bytes(k) for k in self._decode(request, "transferCustody")["subjectKeys"]]
        if not keys or keys[0] != pid.key:
            raise errors.RequestMismatchError(f"the signed request hands over other subjects than {pid.canonical}")
        with self.store.session() as s:
            known = index.known_subjects(s, [to_hex(k) for k in keys[1:]])
        if len(known) != len(set(keys[1:])):
            raise errors.RequestMismatchError("the signed request hands over subjects this service does not know")
        moved = tuple(known[to_hex(k)].identifier for k in keys[1:])
        return WriteReceipt(self._relay(request, []), (pid.canonical, *moved))

    def relay_force_custody(self, request: ForwardRequest, product_id: str, reason: dict[str, Any]) -> WriteReceipt:
        """Relay governance's signed `forceCustody` of `product_id` whose reason hash is the hash of `reason`."""
        pid = self._require_known(parse_product_id(product_id))
        args = self._decode(request, "forceCustody")
        if bytes(args["subjectKey"]) != pid.key:
            raise errors.RequestMismatchError(f"the signed request moves another subject than {pid.canonical}")
        reason_hash = self._document_hash(reason, "reason")
        if bytes(args["reasonHash"]) != reason_hash:
            raise errors.RequestMismatchError("the signed reason hash is not the hash of the reason sent")
        return WriteReceipt(self._relay(request, [reason]), (pid.canonical,), document_hashes=(to_hex(reason_hash),))

    def relay_recall(self, request: ForwardRequest, product_id: str, notice: dict[str, Any]) -> WriteReceipt:
        """Relay a signed `recall` of `product_id` whose reason hash is the hash of `notice`."""
        pid = self._require_known(parse_product_id(product_id))
        args = self._decode(request, "recall")
        if bytes(args["subjectKey"]) != pid.key:
            raise errors.RequestMismatchError(f"the signed request recalls another subject than {pid.canonical}")
        reason = self._document_hash(notice, "recall notice")
        if bytes(args["reasonHash"]) != reason:
            raise errors.RequestMismatchError("the signed reason hash is not the hash of the recall notice sent")
        return WriteReceipt(self._relay(request, [notice]), (pid.canonical,), document_hashes=(to_hex(reason),))

    # ---------------------------------------------------------------- internals: events
    def _prepare_document(self, epcis_doc: dict[str, Any]) -> list[PreparedEvent]:
        """The document's events, prepared, after the cheap check of its size."""
        body = epcis_doc.get("epcisBody") if isinstance(epcis_doc, dict) else None
        events = body.get("eventList") if isinstance(body, dict) else None
        limit = self.runtime.settings.max_events_per_capture
        if isinstance(events, list) and len(events) > limit:
            raise errors.InvalidInputError(
                f"the document holds {len(events)} events; one capture takes at most {limit}",
                hint="split it, or raise TRACECHAIN_MAX_EVENTS_PER_CAPTURE",
            )
        return prepare_epcis_document(epcis_doc)

    def _single_batch(self, prepared: list[PreparedEvent], *, check_recorded: bool = True) -> Batch:
        if check_recorded:
            unrecorded = {record_key(p) for p in self._unrecorded(prepared)}
            first = next((p for p in prepared if record_key(p) not in unrecorded), None)
            if first is not None:
                raise errors.EventAlreadyRecordedError(f"event {first.event_hash_id} is already recorded")
        self._refuse_repeats(prepared)
        batches = self._plan(prepared)
        if len(batches) != 1:
            raise errors.InvalidInputError(
                f"{len(prepared)} events do not fit in one transaction",
                hint="import them as an EPCIS document (tracechain product import-epcis, POST /v1/epcis/capture)",
            )
        return batches[0]

    def _plan(self, prepared: list[PreparedEvent]) -> list[Batch]:
        self._refuse_repeats(prepared)
        self.runtime.sync()
        keys = list({to_hex(s.identifier.key) for p in prepared for s in p.subjects})
        with self.store.session() as s:
            existing = {parse_bytes32(k) for k in index.known_subjects(s, keys)}
        # and those created in blocks the index waits to confirm (none on a dev chain, it follows the head)
        existing |= {
            bytes(log.args["subjectKey"]) for log in self.runtime.indexer.unconfirmed(index.CONTRACT, "SubjectCreated")
        }
        return plan_batches(prepared, existing, gas_cap=self._gas_cap())

    def _gas_cap(self) -> int:
        limit = int(self.runtime.chain.w3.eth.get_block("latest")["gasLimit"])
        return min(limit, 2**24)

    @staticmethod
    def _refuse_repeats(prepared: list[PreparedEvent]) -> None:
        seen: dict[str, int] = {}
        for i, p in enumerate(prepared):
            if record_key(p) in seen:
                raise errors.EventAlreadyRecordedError(
                    f"event {p.event_hash_id} appears twice (events {seen[record_key(p)]} and {i})"
                )
            seen[record_key(p)] = i

    def _unrecorded(self, prepared: list[PreparedEvent]) -> list[PreparedEvent]:
        """The events of a document the index does not hold as recorded, in order, each once: a
        document may repeat an event (GS1's own examples carry one twice, differing only in fields
        its `ignoreFields` leaves out of the Event Hash ID), and the first is the one recorded."""
        self.runtime.sync()
        ids = [to_hex(p.event_id) for p in prepared if entry_kind(p) == EntryKind.EVENT]
        with self.store.session() as s:
            recorded = index.recorded_events(s, ids)
        todo: dict[str, PreparedEvent] = {}
        for p in prepared:
            if entry_kind(p) != EntryKind.EVENT or to_hex(p.event_id) not in recorded:
                todo.setdefault(record_key(p), p)
        return list(todo.values())

    def _record_batch(self, sender: LocalAccount, batch: Batch, *, sync: bool = True) -> WriteReceipt:
        call = self.client.record_call(batch.chain_inputs(), batch.create)
        with self._reserved(batch.events) as sent:
            tx = self.client.tx.send(
                sender, call, gas=batch.gas, before_send=lambda: self._keep_events(batch.events), on_sent=sent
            )
        if sync:
            self.runtime.sync()  # read-your-writes: the index holds the batch before we answer
        return self._receipt(tx, batch.events)

    def _relay_events(
        self, request: ForwardRequest, prepared: list[PreparedEvent], *, sync: bool = True
    ) -> WriteReceipt:
        if not prepared:
            raise errors.InvalidInputError("no events to record")
        create, signed = self._decode_events(request)
        expected = [chain_input(p) for p in prepared]
        if signed != expected:
            raise errors.RequestMismatchError(
                f"the signed request records {len(signed)} event(s) that differ from the {len(expected)} "
                "the documents give",
                hint="sign, per event in order: kind, bizStep code, event-hash digest, document hash and the "
                "keys of every identifier it names (POST /v1/provenance/requests builds it)",
            )
        named = {s.identifier.key: s for p in prepared for s in p.subjects}
        for subject in create:
            want = named.get(parse_bytes32(_key_of(subject.identifier)))
            if want is None or want.identifier.canonical != subject.identifier or is_open(want) != subject.open:
                raise errors.RequestMismatchError(
                    f"the signed request creates {subject.identifier!r}, which the events do not name "
                    "(as that identifier, open or held)"
                )
        with self._reserved(prepared) as sent:
            tx = self._relay(request, [], keep=lambda: self._keep_events(prepared), on_sent=sent, sync=sync)
        return self._receipt(tx, prepared)

    def _decode_events(self, request: ForwardRequest) -> tuple[list[NewSubject], list[EventInput]]:
        name, args = decode_request(self.client.contract, request, ("recordEvent", "recordEvents"))
        if name == "recordEvent":
            single = EventInput(args["eventId"], args["documentHash"], int(args["bizStep"]), (args["subjectKey"],))
            return [], [single]
        return [_new_subject(s) for s in args["create"]], [_event_input(e) for e in args["events"]]

    def _keep_events(self, prepared: Sequence[PreparedEvent]) -> None:
        """Store each event document and the facts queries and lineage read (one transaction each,
        bulk inserts)."""
        now = datetime.now(UTC)
        digests = [to_hex(p.document_hash) for p in prepared]
        self.store.put_documents([p.document for p in prepared], digests)
        facts: list[dict[str, Any]] = []
        subjects: list[dict[str, Any]] = []
        edges: list[dict[str, Any]] = []
        with self.store.session() as s:
            known = index.known_facts(s, digests)
            for p, digest in zip(prepared, digests, strict=True):
                if digest in known:
                    continue
                known.add(digest)
                facts.append(_facts(p, digest, now))
                subjects += (
                    {
                        "document_hash": digest,
                        "subject_key": to_hex(subject.identifier.key),
                        "identifier": subject.identifier.canonical,
                        "role": str(role),
                    }
                    for subject in p.subjects
                    for role in subject.roles
                )
                edges += edge_rows(p, digest)
            for table, rows in (
                (index.EventFactsRow, facts),
                (index.EventSubjectRow, subjects),
                (LineageEdgeRow, edges),
            ):
                if rows:
                    s.execute(insert(table), rows)

    @contextmanager
    def _reserved(self, prepared: Sequence[PreparedEvent]) -> Iterator[Callable[[str], None]]:
        """Reserve the events (atomically, unique by record key) for the block; released if it fails,
        kept with the transaction hash once sent."""
        keys = [record_key(p) for p in prepared]
        now = datetime.now(UTC)
        try:
            with self.store.session() as s:
                for key, row in index.reservations(s, keys).items():
                    if not self._stale(row, now):
                        raise errors.EventBeingRecordedError(
                            f"event {_event_of(prepared, key)} is being recorded by another request",
                            hint="retry in a moment: it is recorded once that request's transaction is mined",
                        )
                    s.delete(row)
                s.flush()
                s.execute(
                    insert(index.ReservationRow),
                    [
                        {"event_id": k, "document_hash": to_hex(p.document_hash), "reserved_at": now}
                        for k, p in zip(keys, prepared, strict=True)
                    ],
                )
        except DatabaseIntegrityError:
            raise errors.EventBeingRecordedError(
                "an event of this write is being recorded by another request", hint="retry in a moment"
            ) from None

        def sent(tx_hash: str) -> None:
            with self.store.session() as s:
                s.execute(
                    update(index.ReservationRow).where(index.ReservationRow.event_id.in_(keys)).values(tx_hash=tx_hash)
                )

        try:
            yield sent
        except BaseException:
            with self.store.session() as s:
                s.execute(
                    delete(index.ReservationRow).where(
                        index.ReservationRow.event_id.in_(keys), index.ReservationRow.tx_hash.is_(None)
                    )
                )
            raise

    def _stale(self, row: index.ReservationRow, now: datetime) -> bool:
        """A reservation no longer holds when the node knows nothing of its transaction (rolled back
        or dropped) or it failed, or when it was never sent and is older than RESERVATION_TTL. It
        holds while its transaction is pending; once it is mined the event is recorded (the index
        may not have it yet). A node that does not answer leaves it holding (raises unavailable)."""
        if row.tx_hash is None:
            reserved = row.reserved_at if row.reserved_at.tzinfo else row.reserved_at.replace(tzinfo=UTC)
            return now - reserved > RESERVATION_TTL
        eth = self.runtime.chain.w3.eth
        try:
            try:
                receipt = eth.get_transaction_receipt(row.tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                try:
                    eth.get_transaction(row.tx_hash)  # type: ignore[arg-type]
                except TransactionNotFound:
                    return True  # dropped, or forgotten by a node that rolled back
                return False  # pending: it may still be mined
        except Exception as exc:
            raise errors.ChainUnavailableError(f"{self.runtime.chain.label()} did not answer: {exc}") from exc
        if int(receipt["status"]) != 1:
            return True
        raise errors.EventAlreadyRecordedError(f"event {row.event_id} is already recorded (transaction {row.tx_hash})")

    def _receipt(self, tx: TxResult, prepared: Sequence[PreparedEvent]) -> WriteReceipt:
        ids = tuple(dict.fromkeys(s.identifier.canonical for p in prepared for s in p.subjects))
        return WriteReceipt(
            tx, ids, tuple(p.event_hash_id for p in prepared), tuple(to_hex(p.document_hash) for p in prepared)
        )

    # ---------------------------------------------------------------- internals: sending
    def _send(self, sender: LocalAccount, call: Call, documents: Sequence[Any]) -> TxResult:
        """Send the call; its documents are stored once it passed every check: a refused write stores nothing."""
        tx = self.client.tx.send(sender, call, before_send=lambda: self._keep(documents))
        self.runtime.sync()
        return tx

    def _relay(
        self,
        request: ForwardRequest,
        documents: Sequence[Any],
        keep: Callable[[], None] | None = None,
        on_sent: Callable[[str], None] | None = None,
        sync: bool = True,
    ) -> TxResult:
        """Relay the signed request paid by the operator; its documents are stored once it passed every
        check (signature, nonce, deadline, the call itself). With `sync`, the index holds it on return."""

        def before_send() -> None:
            self._keep(documents)
            if keep is not None:
                keep()

        tx = self.runtime.transactor.relay(request, self.runtime.operator, before_send=before_send, on_sent=on_sent)
        if sync:
            self.runtime.sync()
        return tx

    def _keep(self, documents: Sequence[Any]) -> None:
        self.store.put_documents([doc for doc in documents if doc is not None])

    def _decode(self, request: ForwardRequest, function: str) -> dict[str, Any]:
        return decode_request(self.client.contract, request, (function,))[1]

    def _new_subjects(
        self, products: Sequence[tuple[str, dict[str, Any] | None]]
    ) -> tuple[list[NewSubject], list[dict[str, Any]]]:
        if not products:
            raise errors.InvalidInputError("no identifiers to register")
        subjects: list[NewSubject] = []
        documents: list[dict[str, Any]] = []
        for product_id, metadata in products:
            pid = parse_product_id(product_id)
            meta_hash = ZERO32
            if metadata is not None:
                meta_hash = self._document_hash(metadata, "metadata")
                documents.append(metadata)
            subjects.append(NewSubject(pid.canonical, meta_hash, not pid.instance_level))
        if len({s.identifier for s in subjects}) != len(subjects):
            raise errors.InvalidInputError("the same identifier is listed twice")
        return subjects, documents

    def _held_contents(self, pid: ProductId, holder: str) -> list[bytes]:
        """What is packed inside `pid` now and held by `holder` (the custodial ones)."""
        self.runtime.sync()
        inside = LineageReader(self.runtime).current_contents(to_hex(pid.key))
        with self.store.session() as s:
            rows = index.known_subjects(s, inside)
        return [parse_bytes32(k) for k in inside if k in rows and rows[k].custodian == holder]

    def _require_known(self, pid: ProductId) -> ProductId:
        if self.client.get_subject(pid.key) is None:
            raise errors.ProductNotFoundError(f"no product or other subject {pid.canonical} is registered")
        return pid

    @staticmethod
    def _document_hash(doc: Any, what: str) -> bytes:
        if not isinstance(doc, dict) or not doc:
            raise errors.InvalidInputError(f"the {what} must be a non-empty JSON object")
        return document_hash(doc)


def _facts(p: PreparedEvent, digest: str, now: datetime) -> dict[str, Any]:
    """The epcis_events row of a captured event."""
    doc = p.document
    return {
        "document_hash": digest,
        "event_id": to_hex(p.event_id),
        "event_type": p.event_type,
        "action": p.action,
        "biz_step": p.biz_step,
        "disposition": p.disposition,
        "read_point": (doc.get("readPoint") or {}).get("id"),
        "biz_location": (doc.get("bizLocation") or {}).get("id"),
        "event_time_ms": int(p.event_time.timestamp() * 1000),
        "event_time_offset": p.event_time_zone_offset,
        "error_declaration": p.is_error_declaration,
        "captured_at": now,
    }


def _key_of(identifier: str) -> str:
    return to_hex(keccak_text(identifier))


def _event_of(prepared: Sequence[PreparedEvent], key: str) -> str:
    return next((p.event_hash_id for p in prepared if record_key(p) == key), key)


def _new_subject(decoded: dict[str, Any]) -> NewSubject:
    """A NewSubject from web3's decoding of the struct."""
    return NewSubject(str(decoded["identifier"]), bytes(decoded["metadataHash"]), bool(decoded["open"]))


def _event_input(decoded: dict[str, Any]) -> EventInput:
    """An EventInput from web3's decoding of the struct.

    Raises:
        RequestMismatchError: the entry kind is not an event's.
    """
    kind = int(decoded["kind"])
    if kind not in (EntryKind.EVENT, EntryKind.ERROR_DECLARATION):
        raise errors.RequestMismatchError(f"the signed request records entry kind {kind}, not an event")
    subjects = tuple(bytes(k) for k in decoded["subjects"])
    return EventInput(decoded["eventId"], decoded["documentHash"], int(decoded["bizStep"]), subjects, EntryKind(kind))
