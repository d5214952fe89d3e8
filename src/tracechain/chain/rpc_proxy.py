"""A read-only JSON-RPC 2.0 endpoint over a Chain, with bounded work.

It serves the reads `tracechain verify --rpc` needs (blocks, receipts, code, calls, logs), so a chain
with no endpoint of its own (the embedded demo chain) can still be checked. Writes and signing are
never served. Every request is bounded: a batch by its length, `eth_getLogs` by its block range and
result count, `eth_call` / `eth_estimateGas` by a gas cap, and the whole HTTP request (a batch
included) by a wall-time budget. What goes beyond a bound gets a JSON-RPC error, never a hang.

On the embedded chain py-evm runs the EVM in Python in the calling thread (holding the chain's
lock): a trace function abandons it there once the budget is spent. On a node, the gas cap bounds
the node's work and the connection's timeout bounds the wait.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from web3.exceptions import BlockNotFound, TransactionNotFound

from tracechain.chain.connect import Chain
from tracechain.chain.reverts import revert_data
from tracechain.settings import Settings

# JSON-RPC 2.0 and EIP-1474 error codes.
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000  # also what geth answers for an aborted execution
LIMIT_EXCEEDED = -32005
EXECUTION_REVERTED = 3

METHODS = frozenset(
    {
        "eth_chainId",
        "net_version",
        "eth_blockNumber",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getCode",
        "eth_getTransactionReceipt",
        "eth_getTransactionByHash",
        "eth_call",
        "eth_estimateGas",
        "eth_getLogs",
    }
)
_TAGS = frozenset({"latest", "earliest", "pending", "safe", "finalized"})
_QUANTITY = re.compile(r"0x(0|[1-9a-fA-F][0-9a-fA-F]{0,15})")  # up to 2^64 - 1
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_FEES = ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas")
_CALL_KEYS = frozenset({"from", "to", "data", "input", "value", "gas", *_FEES})
_FILTER_KEYS = frozenset({"fromBlock", "toBlock", "blockHash", "address", "topics"})


@dataclass(frozen=True)
class ProxyLimits:
    """How much work one HTTP request to the proxy may cause (TRACECHAIN_PROXY_* settings)."""

    max_block_range: int = 10_000
    max_logs: int = 10_000
    gas_cap: int = 30_000_000
    timeout_seconds: float = 2.0
    max_batch: int = 100

    @classmethod
    def of(cls, settings: Settings) -> ProxyLimits:
        return cls(
            max_block_range=settings.proxy_max_block_range,
            max_logs=settings.proxy_max_logs,
            gas_cap=settings.proxy_gas_cap,
            timeout_seconds=settings.proxy_timeout_seconds,
            max_batch=settings.proxy_max_batch,
        )


class RpcError(Exception):
    """A JSON-RPC error object to answer with."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class ExecutionAborted(BaseException):
    """Raised inside in-process work whose time is up. A BaseException, so that no `except
    Exception` in web3, eth-tester or py-evm swallows it on its way out."""


@contextmanager
def abandoned_after(deadline: float) -> Iterator[None]:
    """Run the block in this thread until `deadline` (time.monotonic), then abandon it.

    A trace function sees every Python call this thread makes and raises ExecutionAborted at the
    first one after the deadline. py-evm is pure Python and builds a throw-away state for each call
    (nothing is committed before it ends), so abandoning an `eth_call` leaves the chain as it was;
    the lock around the embedded chain is released as the exception unwinds. Any tracer already
    installed (a debugger, coverage) is suspended meanwhile.
    """

    def trace(frame: FrameType, event: str, arg: Any) -> None:
        if time.monotonic() > deadline:
            raise ExecutionAborted
        return None  # no per-line tracing: only calls are watched

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        yield
    finally:
        sys.settrace(previous)


