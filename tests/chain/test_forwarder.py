"""ERC-2771 relaying: a signed request works once, from its signer only, before its deadline."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tracechain import errors


def _update_call(net, name):  # noqa: ANN001, ANN202
    m = net.accounts["manufacturer"]
    return net.contract("ActorRegistry").functions.updateActor(m.address, name, bytes(32))


def test_signed_request_is_relayed_once(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    request = any_net.relayed.sign_request(m, _update_call(any_net, "Relayed Name"))
    any_net.relayed.relay(request)
    assert any_net.actors.get_actor(m.address).name == "Relayed Name"
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):  # the nonce is spent
        any_net.relayed.relay(request)


def test_tampered_request_is_refused(net) -> None:
    m = net.accounts["manufacturer"]
    request = net.relayed.sign_request(m, _update_call(net, "Original"))
    forged = replace(request, data=_update_call(net, "Forged")._encode_transaction_data())
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        net.relayed.relay(forged)
    assert net.actors.get_actor(m.address).name == "Manufacturer"


def test_request_signed_by_someone_else_is_refused(net) -> None:
    m, retailer = net.accounts["manufacturer"], net.accounts["retailer"]
    request = net.relayed.sign_request(m, _update_call(net, "Mine"))
    resigned = net.relayed.sign(retailer, replace(request, signature=""))
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        net.relayed.relay(replace(resigned, sender=m.address))


def test_expired_request_is_refused(net) -> None:
    m = net.accounts["manufacturer"]
    request = net.relayed.sign_request(m, _update_call(net, "Late"), ttl=60)
    net.chain.increase_time(120)
    with pytest.raises(errors.ERC2771ForwarderExpiredRequest):
        net.relayed.relay(request)
    assert net.actors.get_actor(m.address).name == "Manufacturer"


def test_request_carrying_ether_is_refused_before_paying(net) -> None:
    m = net.accounts["manufacturer"]
    request = net.relayed.sign_request(m, _update_call(net, "Paid"))
    with pytest.raises(errors.InvalidInputError, match="value must be 0"):
        net.relayed.relay(net.relayed.sign(m, replace(request, value=1, signature="")))


def test_request_with_too_little_gas_is_refused_before_paying(net) -> None:
    m, relayer = net.accounts["manufacturer"], net.accounts["relayer"]
    request = net.relayed.sign_request(m, _update_call(net, "Starved " * 40))  # ~10 new storage slots
    balance, block = net.chain.w3.eth.get_balance(relayer.address), net.chain.w3.eth.block_number
    starved = net.relayed.sign(m, replace(request, gas=5_000, signature=""))
    with pytest.raises(errors.RequestGasError, match="outside"):
        net.relayed.relay(starved)  # below what any call needs
    starved = net.relayed.sign(m, replace(request, gas=30_000, signature=""))
    with pytest.raises(errors.RequestGasError, match="sign the request with more gas") as info:
        net.relayed.relay(starved)  # too little for this call
    assert isinstance(info.value, errors.InvalidInputError)  # the client's to fix: a 4xx, not a 500
    assert net.chain.w3.eth.get_balance(relayer.address) == balance  # nothing was sent
    assert net.chain.w3.eth.block_number == block


def test_concurrent_relays_by_one_relayer_never_reuse_a_nonce(any_net) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tracechain.chain.actors import ActorRegistryClient

    relayed = ActorRegistryClient(any_net.contract("ActorRegistry"), any_net.relayed)
    names = ["manufacturer", "logistics", "retailer", "inspector", "notary", "auditor"]

    def rename(name: str) -> int:
        account = any_net.accounts[name]
        return relayed.update_actor(account, account.address, f"{name} (renamed)").block_number

    with ThreadPoolExecutor(max_workers=6) as pool:
        blocks = list(pool.map(rename, names))
    assert len(blocks) == len(names)
    for name in names:
        assert any_net.actors.get_actor(any_net.accounts[name].address).name == f"{name} (renamed)"
