"""DataRightsRegistry: datasets as ERC-721 holding rights (ids that name their registrant),
certificates, uses, revocation and transfer, with every refusal as a named exception and statuses
checked against the chain."""

from __future__ import annotations

import pytest
from web3.logs import DISCARD

from tests.conftest import CAST
from tracechain import errors
from tracechain.chain.connect import dev_accounts
from tracechain.chain.rights import (
    CertificateStatus,
    DataRightsClient,
    Right,
    certificate_id,
    dataset_id_of,
    dataset_token_id,
)
from tracechain.hashing import document_hash, keccak_text, parse_bytes32, to_hex

DAY = 86_400
# The manifest's content hash, and the dataset id it gets when the retailer registers it.
CONTENT = document_hash({"dataset": "retail sales 2026-Q3", "rows": 120_000, "schema": "sales/v1"})
RETAILER = dev_accounts(10)[CAST["retailer"][0]].address
SALES = parse_bytes32(dataset_id_of(CONTENT, RETAILER))
META = document_hash({"title": "Retail sales Q3", "format": "parquet"})
TERMS = document_hash({"licence": "analytics only", "fee": "1000 EUR"})


def _client(net, relayed: bool = False) -> DataRightsClient:  # noqa: ANN001
    return DataRightsClient(net.contract("DataRightsRegistry"), net.relayed if relayed else net.tx)


def _now(net) -> int:  # noqa: ANN001
    return int(net.chain.w3.eth.get_block("latest")["timestamp"])


def _events(net, result, name):  # noqa: ANN001, ANN202
    event = getattr(net.contract("DataRightsRegistry").events, name)()
    return [e for e in event.process_receipt({"logs": result.logs}, errors=DISCARD)]


@pytest.fixture
def rights(net) -> DataRightsClient:  # noqa: ANN001
    return _client(net)


def _registered(net, holder: str = "retailer") -> DataRightsClient:  # noqa: ANN001
    client = _client(net)
    client.register_dataset(net.accounts[holder], CONTENT, META)
    return client


def _grant(net, client, grantee="manufacturer", right=Right.PROCESSING, days=30, not_before=0, holder="retailer"):  # noqa: ANN001, ANN202
    expires = (not_before or _now(net)) + days * DAY
    return client.grant_certificate(
        net.accounts[holder], SALES, net.accounts[grantee].address, right, expires, TERMS, not_before=not_before
    )


# ---------------------------------------------------------------- registration
def test_register_mints_holding_token_and_emits(any_net) -> None:
    client = _client(any_net)
    retailer = any_net.accounts["retailer"]
    dataset_id, result = client.register_dataset(retailer, CONTENT, META)

    assert dataset_id == to_hex(SALES) == client.dataset_id_of(CONTENT, retailer.address)
    assert client.holder_of(SALES) == retailer.address
    assert client.dataset_exists(SALES)
    assert client.has_right(SALES, retailer.address, Right.HOLDING)
    assert client.has_right(SALES, retailer.address, Right.PROCESSING)  # holding includes the others
    token = any_net.contract("DataRightsRegistry").functions
    assert token.ownerOf(dataset_token_id(SALES)).call() == retailer.address
    assert token.balanceOf(retailer.address).call() == 1
    (event,) = _events(any_net, result, "DatasetRegistered")
    assert (event.args.datasetId, event.args.contentHash, event.args.holder, event.args.metadataHash) == (
        SALES,
        CONTENT,
        retailer.address,
        META,
    )
    (mint,) = _events(any_net, result, "Transfer")
    assert (mint.args["from"], mint.args.to, mint.args.tokenId) == (
        "0x" + "00" * 20,
        retailer.address,
        dataset_token_id(SALES),
    )


def test_register_twice_is_refused(net) -> None:
    client = _registered(net)
    with pytest.raises(errors.DataRightsRegistryDatasetExists) as info:
        client.register_dataset(net.accounts["retailer"], CONTENT)
    assert info.value.error_args == {"datasetId": to_hex(SALES)}


