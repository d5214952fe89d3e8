"""Notary figures: records queued and anchored per second, from Python (`enqueue_many` + `flush`) and
through the API (`POST /v1/notarizations:bulk` with every record signed by its submitter, then the
flush of the last partial batch that the background task would make once it is due), with the
default batch size and with one batch for all the records.

Wall time is what a caller waits, node round trips and a busy machine's queue for a core included;
CPU time is this process's work alone (every thread, not the node's)."""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

from eth_keys import keys

from benchmarks.common import Cast, build_cast, rate, runtime_over
from tracechain.chain.actors import ActorRegistryClient
from tracechain.chain.connect import Chain
from tracechain.chain.notary import NotaryClient, batch_record_digest, encode_kind
from tracechain.hashing import document_hash, to_hex
from tracechain.types import Role

SUBMITTERS = ("logistics", "retailer", "manufacturer")


def _operator_is_notary(cast: Cast, runtime: Any) -> None:
    """The runtime's operator anchors batches: it must be an active notary."""
    actors = ActorRegistryClient(cast.contract("ActorRegistry"), cast.tx)
    actors.register_actor(cast.accounts["governance"], runtime.operator.address, "Platform", [Role.NOTARY])


def _anchored(outcomes: list[Any]) -> dict[str, Any]:
    return {
        "batches": len(outcomes),
        "anchored_records": sum(o.record_count for o in outcomes if o.action == "anchored"),
        "failed": sum(1 for o in outcomes if o.action == "failed"),
    }


def _cpu(count: int, seconds: float) -> dict[str, Any]:
    """This process's CPU time (every thread; not the node's): on a busy machine wall time counts the
    waits for a core too, CPU time only the work."""
    return {"cpu_seconds": round(seconds, 3), "records_per_cpu_second": round(count / seconds, 1)}


def _batches_of(runtime: Any, batch_max_records: int | None) -> None:
    if batch_max_records is not None:
        runtime.settings = runtime.settings.model_copy(update={"batch_max_records": batch_max_records})


def python_path(
    chain: Chain, count: int, store_url: str | None = None, batch_max_records: int | None = None
) -> dict[str, Any]:
    """`count` record hashes queued with `enqueue_many` and anchored with `flush` (batches of
    `batch_max_records`, default the setting's), on a fresh deployment and store."""
    from tracechain.services.notary import NotaryService

    cast = build_cast(chain)
    records = [document_hash({"type": "delivery", "note": f"DN-{i}"}) for i in range(count)]
    with runtime_over(cast, store_url) as runtime:
        _operator_is_notary(cast, runtime)
        _batches_of(runtime, batch_max_records)
        service = NotaryService(runtime)
        runtime.sync()  # a running service's index is current: the set-up's blocks are not the figure
        start, cpu = time.perf_counter(), time.process_time()
        service.enqueue_many([(h, "delivery") for h in records])
        queued = time.perf_counter()
        outcomes = service.flush()
        done, cpu = time.perf_counter(), time.process_time() - cpu
    return {
        **rate(count, done - start, "records"),
        "enqueue_seconds": round(queued - start, 3),
        "flush_seconds": round(done - queued, 3),
        **_cpu(count, cpu),
        "batch_max_records": runtime.settings.batch_max_records,
        **_anchored(outcomes),
    }


def _signed_body(cast: Cast, count: int) -> dict[str, Any]:
    """A bulk body of `count` delivery notes (the documents themselves), each signed (EIP-712
    `BatchRecord`) by one of three registered submitters in turn."""
    client = NotaryClient(cast.contract("Notary"), cast.tx)
    separator, kind = client.domain_separator, encode_kind("delivery")
    deadline = int(cast.chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    signers = [(cast.accounts[n].address, keys.PrivateKey(cast.accounts[n].key)) for n in SUBMITTERS]
    records = []
    for i in range(count):
        note = {"type": "delivery", "note": f"DN-{i}", "pallets": i % 7 + 1}
        address, key = signers[i % len(signers)]
        digest = batch_record_digest(separator, document_hash(note), kind, deadline)
        raw = key.sign_msg_hash(digest).to_bytes()  # r || s || v with v 0 or 1
        signature = to_hex(raw[:64] + bytes([raw[64] + 27]))
        records.append(
            {"kind": "delivery", "record": note, "submitter": address, "deadline": deadline, "signature": signature}
        )
    return {"records": records}


def api_path(
    chain: Chain, count: int, store_url: str | None = None, batch_max_records: int | None = None
) -> dict[str, Any]:
    """`count` signed records in one `POST /v1/notarizations:bulk` (TestClient, in process), which
    queues them and anchors the full batches, then the flush of the last partial batch."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx`")
        from fastapi.testclient import TestClient

    from tracechain.api.app import create_app
    from tracechain.services.notary import NotaryService

    cast = build_cast(chain)
    body = json.dumps(_signed_body(cast, count)).encode()  # the client's encoding is not the server's work
    with runtime_over(cast, store_url) as runtime:
        _operator_is_notary(cast, runtime)
        _batches_of(runtime, batch_max_records)
        runtime.settings = runtime.settings.model_copy(update={"bulk_max_records": max(count, 1)})
        with TestClient(create_app(runtime)) as api:
            start, cpu = time.perf_counter(), time.process_time()
            response = api.post("/v1/notarizations:bulk", content=body, headers={"Content-Type": "application/json"})
            answered = time.perf_counter()
            if response.status_code not in (201, 202):
                raise RuntimeError(f"bulk request refused: {response.status_code} {response.text[:500]}")
            rest = NotaryService(runtime).flush()
            done, cpu = time.perf_counter(), time.process_time() - cpu
            answer = response.json()
    return {
        **rate(count, done - start, "records"),
        **_cpu(count, cpu),
        "request_seconds": round(answered - start, 3),
        "request_records_per_second": round(count / (answered - start), 1),
        "status": response.status_code,
        "notarized_in_request": answer["notarized"],
        "batches_in_request": len(answer["batches"]),
        "request_body_bytes": len(body),
        "response_body_bytes": len(response.content),
        "flush_after_seconds": round(done - answered, 3),
        "batch_max_records": runtime.settings.batch_max_records,
        "flushed_after": _anchored(rest),
    }


def throughput(chain: Chain, count: int = 10_000, store_url: str | None = None) -> dict[str, Any]:
    """Records queued and anchored per second on `chain`: (a) from Python, (b) through the bulk
    endpoint; in batches of the default size (TRACECHAIN_BATCH_MAX_RECORDS), then in one batch.
    Each run on a fresh deployment and store; signing the API's records is not timed."""
    from tracechain.settings import Settings

    out: dict[str, Any] = {}
    for size in dict.fromkeys((Settings().batch_max_records, count)):
        batches = f"batches of {size:,}"
        out[f"enqueue_many + flush ({count:,} records, {batches})"] = python_path(chain, count, store_url, size)
        out[f"POST /v1/notarizations:bulk + flush ({count:,} signed records, {batches})"] = api_path(
            chain, count, store_url, size
        )
    return out