class ReadOnlyRpcProxy:
    """Answers standard JSON-RPC 2.0 requests (single or batched) with the read-only METHODS."""

    def __init__(self, chain: Chain, limits: ProxyLimits | None = None) -> None:
        self.chain = chain
        self.limits = limits or ProxyLimits()

    def answer(self, body: Any) -> dict[str, Any] | list[dict[str, Any]]:
        """The response to `body`, a request object or a batch (list) of them. Never raises."""
        deadline = time.monotonic() + self.limits.timeout_seconds
        if not isinstance(body, list):
            return self._one(body, deadline)
        if not body:
            return _error(None, INVALID_REQUEST, "invalid request: empty batch")
        if len(body) > self.limits.max_batch:
            return _error(
                None, LIMIT_EXCEEDED, f"batch of {len(body)} calls exceeds the limit of {self.limits.max_batch}"
            )
        return [self._one(item, deadline) for item in body]

    # ---------------------------------------------------------------- one call
    def _one(self, request: Any, deadline: float) -> dict[str, Any]:
        rid = request.get("id") if isinstance(request, dict) else None
        if not isinstance(rid, str | int | None) or isinstance(rid, bool):
            rid = None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return _error(rid, INVALID_REQUEST, "invalid request: expected an object with a method")
        method, params = request["method"], request.get("params", [])
        if method not in METHODS:
            return _error(rid, METHOD_NOT_FOUND, f"method {method[:64]!r} is not served here (read-only endpoint)")
        if not isinstance(params, list):
            return _error(rid, INVALID_PARAMS, "params must be an array")
        if time.monotonic() > deadline:
            return _error(rid, LIMIT_EXCEEDED, self._budget_message("spent before this call"))
        try:
            if self.chain.embedded:
                with abandoned_after(deadline):
                    result = self._call(method, params)
            else:
                result = self._call(method, params)
        except RpcError as exc:
            return _error(rid, exc.code, exc.message, exc.data)
        except ExecutionAborted:
            return _error(rid, SERVER_ERROR, self._budget_message("spent: execution aborted"))
        except Exception as exc:  # a JSON-RPC client expects an error object, whatever went wrong
            data = revert_data(exc)
            if data is not None:
                return _error(rid, EXECUTION_REVERTED, "execution reverted", "0x" + data.hex())
            return _error(rid, SERVER_ERROR, str(exc)[:500] or type(exc).__name__)
        return {"jsonrpc": "2.0", "id": rid, "result": to_wire(result)}

    def _budget_message(self, what: str) -> str:
        return f"time budget of this request ({self.limits.timeout_seconds:g} s) {what}"

    def _call(self, method: str, params: list[Any]) -> Any:
        eth = self.chain.w3.eth
        if method in ("eth_chainId", "net_version"):
            return self.chain.chain_id if method == "eth_chainId" else str(self.chain.chain_id)
        if method == "eth_blockNumber":
            return eth.block_number
        if method in ("eth_getBlockByNumber", "eth_getBlockByHash"):
            block = _block_id(_param(params, 0)) if method == "eth_getBlockByNumber" else _hash(_param(params, 0))
            full = _param(params, 1, False)
            if not isinstance(full, bool):
                raise RpcError(INVALID_PARAMS, "the second parameter (full transactions) must be a boolean")
            try:
                return eth.get_block(block, full)  # type: ignore[arg-type]
            except BlockNotFound:
                return None  # what a node answers for a block it does not have
        if method == "eth_getCode":
            return eth.get_code(_address(_param(params, 0)), _block_id(_param(params, 1, "latest")))  # type: ignore[arg-type]
        if method in ("eth_getTransactionReceipt", "eth_getTransactionByHash"):
            tx_hash: Any = _hash(_param(params, 0))
            try:
                if method == "eth_getTransactionReceipt":
                    return eth.get_transaction_receipt(tx_hash)
                return eth.get_transaction(tx_hash)
            except TransactionNotFound:
                return None
        if method in ("eth_call", "eth_estimateGas"):
            call = self._capped_call(_param(params, 0))
            block = _block_id(_param(params, 1, "latest"))
            if method == "eth_call":
                return eth.call(call, block)  # type: ignore[arg-type]
            return eth.estimate_gas(call, block)  # type: ignore[arg-type]
        return self._logs(_param(params, 0))

    def _capped_call(self, value: Any) -> dict[str, Any]:
        """The call object with checked fields and its gas held at the cap (as geth's RPCGasCap does)."""
        if not isinstance(value, dict):
            raise RpcError(INVALID_PARAMS, "the call must be an object")
        unknown = set(value) - _CALL_KEYS
        if unknown:
            raise RpcError(INVALID_PARAMS, f"unsupported call fields: {', '.join(sorted(unknown))}")
        call: dict[str, Any] = {}
        for key in ("from", "to"):
            if value.get(key) is not None:
                call[key] = _address(value[key])
        data = value.get("input", value.get("data"))
        if data is not None:
            call["data"] = _data(data)
        for key in ("value", *_FEES):
            if value.get(key) is not None:
                call[key] = _quantity(value[key])
        gas = _quantity(value["gas"]) if value.get("gas") is not None else self.limits.gas_cap
        call["gas"] = min(gas, self.limits.gas_cap)
        return call

    def _logs(self, value: Any) -> list[Any]:
        if not isinstance(value, dict):
            raise RpcError(INVALID_PARAMS, "the filter must be an object")
        unknown = set(value) - _FILTER_KEYS
        if unknown:
            raise RpcError(INVALID_PARAMS, f"unsupported filter fields: {', '.join(sorted(unknown))}")
        flt: dict[str, Any] = {}
        if value.get("address") is not None:
            addresses = value["address"]
            flt["address"] = [_address(a) for a in addresses] if isinstance(addresses, list) else _address(addresses)
        if value.get("topics") is not None:
            flt["topics"] = _topics(value["topics"])
        if value.get("blockHash") is not None:
            if "fromBlock" in value or "toBlock" in value:
                raise RpcError(INVALID_PARAMS, "blockHash excludes fromBlock and toBlock")
            flt["blockHash"] = _hash(value["blockHash"])
        else:
            head = int(self.chain.w3.eth.block_number)
            first = self._number(value.get("fromBlock", "latest"), head)
            last = self._number(value.get("toBlock", "latest"), head)
            span = min(last, head) - first + 1  # blocks past the head hold nothing yet
            if span > self.limits.max_block_range:
                raise RpcError(
                    LIMIT_EXCEEDED,
                    f"block range of {span} blocks exceeds the limit of {self.limits.max_block_range}",
                    {"from": hex(first), "to": hex(min(last, first + self.limits.max_block_range - 1))},
                )
            flt["fromBlock"], flt["toBlock"] = first, last
        logs = list(self.chain.w3.eth.get_logs(flt))  # type: ignore[arg-type]
        if len(logs) > self.limits.max_logs:
            raise RpcError(LIMIT_EXCEEDED, f"query returned more than {self.limits.max_logs} results")
        return logs

    @staticmethod
    def _number(value: Any, head: int) -> int:
        block = _block_id(value)
        if block == "earliest":
            return 0
        return head if isinstance(block, str) else block