def test_an_onlooker_who_saw_the_content_hash_cannot_preempt_the_registration(any_net) -> None:
    """v1 keyed a dataset by its content hash alone: whoever registered it first held it, and the
    real holder's registration reverted with DataRightsRegistryDatasetExists."""
    client, retailer, onlooker = _client(any_net), any_net.accounts["retailer"], any_net.accounts["logistics"]
    theirs, _ = client.register_dataset(onlooker, CONTENT)  # front-run with the hash from the mempool
    ours, _ = client.register_dataset(retailer, CONTENT, META)  # v1: DataRightsRegistryDatasetExists
    assert ours == to_hex(SALES) != theirs == dataset_id_of(CONTENT, onlooker.address)
    assert client.holder_of(ours) == retailer.address and client.holder_of(theirs) == onlooker.address
    assert not client.has_right(ours, onlooker.address, Right.PROCESSING)


def test_register_zero_hash_is_refused(rights, net) -> None:
    with pytest.raises(errors.TraceChainZeroHash):
        rights.register_dataset(net.accounts["retailer"], bytes(32))


def test_unregistered_account_cannot_register(any_net) -> None:
    outsider = any_net.accounts["outsider"]
    with pytest.raises(errors.ActorRegistryUnknownActor) as info:
        _client(any_net).register_dataset(outsider, CONTENT)
    assert info.value.error_args == {"account": outsider.address}


def test_suspended_actor_cannot_register(net, rights) -> None:
    retailer = net.accounts["retailer"]
    net.actors.suspend_actor(net.accounts["governance"], retailer.address, keccak_text("fraud"))
    with pytest.raises(errors.ActorRegistryActorSuspended):
        rights.register_dataset(retailer, CONTENT)


def test_unknown_dataset_reads(rights, net) -> None:
    assert not rights.dataset_exists(SALES)
    assert not rights.has_right(SALES, net.accounts["retailer"].address, Right.HOLDING)
    with pytest.raises(errors.DataRightsRegistryUnknownDataset):
        rights.holder_of(SALES)


# ---------------------------------------------------------------- the full lifecycle
def test_full_lifecycle_grant_use_expire(any_net) -> None:
    client = _registered(any_net)
    retailer, analyst = any_net.accounts["retailer"], any_net.accounts["manufacturer"]
    start = _now(any_net) + DAY
    cid, result = _grant(any_net, client, not_before=start, days=10)

    (event,) = _events(any_net, result, "CertificateGranted")
    assert event.args.grantor == retailer.address and event.args.grantee == analyst.address
    assert (event.args.notBefore, event.args.expiresAt, event.args.termsHash) == (start, start + 10 * DAY, TERMS)
    assert cid == certificate_id(SALES, analyst.address, Right.PROCESSING, start, start + 10 * DAY, TERMS)
    cert = client.get_certificate(cid)
    assert (cert.grantee, cert.right, cert.terms_hash, cert.use_count) == (
        analyst.address,
        Right.PROCESSING,
        to_hex(TERMS),
        0,
    )

    # not yet valid
    assert client.certificate_status(cid) is CertificateStatus.NOT_YET_VALID
    assert not client.has_right(SALES, analyst.address, Right.PROCESSING)
    with pytest.raises(errors.DataRightsRegistryCertificateNotYetValid) as info:
        client.record_use(analyst, cid, Right.PROCESSING, keccak_text("forecast"))
    assert info.value.error_args == {"certificateId": cid, "notBefore": start}

    # valid: uses are recorded and counted
    any_net.chain.increase_time(DAY)
    assert client.certificate_status(cid) is CertificateStatus.VALID
    assert client.has_right(SALES, analyst.address, Right.PROCESSING)
    assert not client.has_right(SALES, analyst.address, Right.OPERATION)
    assert not client.has_right(SALES, analyst.address, Right.HOLDING)
    for i, purpose in enumerate(("demand forecast", "price study")):
        used = client.record_use(analyst, cid, Right.PROCESSING, keccak_text(purpose))
        (use,) = _events(any_net, used, "DatasetUsed")
        assert (use.args.certificateId, use.args.datasetId, use.args.user) == (
            bytes.fromhex(cid[2:]),
            SALES,
            analyst.address,
        )
        assert (use.args.useIndex, use.args.purposeHash) == (i, keccak_text(purpose))
    assert client.get_certificate(cid).use_count == 2

    # expired: the chain refuses the use by itself
    any_net.chain.increase_time(10 * DAY)
    assert client.certificate_status(cid) is CertificateStatus.EXPIRED
    assert client.get_certificate(cid).status_at(_now(any_net)) is CertificateStatus.EXPIRED
    assert not client.has_right(SALES, analyst.address, Right.PROCESSING)
    with pytest.raises(errors.DataRightsRegistryCertificateExpired) as info:
        client.record_use(analyst, cid, Right.PROCESSING, keccak_text("one more"))
    assert info.value.error_args == {"certificateId": cid, "expiresAt": start + 10 * DAY}


