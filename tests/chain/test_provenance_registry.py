"""ProvenanceRegistry: every write path, its events and refusals, batches, relayed writes, and the hash
chain recomputed from raw logs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_abi import decode as abi_decode
from eth_utils import keccak

from tracechain import errors
from tracechain.chain.provenance import (
    CustodyTransferredLog,
    EventInput,
    EventRecordedLog,
    ProductRecalledLog,
    ProductRegisteredLog,
    ProductStatus,
    ProvenanceRegistryClient,
    biz_step_code,
    genesis_head,
    next_head,
    product_key_of,
)
from tracechain.hashing import keccak_text, to_hex
from tracechain.types import Role

PID = "01/09506000134352/21/SN-0001"
KEY = product_key_of(PID)
META = keccak_text("metadata")
GOV_ROLE = to_hex(bytes(32))


def _client(net, relayed: bool = False) -> ProvenanceRegistryClient:  # noqa: ANN001
    return ProvenanceRegistryClient(net.contract("ProvenanceRegistry"), net.relayed if relayed else net.tx)


def _event(key: bytes, tag: str, step: str = "shipping") -> EventInput:
    return EventInput(key, keccak_text(f"id:{tag}"), keccak_text(f"doc:{tag}"), biz_step_code(step))


def _registered(net, pid: str = PID) -> ProvenanceRegistryClient:  # noqa: ANN001
    client = _client(net)
    client.register_product(net.accounts["manufacturer"], pid, META)
    return client


def _to_logistics(net, client: ProvenanceRegistryClient, key: bytes = KEY) -> None:  # noqa: ANN001
    client.transfer_custody(net.accounts["manufacturer"], key, net.accounts["logistics"].address)


# ---------------------------------------------------------------- registration
def test_register_product_sets_state_genesis_head_and_emits(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    client = _client(any_net)
    result = client.register_product(m, PID, META)

    state = client.get_product(KEY)
    assert state is not None
    assert (state.manufacturer, state.custodian, state.status, state.event_count) == (
        m.address,
        m.address,
        ProductStatus.ACTIVE,
        0,
    )
    assert state.head == to_hex(genesis_head(KEY, m.address, META))
    assert client.contract.functions.productKeyOf(PID).call() == KEY == keccak(text=PID)
    assert client.logs_of(result) == [ProductRegisteredLog(to_hex(KEY), m.address, PID, to_hex(META))]


def test_unknown_product_reads_as_none(net) -> None:
    assert _client(net).get_product(product_key_of("opaque:nothing")) is None


@pytest.mark.parametrize(
    ("who", "error", "args"),
    [
        ("retailer", errors.ActorRegistryMissingRole, lambda a: {"account": a, "role": to_hex(Role.MANUFACTURER.id)}),
        ("outsider", errors.ActorRegistryUnknownActor, lambda a: {"account": a}),
    ],
)
def test_only_manufacturers_register(net, who, error, args) -> None:  # noqa: ANN001
    account = net.accounts[who]
    with pytest.raises(error) as info:
        _client(net).register_product(account, PID, META)
    assert info.value.error_args == args(account.address)


def test_suspended_manufacturer_cannot_register(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    any_net.actors.suspend_actor(any_net.accounts["governance"], m.address)
    with pytest.raises(errors.ActorRegistryActorSuspended) as info:
        _client(any_net).register_product(m, PID, META)
    assert info.value.error_args == {"account": m.address}


def test_register_twice_or_empty_is_refused(net) -> None:
    client = _registered(net)
    with pytest.raises(errors.ProvenanceRegistryProductExists) as info:
        client.register_product(net.accounts["manufacturer2"], PID, META)
    assert info.value.error_args == {"productKey": to_hex(KEY)}
    with pytest.raises(errors.ProvenanceRegistryEmptyProductId):
        client.register_product(net.accounts["manufacturer"], "", META)


def test_register_products_in_one_transaction(net) -> None:
    client, m = _client(net), net.accounts["manufacturer"]
    ids = [f"opaque:LOT-{i}" for i in range(5)]
    result = client.register_products(m, ids, [keccak_text(i) for i in ids])
    assert [log.product_id for log in client.logs_of(result)] == ids
    for pid in ids:
        state = client.get_product(product_key_of(pid))
        assert state is not None and state.head == to_hex(
            genesis_head(product_key_of(pid), m.address, keccak_text(pid))
        )


def test_register_products_refusals_leave_nothing_behind(net) -> None:
    client, m = _client(net), net.accounts["manufacturer"]
    with pytest.raises(errors.ProvenanceRegistryEmptyBatch):
        client.register_products(m, [])
    with pytest.raises(errors.ProvenanceRegistryLengthMismatch) as info:
        client.register_products(m, ["opaque:a", "opaque:b"], [META])
    assert info.value.error_args == {"productIds": 2, "metadataHashes": 1}
    with pytest.raises(errors.ProvenanceRegistryProductExists):
        client.register_products(m, ["opaque:a", "opaque:a"])
    assert client.get_product(product_key_of("opaque:a")) is None  # all or none
    with pytest.raises(errors.ActorRegistryMissingRole):
        client.register_products(net.accounts["logistics"], ["opaque:a"])


# ---------------------------------------------------------------- events
def test_record_event_extends_the_hash_chain(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    client = _registered(any_net)
    event = _event(KEY, "c1", "commissioning")
    result = client.record_event(m, event)

    (log,) = client.logs_of(result)
    assert isinstance(log, EventRecordedLog)
    assert (log.actor, log.index, log.biz_step) == (m.address, 0, 5)
    assert log.timestamp == any_net.chain.w3.eth.get_block(result.block_number)["timestamp"]
    expected = next_head(
        genesis_head(KEY, m.address, META), KEY, event.event_id, event.document_hash, 5, m.address, log.timestamp
    )
    state = client.get_product(KEY)
    assert state is not None and (state.event_count, state.head) == (1, to_hex(expected))
    on_chain = client.contract.functions.nextHead(
        genesis_head(KEY, m.address, META), KEY, event.event_id, event.document_hash, 5, m.address, log.timestamp
    ).call()
    assert on_chain == expected


def test_event_refusals_name_the_problem(net) -> None:
    m = net.accounts["manufacturer"]
    client = _registered(net)
    unknown = product_key_of("opaque:ghost")
    with pytest.raises(errors.ProvenanceRegistryUnknownProduct) as info:
        client.record_event(m, _event(unknown, "x"))
    assert info.value.error_args == {"productKey": to_hex(unknown)}
    with pytest.raises(errors.TraceChainZeroHash):
        client.record_event(m, EventInput(KEY, bytes(32), keccak_text("d"), 33))
    with pytest.raises(errors.TraceChainZeroHash):
        client.record_event(m, EventInput(KEY, keccak_text("i"), bytes(32), 33))
    for code in (0, 42, 254):
        with pytest.raises(errors.ProvenanceRegistryUnknownBizStep) as info:
            client.record_event(m, EventInput(KEY, keccak_text("i"), keccak_text("d"), code))
        assert info.value.error_args == {"bizStep": code}
    assert client.get_product(KEY).event_count == 0  # type: ignore[union-attr]


def test_only_the_custodian_records_custody_steps(any_net) -> None:
    client = _registered(any_net)
    logistics = any_net.accounts["logistics"]
    with pytest.raises(errors.ProvenanceRegistryNotCustodian) as info:
        client.record_event(logistics, _event(KEY, "s1", "shipping"))
    manufacturer = any_net.accounts["manufacturer"].address
    assert info.value.error_args == {"productKey": to_hex(KEY), "account": logistics.address, "custodian": manufacturer}
    _to_logistics(any_net, client)
    client.record_event(logistics, _event(KEY, "s1", "shipping"))
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        client.record_event(any_net.accounts["manufacturer"], _event(KEY, "s2", "storing"))


def test_step_roles_are_enforced(net) -> None:
    client = _registered(net)
    _to_logistics(net, client)
    logistics = net.accounts["logistics"]
    with pytest.raises(errors.ActorRegistryMissingRole) as info:
        client.record_event(logistics, _event(KEY, "c", "commissioning"))
    assert info.value.error_args == {"account": logistics.address, "role": to_hex(Role.MANUFACTURER.id)}
    with pytest.raises(errors.ActorRegistryMissingRole) as info:
        client.record_event(logistics, _event(KEY, "r", "retail_selling"))
    assert info.value.error_args == {"account": logistics.address, "role": to_hex(Role.RETAILER.id)}
    client.record_event(logistics, EventInput(KEY, keccak_text("x"), keccak_text("y"), 255))  # extension step
    client.transfer_custody(logistics, KEY, net.accounts["retailer"].address)
    client.record_event(net.accounts["retailer"], _event(KEY, "r", "retail_selling"))
    assert client.get_product(KEY).event_count == 2  # type: ignore[union-attr]


def test_inspectors_record_inspections_on_any_product(any_net) -> None:
    client = _registered(any_net)
    inspector = any_net.accounts["inspector"]
    client.record_event(inspector, _event(KEY, "i1", "inspecting"))
    client.record_event(inspector, _event(KEY, "i2", "sampling"))
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        client.record_event(inspector, _event(KEY, "i3", "storing"))
    with pytest.raises(errors.ActorRegistryUnknownActor):
        client.record_event(any_net.accounts["outsider"], _event(KEY, "i4", "inspecting"))
    with pytest.raises(errors.ActorRegistryMissingRole) as info:
        client.record_event(any_net.accounts["retailer"], _event(KEY, "i5", "inspecting"))
    assert info.value.error_args["role"] == to_hex(Role.INSPECTOR.id)
    client.record_event(any_net.accounts["manufacturer"], _event(KEY, "i6", "inspecting"))  # custodian's own QA
    assert client.get_product(KEY).event_count == 3  # type: ignore[union-attr]


def test_suspended_custodian_cannot_record(any_net) -> None:
    client = _registered(any_net)
    _to_logistics(any_net, client)
    logistics = any_net.accounts["logistics"]
    any_net.actors.suspend_actor(any_net.accounts["governance"], logistics.address)
    with pytest.raises(errors.ActorRegistryActorSuspended) as info:
        client.record_event(logistics, _event(KEY, "s", "shipping"))
    assert info.value.error_args == {"account": logistics.address}


def test_custodian_without_supply_chain_role_is_refused(net) -> None:
    gov, logistics = net.accounts["governance"], net.accounts["logistics"]
    client = _registered(net)
    _to_logistics(net, client)
    net.actors.revoke_role(gov, logistics.address, Role.LOGISTICS)
    with pytest.raises(errors.ProvenanceRegistryNotSupplyChainActor) as info:
        client.record_event(logistics, _event(KEY, "s", "shipping"))
    assert info.value.error_args == {"account": logistics.address}


# ---------------------------------------------------------------- batches
def test_batch_records_events_for_many_products_in_one_transaction(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    client = _client(any_net)
    ids = [f"opaque:B-{i}" for i in range(4)]
    client.register_products(m, ids)
    batch = [
        _event(product_key_of(pid), f"{pid}/{n}", step)
        for pid in ids
        for n, step in enumerate(("commissioning", "packing", "storing"))
    ]
    result = client.record_events(m, batch)

    logs = client.logs_of(result)
    assert len(logs) == 12 and all(isinstance(log, EventRecordedLog) for log in logs)
    for pid in ids:
        key = product_key_of(pid)
        head = genesis_head(key, m.address, bytes(32))
        for log in [lg for lg in logs if lg.product_key == to_hex(key)]:
            assert isinstance(log, EventRecordedLog)
            head = next_head(
                head,
                key,
                bytes.fromhex(log.event_id[2:]),
                bytes.fromhex(log.document_hash[2:]),
                log.biz_step,
                log.actor,
                log.timestamp,
            )
        state = client.get_product(key)
        assert state is not None and (state.event_count, state.head) == (3, to_hex(head))


def test_batch_is_all_or_nothing(net) -> None:
    m = net.accounts["manufacturer"]
    client = _registered(net)
    before = client.get_product(KEY)
    ghost = product_key_of("opaque:ghost")
    with pytest.raises(errors.ProvenanceRegistryUnknownProduct):
        client.record_events(m, [_event(KEY, "a", "commissioning"), _event(ghost, "b")])
    assert client.get_product(KEY) == before
    with pytest.raises(errors.ProvenanceRegistryEmptyBatch):
        client.record_events(m, [])


def test_batch_by_unauthorised_actor_is_refused(net) -> None:
    client = _registered(net)
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        client.record_events(net.accounts["retailer"], [_event(KEY, "a")])
    with pytest.raises(errors.ActorRegistryMissingRole):  # checked per role even when cached for others
        client.record_events(net.accounts["manufacturer"], [_event(KEY, "a"), _event(KEY, "b", "retail_selling")])


# ---------------------------------------------------------------- custody
def test_transfer_custody_moves_the_right_to_record(any_net) -> None:
    m, logistics = any_net.accounts["manufacturer"], any_net.accounts["logistics"]
    client = _registered(any_net)
    result = client.transfer_custody(m, KEY, logistics.address)
    assert client.logs_of(result) == [CustodyTransferredLog(to_hex(KEY), m.address, logistics.address)]
    state = client.get_product(KEY)
    assert state is not None and (state.custodian, state.manufacturer) == (logistics.address, m.address)


def test_transfer_refusals(net) -> None:
    m, logistics = net.accounts["manufacturer"], net.accounts["logistics"]
    client = _registered(net)
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        client.transfer_custody(logistics, KEY, net.accounts["retailer"].address)
    with pytest.raises(errors.ProvenanceRegistryAlreadyCustodian) as info:
        client.transfer_custody(m, KEY, m.address)
    assert info.value.error_args == {"productKey": to_hex(KEY), "account": m.address}
    with pytest.raises(errors.TraceChainZeroAddress):
        client.transfer_custody(m, KEY, "0x" + "00" * 20)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        client.transfer_custody(m, KEY, net.accounts["outsider"].address)
    with pytest.raises(errors.ProvenanceRegistryNotSupplyChainActor) as info:
        client.transfer_custody(m, KEY, net.accounts["notary"].address)
    assert info.value.error_args == {"account": net.accounts["notary"].address}
    with pytest.raises(errors.ProvenanceRegistryUnknownProduct):
        client.transfer_custody(m, product_key_of("opaque:ghost"), logistics.address)
    net.actors.suspend_actor(net.accounts["governance"], logistics.address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        client.transfer_custody(m, KEY, logistics.address)
    assert client.get_product(KEY).custodian == m.address  # type: ignore[union-attr]


def test_suspended_custodian_cannot_transfer(net) -> None:
    m = net.accounts["manufacturer"]
    client = _registered(net)
    net.actors.suspend_actor(net.accounts["governance"], m.address)
    with pytest.raises(errors.ActorRegistryActorSuspended) as info:
        client.transfer_custody(m, KEY, net.accounts["logistics"].address)
    assert info.value.error_args == {"account": m.address}


# ---------------------------------------------------------------- recall
@pytest.mark.parametrize("who", ["manufacturer", "governance"])
def test_manufacturer_or_governance_recalls(any_net, who) -> None:  # noqa: ANN001
    client = _registered(any_net)
    caller = any_net.accounts[who]
    reason = keccak_text("recall notice")
    result = client.recall_product(caller, KEY, reason)
    assert client.logs_of(result) == [ProductRecalledLog(to_hex(KEY), caller.address, to_hex(reason))]
    state = client.get_product(KEY)
    assert state is not None and state.status is ProductStatus.RECALLED
    assert state.recall_reason_hash == to_hex(reason)


def test_recall_refusals(net) -> None:
    client = _registered(net)
    m, m2 = net.accounts["manufacturer"], net.accounts["manufacturer2"]
    with pytest.raises(errors.ActorRegistryMissingRole) as info:
        client.recall_product(m2, KEY, keccak_text("not mine"))
    assert info.value.error_args == {"account": m2.address, "role": GOV_ROLE}
    with pytest.raises(errors.ActorRegistryMissingRole):
        client.recall_product(net.accounts["retailer"], KEY, keccak_text("x"))
    with pytest.raises(errors.TraceChainZeroHash):
        client.recall_product(m, KEY, bytes(32))
    with pytest.raises(errors.ProvenanceRegistryUnknownProduct):
        client.recall_product(m, product_key_of("opaque:ghost"), keccak_text("x"))
    client.recall_product(m, KEY, keccak_text("first"))
    with pytest.raises(errors.ProvenanceRegistryProductRecalled):
        client.recall_product(net.accounts["governance"], KEY, keccak_text("second"))


def test_suspended_manufacturer_cannot_recall(net) -> None:
    m = net.accounts["manufacturer"]
    client = _registered(net)
    net.actors.suspend_actor(net.accounts["governance"], m.address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        client.recall_product(m, KEY, keccak_text("x"))


def test_recalled_product_keeps_its_history_open_but_cannot_be_sold(net) -> None:
    m, retailer = net.accounts["manufacturer"], net.accounts["retailer"]
    client = _registered(net)
    client.transfer_custody(m, KEY, retailer.address)
    client.recall_product(m, KEY, keccak_text("contamination"))
    with pytest.raises(errors.ProvenanceRegistryProductRecalled):
        client.record_event(retailer, _event(KEY, "sale", "retail_selling"))
    client.record_event(retailer, _event(KEY, "return", "shipping"))  # goods go back
    assert client.get_product(KEY).event_count == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------- relayed (ERC-2771)
def test_relayed_writes_act_as_the_signer(any_net) -> None:
    m, relayer = any_net.accounts["manufacturer"], any_net.accounts["relayer"]
    w3 = any_net.chain.w3
    balance = w3.eth.get_balance(m.address)
    relayed = _client(any_net, relayed=True)
    relayed.register_product(m, PID, META)
    result = relayed.record_events(m, [_event(KEY, "c", "commissioning"), _event(KEY, "p", "packing")])
    relayed.transfer_custody(m, KEY, any_net.accounts["logistics"].address)
    assert {log.actor for log in relayed.logs_of(result)} == {m.address}  # type: ignore[union-attr]
    assert w3.eth.get_transaction(result.tx_hash)["from"] == relayer.address
    assert w3.eth.get_balance(m.address) == balance
    state = relayed.get_product(KEY)
    assert state is not None and (state.event_count, state.custodian) == (2, any_net.accounts["logistics"].address)


def test_relayed_event_by_unauthorised_signer_is_refused(net) -> None:
    _registered(net)
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        _client(net, relayed=True).record_event(net.accounts["retailer"], _event(KEY, "x"))
    with pytest.raises(errors.ActorRegistryUnknownActor):
        _client(net, relayed=True).register_product(net.accounts["outsider"], "opaque:sneaky", META)


def _signed_event(net, tag: str, ttl: int = 3600):  # noqa: ANN001, ANN202
    call = _client(net).contract.functions.recordEvent(*_event(KEY, tag, "commissioning").as_tuple())
    return net.relayed.sign_request(net.accounts["manufacturer"], call, ttl=ttl)


def test_relayed_event_with_bad_signature_is_refused(any_net) -> None:
    _registered(any_net)
    request = _signed_event(any_net, "a")
    forged = replace(request, data=_signed_event(any_net, "b").data)  # someone else's payload, old signature
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        any_net.relayed.relay(forged)
    by_other = any_net.relayed.sign(any_net.accounts["retailer"], replace(request, signature=""))
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        any_net.relayed.relay(replace(by_other, sender=request.sender))
    assert _client(any_net).get_product(KEY).event_count == 0  # type: ignore[union-attr]


def test_relayed_event_cannot_be_replayed(any_net) -> None:
    _registered(any_net)
    request = _signed_event(any_net, "a")
    any_net.relayed.relay(request)
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        any_net.relayed.relay(request)
    assert _client(any_net).get_product(KEY).event_count == 1  # type: ignore[union-attr]


def test_expired_relayed_event_is_refused(any_net) -> None:
    _registered(any_net)
    request = _signed_event(any_net, "a", ttl=60)
    any_net.chain.increase_time(120)
    with pytest.raises(errors.ERC2771ForwarderExpiredRequest):
        any_net.relayed.relay(request)
    assert _client(any_net).get_product(KEY).event_count == 0  # type: ignore[union-attr]


def test_forwarder_refuses_a_replayed_request_on_chain_too(net) -> None:
    """The relayer's pre-checks are a courtesy: the forwarder itself refuses a spent nonce."""
    _registered(net)
    request = _signed_event(net, "a")
    net.relayed.relay(request)
    forwarder = net.contract("TraceChainForwarder")
    call = forwarder.functions.execute(request.as_struct())
    with pytest.raises(errors.ERC2771ForwarderInvalidSigner):
        net.tx.send(net.accounts["relayer"], call)


