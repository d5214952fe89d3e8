"""GS1's reference Event Hash ID generator (epcis-event-hash-generator 1.9.3) as the test oracle.

The generator runs offline only with the EPCIS contexts it bundles, and 1.9.3 predates two features of
its own repository's examples; so, for documents it cannot read as they are:

* the ``epcis-context-simple.jsonld`` context is replaced by the 2.0.0 context (not bundled, and fetching
  is not possible here; both give standard terms the same meaning);
* term definitions in the @context (``"rail:x": {"@type": "@id"}``) are dropped for its namespace
  collection (it concatenates them as strings and fails), and a context entry that redefines a protected
  EPCIS term (``cbvmda``) is dropped for its JSON-LD expansion only (pyld refuses the document);
* an EPCISQueryDocument's events are wrapped in an EPCISDocument (1.9.3 reads only ``eventList``);
* fields a document declares ignored (``{prefix}:ignoreFields``) are removed first (1.9.3 ignores none).
"""

from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path
from typing import Any

from epcis_event_hash_generator import hash_generator, json_to_py
from pyld import jsonld

from tracechain.epcis.hash_ids import context_namespaces, declared_ignore_fields
from tracechain.epcis.vocabulary import EPCIS_CONTEXT, EPCIS_SIMPLE_CONTEXT

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gs1"
_expand = jsonld.expand


def _lenient_expand(doc: Any, options: Any = None) -> Any:
    try:
        return _expand(doc, options)
    except jsonld.JsonLdError:  # a context entry redefining a protected EPCIS term: drop it, retry
        doc = dict(doc)
        doc["@context"] = [c for c in doc["@context"] if not (isinstance(c, dict) and "cbvmda" in c)]
        return _expand(doc, options)


def events_of(doc: dict[str, Any]) -> list[Any]:
    body = doc["epcisBody"]
    if "queryResults" in body:
        return list(body["queryResults"]["resultsBody"]["eventList"])
    return list(body["eventList"])


def with_events(doc: dict[str, Any], events: list[Any]) -> dict[str, Any]:
    """A copy of `doc` holding `events` instead of its own (query documents keep their queryResults)."""
    doc = copy.deepcopy(doc)
    body = doc["epcisBody"]
    if "queryResults" in body:
        body["queryResults"]["resultsBody"]["eventList"] = copy.deepcopy(events)
    else:
        doc["epcisBody"] = {**body, "eventList": copy.deepcopy(events)}
    return doc


def reference_input(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` as the 1.9.3 generator can read it (see module docs)."""
    doc = copy.deepcopy(doc)
    context = doc.get("@context", [])
    context = context if isinstance(context, list) else [context]
    holder = doc["epcisBody"].get("queryResults", doc)
    ignored = declared_ignore_fields(holder, context_namespaces(context))
    events = events_of(doc)
    for event in events:
        for name in ignored:
            event.pop(name, None)
    doc["@context"] = [
        EPCIS_CONTEXT if c == EPCIS_SIMPLE_CONTEXT else ({k: v for k, v in c.items() if isinstance(v, str)} if
                                                          isinstance(c, dict) else c)
        for c in context
    ]  # fmt: skip
    doc["epcisBody"] = {"eventList": events}
    return doc


def reference_pre_hashes(doc: dict[str, Any]) -> list[str]:
    """The generator's pre-hash strings of a document's events (fresh namespace state every call).
    An event the generator drops (it logs and skips events it fails on) is missing from the list."""
    json_to_py._namespaces.clear()
    json_to_py.jsonld.expand = _lenient_expand
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            events = json_to_py.event_list_from_epcis_document_json(reference_input(doc))
        return list(hash_generator.derive_prehashes_from_events(events))
    finally:
        logging.disable(logging.NOTSET)
        json_to_py.jsonld.expand = _expand


def reference_hashes(doc: dict[str, Any]) -> list[str]:
    """The generator's Event Hash IDs of a document's events."""
    return list(hash_generator.calculate_hashes_from_pre_hashes(reference_pre_hashes(doc)))


def wrap(events: list[dict[str, Any]], context: list[Any] | None = None) -> dict[str, Any]:
    """An EPCISDocument holding `events`."""
    return {
        "@context": context or [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T12:00:00Z",
        "epcisBody": {"eventList": events},
    }


def corpus() -> list[Path]:
    """Every EPCIS 2.0 JSON/JSON-LD example document of the fixtures, sorted."""
    return sorted(FIXTURES.rglob("*.jsonld"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
