"""Product provenance use cases: capture (subjects, EPCIS events, custody, recalls) and traces
verified against the chain."""

from tracechain.services.provenance.capture import ImportReport, ProvenanceService, WriteReceipt
from tracechain.services.provenance.events import PreparedEvent, prepare_epcis_document, prepare_event
from tracechain.services.provenance.trace import (
    Problem,
    Recall,
    SubjectTrace,
    TraceEntry,
    TraceReader,
    Verification,
    hash_id_of,
)

__all__ = [
    "ImportReport",
    "PreparedEvent",
    "Problem",
    "ProvenanceService",
    "Recall",
    "SubjectTrace",
    "TraceEntry",
    "TraceReader",
    "Verification",
    "WriteReceipt",
    "hash_id_of",
    "prepare_epcis_document",
    "prepare_event",
]