# ---------------------------------------------------------------- parameter checks
def _error(rid: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return {"jsonrpc": "2.0", "id": rid, "error": body}


def _param(params: list[Any], index: int, default: Any = ...) -> Any:
    if index < len(params):
        return params[index]
    if default is ...:
        raise RpcError(INVALID_PARAMS, f"missing parameter {index}")
    return default


def _block_id(value: Any) -> int | str:
    if isinstance(value, str) and value in _TAGS:
        return value
    return _quantity(value, "a block number (0x-hex) or tag")


def _quantity(value: Any, what: str = "a 0x-hex quantity") -> int:
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise RpcError(INVALID_PARAMS, f"expected {what} below 2^64, got {str(value)[:80]!r}")
    return int(value, 16)


def _hash(value: Any) -> str:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise RpcError(INVALID_PARAMS, f"expected a 32-byte 0x-hex hash, got {str(value)[:80]!r}")
    return value.lower()


def _address(value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise RpcError(INVALID_PARAMS, f"expected a 20-byte 0x-hex address, got {str(value)[:80]!r}")
    from eth_utils import to_checksum_address

    return str(to_checksum_address(value))


def _data(value: Any) -> str:
    if not isinstance(value, str) or not _DATA.fullmatch(value):
        raise RpcError(INVALID_PARAMS, "expected 0x-hex bytes as call data")
    return value


def _topics(value: Any) -> list[Any]:
    if not isinstance(value, list) or len(value) > 4:
        raise RpcError(INVALID_PARAMS, "topics must be an array of at most 4 entries")
    topics: list[Any] = []
    for entry in value:
        if entry is None:
            topics.append(None)
        elif isinstance(entry, list):
            topics.append([_hash(t) for t in entry])
        else:
            topics.append(_hash(entry))
    return topics


def to_wire(value: Any) -> Any:
    """web3's Python values back in JSON-RPC's wire form: quantities and bytes as 0x-hex."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    return str(value)
