"""Bodies of GS1's EPCIS 2.0 REST bindings as TraceChain serves them: query documents with each event's
proof beside it (`resultsBody["tracechain:proofs"]`, aligned with `eventList`), collections, capture
jobs with the requests their signer signs, and the bodies of signed captures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tracechain import errors
from tracechain.api.errors import epcis_problem
from tracechain.api.schemas.common import ForwardRequestIn
from tracechain.epcis.vocabulary import EPCIS_CONTEXT
from tracechain.services.capture_jobs import CaptureJob, CaptureProblem, JobRequest
from tracechain.services.provenance.epcis_rest import EventProof, ServedEvent

Json = dict[str, Any]
# The namespace of TraceChain's members in EPCIS documents (`tracechain:proofs`, `tracechain:status`).
TRACECHAIN_NAMESPACE = "urn:tracechain:epcis:"
CONTEXT: list[Any] = [EPCIS_CONTEXT, {"tracechain": TRACECHAIN_NAMESPACE}]
SIGNATURE = r"^0x[0-9a-fA-F]{130}$"


def iso_time(seconds: float) -> str:
    """An epoch time as ISO 8601 UTC with milliseconds (EPCIS style)."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_CAMEL = ConfigDict(populate_by_name=True, from_attributes=True)


class EpcisProblemPublic(BaseModel):
    """Every error of /epcis: an RFC 7807 problem typed by EPCIS exception, with the project's error
    member (`code`, `message`, and `pointer`/`event_index` for a document that breaks EPCIS)."""

    type: str = Field(examples=["epcisException:ValidationException"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    error: dict[str, Any] = Field(description="{code, message, ...}: the project's error member")


# ---------------------------------------------------------------- proofs
class ChainEntryProofPublic(BaseModel):
    """The event's entry in one identifier's hash chain: the `index`-th EntryAppended log of `subjectKey`."""

    model_config = _CAMEL

    identifier: str = Field(description="canonical identifier (docs/PROTOCOL.md)")
    subject_key: str = Field(alias="subjectKey", description="keccak256(utf8(identifier))")
    roles: list[str] = Field(description="how the event names it: epc, parent, child, input, output, quantity, ...")
    index: int = Field(description="0-based position of the entry in the identifier's hash chain")
    log_index: int = Field(alias="logIndex", description="the EntryAppended log in the transaction's receipt")
    head: str = Field(description="the chain's head after this entry")


class DeclarationProofPublic(BaseModel):
    model_config = _CAMEL

    document_hash: str = Field(alias="documentHash", description="the declaration: the event with its errorDeclaration")
    transaction_hash: str = Field(alias="transactionHash")
    block_number: int = Field(alias="blockNumber")
    record_time: str = Field(alias="recordTime")


class EventProofPublic(BaseModel):
    """Where the chain recorded the event beside it (same position in `eventList`), and how to check it."""

    model_config = _CAMEL

    event_hash_id: str = Field(alias="eventHashID", description="GS1 CBV 2.0 Event Hash ID; its digest is on-chain")
    document_hash: str = Field(alias="documentHash", description="keccak256 of the RFC 8785 JSON of the event served")
    document_verified: bool = Field(alias="documentVerified", description="the served event hashes to documentHash")
    entry_kind: str = Field(alias="entryKind", description="event | error_declaration")
    record_time: str = Field(alias="recordTime", description="the recording block's time")
    chain_id: int = Field(alias="chainID")
    contract: str = Field(description="the ProvenanceRegistry")
    transaction_hash: str = Field(alias="transactionHash")
    block_number: int = Field(alias="blockNumber")
    block_hash: str | None = Field(alias="blockHash")
    actor: str = Field(description="who signed the recording")
    biz_step_code: int = Field(alias="bizStepCode")
    entries: list[ChainEntryProofPublic]
    declared_erroneous: list[DeclarationProofPublic] = Field(
        alias="declaredErroneous", description="recorded error declarations of this event"
    )

    @classmethod
    def of(cls, proof: EventProof) -> EventProofPublic:
        return cls(
            eventHashID=proof.event_hash_id,
            documentHash=proof.document_hash,
            documentVerified=proof.document_verified,
            entryKind=proof.entry_kind,
            recordTime=iso_time(proof.record_time),
            chainID=proof.chain_id,
            contract=proof.contract,
            transactionHash=proof.tx_hash,
            blockNumber=proof.block_number,
            blockHash=proof.block_hash,
            actor=proof.actor,
            bizStepCode=proof.biz_step_code,
            entries=[ChainEntryProofPublic.model_validate(e) for e in proof.entries],
            declaredErroneous=[
                DeclarationProofPublic(
                    documentHash=d.document_hash,
                    transactionHash=d.tx_hash,
                    blockNumber=d.block_number,
                    recordTime=iso_time(d.record_time),
                )
                for d in proof.declared_erroneous
            ],
        )


def query_document(events: tuple[ServedEvent, ...], query_name: str = "SimpleEventQuery") -> Json:
    """An EPCISQueryDocument of `events` as captured, their proofs beside them."""
    return {
        "@context": CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": iso_time(datetime.now(UTC).timestamp()),
        "epcisBody": {
            "queryResults": {
                "queryName": query_name,
                "resultsBody": {
                    "eventList": [e.document for e in events],
                    "tracechain:proofs": [EventProofPublic.of(e.proof).model_dump(by_alias=True) for e in events],
                },
            }
        },
    }


def collection(members: list[str] | tuple[str, ...]) -> Json:
    """A JSON-LD Collection (the bindings' discovery lists)."""
    return {"@context": CONTEXT, "type": "Collection", "member": list(members)}


# ---------------------------------------------------------------- capture jobs
def _problem(problem: CaptureProblem) -> Json:
    cls = getattr(errors, problem.exception, errors.TraceChainError)
    if not (isinstance(cls, type) and issubclass(cls, errors.TraceChainError)):
        cls = errors.TraceChainError
    body = epcis_problem(cls, problem.code, problem.message, instance="#" + problem.pointer)
    return {**body, "pointer": problem.pointer, "eventIndex": problem.event_index}


def _request(job: CaptureJob, request: JobRequest) -> Json:
    typed = job.typed_data(request)
    return {
        "position": request.position,
        "events": list(request.events),
        "status": request.status,
        "transactionHash": request.tx_hash,
        "blockNumber": request.block_number,
        "request": {**typed["message"], "signature": request.request.signature or None},
        "typedData": typed,
    }


def capture_job(job: CaptureJob) -> Json:
    """The bindings' CaptureJob, with TraceChain's status, progress and signing members."""
    body: Json = {
        "captureID": job.capture_id,
        "createdAt": iso_time(job.created_ms / 1000),
        "running": job.running,
        "success": job.success,
        "captureErrorBehaviour": str(job.error_behaviour),
        "errors": [_problem(p) for p in job.errors],
    }
    if job.finished_ms is not None:
        body["finishedAt"] = iso_time(job.finished_ms / 1000)
    done = [r for r in job.requests if r.status in ("recorded", "skipped")]
    body["tracechain:status"] = str(job.status)
    body["tracechain:note"] = job.note
    body["tracechain:progress"] = {
        "events": job.events_total,
        "recorded": job.events_recorded,
        "skipped": job.events_skipped,
        "transactions": len(job.requests),
        "transactionsDone": len(done),
    }
    body["tracechain:signing"] = {
        "signer": job.signer,
        "chainID": job.chain_id,
        "forwarder": job.forwarder,
        "signaturesURL": f"/epcis/capture/{job.capture_id}/signatures",
        "requests": [_request(job, r) for r in job.requests],
    }
    return body


class SignaturesCreate(BaseModel):
    """The signer's EIP-712 signatures of a job's requests (`typedData` of each), in order."""

    signatures: list[Annotated[str, Field(pattern=SIGNATURE)]] = Field(min_length=1)


class SignedCapture(BaseModel):
    """A capture whose requests the client prepared and signed itself (media type
    `application/vnd.tracechain.signed-capture+json`)."""

    document: Json = Field(description="the EPCISDocument or EPCISQueryDocument")
    requests: list[ForwardRequestIn] = Field(min_length=1, description="signed recordEvents requests, in order")


class SignedEvent(BaseModel):
    """One event with the signed request that records it (media type
    `application/vnd.tracechain.signed-event+json`)."""

    event: Json = Field(description="the EPCIS event, with its @context")
    request: ForwardRequestIn
