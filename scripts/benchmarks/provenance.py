"""Provenance figures: gas of every write (protocol v2), an EPCIS document imported end to end
through the CLI's service call and through POST /v1/epcis/capture (events/s, transactions, the
largest transaction's gas), the indexer following the chain from scratch (events/s), reads whose
cost does not grow with the index, a recall's reach and an aggregation's gas."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import Cast, batch, build_cast, rate, runtime_over, timed, write
from tracechain.chain.connect import Chain
from tracechain.chain.provenance import EventInput, NewSubject, ProvenanceRegistryClient, biz_step_code, subject_key_of
from tracechain.epcis import EPCIS_CONTEXT, make_aggregation_event, make_object_event, make_transformation_event
from tracechain.hashing import keccak_text

GTIN = "09506000134352"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SITE = "urn:epc:id:sgln:9506000.13435.0"


def _input(keys: list[bytes] | bytes, tag: str, step: str = "shipping") -> EventInput:
    subjects = tuple(keys) if isinstance(keys, list) else (keys,)
    return EventInput(keccak_text("event " + tag), keccak_text("document " + tag), biz_step_code(step), subjects)


def gas(chain: Chain) -> dict[str, Any]:
    """Gas of every ProvenanceRegistry write, direct and relayed, single and batched."""
    cast = build_cast(chain)
    m, logistics, gov = (cast.accounts[n] for n in ("manufacturer", "logistics", "governance"))
    direct = ProvenanceRegistryClient(cast.contract("ProvenanceRegistry"), cast.tx)
    relayed = ProvenanceRegistryClient(direct.contract, cast.relayed)
    items = [f"01/{GTIN}/21/A{i:05d}" for i in range(100)]
    keys = [subject_key_of(i) for i in items]
    one = keys[0]
    out: dict[str, Any] = {}
    out["createSubjects (one item)"] = write(direct.create_subjects(m, [NewSubject("opaque:ONE")]).gas_used)
    out["createSubjects (batch of 100 items)"] = batch(
        direct.create_subjects(m, [NewSubject(i) for i in items]).gas_used, 100
    )
    out["recordEvent (single event, custodian)"] = write(direct.record_events(m, [_input(one, "s1")]).gas_used)
    out["recordEvents (batch of 100 events on 100 subjects)"] = batch(
        direct.record_events(m, [_input(k, f"b{i}") for i, k in enumerate(keys)]).gas_used, 100
    )
    out["recordEvents (batch of 100 events on one subject)"] = batch(
        direct.record_events(m, [_input(one, f"o{i}") for i in range(100)]).gas_used, 100
    )
    out["recordEvents (one aggregation: a pallet and 48 cases, per entry)"] = batch(
        direct.record_events(m, [_input(keys[:49], "agg", "packing")]).gas_used, 49
    )
    out["recordEvents (an event that creates its subject)"] = write(
        direct.record_events(m, [_input(subject_key_of("opaque:NEW"), "n1")], [NewSubject("opaque:NEW")]).gas_used
    )
    out["recordEvent relayed (signer's first forwarder request)"] = write(
        relayed.record_events(m, [_input(one, "r1")]).gas_used
    )
    out["recordEvent relayed"] = write(relayed.record_events(m, [_input(one, "r2")]).gas_used)
    out["recordEvents relayed (batch of 100 events on 100 subjects, per event)"] = batch(
        relayed.record_events(m, [_input(k, f"rb{i}") for i, k in enumerate(keys)]).gas_used, 100
    )
    out["transferCustody (one subject)"] = write(direct.transfer_custody(m, [one], logistics.address).gas_used)
    out["transferCustody (a pallet and 48 cases, per subject)"] = batch(
        direct.transfer_custody(m, keys[1:50], logistics.address).gas_used, 49
    )
    out["forceCustody"] = write(direct.force_custody(gov, one, m.address, keccak_text("reason")).gas_used)
    out["recall"] = write(direct.recall(m, one, keccak_text("recall notice")).gas_used)
    return out


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-02T00:00:00.000Z",
        "epcisBody": {"eventList": events},
    }


def _commissioning(count: int, prefix: str) -> dict[str, Any]:
    return _document(
        [
            make_object_event(product_ids=[f"opaque:{prefix}-{i}"], event_time=START + timedelta(seconds=i),
                              action="ADD", biz_step="commissioning", read_point=SITE)
            for i in range(count)
        ]
    )  # fmt: skip


def _shipping(count: int, prefix: str) -> dict[str, Any]:
    return _document(
        [
            make_object_event(product_ids=[f"opaque:{prefix}-{i}"], event_time=START + timedelta(hours=1, seconds=i),
                              biz_step="shipping", disposition="in_transit", read_point=SITE)
            for i in range(count)
        ]
    )  # fmt: skip


def _uncached(api: Any, runtime: Any, url: str, repeat: int) -> dict[str, float]:
    """Latency of reads computed anew each time (the per-block answer cache emptied before each)."""

    def read() -> Any:
        runtime._memo.clear()
        return api.get(url)

    return timed(read, repeat)


def _grow_index(runtime: Any, entries: int, tag: str = "bulk") -> int:
    """Add `entries` synthetic index entries of other subjects (bulk SQL): what a large deployment's
    index holds beside the product read."""
    from sqlalchemy import insert

    from tracechain.store.provenance import EntryRow, SubjectRow

    subjects = entries // 10
    with runtime.store.session() as s:
        s.execute(insert(SubjectRow), [
            {"subject_key": "0x" + keccak_text(f"{tag} {i}").hex(), "identifier": f"opaque:{tag}-{i}",
             "originator": "0x" + "11" * 20, "custodian": "0x" + "11" * 20, "open": False, "status": "active",
             "metadata_hash": "0x" + "00" * 32, "entry_count": 10, "head": "0x" + "22" * 32,
             "created_block": 1, "created_tx": "0x" + "33" * 32, "created_at": 1}
            for i in range(subjects)
        ])  # fmt: skip
        rows = []
        for i in range(subjects):
            key = "0x" + keccak_text(f"{tag} {i}").hex()
            for seq in range(10):
                rows.append({"subject_key": key, "seq": seq, "kind": 1, "ref": "0x" + "44" * 32,
                             "document_hash": "0x" + "55" * 32, "code": 34, "actor": "0x" + "11" * 20,
                             "timestamp": 1, "head": "0x" + "22" * 32, "tx_hash": "0x" + "33" * 32,
                             "log_index": seq, "block_number": 1})  # fmt: skip
            if len(rows) >= 20_000:
                s.execute(insert(EntryRow), rows)
                rows = []
        if rows:
            s.execute(insert(EntryRow), rows)
    return subjects * 10


def recall_reach(chain: Chain, outputs: int) -> dict[str, Any]:
    """A milk lot made into `outputs` items in a few transformations, the lot recalled, and the time
    of listing everything the recall reaches (paged) and of one item's recall path."""
    from tracechain.epcis import parse_identifier
    from tracechain.hashing import to_hex
    from tracechain.services.provenance import ProvenanceService
    from tracechain.services.provenance.lineage import LineageReader

    cast = build_cast(chain)
    m = cast.accounts["manufacturer"]
    lot = f"01/{GTIN}/10/LOT-R"
    with runtime_over(cast) as runtime:
        service = ProvenanceService(runtime, runtime.transactor)
        per_event = 100
        events = [
            make_transformation_event(event_time=START + timedelta(minutes=n), input_quantities=[(lot, 1, "KGM")],
                                      output_ids=[f"opaque:OUT-{n}-{i}" for i in range(per_event)],
                                      biz_step="commissioning", read_point=SITE)
            for n in range(outputs // per_event)
        ]  # fmt: skip
        service.import_epcis(m, _document(events))
        service.recall(m, lot, {"reason": "benchmark"})
        reader = LineageReader(runtime)
        key = to_hex(parse_identifier(lot).key)
        start = time.perf_counter()
        page, total = reader.affected(key, limit=100)
        reach_seconds = time.perf_counter() - start
        item = to_hex(parse_identifier("opaque:OUT-0-0").key)
        start = time.perf_counter()
        path = reader.recall_path(item)
        path_seconds = time.perf_counter() - start
    return {
        "items_reached": total,
        "first_page": len(page),
        "reach_seconds": round(reach_seconds, 3),
        "one_item_recall_path_seconds": round(path_seconds, 3),
        "path_verified": bool(path and path.verified),
    }


def aggregation_batch(chain: Chain) -> dict[str, Any]:
    """Gas of one recorded aggregation of 48 children through the service (an EPCIS document)."""
    from tracechain.services.provenance import ProvenanceService

    cast: Cast = build_cast(chain)
    m = cast.accounts["manufacturer"]
    with runtime_over(cast) as runtime:
        service = ProvenanceService(runtime, runtime.transactor)
        cases = [f"opaque:CASE-{i}" for i in range(48)]
        service.register_many(m, [(c, None) for c in ["opaque:PALLET", *cases]])
        doc = _document([make_aggregation_event(parent_id="opaque:PALLET", child_ids=cases, event_time=START,
                                                biz_step="packing", read_point=SITE)])  # fmt: skip
        report = service.import_epcis(m, doc)
        gas_used = report.receipts[0].tx.gas_used
    return {"entries": 49, **batch(gas_used, 49)}


def record_new_subjects(client: ProvenanceRegistryClient, sender: Any, tag: str, count: int) -> int:
    """One recordEvents transaction of `count` events, each creating its subject; returns its gas."""
    ids = [f"opaque:{tag}-{i}" for i in range(count)]
    events = [_input(subject_key_of(i), f"{tag} {i}", "commissioning") for i in ids]
    return client.record_events(sender, events, [NewSubject(i) for i in ids]).gas_used


def _report(report: Any, elapsed: float) -> dict[str, Any]:
    gas = [r.tx.gas_used for r in report.receipts]
    return {
        **rate(report.recorded, elapsed, "events"),
        "transactions": len(gas),
        "gas_per_event": sum(gas) // max(report.recorded, 1),
        "max_transaction_gas": max(gas, default=0),
    }


def import_service(chain: Chain, count: int, store_url: str | None = None) -> dict[str, Any]:
    """A `count`-event EPCIS document imported end to end by the service call the CLI's
    `product import-epcis` makes (prepare, store, send, wait, index): on new subjects (each event
    creates its subject), then a second document on the subjects that exist."""
    from tracechain.services.provenance import ProvenanceService

    cast = build_cast(chain)
    m = cast.accounts["manufacturer"]
    out: dict[str, Any] = {}
    with runtime_over(cast, store_url) as runtime:
        service = ProvenanceService(runtime, runtime.transactor)  # the actor sends and pays, as the CLI
        documents = {"creating subjects": _commissioning(count, "P"), "existing subjects": _shipping(count, "P")}
        for label, document in documents.items():
            start = time.perf_counter()
            report = service.import_epcis(m, document)
            out[label] = _report(report, time.perf_counter() - start)
    return out


def import_api(chain: Chain, count: int) -> dict[str, Any]:
    """The same document through the API: `POST /v1/provenance/requests` prepares the forward
    requests, the actor signs them (EIP-712, as a wallet), `POST /v1/epcis/capture` relays them all and
    answers with the transactions. The rate is the capture request's; preparing is shown beside it."""
    import warnings

    from eth_account import Account
    from eth_account.messages import encode_typed_data

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx`")
        from fastapi.testclient import TestClient

    from tracechain.api.app import create_app

    cast = build_cast(chain)
    m = cast.accounts["manufacturer"]
    document = _commissioning(count, "API")
    with runtime_over(cast) as runtime, TestClient(create_app(runtime)) as api:
        start = time.perf_counter()
        prepared = api.post(
            "/v1/provenance/requests",
            json={"from": m.address, "action": "epcis", "document": document, "ttl_seconds": 3600},
        )
        if prepared.status_code != 200:
            raise RuntimeError(f"prepare refused: {prepared.status_code} {prepared.text[:500]}")
        prepare_seconds = time.perf_counter() - start
        body = prepared.json()
        requests = []
        for request, typed in zip(body["requests"], body["typed_data_list"], strict=True):
            signature = Account.sign_message(encode_typed_data(full_message=typed), m.key).signature
            requests.append({**request, "signature": "0x" + bytes(signature).hex()})
        start = time.perf_counter()
        answer = api.post("/v1/epcis/capture", json={"requests": requests, "document": document})
        elapsed = time.perf_counter() - start
        if answer.status_code != 201:
            raise RuntimeError(f"capture refused: {answer.status_code} {answer.text[:500]}")
        result = answer.json()
    return {
        **rate(result["recorded"], elapsed, "events"),
        "transactions": len(result["transactions"]),
        "prepare_seconds": round(prepare_seconds, 2),
        "events_per_second_including_prepare": round(result["recorded"] / (elapsed + prepare_seconds), 1),
    }


def index_rate(chain: Chain, count: int) -> dict[str, Any]:
    """A `count`-event document imported (not timed), then a fresh store's indexer follows the chain
    from the deployment block: logs (entries) indexed per second, verified against the chain's heads."""
    from tracechain.services.provenance import ProvenanceService
    from tracechain.store.indexer import Indexer

    cast = build_cast(chain)
    with runtime_over(cast) as runtime:
        ProvenanceService(runtime, runtime.transactor).import_epcis(cast.accounts["manufacturer"],
                                                                    _commissioning(count, "IX"))  # fmt: skip
    with runtime_over(cast) as fresh:
        start = time.perf_counter()
        logs = Indexer(chain, cast.deployment, fresh.store).sync()
        seconds = time.perf_counter() - start
    return {**rate(logs, seconds, "logs"), "events": count, "events_per_second": round(count / seconds, 1)}


def reads_scaling(chain: Chain, repeat: int, large: int) -> dict[str, Any]:
    """GET /v1/products/{id} of a product with 10 events (TestClient, one request at a time, the
    per-block answer cache emptied before each: every read computed anew) when the index holds
    1,000 entries and when it holds `large`; the rest are other subjects' entries written straight
    into the store (a read touches only its page's rows)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx`")
        from fastapi.testclient import TestClient

    from tracechain.api.app import create_app
    from tracechain.services.provenance import ProvenanceService

    cast = build_cast(chain)
    m = cast.accounts["manufacturer"]
    out: dict[str, Any] = {}
    with runtime_over(cast) as runtime:
        service = ProvenanceService(runtime, runtime.transactor)
        pid = f"01/{GTIN}/21/READ-1"
        service.register(m, pid)
        service.import_epcis(m, _document([
            make_object_event(product_ids=[pid], event_time=START + timedelta(minutes=i), biz_step="storing",
                              read_point=SITE, digital_link_base="https://id.example.com") for i in range(10)
        ]))  # fmt: skip
        url = f"/v1/products/{pid}"
        indexed = 10
        for size in (1_000, large):
            indexed += _grow_index(runtime, size - indexed, f"g{size}")
            with TestClient(create_app(runtime)) as api:
                assert api.get(url).json()["verification"]["verified"]
                out[f"{size:,} indexed entries"] = {"indexed": indexed, **_uncached(api, runtime, url, repeat)}
    small, big = (out[f"{size:,} indexed entries"]["p50_ms"] for size in (1_000, large))
    out["p50 ratio"] = round(big / small, 2)
    return out
