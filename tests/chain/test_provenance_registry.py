"""ProvenanceRegistry (protocol v2): subjects, every write path with its entries and refusals, custody
and recalls in the chain, relayed writes, and every head recomputed from raw logs."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from tracechain import errors
from tracechain.chain.provenance import (
    EntryKind,
    EventInput,
    NewSubject,
    ProvenanceRegistryClient,
    SubjectStatus,
    address_ref,
    biz_step_code,
    genesis_head,
    next_head,
    subject_key_of,
)
from tracechain.hashing import keccak_text, to_hex

PID = "01/09506000134352/21/SN-0001"
KEY = subject_key_of(PID)
LOT = "01/09506000134352/10/L-17"
LOT_KEY = subject_key_of(LOT)
META = keccak_text("metadata")
REASON = keccak_text("reason")


def _client(net, relayed: bool = False) -> ProvenanceRegistryClient:  # noqa: ANN001
    return ProvenanceRegistryClient(net.contract("ProvenanceRegistry"), net.relayed if relayed else net.tx)


def _event(
    keys: list[bytes] | bytes, tag: str, step: str = "shipping", kind: EntryKind = EntryKind.EVENT
) -> EventInput:
    subjects = tuple(keys) if isinstance(keys, list) else (keys,)
    return EventInput(keccak_text(f"id:{tag}"), keccak_text(f"doc:{tag}"), biz_step_code(step), subjects, kind)


def _created(net, *subjects: NewSubject, by: str = "manufacturer") -> ProvenanceRegistryClient:  # noqa: ANN001
    client = _client(net)
    client.create_subjects(net.accounts[by], list(subjects) or [NewSubject(PID, META)])
    return client


def _entries(client: ProvenanceRegistryClient, result: Any) -> list[dict[str, Any]]:
    logs = client.contract.events.EntryAppended().process_receipt({"logs": result.logs}, errors=DISCARD)
    return [dict(log["args"]) for log in logs]


def _now(net) -> int:  # noqa: ANN001
    return int(net.chain.w3.eth.get_block("latest")["timestamp"])


# ---------------------------------------------------------------- creation
def test_create_subject_sets_state_and_genesis_head_and_emits(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    client = _client(any_net)
    result = client.create_subjects(m, [NewSubject(PID, META), NewSubject(LOT, bytes(32), open=True)])

    item = client.get_subject(KEY)
    assert item is not None
    assert (item.originator, item.custodian, item.status, item.open) == (
        m.address,
        m.address,
        SubjectStatus.ACTIVE,
        False,
    )
    assert item.head == to_hex(genesis_head(KEY, m.address, META))
    lot = client.get_subject(LOT_KEY)
    assert lot is not None and lot.open and lot.custodian is None and lot.originator == m.address
    assert client.contract.functions.subjectKeyOf(PID).call() == KEY == keccak(text=PID)
    created = client.contract.events.SubjectCreated().process_receipt({"logs": result.logs}, errors=DISCARD)
    assert [(log["args"]["identifier"], log["args"]["open"]) for log in created] == [(PID, False), (LOT, True)]


def test_unknown_subject_reads_as_none(net) -> None:
    client = _client(net)
    assert client.get_subject(subject_key_of("opaque:nothing")) is None
    assert client.head_of(subject_key_of("opaque:nothing")) == to_hex(bytes(32))


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("inspector", errors.ProvenanceRegistryNotSupplyChainActor),
        ("notary", errors.ProvenanceRegistryNotSupplyChainActor),
        ("outsider", errors.ActorRegistryUnknownActor),
    ],
)
def test_only_supply_chain_actors_create_subjects(net, who, error) -> None:  # noqa: ANN001
    with pytest.raises(error):
        _client(net).create_subjects(net.accounts[who], [NewSubject(PID)])
    assert _client(net).get_subject(KEY) is None


def test_logistics_and_retailers_create_subjects_too(net) -> None:
    _created(net, NewSubject("00/106141412345678908"), by="logistics")
    state = _client(net).get_subject(subject_key_of("00/106141412345678908"))
    assert state is not None and state.custodian == net.accounts["logistics"].address


def test_suspended_actor_cannot_create(any_net) -> None:
    gov, m = any_net.accounts["governance"], any_net.accounts["manufacturer"]
    any_net.actors.suspend_actor(gov, m.address, keccak_text("audit"))
    with pytest.raises(errors.ActorRegistryActorSuspended):
        _client(any_net).create_subjects(m, [NewSubject(PID)])


def test_create_twice_or_empty_is_refused_and_leaves_nothing(net) -> None:
    client = _created(net)
    with pytest.raises(errors.ProvenanceRegistrySubjectExists):
        client.create_subjects(net.accounts["manufacturer"], [NewSubject("opaque:new"), NewSubject(PID)])
    assert client.get_subject(subject_key_of("opaque:new")) is None  # all or none
    with pytest.raises(errors.ProvenanceRegistryEmptyIdentifier):
        client.create_subjects(net.accounts["manufacturer"], [NewSubject("")])
    with pytest.raises(errors.ProvenanceRegistryEmptyBatch):
        client.create_subjects(net.accounts["manufacturer"], [])


# ---------------------------------------------------------------- events
def test_record_event_extends_the_hash_chain_and_emits_the_entry(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    client = _created(any_net)
    before = client.get_subject(KEY)
    assert before is not None
    event = _event(KEY, "e1", "commissioning")
    result = client.record_events(m, [event])

    block = any_net.chain.w3.eth.get_block(result.block_number)
    expected = next_head(
        bytes.fromhex(before.head[2:]),
        EntryKind.EVENT,
        event.event_id,
        event.document_hash,
        event.biz_step,
        m.address,
        int(block["timestamp"]),
    )
    assert client.head_of(KEY) == to_hex(expected)
    pure = client.contract.functions.nextHead(
        bytes.fromhex(before.head[2:]),
        1,
        event.event_id,
        event.document_hash,
        event.biz_step,
        m.address,
        int(block["timestamp"]),
    ).call()
    assert bytes(pure) == expected
    [entry] = _entries(client, result)
    assert (entry["subjectKey"], entry["ref"], entry["actor"], entry["kind"], entry["code"], entry["documentHash"]) == (
        KEY,
        event.event_id,
        m.address,
        EntryKind.EVENT,
        event.biz_step,
        event.document_hash,
    )


def test_one_event_names_many_subjects_and_creates_the_new_ones(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    client = _created(any_net)
    pallet = "00/106141412345678908"
    aggregation = _event([subject_key_of(pallet), KEY], "pack", "packing")
    result = client.record_events(m, [aggregation], create=[NewSubject(pallet)])

    entries = _entries(client, result)
    assert [e["subjectKey"] for e in entries] == [subject_key_of(pallet), KEY]
    assert {e["ref"] for e in entries} == {aggregation.event_id}
    pallet_state = client.get_subject(subject_key_of(pallet))
    assert pallet_state is not None and pallet_state.custodian == m.address


def test_event_refusals_name_the_problem(net) -> None:
    m = net.accounts["manufacturer"]
    client = _created(net)
    with pytest.raises(errors.ProvenanceRegistryUnknownSubject):
        client.record_events(m, [_event(subject_key_of("opaque:ghost"), "x")])
    with pytest.raises(errors.TraceChainZeroHash):
        client.record_events(m, [EventInput(bytes(32), keccak_text("d"), 34, (KEY,))])
    with pytest.raises(errors.ProvenanceRegistryUnknownBizStep):
        client.record_events(m, [EventInput(keccak_text("i"), keccak_text("d"), 42, (KEY,))])
    with pytest.raises(errors.ProvenanceRegistryInvalidKind):
        client.record_events(m, [_event(KEY, "c", kind=EntryKind.CUSTODY)])
    with pytest.raises(errors.ProvenanceRegistryEmptyBatch):
        client.tx.send(m, client.contract.functions.recordEvents([], []))


def test_only_the_custodian_records_events_on_what_it_holds(any_net) -> None:
    client = _created(any_net)
    with pytest.raises(errors.ProvenanceRegistryNotCustodian) as refused:
        client.record_events(any_net.accounts["logistics"], [_event(KEY, "x")])
    assert refused.value.error_args["custodian"] == any_net.accounts["manufacturer"].address


def test_anyone_in_the_supply_chain_records_events_on_open_subjects(any_net) -> None:
    client = _created(any_net, NewSubject(LOT, open=True))
    client.record_events(any_net.accounts["logistics"], [_event(LOT_KEY, "l1", "receiving")])
    client.record_events(any_net.accounts["retailer"], [_event(LOT_KEY, "l2", "retail_selling")])
    with pytest.raises(errors.ProvenanceRegistryNotSupplyChainActor):
        client.record_events(any_net.accounts["notary"], [_event(LOT_KEY, "l3", "receiving")])


@pytest.mark.parametrize(
    ("step", "who", "error"),
    [
        ("commissioning", "logistics", errors.ActorRegistryMissingRole),
        ("retail_selling", "manufacturer", errors.ActorRegistryMissingRole),
        ("shipping", "notary", errors.ProvenanceRegistryNotSupplyChainActor),
    ],
)
def test_step_roles_are_enforced(net, step, who, error) -> None:  # noqa: ANN001
    client = _created(net, NewSubject(LOT, open=True))
    with pytest.raises(error):
        client.record_events(net.accounts[who], [_event(LOT_KEY, "x", step)])


def test_inspectors_inspect_what_others_hold_but_nothing_else(any_net) -> None:
    client = _created(any_net)
    inspector = any_net.accounts["inspector"]
    client.record_events(inspector, [_event(KEY, "lab", "inspecting")])
    client.record_events(inspector, [_event(KEY, "sample", "sampling")])
    with pytest.raises(errors.ProvenanceRegistryNotSupplyChainActor):
        client.record_events(inspector, [_event(KEY, "ship", "shipping")])
    state = client.get_subject(KEY)
    assert state is not None and state.custodian == any_net.accounts["manufacturer"].address


def test_suspended_custodian_cannot_record(any_net) -> None:
    client = _created(any_net)
    any_net.actors.suspend_actor(any_net.accounts["governance"], any_net.accounts["manufacturer"].address, REASON)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        client.record_events(any_net.accounts["manufacturer"], [_event(KEY, "x")])


def test_a_batch_is_all_or_nothing(net) -> None:
    m = net.accounts["manufacturer"]
    client = _created(net)
    head = client.head_of(KEY)
    with pytest.raises(errors.ProvenanceRegistryUnknownSubject):
        client.record_events(m, [_event(KEY, "ok"), _event(subject_key_of("opaque:ghost"), "bad")])
    assert client.head_of(KEY) == head


def test_error_declarations_are_entries_of_their_own_kind(net) -> None:
    m = net.accounts["manufacturer"]
    client = _created(net)
    wrong = _event(KEY, "wrong", "shipping")
    client.record_events(m, [wrong])
    declaration = EventInput(
        wrong.event_id, keccak_text("doc:declaration"), wrong.biz_step, (KEY,), EntryKind.ERROR_DECLARATION
    )
    [entry] = _entries(client, client.record_events(m, [declaration]))
    assert (entry["kind"], entry["ref"]) == (EntryKind.ERROR_DECLARATION, wrong.event_id)


# ---------------------------------------------------------------- custody
def test_transfer_custody_moves_the_chain_and_is_an_entry(any_net) -> None:
    m, logistics = any_net.accounts["manufacturer"], any_net.accounts["logistics"]
    client = _created(any_net, NewSubject(PID, META), NewSubject("opaque:two"))
    result = client.transfer_custody(m, [KEY, subject_key_of("opaque:two")], logistics.address)

    entries = _entries(client, result)
    assert [(e["kind"], e["ref"]) for e in entries] == [(EntryKind.CUSTODY, address_ref(logistics.address))] * 2
    state = client.get_subject(KEY)
    assert state is not None and (state.custodian, state.originator) == (logistics.address, m.address)
    client.record_events(logistics, [_event(KEY, "received", "receiving")])
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        client.record_events(m, [_event(KEY, "stale", "shipping")])


def test_transfer_refusals(net) -> None:
    m, logistics = net.accounts["manufacturer"], net.accounts["logistics"]
    client = _created(net, NewSubject(PID), NewSubject(LOT, open=True))
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        client.transfer_custody(logistics, [KEY], logistics.address)
    with pytest.raises(errors.ProvenanceRegistryAlreadyCustodian):
        client.transfer_custody(m, [KEY], m.address)
    with pytest.raises(errors.ProvenanceRegistryOpenSubject):
        client.transfer_custody(m, [LOT_KEY], logistics.address)
    with pytest.raises(errors.ProvenanceRegistryNotSupplyChainActor):
        client.transfer_custody(m, [KEY], net.accounts["notary"].address)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        client.transfer_custody(m, [KEY], net.accounts["outsider"].address)
    with pytest.raises(errors.ProvenanceRegistryUnknownSubject):
        client.transfer_custody(m, [subject_key_of("opaque:ghost")], logistics.address)


def test_governance_forces_custody_of_a_suspended_custodians_subject(any_net) -> None:
    gov, m, logistics = (any_net.accounts[n] for n in ("governance", "manufacturer", "logistics"))
    client = _created(any_net)
    any_net.actors.suspend_actor(gov, m.address, REASON)
    result = client.force_custody(gov, KEY, logistics.address, REASON)

    [entry] = _entries(client, result)
    assert (entry["kind"], entry["ref"], entry["documentHash"], entry["actor"]) == (
        EntryKind.FORCED_CUSTODY,
        address_ref(logistics.address),
        REASON,
        gov.address,
    )
    client.record_events(logistics, [_event(KEY, "rescued", "receiving")])
    state = client.get_subject(KEY)
    assert state is not None and state.originator == m.address


def test_only_governance_forces_custody_with_a_reason(net) -> None:
    gov, m, logistics = (net.accounts[n] for n in ("governance", "manufacturer", "logistics"))
    client = _created(net)
    with pytest.raises(errors.ActorRegistryMissingRole):
        client.force_custody(m, KEY, logistics.address, REASON)
    with pytest.raises(errors.TraceChainZeroHash):
        client.force_custody(gov, KEY, logistics.address, bytes(32))
    with pytest.raises(errors.ProvenanceRegistryAlreadyCustodian):
        client.force_custody(gov, KEY, m.address, REASON)


# ---------------------------------------------------------------- recall
@pytest.mark.parametrize("who", ["manufacturer", "governance"])
def test_originator_or_governance_recalls_as_a_chain_entry(any_net, who) -> None:  # noqa: ANN001
    client = _created(any_net)
    result = client.recall(any_net.accounts[who], KEY, REASON)
    [entry] = _entries(client, result)
    assert (entry["kind"], entry["documentHash"]) == (EntryKind.RECALL, REASON)
    state = client.get_subject(KEY)
    assert state is not None and state.status == SubjectStatus.RECALLED and state.recall_reason_hash == to_hex(REASON)


def test_recall_refusals(net) -> None:
    m = net.accounts["manufacturer"]
    client = _created(net)
    with pytest.raises(errors.ProvenanceRegistryNotRecaller):
        client.recall(net.accounts["logistics"], KEY, REASON)
    with pytest.raises(errors.TraceChainZeroHash):
        client.recall(m, KEY, bytes(32))
    client.recall(m, KEY, REASON)
    with pytest.raises(errors.ProvenanceRegistrySubjectRecalled):
        client.recall(m, KEY, REASON)


def test_an_originator_without_the_manufacturer_role_cannot_recall(net) -> None:
    client = _created(net, NewSubject("00/106141412345678908"), by="logistics")
    with pytest.raises(errors.ActorRegistryMissingRole):
        client.recall(net.accounts["logistics"], subject_key_of("00/106141412345678908"), REASON)


def test_a_recalled_subject_keeps_its_history_open_but_is_never_sold(net) -> None:
    m, retailer = net.accounts["manufacturer"], net.accounts["retailer"]
    client = _created(net)
    client.transfer_custody(m, [KEY], retailer.address)
    client.recall(m, KEY, REASON)
    client.record_events(retailer, [_event(KEY, "back", "shipping")])
    with pytest.raises(errors.ProvenanceRegistrySubjectRecalled):
        client.record_events(retailer, [_event(KEY, "sold", "retail_selling")])


# ---------------------------------------------------------------- relayed
def test_relayed_writes_act_as_the_signer(any_net) -> None:
    m = any_net.accounts["manufacturer"]
    client = _client(any_net, relayed=True)
    client.create_subjects(m, [NewSubject(PID, META)])
    result = client.record_events(m, [_event(KEY, "relayed", "commissioning")])
    [entry] = _entries(client, result)
    assert entry["actor"] == m.address
    state = client.get_subject(KEY)
    assert state is not None and state.originator == m.address


def test_relayed_event_by_an_unauthorised_signer_is_refused(net) -> None:
    _created(net)
    relayed = _client(net, relayed=True)
    with pytest.raises(errors.ProvenanceRegistryNotCustodian):
        relayed.record_events(net.accounts["logistics"], [_event(KEY, "x")])


# ---------------------------------------------------------------- the chain from logs alone
def test_every_head_recomputed_from_raw_logs_matches_the_chain(any_net) -> None:
    gov, m, logistics, inspector = (
        any_net.accounts[n] for n in ("governance", "manufacturer", "logistics", "inspector")
    )
    client = _created(any_net, NewSubject(PID, META), NewSubject(LOT, open=True))
    client.record_events(m, [_event([KEY, LOT_KEY], "c", "commissioning")])
    client.record_events(inspector, [_event(KEY, "i", "inspecting")])
    client.transfer_custody(m, [KEY], logistics.address)
    client.record_events(logistics, [_event([KEY, LOT_KEY], "r", "receiving")])
    client.force_custody(gov, KEY, m.address, REASON)
    client.recall(m, KEY, REASON)

    start = any_net.deployment.contracts["ProvenanceRegistry"].block
    w3 = any_net.chain.w3
    created = client.contract.events.SubjectCreated().get_logs(from_block=start)
    for log in created:
        key = bytes(log["args"]["subjectKey"])
        head = genesis_head(key, log["args"]["originator"], bytes(log["args"]["metadataHash"]))
        for entry in client.entry_logs(key, start):
            a = entry["args"]
            timestamp = int(w3.eth.get_block(entry["blockNumber"])["timestamp"])
            head = next_head(
                head, a["kind"], bytes(a["ref"]), bytes(a["documentHash"]), a["code"], a["actor"], timestamp
            )
        assert to_hex(head) == client.head_of(key)


def test_head_formula_matches_the_contracts_pure_functions(net) -> None:
    client = _client(net)
    actor = net.accounts["logistics"].address
    genesis = genesis_head(KEY, actor, META)
    assert bytes(client.contract.functions.genesisHead(KEY, actor, META).call()) == genesis
    step = next_head(genesis, EntryKind.CUSTODY, address_ref(actor), bytes(32), 0, actor, 1_700_000_000)
    assert (
        bytes(
            client.contract.functions.nextHead(
                genesis, 3, address_ref(actor), bytes(32), 0, actor, 1_700_000_000
            ).call()
        )
        == step
    )
