"""Notary contract (protocol v2): single, co-signed and batched notarization under ids that name who
vouches, every refusal as a named error, and nobody who only saw a record hash can pre-empt it."""

from __future__ import annotations

import pytest

from tracechain import errors
from tracechain.chain.notary import (
    LEAF_ENCODING,
    MAX_PARTIES,
    Method,
    NotaryClient,
    batch_id,
    cosign,
    cosigned_record_id,
    decode_kind,
    encode_kind,
    leaf_values,
    parties_hash,
    single_record_id,
)
from tracechain.hashing import document_hash, keccak_text, to_hex
from tracechain.merkle import StandardMerkleTree, leaf_hash
from tracechain.types import Role

ORDER = {"type": "purchase_order", "number": "PO-2026-0042", "buyer": "Retailer", "lines": [{"sku": "A1", "qty": 12}]}
HOUR = 3600


def notary(net, transactor=None) -> NotaryClient:  # noqa: ANN001
    return NotaryClient(net.contract("Notary"), transactor or net.tx)


def now(net) -> int:  # noqa: ANN001
    return int(net.chain.w3.eth.get_block("latest")["timestamp"])


def signed(net, record_hash, kind, signers, deadline=None):  # noqa: ANN001, ANN201
    """Parties (addresses), deadline and each signer's co-signature, in order."""
    client = notary(net)
    parties = [s.address for s in signers]
    deadline = deadline if deadline is not None else now(net) + HOUR
    return parties, deadline, [client.cosign(s, record_hash, kind, parties, deadline) for s in signers]


# ---------------------------------------------------------------- kinds
def test_kind_is_ascii_name_in_bytes32() -> None:
    assert encode_kind("delivery") == b"delivery" + bytes(24)
    assert decode_kind(encode_kind("purchase_order")) == "purchase_order"
    assert decode_kind(encode_kind("x" * 32)) == "x" * 32
    for bad in ("", "Delivery", "1st", "x" * 33, "a b", "é"):
        with pytest.raises(errors.InvalidInputError):
            encode_kind(bad)
    with pytest.raises(errors.InvalidInputError):
        decode_kind(b"delivery\0x" + bytes(22))


# ---------------------------------------------------------------- single
def test_single_notarization_is_recorded_and_emitted(any_net) -> None:
    client, n = notary(any_net), any_net.accounts["notary"]
    record_hash = document_hash(ORDER)
    result = client.notarize(n, record_hash, "purchase_order")

    record_id = single_record_id(record_hash, "purchase_order", n.address)
    record = client.get_record(record_id)
    block = any_net.chain.w3.eth.get_block(result.block_number)
    assert record is not None
    assert (record.id, record.method) == (to_hex(record_id), Method.SINGLE)
    assert (record.block_number, record.timestamp) == (result.block_number, block["timestamp"])
    (event,) = client.events(result)
    assert (event.name, event.id, event.record_hash, event.kind, event.notary) == (
        "RecordNotarized",
        to_hex(record_id),
        to_hex(record_hash),
        "purchase_order",
        n.address,
    )
    assert client.find_event(record_id, record_hash, result.block_number) == event


def test_unknown_ids_have_no_record_or_batch(net) -> None:
    client, n = notary(net), net.accounts["notary"].address
    assert client.get_record(single_record_id(document_hash({"never": "seen"}), "invoice", n)) is None
    assert client.get_batch(document_hash({"no": "batch"}), n) is None


def test_python_ids_match_the_contracts_pure_functions(net) -> None:
    fns = notary(net).contract.functions
    h, kind, n = document_hash(ORDER), encode_kind("purchase_order"), net.accounts["notary"].address
    parties = [net.accounts["retailer"].address, net.accounts["manufacturer"].address]
    assert fns.singleRecordId(h, kind, n).call() == single_record_id(h, "purchase_order", n)
    assert fns.coSignedRecordId(h, kind, parties).call() == cosigned_record_id(h, "purchase_order", parties)
    assert fns.batchId(h, n).call() == batch_id(h, n)
    assert cosigned_record_id(h, "purchase_order", parties) != cosigned_record_id(h, "purchase_order", parties[::-1])


