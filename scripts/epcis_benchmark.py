#!/usr/bin/env python
"""Measures the EPCIS layer's speed on one core and prints JSON: native Event Hash IDs against GS1's
reference generator, GS1's JSON schema per event, and `prepare_document` on a 10,000-event document
(ObjectEvents and 48-child aggregations).

    .venv/bin/python scripts/epcis_benchmark.py [--events N]

Times are CPU seconds of this process (time.process_time), so other load on the machine inflates them
little; every value is unique, so no cache helps. Not a test: nothing here asserts, it reports.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import platform
import time
import warnings
from collections.abc import Callable
from typing import Any

from tracechain.epcis import EPCIS_CONTEXT, event_hash_id, prepare_document
from tracechain.epcis.hash_ids import canonical_value, gs1_digital_link
from tracechain.epcis.schema import check_document_schema

NS = {"acme": "https://acme.example/ns/"}


def object_event(i: int) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"2024-03-01T10:{i % 60:02d}:{(i // 60) % 60:02d}.{i % 1000:03d}+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": [f"urn:epc:id:sgtin:9506000.013435.S{i}", f"https://id.example.com/01/09506000134352/21/X{i}"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:9506000.00000.0"},
        "bizLocation": {"id": "https://id.example.com/414/9506000000008"},
        "bizTransactionList": [{"type": "po", "bizTransaction": f"urn:epc:id:gdti:0614141.00001.{i}"}],
        "acme:note": f"n{i}",
    }


def aggregation(i: int, children: int = 48) -> dict[str, Any]:
    return {
        "type": "AggregationEvent",
        "eventTime": f"2024-03-01T11:00:00.{i % 1000:03d}Z",
        "eventTimeZoneOffset": "+00:00",
        "parentID": f"urn:epc:id:sscc:0614141.{i:010d}",
        "childEPCs": [f"urn:epc:id:sgtin:0614141.107346.{i}-{k}" for k in range(children)],
        "action": "ADD",
        "bizStep": "packing",
        "disposition": "in_progress",
        "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
    }


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT, NS],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T12:00:00Z",
        "epcisBody": {"eventList": events},
    }


def cpu(fn: Callable[[], Any]) -> float:
    canonical_value.cache_clear()
    gs1_digital_link.cache_clear()
    start = time.process_time()
    fn()
    return time.process_time() - start


def reference_rate(events: list[dict[str, Any]]) -> float:
    from epcis_event_hash_generator import hash_generator, json_to_py

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    doc = document(events)

    def run() -> None:
        json_to_py._namespaces.clear()
        hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(copy.deepcopy(doc)))

    return len(events) / cpu(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="events in the large document")
    args = parser.parse_args()
    objects = [object_event(i) for i in range(5_000)]
    aggregations = [aggregation(i) for i in range(1_000)]
    big = document([aggregation(i) if i % 10 == 9 else object_event(i) for i in range(args.events)])
    results: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine()}
    results["event_hash_id_per_s"] = {
        "object_event": round(len(objects) / cpu(lambda: [event_hash_id(e, namespaces=NS) for e in objects])),
        "aggregation_48_children": round(len(aggregations) / cpu(lambda: [event_hash_id(e) for e in aggregations])),
        "reference_generator_object_event": round(reference_rate(objects[:300])),
        "reference_generator_aggregation_48_children": round(reference_rate(aggregations[:100])),
    }
    schema_s = cpu(lambda: check_document_schema(big))
    prepare_s = cpu(lambda: prepare_document(big, schema=False))
    full_s = cpu(lambda: prepare_document(big))
    n = args.events
    results["document"] = {
        "events": n,
        "object_events": n - n // 10,
        "aggregations_48_children": n // 10,
        "schema_check_s": round(schema_s, 2),
        "prepare_without_schema_s": round(prepare_s, 2),
        "prepare_without_schema_events_per_s": round(n / prepare_s),
        "prepare_with_schema_s": round(full_s, 2),
        "prepare_with_schema_events_per_s": round(n / full_s),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
