"""The off-chain store: documents by hash and the index of chain events (SQLAlchemy 2)."""