def test_notarize_twice_is_refused_pointing_to_the_first(any_net) -> None:
    client, n = notary(any_net), any_net.accounts["notary"]
    record_hash = document_hash(ORDER)
    first = client.notarize(n, record_hash, "purchase_order")
    any_net.chain.increase_time(60)
    with pytest.raises(errors.NotaryRecordExists) as info:
        client.notarize(n, record_hash, "purchase_order")
    stamp = any_net.chain.w3.eth.get_block(first.block_number)["timestamp"]
    assert info.value.error_args == {
        "id": to_hex(single_record_id(record_hash, "purchase_order", n.address)),
        "blockNumber": first.block_number,
        "timestamp": stamp,
    }
    assert isinstance(info.value, errors.ConflictError)
    # Another kind is another notarization by the same notary.
    client.notarize(n, record_hash, "invoice")
    assert client.get_record(single_record_id(record_hash, "invoice", n.address)) is not None


@pytest.mark.parametrize("who", ["manufacturer", "auditor", "governance"])
def test_single_by_non_notary_is_refused(net, who) -> None:
    account = net.accounts[who]
    with pytest.raises(errors.ActorRegistryMissingRole) as info:
        notary(net).notarize(account, document_hash(ORDER), "purchase_order")
    assert info.value.error_args["account"] == account.address


def test_single_by_unregistered_or_suspended_notary_is_refused(net) -> None:
    record_hash = document_hash(ORDER)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        notary(net).notarize(net.accounts["outsider"], record_hash, "purchase_order")
    net.actors.suspend_actor(net.accounts["governance"], net.accounts["notary"].address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        notary(net).notarize(net.accounts["notary"], record_hash, "purchase_order")
    record_id = single_record_id(record_hash, "purchase_order", net.accounts["notary"].address)
    assert notary(net).get_record(record_id) is None


def test_zero_hash_and_empty_kind_are_refused(net) -> None:
    client, n = notary(net), net.accounts["notary"]
    with pytest.raises(errors.TraceChainZeroHash):
        client.notarize(n, bytes(32), "invoice")
    fn = client.contract.functions.notarize(document_hash(ORDER), bytes(32))
    with pytest.raises(errors.NotaryEmptyKind):
        net.tx.send(n, fn)


def test_relayed_notarization_is_by_the_signer(any_net) -> None:
    n, relayer = any_net.accounts["notary"], any_net.accounts["relayer"]
    before = any_net.chain.w3.eth.get_balance(n.address)
    client = notary(any_net, any_net.relayed)
    result = client.notarize(n, document_hash(ORDER), "purchase_order")
    assert client.get_record(single_record_id(document_hash(ORDER), "purchase_order", n.address)) is not None
    assert client.events(result)[0].notary == n.address
    assert any_net.chain.w3.eth.get_balance(n.address) == before
    assert relayer.address != n.address


def test_relayed_notarization_by_non_notary_is_refused(net) -> None:
    with pytest.raises(errors.ActorRegistryMissingRole):
        notary(net, net.relayed).notarize(net.accounts["retailer"], document_hash(ORDER), "purchase_order")


# ---------------------------------------------------------------- co-signed
def test_cosigned_record_checks_every_signature_and_records_parties(any_net) -> None:
    buyer, seller, submitter = (
        any_net.accounts["retailer"],
        any_net.accounts["manufacturer"],
        any_net.accounts["outsider"],
    )
    record_hash = document_hash(ORDER)
    parties, deadline, sigs = signed(any_net, record_hash, "purchase_order", [buyer, seller])
    client = notary(any_net)
    result = client.notarize_cosigned(submitter, record_hash, "purchase_order", parties, deadline, sigs)

    record_id = cosigned_record_id(record_hash, "purchase_order", parties)
    record = client.get_record(record_id)
    assert (record.method, record.block_number) == (Method.COSIGNED, result.block_number)
    (event,) = client.events(result)
    assert (event.name, event.id, event.parties, event.parties_hash, event.notary) == (
        "RecordCoSigned",
        to_hex(record_id),
        (buyer.address, seller.address),
        to_hex(parties_hash(parties)),
        None,
    )


def test_python_cosign_digest_matches_the_contract(net) -> None:
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    from tracechain.chain.notary import cosign_typed_data

    client = notary(net)
    parties = [net.accounts["retailer"].address, net.accounts["manufacturer"].address]
    args = (document_hash(ORDER), "purchase_order", parties, 1_900_000_000)
    typed = cosign_typed_data(net.chain.chain_id, client.address, *args)
    assert _hash_eip191_message(encode_typed_data(full_message=typed)) == client.cosign_digest(*args)


def test_missing_signature_is_refused(net) -> None:
    buyer, seller = net.accounts["retailer"], net.accounts["manufacturer"]
    record_hash = document_hash(ORDER)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer, seller])
    with pytest.raises(errors.NotarySignatureCount) as info:
        notary(net).notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, sigs[:1])
    assert info.value.error_args == {"parties": 2, "signatures": 1}
    assert notary(net).get_record(cosigned_record_id(record_hash, "purchase_order", parties)) is None