# ---------------------------------------------------------------- independent trace check
EVENT_SIG = "ProductEventRecorded(bytes32,address,bytes32,bytes32,uint8,uint32,uint64)"
REGISTERED_SIG = "ProductRegistered(bytes32,address,string,bytes32)"


def test_trace_recomputed_from_raw_logs_matches_the_chain(any_net) -> None:
    """Rebuild one product's chain from eth_getLogs alone, decoding by hand with eth_abi."""
    m, logistics, retailer, inspector = (
        any_net.accounts[n] for n in ("manufacturer", "logistics", "retailer", "inspector")
    )
    client = _registered(any_net)
    client.register_product(m, "opaque:other", META)
    client.record_event(m, _event(KEY, "1", "commissioning"))
    client.record_events(m, [_event(KEY, "2", "packing"), _event(product_key_of("opaque:other"), "x", "packing")])
    client.transfer_custody(m, KEY, logistics.address)
    _client(any_net, relayed=True).record_event(logistics, _event(KEY, "3", "shipping"))
    client.record_event(inspector, _event(KEY, "4", "inspecting"))
    client.transfer_custody(logistics, KEY, retailer.address)
    client.record_event(retailer, _event(KEY, "5", "retail_selling"))

    w3, address = any_net.chain.w3, client.address
    key_topic = "0x" + KEY.hex()
    start = any_net.deployment.contracts["ProvenanceRegistry"].block
    (reg,) = w3.eth.get_logs(
        {
            "address": address,
            "fromBlock": start,
            "toBlock": "latest",
            "topics": ["0x" + keccak(text=REGISTERED_SIG).hex(), key_topic],
        }
    )
    manufacturer = "0x" + bytes(reg["topics"][2])[-20:].hex()
    _pid, metadata = abi_decode(["string", "bytes32"], bytes(reg["data"]))
    head = keccak(abi_encode_genesis(KEY, manufacturer, metadata))
    raw = w3.eth.get_logs(
        {
            "address": address,
            "fromBlock": start,
            "toBlock": "latest",
            "topics": ["0x" + keccak(text=EVENT_SIG).hex(), key_topic],
        }
    )
    assert len(raw) == 5
    for position, log in enumerate(sorted(raw, key=lambda lg: (lg["blockNumber"], lg["logIndex"]))):
        actor = "0x" + bytes(log["topics"][2])[-20:].hex()
        event_id = bytes(log["topics"][3])
        document_hash, biz_step, index, timestamp = abi_decode(
            ["bytes32", "uint8", "uint32", "uint64"], bytes(log["data"])
        )
        assert index == position
        head = keccak(abi_encode_step(head, KEY, event_id, document_hash, biz_step, actor, timestamp))
    product = client.contract.functions.getProduct(KEY).call()
    assert (product[1], product[5]) == (5, head)


