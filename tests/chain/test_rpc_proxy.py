"""The read-only JSON-RPC proxy: bounded work (batch, log range and count, gas, wall time) and
JSON-RPC errors with their proper codes, never a hang or an exception."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tracechain.chain.rpc_proxy import (
    EXECUTION_REVERTED,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    METHOD_NOT_FOUND,
    SERVER_ERROR,
    ExecutionAborted,
    ProxyLimits,
    ReadOnlyRpcProxy,
    abandoned_after,
)

ENDLESS_LOOP = "5b600056"  # JUMPDEST PUSH1 0 JUMP
RETURN_GAS_LEFT = "5a60005260206000f3"  # GAS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
REVERT_WITH_DATA = "63deadbeef60e01b60005260046000fd"  # revert(0, 4) with 0xdeadbeef
GAS_CAP = 1_000_000
HASH = "0x" + "1" * 64


def deploy_code(net, runtime_hex: str) -> str:  # noqa: ANN001
    """Deploy a contract whose runtime code is `runtime_hex` (init code copies and returns it)."""
    code = bytes.fromhex(runtime_hex)
    init = bytes([0x60, len(code), 0x80, 0x60, 0x0B, 0x60, 0x00, 0x39, 0x60, 0x00, 0xF3]) + code
    account = net.accounts["outsider"]
    w3 = net.chain.w3
    tx = {
        "from": account.address,
        "data": "0x" + init.hex(),
        "gas": 200_000,
        "gasPrice": w3.eth.gas_price,
        "nonce": w3.eth.get_transaction_count(account.address),
        "chainId": net.chain.chain_id,
    }
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    return str(receipt["contractAddress"])


def call(proxy: ReadOnlyRpcProxy, method: str, *params: Any) -> dict[str, Any]:
    answer = proxy.answer({"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)})
    assert isinstance(answer, dict) and answer["id"] == 7
    return answer


def error_of(answer: dict[str, Any]) -> tuple[int, str]:
    assert "result" not in answer, answer
    return answer["error"]["code"], answer["error"]["message"]


# ---------------------------------------------------------------- eth_getLogs
def test_get_logs_over_more_blocks_than_the_cap_is_refused(any_net) -> None:  # noqa: ANN001
    head = int(any_net.chain.w3.eth.block_number)
    assert head > 5
    proxy = ReadOnlyRpcProxy(any_net.chain, ProxyLimits(max_block_range=5))
    code, message = error_of(call(proxy, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"}))
    assert code == LIMIT_EXCEEDED and f"{head + 1} blocks" in message
    for flt in ({"fromBlock": "earliest"}, {"fromBlock": hex(head - 10), "toBlock": hex(head + 10**6)}):
        assert error_of(call(proxy, "eth_getLogs", flt))[0] == LIMIT_EXCEEDED
    within = call(proxy, "eth_getLogs", {"fromBlock": hex(head - 4), "toBlock": "latest"})
    assert isinstance(within["result"], list)


def test_get_logs_with_more_results_than_the_cap_is_refused(any_net) -> None:  # noqa: ANN001
    everything = {"fromBlock": "0x0", "toBlock": "latest"}
    count = len(call(ReadOnlyRpcProxy(any_net.chain), "eth_getLogs", everything)["result"])
    assert count > 3  # deployment and the cast's registration logged plenty
    code, message = error_of(call(ReadOnlyRpcProxy(any_net.chain, ProxyLimits(max_logs=3)), "eth_getLogs", everything))
    assert code == LIMIT_EXCEEDED and "more than 3 results" in message


# ---------------------------------------------------------------- eth_call / eth_estimateGas
def test_call_gas_is_held_at_the_cap(any_net) -> None:  # noqa: ANN001
    target = deploy_code(any_net, RETURN_GAS_LEFT)
    proxy = ReadOnlyRpcProxy(any_net.chain, ProxyLimits(gas_cap=GAS_CAP))
    for asked in (None, hex(2**64 - 1), hex(GAS_CAP * 10)):
        tx = {"to": target} if asked is None else {"to": target, "gas": asked}
        left = int(call(proxy, "eth_call", tx, "latest")["result"], 16)
        assert GAS_CAP - 30_000 < left < GAS_CAP
    lower = int(call(proxy, "eth_call", {"to": target, "gas": hex(100_000)}, "latest")["result"], 16)
    assert lower < 100_000  # a lower limit is kept


def test_an_endless_call_ends_at_the_gas_cap_on_a_node(anvil_net) -> None:  # noqa: ANN001
    """On a node the gas cap bounds the node's work: Anvil runs 30M gas in no time."""
    loop = deploy_code(anvil_net, ENDLESS_LOOP)
    proxy = ReadOnlyRpcProxy(anvil_net.chain)
    assert error_of(call(proxy, "eth_call", {"to": loop, "gas": hex(2**64 - 1)}, "latest"))[0] == SERVER_ERROR
    assert error_of(call(proxy, "eth_estimateGas", {"to": loop, "gas": hex(2**64 - 1)}))[0] == SERVER_ERROR


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas"])
def test_an_endless_call_on_the_embedded_chain_is_abandoned_at_the_time_budget(net, method: str) -> None:  # noqa: ANN001
    """py-evm needs seconds per million gas: 30M gas of loop would hold the chain's lock for long.
    (No machine runs 30M gas of Python EVM in 0.2 s, so this does not depend on its speed.)"""
    loop = deploy_code(net, ENDLESS_LOOP)
    proxy = ReadOnlyRpcProxy(net.chain, ProxyLimits(timeout_seconds=0.2))
    code, message = error_of(call(proxy, method, {"to": loop}, "latest"))
    assert code == SERVER_ERROR and "execution aborted" in message
    assert call(proxy, "eth_blockNumber")["result"] == hex(net.chain.w3.eth.block_number)  # the chain still answers


