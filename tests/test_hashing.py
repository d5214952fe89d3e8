"""Canonical JSON and keccak helpers."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from tracechain.errors import InvalidInputError
from tracechain.hashing import canonical_json, document_hash, keccak_text, parse_bytes32, to_hex

KECCAK_EMPTY = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


def reversed_keys(value: Any) -> Any:
    """The same JSON value with every object's keys inserted in reverse order."""
    if isinstance(value, dict):
        return {k: reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "x"]}) == b'{"a":[true,null,"x"],"b":1}'


def test_canonical_json_number_forms() -> None:
    assert canonical_json(1.0) == canonical_json(1) == b"1"
    assert canonical_json(-0.0) == b"0"
    assert canonical_json(1e21) == b"1e+21"
    assert canonical_json(0.000001) == b"0.000001"
    assert canonical_json(1e-7) == b"1e-7"
    assert canonical_json({"n": 100.0}) == canonical_json({"n": 100})


def test_canonical_json_sorts_by_utf16_code_units() -> None:
    # RFC 8785 3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB01, unlike code-point order.
    assert canonical_json({"\ufb01": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb01":1}'.encode()


@given(json_values)
def test_canonical_json_independent_of_key_order(value: Any) -> None:
    assert canonical_json(reversed_keys(value)) == canonical_json(value)
    assert document_hash(reversed_keys(value)) == document_hash(value)


@given(json_values)
def test_canonical_json_round_trips(value: Any) -> None:
    encoded = canonical_json(value)
    # JCS numbers are IEEE doubles: 7.100185761183819e16 is written 71001857611838190, which json.loads
    # would read as an int beyond 2^53 - so parse numbers as floats to re-canonicalise.
    decoded = json.loads(encoded, parse_int=float)
    assert decoded == value
    assert canonical_json(decoded) == encoded


def test_large_floats_are_written_without_exponent() -> None:
    assert canonical_json(7.100185761183819e16) == b"71001857611838190"
    with pytest.raises(InvalidInputError):
        canonical_json(json.loads(b"71001857611838190"))  # an int beyond 2^53


@pytest.mark.parametrize(
    "bad",
    [
        math.nan,
        math.inf,
        -math.inf,
        2**53,
        {1: "a"},
        {"a": {(1, 2): 3}},
        {1, 2},
        b"bytes",
        "\ud800",
        object(),
    ],
)
def test_canonical_json_rejects_non_json(bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        canonical_json(bad)
    with pytest.raises(InvalidInputError):
        document_hash({"x": [bad]})


def test_document_hash_is_keccak_of_canonical_json() -> None:
    doc = {"z": [1, 2.5], "a": "é"}
    assert document_hash(doc) == keccak(canonical_json(doc))
    assert len(document_hash(doc)) == 32
    assert document_hash({"a": 1}) != document_hash({"a": 2})


def test_keccak_text() -> None:
    assert keccak_text("").hex() == KECCAK_EMPTY
    assert keccak_text("héllo") == keccak("héllo".encode())
    not_text: Any = b"bytes"
    with pytest.raises(InvalidInputError):
        keccak_text(not_text)
    with pytest.raises(InvalidInputError):
        keccak_text("\udc00")


def test_to_hex() -> None:
    assert to_hex(b"\x00\xab\xff") == "0x00abff"
    assert to_hex(b"") == "0x"


def test_parse_bytes32_accepts_hex_any_case_and_raw_bytes() -> None:
    raw = bytes(range(32))
    assert parse_bytes32(to_hex(raw)) == raw
    assert parse_bytes32(to_hex(raw).upper().replace("0X", "0x")) == raw
    assert parse_bytes32("0X" + raw.hex()) == raw
    assert parse_bytes32(raw) == raw
    assert parse_bytes32(to_hex(keccak_text(""))) == keccak_text("")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "0x",
        "00" * 32,
        "0x" + "00" * 31,
        "0x" + "00" * 33,
        "0x" + "0g" * 32,
        " 0x" + "00" * 32,
        "0x" + "00" * 32 + "\n",
        b"\x00" * 31,
        b"\x00" * 33,
        12,
        None,
    ],
)
def test_parse_bytes32_rejects(bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        parse_bytes32(bad)


@given(json_values)
def test_fast_path_writes_exactly_the_rfc8785_bytes(value: Any) -> None:
    import rfc8785

    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        1.0,
        -0.0,
        4.5,
        1e-4,
        9.99e-5,
        1e16,
        1e21,
        2.0**53,
        0.1 + 0.2,
        {"é": 1, "z": 2},
        {"\ue000": 1, "\U0001f600": 2},
        '\x00\x1f"\\\u2028',
        [1, [2.5, {"b": None, "a": True}]],
    ],
)
def test_fast_path_edge_values(value: Any) -> None:
    import rfc8785

    assert canonical_json(value) == rfc8785.dumps(value)
