"""Receipts: their JSON format, and verification against the chain alone catching every tampering."""

from __future__ import annotations

import copy
import json

import pytest

from tracechain.chain.notary import batch_id, cosigned_record_id, single_record_id
from tracechain.hashing import document_hash, to_hex
from tracechain.services.notary import NotaryService
from tracechain.services.receipts import (
    RECEIPT_FORMAT,
    InvalidReceiptError,
    NotaryReceipt,
    verify_receipt,
)
from tracechain.services.runtime import Runtime
from tracechain.settings import Settings
from tracechain.store.db import Store

ORDER = {"type": "purchase_order", "number": "PO-9", "total": "1200.00"}


@pytest.fixture(scope="module")
def net(embedded_net):  # noqa: ANN001, ANN201
    """The embedded deployment for this module (verification only reads), reverted at its end."""
    snapshot = embedded_net.chain.snapshot()
    yield embedded_net
    embedded_net.chain.revert(snapshot)


@pytest.fixture(scope="module")
def receipts(net, tmp_path_factory) -> dict[str, dict]:  # noqa: ANN001
    """One receipt JSON of each method."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("receipts"))
    store = Store(f"sqlite:///{settings.data_dir / 'store.db'}")
    runtime = Runtime(settings, net.chain, net.deployment, store, net.accounts["relayer"])
    svc = NotaryService(runtime, anchor=net.accounts["notary"])
    n, a, b = net.accounts["notary"], net.accounts["retailer"], net.accounts["manufacturer"]
    single = svc.notarize_single(n, document_hash(ORDER), "purchase_order")
    contract = {"type": "contract", "ref": "C-1"}
    h, parties, deadline = document_hash(contract), [a.address, b.address], 2_000_000_000
    sigs = [svc.client.cosign(s, h, "contract", parties, deadline) for s in (a, b)]
    svc.notarize_cosigned(h, "contract", parties, deadline, sigs)
    notes = [document_hash({"note": i}) for i in range(6)]
    for d in notes:
        svc.enqueue(d, "delivery")
    svc.flush()
    return {
        "single": svc.receipt(document_hash(ORDER)).to_json(),
        "cosigned": svc.receipt(h).to_json(),
        "batched": svc.receipt(notes[4]).to_json(),
        "_single_hash": single.record_hash,
    }


def check(net, body, record=None):  # noqa: ANN001, ANN201
    return verify_receipt(net.chain, NotaryReceipt.from_json(body), record)


def test_receipt_json_has_every_field(receipts, net) -> None:
    r = receipts["batched"]
    assert r["format"] == RECEIPT_FORMAT and r["version"] == 2
    assert set(r) == {
        "format", "version", "chainId", "contract", "id", "recordHash", "kind", "method", "notary", "parties",
        "merkle", "txHash", "blockNumber", "blockHash", "timestamp", "time",
    }  # fmt: skip
    assert set(r["merkle"]) == {"root", "proof", "leaf", "leafEncoding", "recordCount", "metadataHash"}
    assert r["chainId"] == net.chain.chain_id and r["contract"] == net.deployment.address("Notary")
    assert r["notary"] == net.accounts["notary"].address
    assert r["id"] == to_hex(batch_id(r["merkle"]["root"], r["notary"]))
    single = receipts["single"]
    assert single["merkle"] is None and single["parties"] == [] and single["notary"] == net.accounts["notary"].address
    assert single["id"] == to_hex(single_record_id(single["recordHash"], single["kind"], single["notary"]))
    cosigned = receipts["cosigned"]
    assert len(cosigned["parties"]) == 2 and cosigned["notary"] is None
    assert cosigned["id"] == to_hex(cosigned_record_id(cosigned["recordHash"], cosigned["kind"], cosigned["parties"]))
    # JSON round trip is lossless.
    for name in ("single", "cosigned", "batched"):
        body = json.loads(json.dumps(receipts[name]))
        assert NotaryReceipt.from_json(body).to_json() == receipts[name]


@pytest.mark.parametrize("method", ["single", "cosigned", "batched"])
def test_genuine_receipts_verify(receipts, net, method) -> None:
    verdict = check(net, receipts[method])
    assert verdict.ok, verdict.reason
    assert verdict.summary().startswith("OK: record ")
    assert len(verdict.checks) >= 8


def test_record_file_must_hash_to_the_receipt(receipts, net) -> None:
    assert check(net, receipts["single"], ORDER).ok
    verdict = check(net, receipts["single"], {**ORDER, "total": "1300.00"})
    assert not verdict.ok and "the record hashes to" in verdict.reason
    assert verdict.summary().startswith("FAILED: the record hashes to")


def _flip(hex_str: str) -> str:
    return hex_str[:-1] + ("0" if hex_str[-1] != "0" else "1")


def _rederive(body: dict) -> None:
    """Give a tampered receipt the id its (tampered) fields derive, so that only the chain can refuse it."""
    body["id"] = "0x" + "00" * 32
    body["id"] = NotaryReceipt.from_json(body).derived_id()


OTHER = "0x" + "11" * 20
TAMPERINGS = {
    "batched": {
        "proof": (lambda r: r["merkle"]["proof"].__setitem__(0, _flip(r["merkle"]["proof"][0])), "Merkle proof"),
        "proof order": (lambda r: r["merkle"]["proof"].reverse(), "Merkle proof"),
        "root": (lambda r: r["merkle"].__setitem__("root", _flip(r["merkle"]["root"])), "is not the id"),
        "root, id rederived": (lambda r: (r["merkle"].__setitem__("root", _flip(r["merkle"]["root"])), _rederive(r)),
                               "Merkle proof"),
        "notary": (lambda r: r.__setitem__("notary", OTHER), "is not the id"),
        "notary, id rederived": (lambda r: (r.__setitem__("notary", OTHER), _rederive(r)), "holds no BatchAnchored"),
        "record hash": (lambda r: r.__setitem__("recordHash", _flip(r["recordHash"])), "leaf"),
        "kind": (lambda r: r.__setitem__("kind", "invoice"), "leaf"),
        "record count": (lambda r: r["merkle"].__setitem__("recordCount", 7), "record count"),
        "metadata": (lambda r: r["merkle"].__setitem__("metadataHash", _flip(r["merkle"]["metadataHash"])), "metadata"),
    },
    "single": {
        "id": (lambda r: r.__setitem__("id", _flip(r["id"])), "is not the id"),
        "record hash": (lambda r: r.__setitem__("recordHash", _flip(r["recordHash"])), "is not the id"),
        "record hash, id rederived": (lambda r: (r.__setitem__("recordHash", _flip(r["recordHash"])), _rederive(r)),
                                      "holds no RecordNotarized"),
        "kind": (lambda r: r.__setitem__("kind", "invoice"), "is not the id"),
        "kind, id rederived": (lambda r: (r.__setitem__("kind", "invoice"), _rederive(r)), "holds no RecordNotarized"),
        "notary": (lambda r: r.__setitem__("notary", OTHER), "is not the id"),
        "notary, id rederived": (lambda r: (r.__setitem__("notary", OTHER), _rederive(r)), "holds no RecordNotarized"),
        "timestamp": (lambda r: (r.update(timestamp=r["timestamp"] + 1), r.pop("time")), "timestamp"),
        "block number": (lambda r: r.__setitem__("blockNumber", r["blockNumber"] - 1), "hash"),
        "block hash": (lambda r: r.__setitem__("blockHash", _flip(r["blockHash"])), "another chain"),
        "tx hash": (lambda r: r.__setitem__("txHash", _flip(r["txHash"])), "not on this chain"),
        "chain id": (lambda r: r.__setitem__("chainId", 1), "chain 1"),
        "method": (lambda r: (r.update(method="cosigned", parties=[r["notary"]], notary=None), _rederive(r)),
                   "holds no RecordCoSigned"),
    },
    "cosigned": {
        "parties": (lambda r: r["parties"].reverse(), "is not the id"),
        "parties, id rederived": (lambda r: (r["parties"].reverse(), _rederive(r)), "holds no RecordCoSigned"),
        "dropped party": (lambda r: r["parties"].pop(), "is not the id"),
        "dropped party, id rederived": (lambda r: (r["parties"].pop(), _rederive(r)), "holds no RecordCoSigned"),
    },
}  # fmt: skip


@pytest.mark.parametrize(
    ("method", "what"), [(m, w) for m, cases in TAMPERINGS.items() for w in cases], ids=lambda v: str(v)
)
def test_tampered_receipt_fails_with_a_reason(receipts, net, method, what) -> None:
    body = copy.deepcopy(receipts[method])
    change, expected = TAMPERINGS[method][what]
    change(body)
    verdict = check(net, body)
    assert not verdict.ok
    assert expected in verdict.reason, verdict.reason
    assert "\n" not in verdict.summary()


def test_contract_address_swapped_for_another_contract_or_none(receipts, net) -> None:
    for address, expected in (
        (net.deployment.address("ActorRegistry"), "holds no"),
        ("0x" + "22" * 20, "no contract"),
    ):
        body = {**receipts["single"], "contract": address}
        verdict = check(net, body)
        assert not verdict.ok and expected in verdict.reason, verdict.reason


def test_block_past_the_head_fails(receipts, net) -> None:
    body = {**receipts["single"], "blockNumber": net.chain.w3.eth.block_number + 100}
    verdict = check(net, body)
    assert not verdict.ok and "does not exist" in verdict.reason


@pytest.mark.parametrize(
    "change",
    [
        {"format": "something-else"},
        {"version": 1},
        {"version": 3},
        {"method": "carrier-pigeon"},
        {"recordHash": "0x1234"},
        {"contract": "not-an-address"},
        {"blockNumber": -1},
        {"blockNumber": True},
        {"kind": "Not A Kind"},
        {"txHash": "0x" + "zz" * 32},
        {"merkle": {"root": "0x" + "00" * 32}},
        {"time": "2031-01-01T00:00:00Z"},
        {"id": "0x12"},
        {"notary": None},
        {"notary": "not-an-address"},
        {"parties": ["0x" + "11" * 20]},
    ],
    ids=lambda c: next(iter(c)),
)
def test_malformed_receipts_are_invalid_input(receipts, change) -> None:
    with pytest.raises(InvalidReceiptError):
        NotaryReceipt.from_json({**receipts["single"], **change})


def test_missing_field_is_named(receipts) -> None:
    body = dict(receipts["batched"])
    del body["txHash"]
    with pytest.raises(InvalidReceiptError, match="txHash"):
        NotaryReceipt.from_json(body)
    with pytest.raises(InvalidReceiptError):
        NotaryReceipt.from_json([1, 2])
    with pytest.raises(InvalidReceiptError):
        NotaryReceipt.from_json({**receipts["batched"], "merkle": None})


def test_record_hash_hex_case_is_normalised(receipts, net) -> None:
    body = {**receipts["single"], "recordHash": "0x" + receipts["single"]["recordHash"][2:].upper()}
    assert check(net, body).ok
    assert to_hex(document_hash(ORDER)) == receipts["_single_hash"]


def test_version_1_receipts_are_refused_with_a_hint(receipts) -> None:
    with pytest.raises(InvalidReceiptError, match="protocol v1 Notary"):
        NotaryReceipt.from_json({**receipts["single"], "version": 1})


def test_cosigned_receipt_names_no_notary(receipts) -> None:
    with pytest.raises(InvalidReceiptError, match="no notary"):
        NotaryReceipt.from_json({**receipts["cosigned"], "notary": receipts["single"]["notary"]})
    with pytest.raises(InvalidReceiptError, match="names its parties"):
        NotaryReceipt.from_json({**receipts["cosigned"], "parties": []})
