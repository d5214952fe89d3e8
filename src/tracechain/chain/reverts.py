"""Decodes contract custom errors (from any artifact's ABI) into named TraceChain exceptions."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from tracechain import errors
from tracechain.chain.artifact import Artifact, all_artifacts

_HEX_DATA = re.compile(r"0x[0-9a-fA-F]{8,}")
_BYTES_REPR = re.compile(r"""(b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*")""")
# Solidity's built-in Error(string) and Panic(uint256) selectors.
_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


@dataclass(frozen=True)
class _ErrorSpec:
    name: str
    types: list[str]
    names: list[str]


def _abi_type(item: dict[str, Any]) -> str:
    """Canonical ABI type string, expanding tuples."""
    t = str(item["type"])
    if t.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + t[len("tuple") :]
    return t


class RevertDecoder:
    """Maps 4-byte selectors of every custom error in the given ABIs to exception classes."""

    def __init__(self, artifacts: Iterable[Artifact]) -> None:
        self._specs: dict[bytes, _ErrorSpec] = {}
        for artifact in artifacts:
            for item in artifact.abi:
                if item.get("type") != "error":
                    continue
                types = [_abi_type(i) for i in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                self._specs[selector] = _ErrorSpec(item["name"], types, [i["name"] for i in item["inputs"]])

    @property
    def error_names(self) -> set[str]:
        """Names of every custom error this decoder knows."""
        return {spec.name for spec in self._specs.values()}

    def decode(self, data: bytes) -> errors.TraceChainError:
        """The exception for revert `data` (selector + ABI-encoded arguments)."""
        selector, payload = data[:4], data[4:]
        if selector == _ERROR_STRING:
            (reason,) = abi_decode(["string"], payload)
            return errors.TransactionError(f"reverted: {reason}")
        if selector == _PANIC:
            (code,) = abi_decode(["uint256"], payload)
            return errors.TransactionError(f"contract panicked with code 0x{code:02x}")
        spec = self._specs.get(selector)
        if spec is None:
            return errors.UnknownContractError({"data": data}, error_name="UnknownError")
        values = abi_decode(spec.types, payload) if spec.types else ()
        args = {
            name or f"arg{i}": _plain(t, v)
            for i, (name, t, v) in enumerate(zip(spec.names, spec.types, values, strict=True))
        }
        cls = getattr(errors, spec.name, None)
        if isinstance(cls, type) and issubclass(cls, errors.ContractRevertError):
            return cls(args)
        return errors.UnknownContractError(args, error_name=spec.name)

    def translate(self, exc: BaseException) -> errors.TraceChainError:
        """Turn an exception raised by web3 / eth-tester for a failed call into ours."""
        text = str(exc)
        if "cannot afford txn gas" in text or "insufficient funds" in text.lower():
            return errors.InsufficientFundsError(
                "the account has too little ether to pay for the gas",
                hint="fund it, or sign a request for the operator to relay",
            )
        data = revert_data(exc)
        if data:
            return self.decode(data)
        return errors.TransactionError(f"transaction failed: {exc}")


def _plain(abi_type: str, value: Any) -> Any:
    """Decoded values in TraceChain's one form: checksummed addresses, 0x-hex bytes."""
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def revert_data(exc: BaseException) -> bytes | None:
    """Raw revert data carried by `exc`, if any (web3's ContractCustomError/ContractLogicError
    carry it in `.data`; eth-tester's TransactionFailed in its message)."""
    data = getattr(exc, "data", None)
    if isinstance(data, bytes) and len(data) >= 4:
        return data
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        return bytes.fromhex(data[2:])
    for arg in exc.args:
        if isinstance(arg, bytes) and len(arg) >= 4:
            return arg
        if isinstance(arg, str):
            literal = _BYTES_REPR.search(arg)  # eth-tester: "execution reverted: b'...'"
            if literal:
                value = ast.literal_eval(literal.group(0))
                if len(value) >= 4:
                    return bytes(value)
            match = _HEX_DATA.search(arg)
            if match:
                return bytes.fromhex(match.group(0)[2:])
    if exc.__cause__ is not None and exc.__cause__ is not exc:
        return revert_data(exc.__cause__)
    return None


@cache
def default_decoder() -> RevertDecoder:
    """A decoder over every committed artifact."""
    return RevertDecoder(all_artifacts())
