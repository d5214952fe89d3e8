"""TraceChain: blockchain traceability and data notarization — proofs on-chain, data off-chain."""

__version__ = "0.1.0"
