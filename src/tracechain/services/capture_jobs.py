"""EPCIS capture jobs (GS1's REST bindings, the capture side), where the server holds no actor's key.

A capture names its signer. The job validates the whole document first (GS1's schema, then EPCIS 2.0:
a document that breaks either is refused before anything is stored or sent), splits its events not yet
recorded into transactions that fit the chain's gas cap, and answers with one ERC-2771 forward request
per transaction - EIP-712 typed data, consecutive forwarder nonces of the signer - the first checked
against the chain. The signer signs them all and posts the signatures; the job then relays the requests
in order (the operator pays the gas). A client that prepared and signed the requests itself posts them
with the document instead, and the job relays at once.

Relaying is resumable and exactly-once per event: each request is checked before it is sent - a request
whose nonce the chain consumed and whose events it holds is done (a worker stopped after sending it);
events someone else recorded meanwhile are not sent again. A retryable failure (the node or the store
did not answer, another capture is recording one of its events) leaves the job relaying for the next
worker; any other failure ends it with the error and the JSON pointer of the offending event. Earlier
transactions stay recorded (the chain has no rollback): capturing the document again signs only the rest.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy.exc import OperationalError

from tracechain import errors
from tracechain.chain.provenance import EntryKind
from tracechain.chain.transact import ForwardRequest
from tracechain.epcis import PreparedEvent, prepare_document
from tracechain.epcis.vocabulary import EVENT_TYPES
from tracechain.hashing import to_hex
from tracechain.services.provenance.capture import CallToSign, ProvenanceService, WriteReceipt
from tracechain.services.provenance.events import Batch, chain_input, entry_kind, record_key
from tracechain.services.runtime import Runtime
from tracechain.store import capture_jobs as jobs_store
from tracechain.store import epcis_query as query_store
from tracechain.store import provenance as index
from tracechain.types import to_address

log = logging.getLogger("tracechain.capture_jobs")
LEASE_TTL_MS = 5 * 60 * 1000  # a worker renews it after every transaction; a dead worker's job waits this long
DEFAULT_REQUEST_TTL = 3600
# Failures a later attempt may not meet: the job stays relaying. (TraceChain's own errors are told apart
# first: a PermissionDeniedError is an OSError too, and is final.)
RETRYABLE_ERRORS: tuple[type[errors.TraceChainError], ...] = (errors.UnavailableError, errors.EventBeingRecordedError)
RETRYABLE_FAILURES: tuple[type[BaseException], ...] = (OSError, TimeoutError, OperationalError)


class JobStatus(StrEnum):
    AWAITING_SIGNATURES = "awaiting_signatures"
    RELAYING = "relaying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ErrorBehaviour(StrEnum):
    """GS1-Capture-Error-Behaviour. `proceed`: transactions recorded before a failure stay recorded;
    `rollback`: all or nothing, which only one transaction can promise on a chain."""

    PROCEED = "proceed"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class CaptureProblem:
    """Why a job failed: the error (its class name and code), and the offending event."""

    exception: str  # the TraceChainError subclass, e.g. ProvenanceRegistryNotCustodian
    code: str
    message: str
    pointer: str  # JSON pointer into the captured document ("" for a single event)
    event_index: int | None


@dataclass(frozen=True)
class JobRequest:
    """One transaction of a job."""

    position: int
    events: tuple[int, ...]  # positions of its events in the document's event list
    request: ForwardRequest
    status: str  # unsigned | signed | recorded | skipped | failed
    tx_hash: str | None
    block_number: int | None


@dataclass(frozen=True)
class CaptureJob:
    capture_id: str
    kind: str  # "document" | "event"
    status: JobStatus
    signer: str
    error_behaviour: ErrorBehaviour
    created_ms: int
    finished_ms: int | None
    events_total: int
    events_skipped: int
    events_recorded: int
    errors: tuple[CaptureProblem, ...]
    note: str | None
    requests: tuple[JobRequest, ...]
    chain_id: int
    forwarder: str

    @property
    def running(self) -> bool:
        return self.status in (JobStatus.AWAITING_SIGNATURES, JobStatus.RELAYING)

    @property
    def success(self) -> bool:
        return not self.errors

    def typed_data(self, request: JobRequest) -> dict[str, Any]:
        """The EIP-712 message the signer signs for `request`."""
        return request.request.typed_data(self.chain_id, self.forwarder)


class _Capture(ProvenanceService):
    """The provenance service with the steps of a capture job in the open."""

    def unrecorded(self, prepared: list[PreparedEvent]) -> list[PreparedEvent]:
        return self._unrecorded(prepared)

    def plan(self, prepared: list[PreparedEvent]) -> list[Batch]:
        return self._plan(prepared)

    def signed_events(self, request: ForwardRequest) -> int:
        """How many events a signed recordEvent(s) request records (RequestMismatchError if none)."""
        return len(self._decode_events(request)[1])

    def check_matches(self, request: ForwardRequest, prepared: list[PreparedEvent]) -> None:
        """The request records exactly `prepared`, in order."""
        _, signed = self._decode_events(request)
        if signed != [chain_input(p) for p in prepared]:
            raise errors.RequestMismatchError(
                f"the signed request records {len(signed)} event(s) that differ from the document's",
                hint="sign the requests a capture job prepares (POST /epcis/capture with TraceChain-Signer)",
            )

    def relay_batch(self, request: ForwardRequest, prepared: list[PreparedEvent]) -> WriteReceipt:
        return self._relay_events(request, prepared)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _pointer_prefix(document: Any) -> str | None:
    """The JSON pointer of the document's event list (None for a single event)."""
    if isinstance(document, dict) and document.get("type") == "EPCISQueryDocument":
        return "/epcisBody/queryResults/resultsBody/eventList"
    if isinstance(document, dict) and document.get("type") in EVENT_TYPES:
        return None
    return "/epcisBody/eventList"