def test_window_end_is_exclusive(net) -> None:
    client = _registered(net)
    analyst = net.accounts["manufacturer"]
    cid, _ = _grant(net, client)
    cert = client.get_certificate(cid)
    net.chain.increase_time(cert.expires_at - _now(net) - 5)
    used = client.record_use(analyst, cid, Right.PROCESSING, keccak_text("last seconds"))
    assert int(net.chain.w3.eth.get_block(used.block_number)["timestamp"]) < cert.expires_at
    assert net.chain.increase_time(cert.expires_at - _now(net) + 1) >= cert.expires_at
    assert cert.status_at(cert.expires_at - 1) is CertificateStatus.VALID
    assert cert.status_at(cert.expires_at) is CertificateStatus.EXPIRED
    with pytest.raises(errors.DataRightsRegistryCertificateExpired):
        client.record_use(analyst, cid, Right.PROCESSING, keccak_text("too late"))


def test_revoke_by_holder_stops_use_and_is_recorded(any_net) -> None:
    client = _registered(any_net)
    retailer, analyst = any_net.accounts["retailer"], any_net.accounts["manufacturer"]
    cid, _ = _grant(any_net, client)
    client.record_use(analyst, cid, Right.PROCESSING, keccak_text("before revocation"))

    reason = document_hash({"reason": "licence fee unpaid"})
    result = client.revoke_certificate(retailer, cid, reason)
    (event,) = _events(any_net, result, "CertificateRevoked")
    assert (event.args.datasetId, event.args.revoker, event.args.reasonHash) == (SALES, retailer.address, reason)
    cert = client.get_certificate(cid)
    assert cert.revoked_at == _now(any_net) and cert.use_count == 1
    assert client.certificate_status(cid) is CertificateStatus.REVOKED
    assert not client.has_right(SALES, analyst.address, Right.PROCESSING)
    with pytest.raises(errors.DataRightsRegistryCertificateRevoked) as info:
        client.record_use(analyst, cid, Right.PROCESSING, keccak_text("after"))
    assert info.value.error_args == {"certificateId": cid, "revokedAt": cert.revoked_at}

    # revoked stays revoked after expiry, and cannot be revoked twice
    any_net.chain.increase_time(40 * DAY)
    assert client.certificate_status(cid) is CertificateStatus.REVOKED
    with pytest.raises(errors.DataRightsRegistryCertificateRevoked):
        client.revoke_certificate(retailer, cid, reason)


def test_governance_and_grantee_may_revoke(net) -> None:
    client = _registered(net)
    _grant(net, client, grantee="manufacturer")
    gov_cid, _ = _grant(net, client, grantee="logistics", right=Right.OPERATION)
    own_cid = client.latest_certificate(SALES, net.accounts["manufacturer"].address, Right.PROCESSING)
    assert own_cid is not None

    result = client.revoke_certificate(net.accounts["governance"], gov_cid, keccak_text("court order 12"))
    assert _events(net, result, "CertificateRevoked")[0].args.revoker == net.accounts["governance"].address
    result = client.revoke_certificate(net.accounts["manufacturer"], own_cid, keccak_text("no longer needed"))
    assert _events(net, result, "CertificateRevoked")[0].args.revoker == net.accounts["manufacturer"].address
    assert client.certificate_status(gov_cid) is client.certificate_status(own_cid) is CertificateStatus.REVOKED


def test_revoke_refusals(net) -> None:
    client = _registered(net)
    cid, _ = _grant(net, client)
    reason = keccak_text("because")
    for name in ("logistics", "outsider", "auditor"):
        with pytest.raises(errors.DataRightsRegistryNotRevoker) as info:
            client.revoke_certificate(net.accounts[name], cid, reason)
        assert info.value.error_args == {"account": net.accounts[name].address, "certificateId": cid}
    with pytest.raises(errors.TraceChainZeroHash):
        client.revoke_certificate(net.accounts["retailer"], cid, bytes(32))
    with pytest.raises(errors.DataRightsRegistryUnknownCertificate):
        client.revoke_certificate(net.accounts["retailer"], keccak_text("nope"), reason)
    net.chain.increase_time(31 * DAY)
    with pytest.raises(errors.DataRightsRegistryCertificateExpired):
        client.revoke_certificate(net.accounts["retailer"], cid, reason)


