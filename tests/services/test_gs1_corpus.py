"""GS1's own EPCIS 2.0 example documents, recorded on the chain end to end: every document GS1's
schema accepts is imported, every event is recorded under the Event Hash ID GS1's reference generator
gives it, and every subject they name reads back with a verified trace that serves each event as
captured (so it re-hashes to the same ID)."""

from __future__ import annotations

from tests.epcis.oracle import FIXTURES, corpus, load
from tests.epcis.test_documents import SCHEMA_INVALID
from tests.epcis.test_hash_ids import native_hashes
from tracechain.chain.connect import dev_accounts
from tracechain.epcis import prepare_document
from tracechain.epcis.hash_ids import event_hash_id
from tracechain.services.provenance import ProvenanceService, TraceReader
from tracechain.services.provenance.events import record_key
from tracechain.services.runtime import Runtime
from tracechain.types import Role

SUPPLY_CHAIN = [Role.MANUFACTURER, Role.LOGISTICS, Role.RETAILER, Role.INSPECTOR]


def test_every_valid_gs1_example_is_recorded_and_reads_back_verified(net, runtime: Runtime) -> None:  # noqa: ANN001
    actor = dev_accounts(12)[11]  # one actor of every supply-chain role records them all
    net.actors.register_actor(net.accounts["governance"], actor.address, "GS1 examples", SUPPLY_CHAIN)
    service = ProvenanceService(runtime)

    expected: dict[str, set[str]] = {}  # subject -> the Event Hash IDs recorded about it
    documents = [path for path in corpus() if str(path.relative_to(FIXTURES)) not in SCHEMA_INVALID]
    assert len(documents) == 111
    recorded, distinct = 0, set()
    for path in documents:
        doc = load(path)
        report = service.import_epcis(actor, doc)
        recorded += report.recorded
        ids = native_hashes(doc)  # = GS1's generator (tests/epcis/test_hash_ids.py)
        assert set(report.event_hash_ids) <= set(ids), path.name
        for event, hash_id in zip(prepare_document(doc).events, ids, strict=True):
            assert event.event_hash_id == hash_id, path.name
            distinct.add(record_key(event))
            for identifier in event.identifiers:
                expected.setdefault(identifier.canonical, set()).add(hash_id)
    # every event once: twins (an example's JSON and JSON-LD) and an event a document repeats too
    assert recorded == len(distinct) > 90

    reader = TraceReader(runtime)
    for subject, ids in expected.items():
        trace = reader.trace(subject, limit=500)
        assert trace.verification.verified, (subject, trace.verification)
        served = {e.event_hash_id for e in trace.entries if e.event_hash_id}
        assert ids <= served, subject
        for entry in trace.entries:
            if entry.document is not None and entry.event_hash_id:
                assert entry.document_verified, subject
                assert event_hash_id(entry.document) == entry.event_hash_id, subject
