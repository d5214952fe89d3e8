"""Request bodies are bounded before they are parsed (size 413, nesting 400) and parsed as strict
JSON (anything else 400 `invalid_json`), with the project's error shape; the OpenAPI says so."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

import tracechain
from tracechain.api.app import create_app
from tracechain.api.bodies import Nesting, json_nesting

VERIFY = "/v1/verify"
HASH = "0x" + "ab" * 32


def depth_of(value: object) -> int:
    """Nesting depth of a parsed JSON value (iteratively: some values here are deep)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.fixture
def small_api(runtime) -> Iterator[TestClient]:  # noqa: ANN001
    """The API with a 4 KiB body limit and a nesting limit of 16."""
    settings = runtime.settings.model_copy(update={"max_body_bytes": 4096, "max_json_depth": 16})
    with TestClient(create_app(replace(runtime, settings=settings))) as client:
        yield client


def assert_error(response, status: int, code: str) -> None:  # noqa: ANN001
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"], body


# ---------------------------------------------------------------- nesting
def test_a_body_nested_100000_deep_is_refused_and_the_server_lives() -> None:
    """Before the limit this segfaulted the process (py_ecc lifts the recursion limit, and the C JSON
    parser overflowed the C stack); run apart, so a regression fails this test, not the suite."""
    script = textwrap.dedent(
        f"""
        import sys
        from types import SimpleNamespace
        import py_ecc  # noqa: F401 - sets the recursion limit to 100000, as in the server
        from fastapi.testclient import TestClient
        from tracechain.api.app import create_app
        from tracechain.settings import Settings
        assert sys.getrecursionlimit() >= 100000
        client = TestClient(create_app(SimpleNamespace(settings=Settings())))
        body = b"[" * 100_000 + b"]" * 100_000
        response = client.post("{VERIFY}", content=body, headers={{"content-type": "application/json"}})
        print(response.status_code, response.json()["error"]["code"])
        """
    )
    src = str(Path(tracechain.__file__).parents[1])
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env={"PYTHONPATH": src}
    )
    assert done.returncode == 0, f"the server process died (exit {done.returncode}): {done.stderr[-2000:]}"
    assert done.stdout.split() == ["400", "json_too_deep"]


def test_nesting_beyond_the_limit_is_400_and_at_the_limit_is_parsed(small_api: TestClient) -> None:
    too_deep = small_api.post(VERIFY, content=b'{"record": ' + nested(16) + b"}")  # 17 levels
    assert_error(too_deep, 400, "json_too_deep")
    at_limit = small_api.post(VERIFY, content=b'{"record": ' + nested(15) + b', "record_hash": "%b"}' % HASH.encode())
    assert at_limit.status_code != 400, at_limit.text  # parsed and judged on its merits


def test_brackets_inside_strings_do_not_count(small_api: TestClient) -> None:
    record = {"note": "[[[[{{{{" * 100 + '\\"[' * 50}
    response = small_api.post(VERIFY, json={"record": record, "record_hash": HASH})
    assert response.status_code == 422 and response.json()["error"]["code"] == "record_hash_mismatch"


def test_a_10000_event_epcis_document_passes_the_default_limits(runtime) -> None:  # noqa: ANN001
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:00:00.000Z",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["urn:epc:id:sgtin:9506000.134352.SN-0001"],
        "action": "OBSERVE",
        "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
        "disposition": "urn:epcglobal:cbv:disp:in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:9506000.00001.0"},
        "bizTransactionList": [{"type": "urn:epcglobal:cbv:btt:po", "bizTransaction": "urn:epc:id:gdti:x.y.1"}],
        "sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL"}]}],
    }
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "epcisBody": {"eventList": [event] * 10_000},
    }
    body = json.dumps({"document": document}).encode()
    assert len(body) < runtime.settings.max_body_bytes
    assert json_nesting(body, runtime.settings.max_json_depth) is Nesting.OK


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab ,:'),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a'), children, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=_JSON, limit=st.integers(min_value=1, max_value=8))
def test_nesting_scan_agrees_with_the_parsed_depth(value: object, limit: int) -> None:
    body = json.dumps(value).encode()
    assert (json_nesting(body, limit) is Nesting.OK) == (depth_of(json.loads(body)) <= limit)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(body=st.binary(max_size=40) | st.text(alphabet='[]{}"\\a ,:0', max_size=40).map(str.encode))
def test_nesting_scan_never_passes_what_a_parser_would_nest_deeper(body: bytes) -> None:
    """For any bytes, what the scan passes stays within the limit as far as a JSON parser gets."""
    if json_nesting(body, 2) is Nesting.OK:
        try:
            value = json.loads(body)
        except ValueError:
            return  # the parser stops at its first error, no deeper than the scan measured
        assert depth_of(value) <= 2


# ---------------------------------------------------------------- size
def test_a_declared_length_beyond_the_limit_is_413_before_reading(small_api: TestClient) -> None:
    response = small_api.post(VERIFY, content=b"{" + b" " * 5000 + b"}", headers={"content-type": "application/json"})
    assert_error(response, 413, "body_too_large")


def test_a_streamed_body_beyond_the_limit_is_413(small_api: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"record": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    # a generator is sent chunked, without Content-Length: the limit is counted as it streams in
    response = small_api.post(VERIFY, content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413, "body_too_large")


# ---------------------------------------------------------------- malformed JSON
@pytest.mark.parametrize(
    "body",
    [
        b'{"record": ',
        b"{'record': 1}",
        b'{"record": NaN, "record_hash": "' + HASH.encode() + b'"}',
        b'{"record": -Infinity}',
        b'{"record": "\xff\xfe"}',
        '{"record": 1}'.encode("utf-16"),
        b'{"record": ' + b"9" * 5000 + b"}",
        b"]]",
    ],
    ids=["truncated", "single-quotes", "nan", "infinity", "not-utf8", "utf16", "huge-number", "unbalanced"],
)
def test_malformed_json_is_400_invalid_json(api: TestClient, body: bytes) -> None:
    response = api.post(VERIFY, content=body, headers={"content-type": "application/json"})
    assert_error(response, 400, "invalid_json")


def test_a_valid_body_of_the_wrong_shape_is_still_422(api: TestClient) -> None:
    response = api.post(VERIFY, json={"record_hash": "nope"})
    assert_error(response, 422, "invalid_request")


def test_every_json_body_operation_documents_400_and_413(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    with_body = [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if "application/json" in op.get("requestBody", {}).get("content", {})
    ]
    assert len(with_body) == 14
    for method, path, op in with_body:
        for status in ("400", "413", "422"):
            documented = op["responses"].get(status, {}).get("content", {}).get("application/json", {})
            assert documented.get("schema") == {"$ref": "#/components/schemas/ErrorPublic"}, (method, path, status)