def test_suspended_holder_cannot_revoke_or_grant(net) -> None:
    client = _registered(net)
    cid, _ = _grant(net, client)
    net.actors.suspend_actor(net.accounts["governance"], net.accounts["retailer"].address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        client.revoke_certificate(net.accounts["retailer"], cid, keccak_text("x"))
    with pytest.raises(errors.ActorRegistryActorSuspended):
        _grant(net, client, grantee="logistics")
    # its licensees are not punished for the holder's suspension
    client.record_use(net.accounts["manufacturer"], cid, Right.PROCESSING, keccak_text("still licensed"))


# ---------------------------------------------------------------- grant refusals
def test_non_holder_cannot_grant(any_net) -> None:
    client = _registered(any_net)
    m = any_net.accounts["manufacturer"]
    with pytest.raises(errors.DataRightsRegistryNotHolder) as info:
        client.grant_certificate(
            m, SALES, any_net.accounts["logistics"].address, Right.PROCESSING, _now(any_net) + DAY, TERMS
        )
    assert info.value.error_args == {"account": m.address, "datasetId": to_hex(SALES)}


def test_grant_refusals(net) -> None:
    client = _registered(net)
    retailer, m = net.accounts["retailer"], net.accounts["manufacturer"]
    later = _now(net) + DAY
    with pytest.raises(errors.DataRightsRegistryUnknownDataset):
        client.grant_certificate(retailer, META, m.address, Right.PROCESSING, later, TERMS)
    with pytest.raises(errors.InvalidInputError):  # refused before sending
        client.grant_certificate(retailer, SALES, m.address, Right.HOLDING, later, TERMS)
    fn = client.contract.functions.grantCertificate(SALES, m.address, Right.HOLDING.code, 0, later, TERMS)
    with pytest.raises(errors.DataRightsRegistryRightNotGrantable):
        net.tx.send(retailer, fn)
    with pytest.raises(errors.DataRightsRegistrySelfGrant):
        client.grant_certificate(retailer, SALES, retailer.address, Right.PROCESSING, later, TERMS)
    with pytest.raises(errors.TraceChainZeroAddress):
        client.grant_certificate(retailer, SALES, "0x" + "00" * 20, Right.PROCESSING, later, TERMS)
    with pytest.raises(errors.TraceChainZeroHash):
        client.grant_certificate(retailer, SALES, m.address, Right.PROCESSING, later, bytes(32))
    with pytest.raises(errors.DataRightsRegistryInvalidWindow):
        client.grant_certificate(retailer, SALES, m.address, Right.PROCESSING, later, TERMS, not_before=later)
    with pytest.raises(errors.DataRightsRegistryInvalidWindow):  # already over
        client.grant_certificate(retailer, SALES, m.address, Right.PROCESSING, _now(net) - 1, TERMS)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        client.grant_certificate(retailer, SALES, net.accounts["outsider"].address, Right.PROCESSING, later, TERMS)
    net.actors.suspend_actor(net.accounts["governance"], m.address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        client.grant_certificate(retailer, SALES, m.address, Right.PROCESSING, later, TERMS)


def test_past_not_before_starts_at_grant_time(net) -> None:
    client = _registered(net)
    cid, result = client.grant_certificate(
        net.accounts["retailer"],
        SALES,
        net.accounts["manufacturer"].address,
        Right.PROCESSING,
        _now(net) + DAY,
        TERMS,
        not_before=1,
    )
    block_time = int(net.chain.w3.eth.get_block(result.block_number)["timestamp"])
    assert client.get_certificate(cid).not_before == block_time


def test_one_open_certificate_per_grantee_and_right(net) -> None:
    client = _registered(net)
    m = net.accounts["manufacturer"]
    first, _ = _grant(net, client, not_before=_now(net) + DAY)  # not yet valid still counts as open
    with pytest.raises(errors.DataRightsRegistryOpenCertificate) as info:
        _grant(net, client)
    assert info.value.error_args == {"certificateId": first}
    other, _ = _grant(net, client, right=Right.OPERATION)  # another right is fine
    assert other != first

    client.revoke_certificate(net.accounts["retailer"], first, keccak_text("new terms"))
    second, result = _grant(net, client, days=5)
    (event,) = _events(net, result, "CertificateGranted")
    assert event.args.previousCertificateId == bytes.fromhex(first[2:])  # the grantee's chain of certificates
    assert client.latest_certificate(SALES, m.address, Right.PROCESSING) == second
    net.chain.increase_time(6 * DAY)
    third, _ = _grant(net, client, days=5)  # after expiry a new one may be granted
    assert third not in (first, second)


def test_terms_and_window_are_fixed_at_grant(net) -> None:
    """No function changes a granted certificate; only a recorded revocation ends it early."""
    abi = net.contract("DataRightsRegistry").abi
    writes = {f["name"] for f in abi if f["type"] == "function" and f["stateMutability"] not in ("view", "pure")}
    erc721 = {"approve", "safeTransferFrom", "setApprovalForAll", "transferFrom"}
    assert writes - erc721 == {"registerDataset", "grantCertificate", "revokeCertificate", "recordUse"}
    client = _registered(net)
    cid, _ = _grant(net, client)
    before = client.get_certificate(cid)
    client.record_use(net.accounts["manufacturer"], cid, Right.PROCESSING, keccak_text("a"))
    after = client.get_certificate(cid)
    assert (after.not_before, after.expires_at, after.terms_hash) == (
        before.not_before,
        before.expires_at,
        before.terms_hash,
    )


# ---------------------------------------------------------------- use refusals
def test_use_refusals(any_net) -> None:
    client = _registered(any_net)
    analyst = any_net.accounts["manufacturer"]
    cid, _ = _grant(any_net, client)
    purpose = keccak_text("p")
    with pytest.raises(errors.DataRightsRegistryNotGrantee) as info:
        client.record_use(any_net.accounts["logistics"], cid, Right.PROCESSING, purpose)
    assert info.value.error_args == {"account": any_net.accounts["logistics"].address, "certificateId": cid}
    with pytest.raises(errors.DataRightsRegistryNotGrantee):  # even the holder uses no certificate of others
        client.record_use(any_net.accounts["retailer"], cid, Right.PROCESSING, purpose)
    with pytest.raises(errors.DataRightsRegistryWrongRight) as info:
        client.record_use(analyst, cid, Right.OPERATION, purpose)
    assert info.value.error_args == {"certificateId": cid, "granted": 1, "used": 2}
    with pytest.raises(errors.TraceChainZeroHash):
        client.record_use(analyst, cid, Right.PROCESSING, bytes(32))
    with pytest.raises(errors.DataRightsRegistryUnknownCertificate):
        client.record_use(analyst, keccak_text("no such"), Right.PROCESSING, purpose)


def test_suspended_grantee_cannot_use_and_has_no_right(net) -> None:
    client = _registered(net)
    analyst = net.accounts["manufacturer"]
    cid, _ = _grant(net, client)
    net.actors.suspend_actor(net.accounts["governance"], analyst.address)
    assert client.certificate_status(cid) is CertificateStatus.VALID  # the certificate itself is fine
    assert not client.has_right(SALES, analyst.address, Right.PROCESSING)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        client.record_use(analyst, cid, Right.PROCESSING, keccak_text("p"))
    net.actors.reinstate_actor(net.accounts["governance"], analyst.address)
    client.record_use(analyst, cid, Right.PROCESSING, keccak_text("p"))


# ---------------------------------------------------------------- holding transfer
def test_transfer_moves_holding_and_certificates_survive(any_net) -> None:
    client = _registered(any_net)
    retailer, new_holder = any_net.accounts["retailer"], any_net.accounts["logistics"]
    analyst = any_net.accounts["manufacturer"]
    cid, _ = _grant(any_net, client)

    result = client.transfer_holding(retailer, SALES, new_holder.address)
    (transfer,) = _events(any_net, result, "Transfer")
    assert (transfer.args["from"], transfer.args.to, transfer.args.tokenId) == (
        retailer.address,
        new_holder.address,
        dataset_token_id(SALES),
    )
    assert client.holder_of(SALES) == new_holder.address
    assert client.has_right(SALES, new_holder.address, Right.HOLDING)
    assert not client.has_right(SALES, retailer.address, Right.HOLDING)
    assert not client.has_right(SALES, retailer.address, Right.PROCESSING)

    # the licence granted by the old holder stays valid ...
    assert client.certificate_status(cid) is CertificateStatus.VALID
    assert client.has_right(SALES, analyst.address, Right.PROCESSING)
    client.record_use(analyst, cid, Right.PROCESSING, keccak_text("after the sale"))
    # ... the old holder lost the power to grant or revoke, the new one has it
    with pytest.raises(errors.DataRightsRegistryNotRevoker):
        client.revoke_certificate(retailer, cid, keccak_text("spite"))
    with pytest.raises(errors.DataRightsRegistryNotHolder):
        _grant(any_net, client, grantee="inspector")
    _grant(any_net, client, grantee="inspector", holder="logistics")
    client.revoke_certificate(new_holder, cid, keccak_text("renegotiate"))
    assert client.certificate_status(cid) is CertificateStatus.REVOKED


def test_transfer_to_unregistered_or_by_suspended_is_refused(net) -> None:
    client = _registered(net)
    retailer = net.accounts["retailer"]
    token = client.contract.functions
    outsider = net.accounts["outsider"].address
    with pytest.raises(errors.ActorRegistryUnknownActor):
        client.transfer_holding(retailer, SALES, outsider)
    # plain transferFrom goes through the same rules
    with pytest.raises(errors.ActorRegistryUnknownActor):
        net.tx.send(retailer, token.transferFrom(retailer.address, outsider, dataset_token_id(SALES)))
    net.actors.suspend_actor(net.accounts["governance"], net.accounts["logistics"].address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        client.transfer_holding(retailer, SALES, net.accounts["logistics"].address)
    net.actors.suspend_actor(net.accounts["governance"], retailer.address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        client.transfer_holding(retailer, SALES, net.accounts["inspector"].address)


def test_only_owner_or_approved_may_transfer(net) -> None:
    client = _registered(net)
    retailer, m, logistics = net.accounts["retailer"], net.accounts["manufacturer"], net.accounts["logistics"]
    token = client.contract.functions
    tid = dataset_token_id(SALES)
    with pytest.raises(errors.ERC721InsufficientApproval):
        net.tx.send(m, token.transferFrom(retailer.address, m.address, tid))
    with pytest.raises(errors.ERC721InvalidApprover):
        net.tx.send(m, token.approve(m.address, tid))
    net.tx.send(retailer, token.approve(m.address, tid))  # an approved operator (e.g. an exchange) may move it
    net.tx.send(m, token.safeTransferFrom(retailer.address, logistics.address, tid))
    assert client.holder_of(SALES) == logistics.address


def test_erc165_interfaces(rights) -> None:
    from eth_utils import function_abi_to_4byte_selector

    supports = rights.contract.functions.supportsInterface
    assert supports(bytes.fromhex("80ac58cd")).call()  # ERC-721
    assert supports(bytes.fromhex("5b5e139f")).call()  # ERC-721 metadata
    assert not supports(bytes.fromhex("ffffffff")).call()
    own = ("registerDataset", "grantCertificate", "revokeCertificate", "recordUse", "datasetIdOf", "holderOf",
           "datasetExists", "getCertificate", "useCount", "certificateStatus", "latestCertificate",
           "hasRight")  # fmt: skip
    interface_id = 0
    for item in rights.contract.abi:
        if item.get("type") == "function" and item["name"] in own:
            interface_id ^= int.from_bytes(function_abi_to_4byte_selector(item), "big")
    assert supports(interface_id.to_bytes(4, "big")).call()  # IDataRightsRegistry


def test_suspended_holder_still_holds_but_has_no_right_to_exercise(net) -> None:
    client = _registered(net)
    retailer = net.accounts["retailer"]
    net.actors.suspend_actor(net.accounts["governance"], retailer.address)
    assert client.holder_of(SALES) == retailer.address
    assert not client.has_right(SALES, retailer.address, Right.HOLDING)
    assert not client.has_right(SALES, retailer.address, Right.PROCESSING)
    net.actors.reinstate_actor(net.accounts["governance"], retailer.address)
    assert client.has_right(SALES, retailer.address, Right.HOLDING)


def test_approved_operator_cannot_move_the_token_to_an_outsider(net) -> None:
    client = _registered(net)
    retailer, exchange = net.accounts["retailer"], net.accounts["manufacturer"]
    token = client.contract.functions
    net.tx.send(retailer, token.setApprovalForAll(exchange.address, True))
    with pytest.raises(errors.ActorRegistryUnknownActor):
        net.tx.send(exchange, token.transferFrom(retailer.address, net.accounts["outsider"].address,
                                                 dataset_token_id(SALES)))  # fmt: skip
    assert client.holder_of(SALES) == retailer.address


# ---------------------------------------------------------------- relayed writes (ERC-2771)
def test_relayed_lifecycle_acts_as_signers(any_net) -> None:
    relayed = _client(any_net, relayed=True)
    retailer, analyst = any_net.accounts["retailer"], any_net.accounts["manufacturer"]
    balances = {a.address: any_net.chain.w3.eth.get_balance(a.address) for a in (retailer, analyst)}
    relayed.register_dataset(retailer, CONTENT, META)
    cid, _ = relayed.grant_certificate(retailer, SALES, analyst.address, Right.OPERATION, _now(any_net) + DAY, TERMS)
    relayed.record_use(analyst, cid, Right.OPERATION, keccak_text("resale product"))
    relayed.transfer_holding(retailer, SALES, any_net.accounts["logistics"].address)
    relayed.revoke_certificate(any_net.accounts["logistics"], cid, keccak_text("done"))
    assert relayed.holder_of(SALES) == any_net.accounts["logistics"].address
    assert relayed.get_certificate(cid).use_count == 1 == relayed.use_count(cid)
    assert relayed.certificate_status(cid) is CertificateStatus.REVOKED
    assert {a: any_net.chain.w3.eth.get_balance(a) for a in balances} == balances  # the relayer paid


def test_relayed_unauthorised_writes_are_refused(net) -> None:
    relayed = _client(net, relayed=True)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        relayed.register_dataset(net.accounts["outsider"], CONTENT)
    _client(net).register_dataset(net.accounts["retailer"], CONTENT)
    with pytest.raises(errors.DataRightsRegistryNotHolder):
        relayed.grant_certificate(
            net.accounts["manufacturer"],
            SALES,
            net.accounts["logistics"].address,
            Right.PROCESSING,
            _now(net) + DAY,
            TERMS,
        )


# ---------------------------------------------------------------- gas
def test_gas_stays_within_budget(net) -> None:
    """Guards against regressions; measured figures are in docs/PROTOCOL.md."""
    client = _client(net)
    gas = {"register": client.register_dataset(net.accounts["retailer"], CONTENT, META)[1].gas_used}
    cid, result = _grant(net, client)
    gas["grant"] = result.gas_used
    gas["use"] = client.record_use(net.accounts["manufacturer"], cid, Right.PROCESSING, keccak_text("x")).gas_used
    gas["use_again"] = client.record_use(net.accounts["manufacturer"], cid, Right.PROCESSING, keccak_text("y")).gas_used
    gas["revoke"] = client.revoke_certificate(net.accounts["retailer"], cid, keccak_text("z")).gas_used
    to = net.accounts["logistics"].address
    gas["transfer"] = client.transfer_holding(net.accounts["retailer"], SALES, to).gas_used
    print("gas", gas)
    budget = {
        "register": 100_000,
        "grant": 185_000,
        "use": 55_000,
        "use_again": 55_000,
        "revoke": 55_000,
        "transfer": 100_000,
    }
    assert all(gas[k] <= budget[k] for k in budget), repr(gas)


def test_unregistered_or_suspended_operator_cannot_move_the_token(net) -> None:
    client = _registered(net)
    retailer, logistics, outsider = net.accounts["retailer"], net.accounts["logistics"], net.accounts["outsider"]
    token = client.contract.functions
    tid = dataset_token_id(SALES)
    net.tx.send(retailer, token.setApprovalForAll(outsider.address, True))
    with pytest.raises(errors.ActorRegistryUnknownActor) as info:
        net.tx.send(outsider, token.transferFrom(retailer.address, logistics.address, tid))
    assert info.value.error_args == {"account": outsider.address}
    exchange = net.accounts["manufacturer"]
    net.tx.send(retailer, token.approve(exchange.address, tid))
    net.actors.suspend_actor(net.accounts["governance"], exchange.address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        net.tx.send(exchange, token.transferFrom(retailer.address, logistics.address, tid))
    assert client.holder_of(SALES) == retailer.address