def test_cosignature_by_a_non_party_is_refused(net) -> None:
    buyer, seller, intruder = net.accounts["retailer"], net.accounts["manufacturer"], net.accounts["logistics"]
    record_hash = document_hash(ORDER)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer, seller])
    forged = notary(net).cosign(intruder, record_hash, "purchase_order", parties, deadline)
    with pytest.raises(errors.NotaryInvalidSignature) as info:
        notary(net).notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, [sigs[0], forged])
    assert info.value.error_args == {"party": seller.address, "index": 1}
    assert isinstance(info.value, errors.SignatureError)


def test_signature_over_other_terms_is_refused(net) -> None:
    """A signature binds the record hash, the kind, the whole party list and the deadline."""
    buyer, seller, third = net.accounts["retailer"], net.accounts["manufacturer"], net.accounts["logistics"]
    record_hash, client = document_hash(ORDER), notary(net)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer, seller])
    cases = [
        (document_hash({**ORDER, "number": "PO-2026-0043"}), "purchase_order", parties, deadline),
        (record_hash, "invoice", parties, deadline),
        (record_hash, "purchase_order", parties, deadline + 1),
    ]
    for h, kind, p, d in cases:
        with pytest.raises(errors.NotaryInvalidSignature) as info:
            client.notarize_cosigned(buyer, h, kind, p, d, sigs)
        assert info.value.error_args["index"] == 0
    # The same two signatures cannot be reused with a third party added.
    extra = client.cosign(third, record_hash, "purchase_order", [*parties, third.address], deadline)
    with pytest.raises(errors.NotaryInvalidSignature):
        client.notarize_cosigned(
            buyer, record_hash, "purchase_order", [*parties, third.address], deadline, [*sigs, extra]
        )
    with pytest.raises(errors.NotaryInvalidSignature):  # nor with the parties swapped
        client.notarize_cosigned(buyer, record_hash, "purchase_order", parties[::-1], deadline, sigs[::-1])


def test_malformed_signature_is_refused(net) -> None:
    buyer = net.accounts["retailer"]
    record_hash = document_hash(ORDER)
    parties, deadline, _ = signed(net, record_hash, "purchase_order", [buyer])
    for junk in ("0x", "0x" + "11" * 65, "0x" + "22" * 64):
        with pytest.raises(errors.NotaryInvalidSignature):
            notary(net).notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, [junk])


def test_unregistered_or_suspended_party_is_refused(net) -> None:
    buyer, outsider, gov = net.accounts["retailer"], net.accounts["outsider"], net.accounts["governance"]
    record_hash = document_hash(ORDER)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer, outsider])
    with pytest.raises(errors.ActorRegistryUnknownActor) as info:
        notary(net).notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, sigs)
    assert info.value.error_args == {"account": outsider.address}
    net.actors.suspend_actor(gov, buyer.address)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer])
    with pytest.raises(errors.ActorRegistryActorSuspended):
        notary(net).notarize_cosigned(gov, record_hash, "purchase_order", parties, deadline, sigs)


