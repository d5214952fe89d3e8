"""The off-chain store: documents by hash and the index of chain events (SQLAlchemy 2)."""

# Every table module, so `Store` creates all tables whichever feature is imported first.
from tracechain.store import (  # noqa: E402, F401
    actors,
    capture_jobs,
    cases,
    epcis_query,
    lineage,
    masterdata,
    notary,
    provenance,
    rights,
)
