"""POST /v1/rpc over HTTP: the proxy's bounds come from settings, every answer is a JSON-RPC
response with status 200, and a response holds `result` or `error`, never both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from tracechain.api.app import create_app
from tracechain.chain.rpc_proxy import INVALID_PARAMS, LIMIT_EXCEEDED, METHOD_NOT_FOUND


@pytest.fixture
def tight_api(runtime) -> Iterator[TestClient]:  # noqa: ANN001
    settings = runtime.settings.model_copy(update={"proxy_max_block_range": 3, "proxy_max_batch": 2})
    with TestClient(create_app(replace(runtime, settings=settings))) as client:
        yield client


def rpc(method: str, *params: object, rid: int = 1) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)}


def test_a_success_holds_result_and_no_error(api: TestClient, runtime) -> None:  # noqa: ANN001
    response = api.post("/v1/rpc", json=rpc("eth_chainId"))
    assert response.status_code == 200
    assert response.json() == {"jsonrpc": "2.0", "id": 1, "result": hex(runtime.chain.chain_id)}


def test_an_error_holds_error_and_no_result(api: TestClient) -> None:
    response = api.post("/v1/rpc", json=rpc("eth_sendTransaction", {}))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"jsonrpc", "id", "error"} and body["error"]["code"] == METHOD_NOT_FOUND


def test_the_limits_are_the_settings(tight_api: TestClient) -> None:
    logs = tight_api.post("/v1/rpc", json=rpc("eth_getLogs", {"fromBlock": "0x0"})).json()
    assert logs["error"]["code"] == LIMIT_EXCEEDED and "limit of 3" in logs["error"]["message"]
    batch = tight_api.post("/v1/rpc", json=[rpc("eth_chainId", rid=i) for i in range(3)]).json()
    assert batch["error"]["code"] == LIMIT_EXCEEDED and "limit of 2" in batch["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [None, 1, "x", [], [1, "x"], {"method": 5}, rpc("eth_getCode", 5), rpc("eth_getBalance", "0x" + "1" * 40)],
)
def test_any_json_gets_a_json_rpc_answer_with_200(api: TestClient, body: object) -> None:
    response = api.post("/v1/rpc", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    answers = response.json()
    for answer in answers if isinstance(answers, list) else [answers]:
        assert answer["jsonrpc"] == "2.0" and "error" in answer and "result" not in answer


def test_no_body_at_all_is_422(api: TestClient) -> None:
    response = api.post("/v1/rpc")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_bad_params_are_invalid_params(api: TestClient) -> None:
    answer = api.post("/v1/rpc", json=rpc("eth_getBlockByNumber", "0x" + "f" * 17)).json()
    assert answer["error"]["code"] == INVALID_PARAMS