def test_expired_cosignatures_are_refused(net) -> None:
    buyer = net.accounts["retailer"]
    record_hash = document_hash(ORDER)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer], deadline=now(net) + 60)
    net.chain.increase_time(120)
    with pytest.raises(errors.NotarySignaturesExpired) as info:
        notary(net).notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, sigs)
    assert info.value.error_args == {"deadline": deadline}


def test_party_list_rules(net) -> None:
    buyer = net.accounts["retailer"]
    record_hash, client = document_hash(ORDER), notary(net)
    deadline = now(net) + HOUR
    with pytest.raises(errors.NotaryPartyCount) as info:
        client.notarize_cosigned(buyer, record_hash, "purchase_order", [], deadline, [])
    assert info.value.error_args == {"count": 0, "max": MAX_PARTIES}
    many = [buyer.address] * (MAX_PARTIES + 1)
    with pytest.raises(errors.NotaryPartyCount):
        client.notarize_cosigned(buyer, record_hash, "purchase_order", many, deadline, ["0x"] * len(many))
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer, buyer])
    with pytest.raises(errors.NotaryDuplicateParty) as dup:
        client.notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, sigs)
    assert dup.value.error_args == {"party": buyer.address}


def test_cosigned_duplicate_is_refused_pointing_to_the_first(net) -> None:
    buyer, seller, other = net.accounts["retailer"], net.accounts["manufacturer"], net.accounts["logistics"]
    record_hash, client = document_hash(ORDER), notary(net)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer, seller])
    first = client.notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, sigs)
    with pytest.raises(errors.NotaryRecordExists) as info:  # whoever submits the same signatures again
        client.notarize_cosigned(other, record_hash, "purchase_order", parties, deadline, sigs)
    assert info.value.error_args["id"] == to_hex(cosigned_record_id(record_hash, "purchase_order", parties))
    assert info.value.error_args["blockNumber"] == first.block_number


def test_relayed_cosigned_submission_is_by_the_signer(net) -> None:
    buyer, seller = net.accounts["retailer"], net.accounts["manufacturer"]
    record_hash = document_hash(ORDER)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer, seller])
    client = notary(net, net.relayed)
    result = client.notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, sigs)
    assert client.get_record(cosigned_record_id(record_hash, "purchase_order", parties)) is not None
    assert client.events(result)[0].parties == tuple(parties)


def test_module_level_cosign_matches_client(net) -> None:
    buyer, client = net.accounts["retailer"], notary(net)
    args = (document_hash(ORDER), "purchase_order", [buyer.address], 1_900_000_000)
    assert cosign(buyer, net.chain.chain_id, client.address, *args) == client.cosign(buyer, *args)


# ---------------------------------------------------------------- pre-emption (issue 8, section 4)
# Each of these failed on protocol v1, where a record hash (or a dataset's content hash) was
# notarized at most once, by anyone: the second, genuine write reverted with NotaryRecordExists.
def test_another_notary_who_saw_the_hash_cannot_preempt_a_single_notarization(any_net) -> None:
    client, n = notary(any_net), any_net.accounts["notary"]
    gov, rival = any_net.accounts["governance"], any_net.accounts["auditor"]
    any_net.actors.grant_role(gov, rival.address, Role.NOTARY)
    record_hash = document_hash(ORDER)
    client.notarize(rival, record_hash, "purchase_order")  # front-runs with the hash from the mempool
    result = client.notarize(n, record_hash, "purchase_order")  # v1: NotaryRecordExists
    ours = client.get_record(single_record_id(record_hash, "purchase_order", n.address))
    theirs = client.get_record(single_record_id(record_hash, "purchase_order", rival.address))
    assert ours is not None and ours.block_number == result.block_number
    assert theirs is not None and theirs.block_number < ours.block_number