def abi_encode_genesis(key: bytes, manufacturer: str, metadata: bytes) -> bytes:
    return key + bytes(12) + bytes.fromhex(manufacturer[2:]) + metadata


def abi_encode_step(head: bytes, key: bytes, event_id: bytes, doc: bytes, step: int, actor: str, ts: int) -> bytes:
    """abi.encode of seven static values: each a 32-byte big-endian word."""
    return (
        head
        + key
        + event_id
        + doc
        + step.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(actor[2:])
        + ts.to_bytes(32, "big")
    )


# ---------------------------------------------------------------- gas budget (regression guard)
def test_gas_per_event_stays_within_budget(net) -> None:
    m = net.accounts["manufacturer"]
    client = _client(net)
    ids = [f"opaque:G-{i}" for i in range(100)]
    client.register_products(m, ids)
    single = client.record_event(m, _event(product_key_of(ids[0]), "first", "commissioning")).gas_used
    batch = client.record_events(m, [_event(product_key_of(pid), pid, "commissioning") for pid in ids]).gas_used
    assert single < 50_000
    assert batch / 100 < 20_000


def test_custodian_that_is_only_an_inspector_may_still_inspect(net) -> None:
    client = _registered(net)
    m, gov = net.accounts["manufacturer"], net.accounts["governance"]
    net.actors.grant_role(gov, m.address, Role.INSPECTOR)
    net.actors.revoke_role(gov, m.address, Role.MANUFACTURER)
    client.record_event(m, _event(KEY, "own-qa", "inspecting"))  # as an inspector holding the product
    with pytest.raises(errors.ProvenanceRegistryNotSupplyChainActor):
        client.record_event(m, _event(KEY, "store", "storing"))
    assert client.get_product(KEY).event_count == 1  # type: ignore[union-attr]
