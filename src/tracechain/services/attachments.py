"""Attachments of a subject's events: documents (an inspection report, a certificate) that an event
document points to by their canonical hash. They are public exactly as far as the event is: a
document is served for a subject only when one of the subject's recorded event documents names its
hash, so nothing else in the store (notarized records, dataset manifests) leaks through them."""

from __future__ import annotations

from typing import Any

from tracechain import errors
from tracechain.epcis.identifiers import parse_product_id
from tracechain.hashing import parse_bytes32, to_hex
from tracechain.services.runtime import Runtime
from tracechain.store import provenance as index


def _names(doc: Any, needle: str) -> bool:
    """Does `doc` hold the string `needle` (any case) anywhere?"""
    if isinstance(doc, str):
        return doc.lower() == needle
    if isinstance(doc, dict):
        return any(_names(v, needle) for v in doc.values())
    if isinstance(doc, list):
        return any(_names(v, needle) for v in doc)
    return False


def attachment(runtime: Runtime, subject: str, document_hash: str) -> Any:
    """The document stored under `document_hash`, when an event document of `subject` names it.
    Served as stored: the caller hashes it (the event that names it is committed on-chain).

    Raises:
        InvalidInputError: a malformed subject or hash.
        ProductNotFoundError: no such subject.
        DocumentNotFoundError: no event of the subject names the hash, or the store lacks it.
    """
    pid = parse_product_id(subject)
    digest = to_hex(parse_bytes32(document_hash))
    runtime.refresh()
    key = to_hex(pid.key)
    with runtime.store.session() as s:
        if s.get(index.SubjectRow, key) is None:
            raise errors.ProductNotFoundError(f"no product or other subject {pid.canonical} is registered")
        hashes = [row.document_hash for row in index.entries_of(s, key)]
    for event_hash in dict.fromkeys(hashes):
        if _names(runtime.store.get_document(event_hash), digest):
            doc = runtime.store.get_document(digest)
            if doc is not None:
                return doc
            break
    raise errors.DocumentNotFoundError(f"no event of {pid.canonical} attaches a stored document {digest}")
