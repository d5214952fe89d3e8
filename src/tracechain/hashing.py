"""Canonical JSON (RFC 8785) and keccak-256 hashes of documents and IDs.

Every document TraceChain commits to is hashed as keccak256(RFC 8785 canonical JSON), so the same
JSON value always gives the same 32 bytes, whatever its key order or number spelling (1 and 1.0).
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785
from eth_utils import keccak

from tracechain.errors import InvalidInputError

_HEX32 = re.compile(r"0[xX][0-9a-fA-F]{64}")


_SAFE_INT = 2**53 - 1


class _NotPlain(Exception):
    """The value holds something json.dumps would not write as RFC 8785 does."""


def _plain(value: Any) -> Any:
    """`value` with integral floats as ints, if the standard library's json.dumps (sorted keys, compact,
    UTF-8) then writes exactly the RFC 8785 bytes: ASCII keys (sorted alike by code point and by UTF-16
    unit), safe integers, floats whose shortest repr is fixed-point in both Python and ECMAScript."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_SAFE_INT <= value <= _SAFE_INT:
            return value
        raise _NotPlain
    if kind is float:
        if value.is_integer() and abs(value) <= _SAFE_INT:
            return int(value)
        if not value.is_integer() and 1e-4 <= abs(value) < 1e16:  # repr == ECMAScript Number::toString
            return value
        raise _NotPlain
    if kind is list:
        return [_plain(v) for v in value]
    if kind is dict:
        result = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise _NotPlain
            result[key] = _plain(item)
        return result
    raise _NotPlain


def canonical_json(doc: Any) -> bytes:
    """The RFC 8785 (JCS) canonical UTF-8 serialisation of a JSON value (through the standard library's
    C encoder when that gives the same bytes, else the rfc8785 package)."""
    try:
        try:
            plain = _plain(doc)
            return json.dumps(plain, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
        except (_NotPlain, UnicodeEncodeError):
            pass
        return rfc8785.dumps(doc)
    except rfc8785.CanonicalizationError as exc:
        raise InvalidInputError(
            f"value cannot be encoded as canonical JSON: {exc}",
            hint="use only dict (str keys), list, str, bool, None, ints within ±2^53 and finite floats",
        ) from exc
    except RecursionError as exc:
        raise InvalidInputError("value is nested too deeply to encode as JSON") from exc


def document_hash(doc: Any) -> bytes:
    """keccak256 of the canonical JSON of `doc` (32 bytes)."""
    return keccak(canonical_json(doc))


def keccak_text(text: str) -> bytes:
    """keccak256 of the UTF-8 encoding of `text` (32 bytes)."""
    if not isinstance(text, str):
        raise InvalidInputError(f"expected a string, got {type(text).__name__}")
    try:
        return keccak(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidInputError("text is not valid Unicode (lone surrogate)") from exc


def to_hex(b: bytes) -> str:
    """'0x' followed by the lowercase hex of `b`."""
    return "0x" + bytes(b).hex()


def parse_bytes32(value: str | bytes) -> bytes:
    """32 bytes from 32 raw bytes or a '0x'-prefixed 64-digit hex string (any case)."""
    if isinstance(value, bytes | bytearray):
        if len(value) != 32:
            raise InvalidInputError(f"expected 32 bytes, got {len(value)}")
        return bytes(value)
    if isinstance(value, str) and _HEX32.fullmatch(value):
        return bytes.fromhex(value[2:])
    raise InvalidInputError(
        f"not a 32-byte hex value: {value!r}",
        hint="expected '0x' followed by exactly 64 hex digits",
    )
