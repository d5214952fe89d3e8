"""One router per audience or feature, combined once in tracechain.api.app."""