def test_a_one_party_cosign_by_an_onlooker_cannot_preempt_the_real_cosigned_record(any_net) -> None:
    buyer, seller, onlooker = (any_net.accounts[k] for k in ("retailer", "manufacturer", "logistics"))
    client, record_hash = notary(any_net), document_hash(ORDER)
    own = signed(any_net, record_hash, "purchase_order", [onlooker])
    client.notarize_cosigned(onlooker, record_hash, "purchase_order", *own)  # the onlooker co-signs alone, first
    parties, deadline, sigs = signed(any_net, record_hash, "purchase_order", [buyer, seller])
    client.notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, sigs)  # v1: NotaryRecordExists
    assert client.get_record(cosigned_record_id(record_hash, "purchase_order", parties)).method == Method.COSIGNED
    assert client.get_record(cosigned_record_id(record_hash, "purchase_order", [onlooker.address])) is not None


def test_a_single_notarization_does_not_block_the_cosigned_record_nor_the_reverse(net) -> None:
    buyer, n = net.accounts["retailer"], net.accounts["notary"]
    record_hash, client = document_hash(ORDER), notary(net)
    client.notarize(n, record_hash, "purchase_order")
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer])
    client.notarize_cosigned(buyer, record_hash, "purchase_order", parties, deadline, sigs)  # v1: NotaryRecordExists
    assert client.get_record(single_record_id(record_hash, "purchase_order", n.address)).method == Method.SINGLE
    assert client.get_record(cosigned_record_id(record_hash, "purchase_order", parties)).method == Method.COSIGNED


def test_the_cosigned_record_is_exactly_what_the_signatures_cover(net) -> None:
    """v1 recorded the submitter (`notarizedBy`), which no signature covered, so whoever relayed
    the signatures first owned the record. v2 stores the record under an id derived from the
    signed fields only and emits no submitter."""
    buyer, seller, relayer_a, relayer_b = (net.accounts[k] for k in ("retailer", "manufacturer", "auditor", "notary"))
    record_hash, client = document_hash(ORDER), notary(net)
    parties, deadline, sigs = signed(net, record_hash, "purchase_order", [buyer, seller])
    result = client.notarize_cosigned(relayer_a, record_hash, "purchase_order", parties, deadline, sigs)
    (log,) = client.contract.events.RecordCoSigned().process_receipt({"logs": result.logs})
    assert set(log.args) == {"recordHash", "kind", "partiesHash", "parties"}  # nothing about who submitted
    assert log.args.partiesHash == parties_hash(parties)
    record_id = cosigned_record_id(record_hash, "purchase_order", parties)
    assert client.get_record(record_id).method == Method.COSIGNED
    # Another submitter of the same signatures finds the same record: it is the parties', not theirs.
    with pytest.raises(errors.NotaryRecordExists) as info:
        client.notarize_cosigned(relayer_b, record_hash, "purchase_order", parties, deadline, sigs)
    assert info.value.error_args["id"] == to_hex(record_id)
    assert client.get_record(single_record_id(record_hash, "purchase_order", relayer_a.address)) is None


def test_a_batch_queue_signature_is_not_a_cosignature(any_net) -> None:
    """v1 queued records with a `CoSign` signature over parties [submitter], which was also a valid
    one-party co-signature: whoever held it could notarize the record in the submitter's name."""
    submitter, client = any_net.accounts["logistics"], notary(any_net)
    record_hash, deadline = document_hash({"type": "delivery", "note": "DN-1"}), now(any_net) + HOUR
    queue_sig = client.sign_batch_record(submitter, record_hash, "delivery", deadline)
    with pytest.raises(errors.NotaryInvalidSignature) as info:
        client.notarize_cosigned(submitter, record_hash, "delivery", [submitter.address], deadline, [queue_sig])
    assert info.value.error_args == {"party": submitter.address, "index": 0}
    assert client.batch_record_digest(record_hash, "delivery", deadline) != client.cosign_digest(
        record_hash, "delivery", [submitter.address], deadline
    )