def recover_signer(typed_data: dict[str, Any], signature: str) -> str | None:
    """The account whose EIP-712 signature of `typed_data` `signature` is (None if malformed)."""
    try:
        signed = bytes.fromhex(signature.removeprefix("0x"))
        return to_address(Account.recover_message(encode_typed_data(full_message=typed_data), signature=signed))
    except Exception:  # malformed hex, length or curve point: not a signature of anyone
        return None


class CaptureJobs:
    """Capture jobs over one Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.store

    # ---------------------------------------------------------------- create
    def create(
        self,
        document: dict[str, Any],
        *,
        signer: str,
        kind: str = "document",
        request_ttl: int = DEFAULT_REQUEST_TTL,
        error_behaviour: ErrorBehaviour = ErrorBehaviour.PROCEED,
    ) -> CaptureJob:
        """A job for the events of `document` not yet recorded, with the unsigned forward requests
        `signer` signs (the first one checked against the chain now). A document whose events are all
        recorded already makes a job that succeeded at once.

        Raises:
            CaptureLimitExceededError: more events than one capture takes.
            EpcisSchemaError / EpcisDocumentError: the document breaks GS1's schema or EPCIS 2.0.
            EventAlreadyRecordedError: the same event twice in the document.
            EpcisNotImplementedError: `rollback` asked for a document that needs several transactions.
            ContractRevertError: the contract would refuse the first transaction from `signer`.
        """
        signer = to_address(signer)
        prepared = self._prepare(document, kind)
        service = _Capture(self.runtime)
        todo = service.unrecorded(prepared)
        batches = service.plan(todo)
        self._check_behaviour(error_behaviour, batches)
        requests: list[ForwardRequest] = []
        if batches:
            calls = [CallToSign(service.client.record_call(b.chain_inputs(), b.create), b.gas) for b in batches]
            requests = service.unsigned_requests(signer, calls, request_ttl)
        status = JobStatus.AWAITING_SIGNATURES if batches else JobStatus.SUCCEEDED
        return self._save(document, kind, signer, error_behaviour, status, prepared, todo, batches, requests)

    def create_signed(
        self,
        document: dict[str, Any],
        requests: Sequence[ForwardRequest],
        *,
        kind: str = "document",
        error_behaviour: ErrorBehaviour = ErrorBehaviour.PROCEED,
    ) -> CaptureJob:
        """A job for `document` with the requests its signer signed already (one per transaction, in
        order, together recording exactly its events not yet recorded); relaying is left to `run`.

        Raises:
            SignatureError: the first request's signature, nonce or deadline fails; a later one is not
                signed by the same signer.
            RequestMismatchError: the requests do not record the document's unrecorded events in order.
            (and what `create` raises for the document)
        """
        if not requests:
            raise errors.InvalidInputError("no signed requests")
        signer = to_address(requests[0].sender)
        self.runtime.transactor.check_signature(requests[0])  # before any work on the document
        prepared = self._prepare(document, kind)
        service = _Capture(self.runtime)
        todo = service.unrecorded(prepared)
        service.plan(todo)  # refuses repeated events
        position = 0
        slices: list[list[PreparedEvent]] = []
        for request in requests:
            count = service.signed_events(request)
            slices.append(todo[position : position + count])
            position += count
        if position != len(todo):
            raise errors.RequestMismatchError(
                f"the signed requests record {position} events; the document has {len(todo)} not yet recorded",
                hint="prepare the requests again (POST /epcis/capture with TraceChain-Signer)",
            )
        forwarder = self.runtime.deployment.address("TraceChainForwarder")
        chain_id = self.runtime.chain.chain_id
        for i, (request, events) in enumerate(zip(requests, slices, strict=True)):
            if (
                to_address(request.sender) != signer
                or recover_signer(request.typed_data(chain_id, forwarder), request.signature) != signer
            ):
                raise errors.SignatureError(f"request {i} is not signed by {signer}, the signer of request 0")
            service.check_matches(request, events)
        self._check_behaviour(error_behaviour, slices)
        batches = [Batch(events=events) for events in slices]
        return self._save(
            document, kind, signer, error_behaviour, JobStatus.RELAYING, prepared, todo, batches, list(requests)
        )

    def add_signatures(self, capture_id: str, signatures: Sequence[str]) -> CaptureJob:
        """The signer's signatures of the job's requests, in order: checked against the signer, kept,
        and the job set to relaying (`run` relays it).

        Raises:
            CaptureJobNotFoundError: no such job.
            CaptureJobStateError: the job is not waiting for signatures.
            InvalidInputError: not one signature per request.
            SignatureError: a signature is not the signer's signature of its request.
        """
        job = self.get(capture_id)
        if job.status != JobStatus.AWAITING_SIGNATURES:
            raise errors.CaptureJobStateError(f"capture job {capture_id} is {job.status}, not awaiting signatures")
        if len(signatures) != len(job.requests):
            raise errors.InvalidInputError(
                f"the job has {len(job.requests)} request(s) to sign; {len(signatures)} signature(s) were sent",
                hint="sign every request's typedData, in order",
            )
        for request, signature in zip(job.requests, signatures, strict=True):
            if recover_signer(job.typed_data(request), signature) != job.signer:
                raise errors.SignatureError(
                    f"signature {request.position} is not {job.signer}'s signature of request {request.position}",
                    hint="sign the request's typedData with EIP-712 (eth_signTypedData_v4)",
                )
        with self.store.session() as s:
            row = s.get(jobs_store.CaptureJobRow, capture_id)
            assert row is not None
            if row.status != JobStatus.AWAITING_SIGNATURES:  # another request signed it meanwhile
                raise errors.CaptureJobStateError(f"capture job {capture_id} is {row.status}, not awaiting signatures")
            for request_row, signature in zip(jobs_store.requests_of(s, capture_id), signatures, strict=True):
                request_row.signature = "0x" + signature.removeprefix("0x").lower()
                request_row.status = "signed"
            row.status = JobStatus.RELAYING
        return self.get(capture_id)

    def record_event(self, event: dict[str, Any], request: ForwardRequest) -> str:
        """Record one event at once with the request its actor signed; returns its Event Hash ID.

        Raises:
            SignatureError: bad signature, used nonce or expired request (checked first).
            EpcisSchemaError / EpcisDocumentError: the event breaks GS1's schema or EPCIS 2.0.
            RequestMismatchError: the request records something else.
            EventAlreadyRecordedError: the event is recorded already.
            ContractRevertError: the contract refused.
        """
        self.runtime.transactor.check_signature(request)
        (prepared,) = self._prepare(event, "event")
        ProvenanceService(self.runtime).relay_events(request, [event])
        return prepared.event_hash_id

    # ---------------------------------------------------------------- relay
    def run(self, capture_id: str) -> CaptureJob:
        """Relay a relaying job's requests in order, from where it stopped, unless another worker holds
        it. Returns the job as it stands after this worker's turn."""
        owner = uuid.uuid4().hex
        with self.store.session() as s:
            claimed = jobs_store.claim(s, capture_id, owner, _now_ms(), LEASE_TTL_MS)
        if claimed:
            try:
                self._relay(capture_id, owner)
            finally:
                with self.store.session() as s:
                    jobs_store.release(s, capture_id, owner)
        return self.get(capture_id)

    def resume_all(self) -> list[str]:
        """Run every relaying job nobody works on (after a restart, say); returns their IDs."""
        with self.store.session() as s:
            waiting = jobs_store.unleased_relaying(s, _now_ms())
        for capture_id in waiting:
            try:
                self.run(capture_id)
            except Exception:  # one job's trouble must not stop the others
                log.exception("resuming capture job %s failed", capture_id)
        return waiting

    def needs_worker(self, job: CaptureJob) -> bool:
        """The job is relaying and no worker holds it."""
        if job.status != JobStatus.RELAYING:
            return False
        with self.store.session() as s:
            row = s.get(jobs_store.CaptureJobRow, job.capture_id)
            return row is not None and (row.lease_owner is None or (row.lease_until or 0) < _now_ms())

    def _relay(self, capture_id: str, owner: str) -> None:
        with self.store.session() as s:
            row = s.get(jobs_store.CaptureJobRow, capture_id)
            assert row is not None
            document = json.loads(row.document)
        prepared = list(prepare_document(document).events)
        prefix = _pointer_prefix(document)
        service = _Capture(self.runtime)
        requests = self.get(capture_id).requests
        for request in requests:
            if request.status in ("recorded", "skipped"):
                continue
            events = [prepared[i] for i in request.events]
            try:
                status, tx_hash, block = self._send(service, request, events, last=request is requests[-1])
            except errors.TraceChainError as exc:
                if isinstance(exc, RETRYABLE_ERRORS):
                    self._pause(capture_id, f"request {request.position}: {exc}")
                else:
                    self._fail(capture_id, request, _problem(exc, events, prefix))
                return
            except RETRYABLE_FAILURES as exc:
                self._pause(capture_id, f"request {request.position}: {exc}")
                return
            except Exception as exc:  # a defect: end the job rather than retry it forever
                log.exception("capture job %s failed unexpectedly", capture_id)
                failure = errors.TraceChainError(f"the server failed relaying request {request.position}: {exc}")
                self._fail(capture_id, request, _problem(failure, events, prefix))
                return
            with self.store.session() as s:
                for request_row in jobs_store.requests_of(s, capture_id):
                    if request_row.position == request.position:
                        request_row.status, request_row.tx_hash, request_row.block_number = status, tx_hash, block
                job_row = s.get(jobs_store.CaptureJobRow, capture_id)
                assert job_row is not None
                if status == "recorded":
                    job_row.events_recorded += len(events)
                else:
                    job_row.events_skipped += len(events)
                job_row.note = None
                jobs_store.renew(s, capture_id, owner, _now_ms() + LEASE_TTL_MS)
        with self.store.session() as s:
            job_row = s.get(jobs_store.CaptureJobRow, capture_id)
            assert job_row is not None
            job_row.status, job_row.finished_ms = JobStatus.SUCCEEDED, _now_ms()

    def _send(
        self, service: _Capture, request: JobRequest, events: list[PreparedEvent], *, last: bool
    ) -> tuple[str, str | None, int | None]:
        """Relay one request unless the chain has it already: ("recorded", tx, block) when recorded (now
        or by an earlier worker), ("skipped", None, None) when another capture recorded the events of
        the job's last request.

        Raises:
            EventAlreadyRecordedError: another capture recorded (some of) its events, and (unless it is
                the last request) the requests after it cannot be relayed: their nonces follow its own.
            SignatureError: its nonce was consumed by another request.
        """
        self.runtime.sync()
        forwarder = self.runtime.contract("TraceChainForwarder")
        used = int(forwarder.functions.nonces(request.request.sender).call()) > request.request.nonce
        recorded = self._recordings(events)
        if len(recorded) == len(events) and used:
            tx_hash, block = recorded[record_key(events[0])]
            return "recorded", tx_hash, block
        if len(recorded) == len(events) and last:
            return "skipped", None, None
        if recorded:
            first = next(p for p in events if record_key(p) in recorded)
            raise errors.EventAlreadyRecordedError(
                f"event {first.event_hash_id} was recorded by another capture meanwhile, so this request and "
                "the ones after it (their nonces follow its own) cannot be relayed",
                hint="capture the document again: only what is not recorded yet is signed",
            )
        if used:
            sent = self._sent_by_reservation(events)
            if sent is not None:
                return ("recorded", *sent)
            raise errors.SignatureError(
                f"the signer's forwarder nonce {request.request.nonce} was used by another request",
                hint="capture the document again to sign requests with fresh nonces",
            )
        receipt = service.relay_batch(request.request, events)
        return "recorded", receipt.tx.tx_hash, receipt.tx.block_number

    def _recordings(self, events: list[PreparedEvent]) -> dict[str, tuple[str, int]]:
        """The events the index holds as recorded, by record key: (tx hash, block) of their first entry
        (an event by its Event Hash ID, as the capture service decides; a declaration by its document)."""
        refs = [record_key(p) for p in events if entry_kind(p) == EntryKind.EVENT]
        declarations = [record_key(p) for p in events if entry_kind(p) != EntryKind.EVENT]
        with self.store.session() as s:
            return query_store.first_recordings(s, event_refs=refs, declaration_hashes=declarations)

    def _sent_by_reservation(self, events: list[PreparedEvent]) -> tuple[str, int] | None:
        """A transaction the capture service sent for these events and the chain mined (the index may
        not hold it yet), from the events' reservations."""
        with self.store.session() as s:
            held = index.reservations(s, [record_key(p) for p in events])
        for row in held.values():
            if row.tx_hash is None:
                continue
            try:
                receipt = self.runtime.chain.w3.eth.get_transaction_receipt(row.tx_hash)  # type: ignore[arg-type]
            except Exception:  # not found: dropped or forgotten by the chain
                continue
            if int(receipt["status"]) == 1:
                return row.tx_hash, int(receipt["blockNumber"])
        return None

    def _pause(self, capture_id: str, note: str) -> None:
        with self.store.session() as s:
            row = s.get(jobs_store.CaptureJobRow, capture_id)
            assert row is not None
            row.note = note[:2000]

    def _fail(self, capture_id: str, request: JobRequest, problem: CaptureProblem) -> None:
        with self.store.session() as s:
            for request_row in jobs_store.requests_of(s, capture_id):
                if request_row.position == request.position:
                    request_row.status = "failed"
            row = s.get(jobs_store.CaptureJobRow, capture_id)
            assert row is not None
            row.status, row.finished_ms = JobStatus.FAILED, _now_ms()
            row.errors = json.dumps([problem.__dict__])

    # ---------------------------------------------------------------- reads
    def get(self, capture_id: str) -> CaptureJob:
        """A job with its requests.

        Raises:
            CaptureJobNotFoundError: no such job.
        """
        with self.store.session() as s:
            row = s.get(jobs_store.CaptureJobRow, capture_id)
            if row is None:
                raise errors.CaptureJobNotFoundError(f"no capture job {capture_id!r}")
            return self._job(row, jobs_store.requests_of(s, capture_id))

    def page(self, *, after: Sequence[object] | None, limit: int) -> list[CaptureJob]:
        """Jobs, newest first, after the position (created_ms, capture_id) `after`."""
        with self.store.session() as s:
            return [self._job(row, jobs_store.requests_of(s, row.capture_id)) for row in
                    jobs_store.jobs_page(s, after=after, limit=limit)]  # fmt: skip

    # ---------------------------------------------------------------- internals
    def _prepare(self, document: dict[str, Any], kind: str) -> list[PreparedEvent]:
        self._check_size(document)
        prepared = prepare_document(document)
        single = prepared.document_type in EVENT_TYPES
        if kind == "event" and not single:
            raise errors.EpcisDocumentError(
                "post one EPCIS event here (an EPCISDocument goes to /capture)", pointer="/type"
            )
        if kind == "document" and single:
            raise errors.EpcisDocumentError(
                "capture takes an EPCISDocument or EPCISQueryDocument (post single events to /events)",
                pointer="/type",
            )
        return list(prepared.events)

    def _check_size(self, document: dict[str, Any]) -> None:
        body = document.get("epcisBody") if isinstance(document, dict) else None
        events: Any = body.get("eventList") if isinstance(body, dict) else None
        if isinstance(body, dict) and isinstance(body.get("queryResults"), dict):
            results = body["queryResults"].get("resultsBody")
            events = results.get("eventList") if isinstance(results, dict) else None
        limit = self.runtime.settings.max_events_per_capture
        if isinstance(events, list) and len(events) > limit:
            raise errors.CaptureLimitExceededError(
                f"the document holds {len(events)} events; one capture takes at most {limit}",
                hint="split it into several captures (GS1-EPCIS-Capture-Limit)",
            )

    @staticmethod
    def _check_behaviour(behaviour: ErrorBehaviour, batches: Sequence[Any]) -> None:
        if behaviour == ErrorBehaviour.ROLLBACK and len(batches) > 1:
            raise errors.EpcisNotImplementedError(
                f"GS1-Capture-Error-Behaviour rollback: the document needs {len(batches)} transactions, and a "
                "recorded transaction cannot be rolled back",
                hint="send it with GS1-Capture-Error-Behaviour: proceed (a retry resumes), or split it",
            )

    def _save(
        self,
        document: dict[str, Any],
        kind: str,
        signer: str,
        behaviour: ErrorBehaviour,
        status: JobStatus,
        prepared: list[PreparedEvent],
        todo: list[PreparedEvent],
        batches: Sequence[Batch],
        requests: Sequence[ForwardRequest],
    ) -> CaptureJob:
        position_of = {id(p): i for i, p in enumerate(prepared)}
        capture_id = secrets.token_hex(12)
        now = _now_ms()
        with self.store.session() as s:
            s.add(
                jobs_store.CaptureJobRow(
                    capture_id=capture_id,
                    kind=kind,
                    status=status,
                    signer=signer,
                    error_behaviour=behaviour,
                    created_ms=now,
                    finished_ms=now if status == JobStatus.SUCCEEDED else None,
                    document=json.dumps(document, ensure_ascii=False, separators=(",", ":")),
                    events_total=len(prepared),
                    events_skipped=len(prepared) - len(todo),
                    events_recorded=0,
                    errors="[]",
                )
            )
            for i, (batch, request) in enumerate(zip(batches, requests, strict=True)):
                s.add(
                    jobs_store.CaptureRequestRow(
                        capture_id=capture_id,
                        position=i,
                        events=json.dumps([position_of[id(p)] for p in batch.events]),
                        sender=to_address(request.sender),
                        target=to_address(request.to),
                        gas=request.gas,
                        nonce=request.nonce,
                        deadline=request.deadline,
                        data=request.data,
                        signature=request.signature or None,
                        status="signed" if request.signature else "unsigned",
                    )
                )
        return self.get(capture_id)

    def _job(self, row: jobs_store.CaptureJobRow, requests: list[jobs_store.CaptureRequestRow]) -> CaptureJob:
        return CaptureJob(
            capture_id=row.capture_id,
            kind=row.kind,
            status=JobStatus(row.status),
            signer=row.signer,
            error_behaviour=ErrorBehaviour(row.error_behaviour),
            created_ms=row.created_ms,
            finished_ms=row.finished_ms,
            events_total=row.events_total,
            events_skipped=row.events_skipped,
            events_recorded=row.events_recorded,
            errors=tuple(CaptureProblem(**p) for p in json.loads(row.errors)),
            note=row.note,
            requests=tuple(
                JobRequest(
                    position=r.position,
                    events=tuple(json.loads(r.events)),
                    request=ForwardRequest(
                        r.sender, r.target, 0, int(r.gas), int(r.nonce), int(r.deadline), r.data, r.signature or ""
                    ),
                    status=r.status,
                    tx_hash=r.tx_hash,
                    block_number=r.block_number,
                )
                for r in requests
            ),
            chain_id=self.runtime.chain.chain_id,
            forwarder=self.runtime.deployment.address("TraceChainForwarder"),
        )


def _problem(exc: errors.TraceChainError, events: list[PreparedEvent], prefix: str | None) -> CaptureProblem:
    """The error with the event it concerns: the event naming the subject a contract error names, the
    event already recorded, else the transaction's first event."""
    offending = events[0] if events else None
    subject = getattr(exc, "error_args", {}).get("subjectKey") if isinstance(exc, errors.ContractRevertError) else None
    if isinstance(subject, str):  # decoded revert arguments are 0x-hex
        key = subject.lower()
        offending = next((p for p in events if any(to_hex(s.identifier.key) == key for s in p.subjects)), offending)
    if isinstance(exc, errors.EventAlreadyRecordedError):
        named = (p for p in events if p.event_hash_id in exc.message or record_key(p) in exc.message)
        offending = next(named, offending)
    event_index = offending.index if offending is not None else None
    if prefix is None or event_index is None:
        pointer = ""
    else:
        pointer = f"{prefix}/{event_index}"
    return CaptureProblem(type(exc).__name__, exc.code, str(exc), pointer, event_index)