def test_a_batch_shares_one_time_budget(net) -> None:  # noqa: ANN001
    loop = deploy_code(net, ENDLESS_LOOP)
    proxy = ReadOnlyRpcProxy(net.chain, ProxyLimits(timeout_seconds=0.2))
    endless = {"jsonrpc": "2.0", "method": "eth_call", "params": [{"to": loop}, "latest"]}
    answers = proxy.answer([{**endless, "id": i} for i in range(3)])
    assert isinstance(answers, list)
    assert [a["error"]["code"] for a in answers] == [SERVER_ERROR, LIMIT_EXCEEDED, LIMIT_EXCEEDED]
    assert "spent before this call" in answers[2]["error"]["message"]


def test_a_revert_is_code_3_with_its_data(net) -> None:  # noqa: ANN001
    target = deploy_code(net, REVERT_WITH_DATA)
    answer = call(ReadOnlyRpcProxy(net.chain), "eth_call", {"to": target}, "latest")
    assert answer["error"] == {"code": EXECUTION_REVERTED, "message": "execution reverted", "data": "0xdeadbeef"}


def test_abandoning_stops_python_work_and_restores_the_previous_tracer() -> None:
    def spin() -> None:
        while True:
            abs(-1)
            (lambda: None)()

    def tracer(frame, event, arg):  # noqa: ANN001, ANN202
        return None

    sys.settrace(tracer)
    try:
        with pytest.raises(ExecutionAborted), abandoned_after(0.0):
            spin()
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)


# ---------------------------------------------------------------- requests and batches
def test_batches_are_bounded_and_never_empty(net) -> None:  # noqa: ANN001
    proxy = ReadOnlyRpcProxy(net.chain, ProxyLimits(max_batch=2))
    one = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    assert [a["result"] for a in proxy.answer([one, one])] == [hex(net.chain.chain_id)] * 2  # type: ignore[index]
    too_many = proxy.answer([one] * 3)
    assert isinstance(too_many, dict) and too_many["error"]["code"] == LIMIT_EXCEEDED and too_many["id"] is None
    empty = proxy.answer([])
    assert isinstance(empty, dict) and empty["error"]["code"] == INVALID_REQUEST


@pytest.mark.parametrize(
    ("request_body", "code"),
    [
        ("eth_blockNumber", INVALID_REQUEST),
        ({"id": 1}, INVALID_REQUEST),
        ({"id": 1, "method": "eth_sendRawTransaction", "params": ["0x00"]}, METHOD_NOT_FOUND),
        ({"id": 1, "method": "eth_getCode", "params": {"address": "0x00"}}, INVALID_PARAMS),
        ({"id": 1, "method": "eth_getCode", "params": ["0x12"]}, INVALID_PARAMS),
        ({"id": 1, "method": "eth_getBlockByNumber", "params": ["0x" + "f" * 40]}, INVALID_PARAMS),
        ({"id": 1, "method": "eth_getBlockByNumber", "params": ["latest", "yes"]}, INVALID_PARAMS),
        ({"id": 1, "method": "eth_getTransactionReceipt", "params": []}, INVALID_PARAMS),
        ({"id": 1, "method": "eth_call", "params": [{"to": "0x" + "1" * 40, "gas": 5}]}, INVALID_PARAMS),
        ({"id": 1, "method": "eth_call", "params": [{"to": "0x" + "1" * 40, "nonce": "0x1"}]}, INVALID_PARAMS),
        ({"id": 1, "method": "eth_getLogs", "params": [{"topics": ["0x12"]}]}, INVALID_PARAMS),
        ({"id": 1, "method": "eth_getLogs", "params": [{"blockHash": HASH, "fromBlock": "0x1"}]}, INVALID_PARAMS),
    ],
)
def test_malformed_calls_get_their_json_rpc_error(net, request_body: Any, code: int) -> None:  # noqa: ANN001
    answer = ReadOnlyRpcProxy(net.chain).answer(request_body)
    assert isinstance(answer, dict) and error_of(answer)[0] == code


def test_unknown_blocks_and_transactions_are_null_results(net) -> None:  # noqa: ANN001
    proxy = ReadOnlyRpcProxy(net.chain)
    assert call(proxy, "eth_getBlockByNumber", hex(10**9), False)["result"] is None
    assert call(proxy, "eth_getTransactionReceipt", "0x" + "ab" * 32)["result"] is None