def test_python_batch_record_digest_matches_the_contract(net) -> None:
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    from tracechain.chain.notary import batch_record_typed_data

    client, h = notary(net), document_hash(ORDER)
    typed = batch_record_typed_data(net.chain.chain_id, client.address, h, "delivery", 1_900_000_000)
    assert _hash_eip191_message(encode_typed_data(full_message=typed)) == client.batch_record_digest(
        h, "delivery", 1_900_000_000
    )


# ---------------------------------------------------------------- batched
def deliveries(count: int) -> list[bytes]:
    return [document_hash({"type": "delivery", "note": f"DN-{i:05d}"}) for i in range(count)]


def test_batch_is_anchored_and_every_leaf_proves_on_chain(any_net) -> None:
    client, n = notary(any_net), any_net.accounts["notary"]
    hashes = deliveries(25)
    tree = StandardMerkleTree.of([leaf_values(h, "delivery") for h in hashes], LEAF_ENCODING)
    meta = document_hash({"batch": 1, "records": 25})
    result = client.notarize_batch(n, tree.root, len(tree), meta)

    batch = client.get_batch(tree.root, n.address)
    assert batch is not None
    assert (batch.id, batch.record_count, batch.notary) == (to_hex(batch_id(tree.root, n.address)), 25, n.address)
    assert batch.block_number == result.block_number
    (event,) = client.events(result)
    assert (event.name, event.id, event.root, event.notary, event.record_count, event.metadata_hash) == (
        "BatchAnchored",
        batch.id,
        to_hex(tree.root),
        n.address,
        25,
        to_hex(meta),
    )
    for i, h in enumerate(hashes):
        assert client.verify_inclusion(tree.root, n.address, h, "delivery", tree.proof(i))
    # batched records live under their batch, not as records of their own
    assert client.get_record(single_record_id(hashes[0], "delivery", n.address)) is None


def test_inclusion_check_rejects_wrong_leaf_proof_or_root(net) -> None:
    client, n = notary(net), net.accounts["notary"]
    hashes = deliveries(8)
    tree = StandardMerkleTree.of([leaf_values(h, "delivery") for h in hashes], LEAF_ENCODING)
    client.notarize_batch(n, tree.root, len(tree))
    proof, by = tree.proof(3), n.address
    assert client.verify_inclusion(tree.root, by, hashes[3], "delivery", proof)
    assert not client.verify_inclusion(tree.root, by, hashes[3], "invoice", proof)
    assert not client.verify_inclusion(tree.root, by, hashes[4], "delivery", proof)
    assert not client.verify_inclusion(tree.root, by, hashes[3], "delivery", proof[:-1])
    assert not client.verify_inclusion(tree.root, by, hashes[3], "delivery", [proof[1], proof[0], *proof[2:]])
    other = StandardMerkleTree.of([leaf_values(h, "delivery") for h in hashes[:4]], LEAF_ENCODING)
    # A valid proof under a root nobody anchored proves nothing, nor under a notary that did not anchor it.
    assert not client.verify_inclusion(other.root, by, hashes[3], "delivery", other.proof(3))
    assert not client.verify_inclusion(tree.root, net.accounts["retailer"].address, hashes[3], "delivery", proof)


def test_contract_leaf_hash_matches_python(net) -> None:
    client = notary(net)
    h = document_hash(ORDER)
    assert client.leaf_hash(h, "delivery") == leaf_hash(leaf_values(h, "delivery"), LEAF_ENCODING)


def test_single_record_batch(net) -> None:
    client, n = notary(net), net.accounts["notary"]
    (h,) = deliveries(1)
    tree = StandardMerkleTree.of([leaf_values(h, "delivery")], LEAF_ENCODING)
    client.notarize_batch(n, tree.root, 1)
    assert tree.proof(0) == []
    assert client.verify_inclusion(tree.root, n.address, h, "delivery", [])


