"""The off-chain store: documents by hash and the index of chain events (SQLAlchemy 2)."""

# Every table module, so `Store` creates all tables whichever feature is imported first.
from tracechain.store import actors, lineage, notary, provenance, rights  # noqa: E402, F401
