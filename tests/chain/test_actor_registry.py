"""ActorRegistry: every write path, its events, and each refusal as a named Python exception."""

from __future__ import annotations

import pytest
from web3.logs import EventLogErrorFlags

from tracechain import errors
from tracechain.hashing import keccak_text
from tracechain.types import Role


def _events(net, result, name):  # noqa: ANN001, ANN202
    event = getattr(net.contract("ActorRegistry").events, name)()
    return list(event.process_receipt({"logs": result.logs}, errors=EventLogErrorFlags.Discard))


def test_register_actor_records_name_roles_and_emits(any_net) -> None:
    gov, newcomer = any_net.accounts["governance"], any_net.accounts["outsider"]
    meta = keccak_text("profile")
    result = any_net.actors.register_actor(gov, newcomer.address, "Harbor Logistics", [Role.LOGISTICS], meta)

    actor = any_net.actors.get_actor(newcomer.address)
    assert actor is not None
    assert (actor.name, actor.roles, actor.metadata_hash) == ("Harbor Logistics", (Role.LOGISTICS,), "0x" + meta.hex())
    assert any_net.actors.is_active(newcomer.address, Role.LOGISTICS)
    (event,) = _events(any_net, result, "ActorRegistered")
    assert event.args.account == newcomer.address and event.args.name == "Harbor Logistics"


def test_unregistered_account_is_unknown(net) -> None:
    assert net.actors.get_actor(net.accounts["outsider"].address) is None


def test_non_governance_cannot_register(any_net) -> None:
    manufacturer = any_net.accounts["manufacturer"]
    with pytest.raises(errors.ActorRegistryMissingRole) as info:
        any_net.actors.register_actor(manufacturer, any_net.accounts["outsider"].address, "Shadow", [])
    assert info.value.error_args == {"account": manufacturer.address, "role": "0x" + bytes(32).hex()}
    assert isinstance(info.value, errors.PermissionDeniedError)


def test_register_twice_is_refused(net) -> None:
    gov, m = net.accounts["governance"], net.accounts["manufacturer"]
    with pytest.raises(errors.ActorRegistryActorExists) as info:
        net.actors.register_actor(gov, m.address, "Again", [])
    assert info.value.error_args == {"account": m.address}


def test_empty_name_is_refused(net) -> None:
    with pytest.raises(errors.ActorRegistryEmptyName):
        net.actors.register_actor(net.accounts["governance"], net.accounts["outsider"].address, "", [])


def test_zero_address_is_refused(net) -> None:
    with pytest.raises(errors.TraceChainZeroAddress):
        net.actors.register_actor(net.accounts["governance"], "0x" + "00" * 20, "Nobody", [])


def test_roles_go_only_to_registered_actors(net) -> None:
    with pytest.raises(errors.ActorRegistryUnknownActor):
        net.actors.grant_role(net.accounts["governance"], net.accounts["outsider"].address, Role.RETAILER)


def test_grant_and_revoke_role(net) -> None:
    gov, retailer = net.accounts["governance"], net.accounts["retailer"]
    net.actors.grant_role(gov, retailer.address, Role.INSPECTOR)
    assert net.actors.is_active(retailer.address, Role.INSPECTOR)
    net.actors.revoke_role(gov, retailer.address, Role.INSPECTOR)
    assert not net.actors.is_active(retailer.address, Role.INSPECTOR)


def test_non_governance_cannot_grant_or_revoke(net) -> None:
    retailer = net.accounts["retailer"]
    with pytest.raises(errors.ActorRegistryMissingRole):
        net.actors.grant_role(retailer, retailer.address, Role.MANUFACTURER)
    with pytest.raises(errors.ActorRegistryMissingRole):
        net.actors.revoke_role(retailer, net.accounts["manufacturer"].address, Role.MANUFACTURER)


def test_actor_updates_own_profile_and_governance_may_too(net) -> None:
    gov, m = net.accounts["governance"], net.accounts["manufacturer"]
    net.actors.update_actor(m, m.address, "Acme Foods Ltd")
    assert net.actors.get_actor(m.address).name == "Acme Foods Ltd"
    net.actors.update_actor(gov, m.address, "Acme Foods Group")
    assert net.actors.get_actor(m.address).name == "Acme Foods Group"


def test_other_actor_cannot_update_profile(net) -> None:
    with pytest.raises(errors.ActorRegistryNotSelfOrGovernance):
        net.actors.update_actor(net.accounts["retailer"], net.accounts["manufacturer"].address, "Hijacked")


