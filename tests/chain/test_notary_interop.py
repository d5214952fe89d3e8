"""Notary interop: OpenZeppelin's JS merkle-tree and our Python trees both anchor and prove on-chain,
and an ERC-1271 contract wallet co-signs a record."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from typing import Any

import pytest

from tracechain import errors
from tracechain.chain.compile import COMPILER_SETTINGS, project_root
from tracechain.chain.notary import LEAF_ENCODING, Method, NotaryClient, cosigned_record_id, encode_kind, leaf_values
from tracechain.hashing import document_hash, to_hex
from tracechain.merkle import StandardMerkleTree

# A minimal ERC-1271 wallet: a signature is valid when its single owner key made it.
WALLET_SOURCE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
contract OwnedWallet {
    address public immutable owner;
    constructor(address owner_) { owner = owner_; }
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}
"""


def oz(request: dict[str, Any]) -> dict[str, Any]:
    """Run scripts/oz-merkle.js (OpenZeppelin's StandardMerkleTree) on one request."""
    done = subprocess.run(
        ["node", "scripts/oz-merkle.js"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=project_root(),
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def js_values(count: int, kind: str) -> list[list[str]]:
    return [[to_hex(document_hash({"type": kind, "n": i})), to_hex(encode_kind(kind))] for i in range(count)]


@pytest.mark.parametrize("count", [1, 2, 7, 64])
def test_tree_built_by_openzeppelin_js_is_accepted_by_the_contract(any_net, count) -> None:
    client = NotaryClient(any_net.contract("Notary"), any_net.tx)
    values = js_values(count, "delivery")
    js = oz({"op": "build", "values": values, "encoding": list(LEAF_ENCODING)})
    n = any_net.accounts["notary"].address
    client.notarize_batch(any_net.accounts["notary"], bytes.fromhex(js["root"][2:]), count)
    ours = StandardMerkleTree.of([leaf_values(bytes.fromhex(h[2:]), "delivery") for h, _ in values], LEAF_ENCODING)
    assert to_hex(ours.root) == js["root"]
    for i, (record_hash, _) in enumerate(values):
        proof = [bytes.fromhex(p[2:]) for p in js["proofs"][i]]
        root = bytes.fromhex(js["root"][2:])
        assert client.verify_inclusion(root, n, bytes.fromhex(record_hash[2:]), "delivery", proof)
        assert ours.proof(i) == proof


def test_python_tree_is_accepted_by_openzeppelin_js_and_the_contract(any_net) -> None:
    client = NotaryClient(any_net.contract("Notary"), any_net.tx)
    hashes = [document_hash({"type": "invoice", "n": i}) for i in range(33)]
    kinds = ["invoice" if i % 3 else "settlement" for i in range(33)]
    tree = StandardMerkleTree.of([leaf_values(h, k) for h, k in zip(hashes, kinds, strict=True)], LEAF_ENCODING)
    js = oz({"op": "verify", "dump": tree.dump()})
    assert js["valid"] and js["root"] == to_hex(tree.root)
    assert js["proofs"] == [[to_hex(p) for p in tree.proof(i)] for i in range(len(tree))]
    n = any_net.accounts["notary"]
    client.notarize_batch(n, tree.root, len(tree))
    for i, (h, k) in enumerate(zip(hashes, kinds, strict=True)):
        assert client.verify_inclusion(tree.root, n.address, h, k, [bytes.fromhex(p[2:]) for p in js["proofs"][i]])


def test_tampered_python_dump_is_refused_by_openzeppelin_js() -> None:
    tree = StandardMerkleTree.of([leaf_values(document_hash({"n": i}), "delivery") for i in range(4)], LEAF_ENCODING)
    dump = tree.dump()
    dump["values"][0]["value"][1] = to_hex(encode_kind("invoice"))
    assert not oz({"op": "verify", "dump": dump})["valid"]


# ---------------------------------------------------------------- ERC-1271 contract wallet
@cache
def _wallet_artifact() -> tuple[list[Any], str]:
    import solcx

    root = project_root()
    settings = {**COMPILER_SETTINGS, "outputSelection": {"*": {"OwnedWallet": ["abi", "evm.bytecode.object"]}}}
    out = solcx.compile_standard(
        {"language": "Solidity", "sources": {"OwnedWallet.sol": {"content": WALLET_SOURCE}}, "settings": settings},
        solc_binary=(root / "scripts" / "solc-shim.js").resolve(),
        allow_empty=True,
    )
    compiled = out["contracts"]["OwnedWallet.sol"]["OwnedWallet"]
    return compiled["abi"], "0x" + compiled["evm"]["bytecode"]["object"]


def _deploy_wallet(net, owner: str) -> str:  # noqa: ANN001
    abi, bytecode = _wallet_artifact()
    from tracechain.chain.artifact import Artifact

    artifact = Artifact("OwnedWallet", "OwnedWallet.sol", abi, bytecode, "0x", "", {}, "")
    address, _ = net.tx.deploy(net.accounts["governance"], artifact, owner)
    return address


def test_contract_wallet_cosigns_through_erc1271(any_net) -> None:
    gov, seller, owner = any_net.accounts["governance"], any_net.accounts["manufacturer"], any_net.accounts["outsider"]
    wallet = _deploy_wallet(any_net, owner.address)
    any_net.actors.register_actor(gov, wallet, "Buyer Co (multisig)", [])
    client = NotaryClient(any_net.contract("Notary"), any_net.tx)
    record_hash = document_hash({"type": "contract", "ref": "C-7"})
    parties = [wallet, seller.address]
    deadline = int(any_net.chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    # The wallet's owner key signs the same EIP-712 digest; the wallet vouches for it on-chain.
    sigs = [client.cosign(s, record_hash, "contract", parties, deadline) for s in (owner, seller)]
    result = client.notarize_cosigned(seller, record_hash, "contract", parties, deadline, sigs)
    (event,) = client.events(result)
    assert event.parties == (wallet, seller.address)
    assert client.get_record(cosigned_record_id(record_hash, "contract", parties)).method == Method.COSIGNED


def test_contract_wallet_refuses_a_signature_not_from_its_owner(net) -> None:
    gov, seller = net.accounts["governance"], net.accounts["manufacturer"]
    wallet = _deploy_wallet(net, net.accounts["outsider"].address)
    net.actors.register_actor(gov, wallet, "Buyer Co (multisig)", [])
    client = NotaryClient(net.contract("Notary"), net.tx)
    record_hash = document_hash({"type": "contract", "ref": "C-8"})
    parties = [wallet, seller.address]
    deadline = int(net.chain.w3.eth.get_block("latest")["timestamp"]) + 3600
    sigs = [client.cosign(s, record_hash, "contract", parties, deadline) for s in (net.accounts["retailer"], seller)]
    with pytest.raises(errors.NotaryInvalidSignature) as info:
        client.notarize_cosigned(seller, record_hash, "contract", parties, deadline, sigs)
    assert info.value.error_args == {"party": wallet, "index": 0}
