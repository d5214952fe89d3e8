"""Canonical JSON (RFC 8785) and keccak-256 hashes of documents and IDs.

Every document TraceChain commits to is hashed as keccak256(RFC 8785 canonical JSON), so the same
JSON value always gives the same 32 bytes, whatever its key order or number spelling (1 and 1.0).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

import rfc8785
from eth_utils import keccak

from tracechain.errors import InvalidInputError

_HEX32 = re.compile(r"0[xX][0-9a-fA-F]{64}")
_EMPTY_KECCAK = bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def _direct_keccak() -> Callable[[bytes], bytes] | None:
    """keccak-256 straight through pycryptodome's C library (the one eth-hash uses here), with one
    reusable state per thread: about a third of the cost of `eth_utils.keccak`, which builds a
    hash object and checks its input on every call. Merkle trees of thousands of records hash
    three times per record. None when pycryptodome's internals are not as expected (then the
    public path serves) — checked on known answers before it is trusted."""
    try:
        from Crypto.Hash.keccak import _raw_keccak_lib as lib  # type: ignore[attr-defined]  # private
        from Crypto.Util._raw_api import (  # type: ignore[attr-defined]  # c_ubyte: missing from its stub
            SmartPointer,
            VoidPointer,
            c_size_t,
            c_ubyte,
            create_string_buffer,
            get_raw_buffer,
        )
    except ImportError:
        return None
    local = threading.local()
    size, padding = c_size_t(32), c_ubyte(1)

    def state() -> tuple[Any, Any, Any]:
        pointer = VoidPointer()
        if lib.keccak_init(pointer.address_of(), c_size_t(64), c_ubyte(24)):
            raise RuntimeError("keccak_init failed")
        owner = SmartPointer(pointer.get(), lib.keccak_destroy)  # freed with the thread's state
        return owner, owner.get(), create_string_buffer(32)  # type: ignore[call-arg]  # its stub wants 2

    def digest(data: bytes) -> bytes:
        held = getattr(local, "state", None)
        if held is None:
            held = local.state = state()
        _, handle, out = held
        lib.keccak_reset(handle)
        lib.keccak_absorb(handle, data, c_size_t(len(data)))
        lib.keccak_digest(handle, out, size, padding)
        return get_raw_buffer(out)

    try:
        known = digest(b"") == _EMPTY_KECCAK and all(
            digest(bytes(range(n % 256)) * (n // 256 + 1)) == keccak(bytes(range(n % 256)) * (n // 256 + 1))
            for n in (1, 31, 32, 64, 135, 136, 137, 300, 1000)
        )
    except Exception:  # a pycryptodome whose C library differs: the public path serves
        return None
    return digest if known else None


_KECCAK = _direct_keccak()


def keccak256(data: bytes) -> bytes:
    """keccak-256 of `data`, for hot paths: Merkle trees, EIP-712 digests, document hashes."""
    if type(data) is not bytes:
        data = bytes(data)
    return _KECCAK(data) if _KECCAK is not None else bytes(keccak(data))


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
    return keccak256(canonical_json(doc))


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
