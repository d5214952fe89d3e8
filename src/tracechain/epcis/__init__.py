"""EPCIS 2.0 domain layer (pure Python, never talks to web3): identifiers, CBV vocabulary, event rules,
GS1 CBV 2.0 Event Hash IDs, GS1's JSON schema, and documents prepared for the chain.

The names below are the package's public API; the modules hold one concern each.
"""

from tracechain.epcis.builders import (
    epc_uri,
    make_aggregation_event,
    make_association_event,
    make_object_event,
    make_transaction_event,
    make_transformation_event,
)
from tracechain.epcis.documents import (
    PreparedDocument,
    PreparedEvent,
    VocabularyElement,
    prepare_document,
    prepare_event,
)
from tracechain.epcis.events import (
    BizTransaction,
    ErrorDeclaration,
    EventFacts,
    QuantityElement,
    SensorReading,
    SourceDestination,
    Subject,
    SubjectRole,
    check_event,
    subjects_of,
)
from tracechain.epcis.hash_ids import event_hash_id, event_hash_id_digest, hash_id_of, pre_hash_string
from tracechain.epcis.identifiers import Identifier, ProductId, parse_identifier, parse_product_id
from tracechain.epcis.legacy import (
    event_document_hash,
    object_events_from_document,
    product_ids_of,
    validate_object_event,
)
from tracechain.epcis.schema import check_document_schema, check_event_schema
from tracechain.epcis.vocabulary import (
    ACTIONS,
    BIZ_STEPS,
    DISPOSITIONS,
    EPCIS_CONTEXT,
    EPCIS_SIMPLE_CONTEXT,
    EVENT_TYPES,
    KNOWN_CONTEXTS,
    biz_step_code,
    biz_step_name,
)

__all__ = [
    "ACTIONS",
    "BIZ_STEPS",
    "DISPOSITIONS",
    "EPCIS_CONTEXT",
    "EPCIS_SIMPLE_CONTEXT",
    "EVENT_TYPES",
    "KNOWN_CONTEXTS",
    "BizTransaction",
    "ErrorDeclaration",
    "EventFacts",
    "Identifier",
    "PreparedDocument",
    "PreparedEvent",
    "ProductId",
    "QuantityElement",
    "SensorReading",
    "SourceDestination",
    "Subject",
    "SubjectRole",
    "VocabularyElement",
    "biz_step_code",
    "biz_step_name",
    "check_document_schema",
    "check_event",
    "check_event_schema",
    "epc_uri",
    "event_document_hash",
    "event_hash_id",
    "event_hash_id_digest",
    "hash_id_of",
    "make_aggregation_event",
    "make_association_event",
    "make_object_event",
    "make_transaction_event",
    "make_transformation_event",
    "object_events_from_document",
    "parse_identifier",
    "parse_product_id",
    "pre_hash_string",
    "prepare_document",
    "prepare_event",
    "product_ids_of",
    "subjects_of",
    "validate_object_event",
]