def test_suspend_blocks_role_checks_until_reinstated(any_net) -> None:
    gov, m = any_net.accounts["governance"], any_net.accounts["manufacturer"]
    result = any_net.actors.suspend_actor(gov, m.address, keccak_text("audit finding 17"))
    assert _events(any_net, result, "ActorSuspended")[0].args.account == m.address
    assert not any_net.actors.is_active(m.address, Role.MANUFACTURER)
    assert any_net.actors.get_actor(m.address).suspended
    registry = any_net.contract("ActorRegistry")
    with pytest.raises(errors.ActorRegistryActorSuspended):
        any_net.tx.estimate(m.address, registry.functions.requireActive(m.address, Role.MANUFACTURER.id))
    any_net.actors.reinstate_actor(gov, m.address)
    assert any_net.actors.is_active(m.address, Role.MANUFACTURER)


def test_suspended_actor_cannot_update_itself(net) -> None:
    gov, m = net.accounts["governance"], net.accounts["manufacturer"]
    net.actors.suspend_actor(gov, m.address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        net.actors.update_actor(m, m.address, "Still here")


def test_suspended_governor_cannot_govern(net) -> None:
    gov, m2 = net.accounts["governance"], net.accounts["manufacturer2"]
    net.actors.grant_role(gov, m2.address, Role.GOVERNANCE)
    net.actors.suspend_actor(gov, m2.address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        net.actors.register_actor(m2, net.accounts["outsider"].address, "Via suspended", [])


def test_suspend_and_reinstate_refusals(net) -> None:
    gov, m, outsider = net.accounts["governance"], net.accounts["manufacturer"], net.accounts["outsider"]
    with pytest.raises(errors.ActorRegistryActorNotSuspended):
        net.actors.reinstate_actor(gov, m.address)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        net.actors.suspend_actor(gov, outsider.address)
    net.actors.suspend_actor(gov, m.address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        net.actors.suspend_actor(gov, m.address)
    with pytest.raises(errors.ActorRegistryMissingRole):
        net.actors.suspend_actor(net.accounts["retailer"], gov.address)
    with pytest.raises(errors.ActorRegistryMissingRole):
        net.actors.reinstate_actor(net.accounts["retailer"], m.address)


def test_relayed_write_acts_as_the_signer(any_net) -> None:
    m, relayer = any_net.accounts["manufacturer"], any_net.accounts["relayer"]
    before = any_net.chain.w3.eth.get_balance(m.address)
    from tracechain.chain.actors import ActorRegistryClient

    relayed = ActorRegistryClient(any_net.contract("ActorRegistry"), any_net.relayed)
    relayed.update_actor(m, m.address, "Signed, not paid")
    assert any_net.actors.get_actor(m.address).name == "Signed, not paid"
    assert any_net.chain.w3.eth.get_balance(m.address) == before  # the relayer paid
    assert relayer.address != m.address


def test_relayed_write_by_unauthorised_signer_is_refused(net) -> None:
    from tracechain.chain.actors import ActorRegistryClient

    relayed = ActorRegistryClient(net.contract("ActorRegistry"), net.relayed)
    with pytest.raises(errors.ActorRegistryMissingRole):
        relayed.register_actor(net.accounts["retailer"], net.accounts["outsider"].address, "Sneaky", [])


def test_actor_standing_checks_ignore_roles(net) -> None:
    registry = net.contract("ActorRegistry")
    gov, m, outsider = net.accounts["governance"], net.accounts["manufacturer"], net.accounts["outsider"]
    assert registry.functions.isActor(m.address).call()
    assert not registry.functions.isActor(outsider.address).call()
    with pytest.raises(errors.ActorRegistryUnknownActor):
        net.tx.estimate(gov.address, registry.functions.requireActor(outsider.address))
    net.actors.suspend_actor(gov, m.address)
    assert not registry.functions.isActor(m.address).call()
    with pytest.raises(errors.ActorRegistryActorSuspended):
        net.tx.estimate(gov.address, registry.functions.requireActor(m.address))


def test_a_governor_cannot_lock_itself_out(net) -> None:
    gov, m2 = net.accounts["governance"], net.accounts["manufacturer2"]
    registry = net.contract("ActorRegistry").functions
    with pytest.raises(errors.ActorRegistryGovernanceLockout):
        net.actors.suspend_actor(gov, gov.address)
    with pytest.raises(errors.ActorRegistryGovernanceLockout):
        net.actors.revoke_role(gov, gov.address, Role.GOVERNANCE)
    with pytest.raises(errors.ActorRegistryGovernanceLockout):
        net.tx.send(gov, registry.renounceRole(Role.GOVERNANCE.id, gov.address))
    assert net.actors.is_active(gov.address, Role.GOVERNANCE)
    net.actors.grant_role(gov, m2.address, Role.GOVERNANCE)  # another governor may remove one
    net.actors.revoke_role(m2, gov.address, Role.GOVERNANCE)
    assert not net.actors.is_active(gov.address, Role.GOVERNANCE)
