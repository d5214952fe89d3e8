"""Every custom error any contract can raise decodes to a named Python exception."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from tracechain import errors
from tracechain.chain.reverts import default_decoder, revert_data


def test_every_custom_error_has_its_exception_class() -> None:
    def has_class(name: str) -> bool:
        cls = getattr(errors, name, None)
        return isinstance(cls, type) and issubclass(cls, errors.ContractRevertError)

    missing = sorted(name for name in default_decoder().error_names if not has_class(name))
    assert missing == [], f"add these classes to tracechain/errors.py: {missing}"


def test_decode_carries_named_arguments() -> None:
    selector = function_signature_to_4byte_selector("ActorRegistryMissingRole(address,bytes32)")
    account = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    exc = default_decoder().decode(selector + encode(["address", "bytes32"], [account, b"\x01" * 32]))
    assert isinstance(exc, errors.ActorRegistryMissingRole)
    assert exc.error_args == {"account": account, "role": "0x" + "01" * 32}
    assert exc.code == "actor_registry_missing_role"


def test_unknown_selector_and_revert_strings() -> None:
    assert isinstance(default_decoder().decode(b"\xde\xad\xbe\xef"), errors.UnknownContractError)
    reason = function_signature_to_4byte_selector("Error(string)") + encode(["string"], ["boom"])
    exc = default_decoder().decode(reason)
    assert isinstance(exc, errors.TransactionError) and "boom" in str(exc)


def test_revert_data_is_found_in_both_error_shapes() -> None:
    data = b"\x21\x8f\xd4\xec" + bytes(32)
    assert revert_data(Exception(f"execution reverted: {data!r}")) == data  # eth-tester
    hex_error = Exception("execution reverted")
    hex_error.data = "0x" + data.hex()  # type: ignore[attr-defined]  # web3 ContractCustomError
    assert revert_data(hex_error) == data


def test_a_sender_without_ether_is_a_client_error_not_revert_data(net) -> None:  # noqa: ANN001
    """eth-tester's "cannot afford" message carries the sender's address, which once read as revert
    data (an unknown contract error, a 500)."""
    from eth_account import Account

    from tracechain.chain.transact import Transactor

    poor = Account.create()
    call = net.contract("ActorRegistry").functions.updateActor(poor.address, "x", bytes(32))
    with pytest.raises(errors.InsufficientFundsError):
        Transactor(net.chain).send(poor, call, gas=100_000)