def test_another_notary_anchoring_the_same_root_gets_its_own_batch(net) -> None:
    client, n, gov, rival = notary(net), net.accounts["notary"], net.accounts["governance"], net.accounts["auditor"]
    net.actors.grant_role(gov, rival.address, Role.NOTARY)
    hashes = deliveries(4)
    tree = StandardMerkleTree.of([leaf_values(h, "delivery") for h in hashes], LEAF_ENCODING)
    client.notarize_batch(rival, tree.root, 4)  # copied from the mempool: v1 then refused ours (NotaryBatchExists)
    client.notarize_batch(n, tree.root, 4)
    assert client.get_batch(tree.root, n.address).id != client.get_batch(tree.root, rival.address).id
    assert client.verify_inclusion(tree.root, n.address, hashes[1], "delivery", tree.proof(1))


def test_anchoring_a_root_twice_is_refused(any_net) -> None:
    client, n = notary(any_net), any_net.accounts["notary"]
    tree = StandardMerkleTree.of([leaf_values(h, "delivery") for h in deliveries(3)], LEAF_ENCODING)
    first = client.notarize_batch(n, tree.root, 3)
    with pytest.raises(errors.NotaryBatchExists) as info:
        client.notarize_batch(n, tree.root, 3)
    stamp = any_net.chain.w3.eth.get_block(first.block_number)["timestamp"]
    assert info.value.error_args == {
        "id": to_hex(batch_id(tree.root, n.address)),
        "blockNumber": first.block_number,
        "timestamp": stamp,
    }


def test_batch_by_non_notary_is_refused(net) -> None:
    root = document_hash({"root": 1})
    with pytest.raises(errors.ActorRegistryMissingRole):
        notary(net).notarize_batch(net.accounts["logistics"], root, 10)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        notary(net).notarize_batch(net.accounts["outsider"], root, 10)
    with pytest.raises(errors.ActorRegistryMissingRole):
        notary(net, net.relayed).notarize_batch(net.accounts["logistics"], root, 10)
    assert notary(net).get_batch(root, net.accounts["logistics"].address) is None


def test_empty_batch_and_zero_root_are_refused(net) -> None:
    client, n = notary(net), net.accounts["notary"]
    with pytest.raises(errors.TraceChainZeroHash):
        client.notarize_batch(n, bytes(32), 5)
    with pytest.raises(errors.NotaryEmptyBatch):
        net.tx.send(n, client.contract.functions.notarizeBatch(document_hash({"r": 1}), 0, bytes(32)))
    with pytest.raises(errors.InvalidInputError):
        client.notarize_batch(n, document_hash({"r": 1}), 0)


def test_relayed_batch_is_by_the_signer(net) -> None:
    n = net.accounts["notary"]
    root = document_hash({"root": 2})
    notary(net, net.relayed).notarize_batch(n, root, 7)
    assert notary(net).get_batch(root, n.address).record_count == 7


def test_registry_address_is_exposed(net) -> None:
    assert notary(net).contract.functions.actorRegistry().call() == net.deployment.address("ActorRegistry")


def test_a_cosigned_retry_after_the_deadline_hears_that_the_record_exists(net) -> None:  # noqa: ANN001
    """The contract looks for the record before it looks at the deadline: a late retry of a submission
    that went through learns so, instead of being told the signatures expired."""
    from tracechain.chain.notary import NotaryClient

    client = NotaryClient(net.contract("Notary"), net.tx)
    parties = [net.accounts["manufacturer"].address, net.accounts["retailer"].address]
    record = keccak_text("late retry")
    deadline = int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 60
    signatures = [
        client.cosign(net.accounts[n], record, "contract", parties, deadline) for n in ("manufacturer", "retailer")
    ]
    client.notarize_cosigned(net.accounts["relayer"], record, "contract", parties, deadline, signatures)
    net.chain.increase_time(120)
    with pytest.raises(errors.NotaryRecordExists):
        client.notarize_cosigned(net.accounts["relayer"], record, "contract", parties, deadline, signatures)
