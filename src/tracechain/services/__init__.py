"""Use cases over the contract clients and the store: provenance, notary, rights."""
