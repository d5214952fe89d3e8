"""tracechain.merkle against fixed vectors, properties, and OpenZeppelin's own merkle-tree library."""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from tracechain.errors import InvalidInputError
from tracechain.merkle import StandardMerkleTree, leaf_hash, process_proof, verify_proof

REPO = Path(__file__).resolve().parents[1]


def oz(request: dict[str, Any]) -> dict[str, Any]:
    """Run scripts/oz-merkle.js (OpenZeppelin's StandardMerkleTree) on one request."""
    done = subprocess.run(
        ["node", "scripts/oz-merkle.js"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def h(hex_str: str) -> bytes:
    return bytes.fromhex(hex_str.removeprefix("0x"))


def hexes(nodes: list[bytes]) -> list[str]:
    return ["0x" + node.hex() for node in nodes]


def b32(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def random_values(rng: random.Random, count: int, encoding: list[str]) -> list[list[str]]:
    """Leaves in the JSON form both sides accept: 0x-hex bytes32, decimal-string uint256."""
    columns = {
        "bytes32": lambda: "0x" + rng.randbytes(32).hex(),
        "uint256": lambda: str(rng.getrandbits(256)),
    }
    return [[columns[t]() for t in encoding] for _ in range(count)]


# ---------------------------------------------------------------- known vectors
# The example of @openzeppelin/merkle-tree's README; its root is the one the README and OZ docs show.
README_VALUES = [
    ["0x1111111111111111111111111111111111111111", "5000000000000000000"],
    ["0x2222222222222222222222222222222222222222", "2500000000000000000"],
]
README_ROOT = "0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"

# Five leaves bytes32(1..5), pinned from @openzeppelin/merkle-tree 1.0.8.
FIVE = [[b32(n)] for n in range(1, 6)]
FIVE_SORTED_ROOT = "0x21abd2f655ded75d91fbd5e0b1ad35171a675fd315a077efa7f2d555a26e7094"
FIVE_SORTED_PROOF_1 = [
    "0x16db2e4b9f8dc120de98f8491964203ba76de27b27b29c2d25f85a325cd37477",
    "0xc167b0e3c82238f4f2d1a50a8b3a44f96311d77b148c30dc0ef863e1a060dcb6",
    "0x1a6dbeb0d179031e5261494ac4b6ee4e284665e8d2ea3ff44f7a2ddf5ca07bb7",
]
FIVE_UNSORTED_ROOT = "0x26b6b78b5477f2b0f2a2070fc0dfae6643f3972b71dba4a09176db581b4a07ba"
FIVE_UNSORTED_PROOF_2 = [
    "0xc167b0e3c82238f4f2d1a50a8b3a44f96311d77b148c30dc0ef863e1a060dcb6",
    "0xfb9d5d080ab994978e4a5f91e279a4584e57ea12f7e30a5aea9fad1cd2f02676",
]


def test_readme_vector() -> None:
    tree = StandardMerkleTree.of(README_VALUES, ["address", "uint256"])
    assert "0x" + tree.root.hex() == README_ROOT
    for i, value in enumerate(README_VALUES):
        assert verify_proof(tree.root, leaf_hash(value, ["address", "uint256"]), tree.proof(i))
        assert tree.proof_for(value) == tree.proof(i)


def test_five_leaf_vectors() -> None:
    tree = StandardMerkleTree.of(FIVE, ["bytes32"])
    assert "0x" + tree.root.hex() == FIVE_SORTED_ROOT
    assert hexes(tree.proof(1)) == FIVE_SORTED_PROOF_1
    unsorted = StandardMerkleTree.of(FIVE, ["bytes32"], sort_leaves=False)
    assert "0x" + unsorted.root.hex() == FIVE_UNSORTED_ROOT
    assert hexes(unsorted.proof(2)) == FIVE_UNSORTED_PROOF_2


def test_leaf_hash_is_double_keccak_of_abi_encoding() -> None:
    value = [b"\x11" * 32, 42]
    expected = keccak(keccak(encode(["bytes32", "uint256"], value)))
    assert leaf_hash(value, ["bytes32", "uint256"]) == expected
    # The JSON forms of an OZ dump hash the same.
    assert leaf_hash(["0x" + "11" * 32, "42"], ["bytes32", "uint256"]) == expected
    assert leaf_hash(["0x" + "11" * 32, "0x2a"], ["bytes32", "uint256"]) == expected


def test_single_leaf_tree() -> None:
    tree = StandardMerkleTree.of([[b"\x07" * 32]], ["bytes32"])
    assert tree.root == keccak(keccak(b"\x07" * 32))
    assert tree.proof(0) == []
    assert len(tree) == 1
    assert verify_proof(tree.root, tree.leaf_hashes[0], [])
    assert StandardMerkleTree.load(tree.dump()).root == tree.root


def test_two_leaf_root_is_sorted_pair_hash() -> None:
    a, b = leaf_hash([b32(1)], ["bytes32"]), leaf_hash([b32(2)], ["bytes32"])
    expected = keccak(min(a, b) + max(a, b))
    for sort_leaves in (True, False):
        tree = StandardMerkleTree.of([[b32(1)], [b32(2)]], ["bytes32"], sort_leaves=sort_leaves)
        assert tree.root == expected
        assert tree.proof(0) == [b] and tree.proof(1) == [a]
        assert tree.leaf_hashes == [a, b]


def test_values_are_kept_in_given_order_as_python_values() -> None:
    tree = StandardMerkleTree.of([[b32(3), "7"], [b32(1), 9]], ["bytes32", "uint256"])
    assert tree.values == [(h(b32(3)), 7), (h(b32(1)), 9)]
    assert tree.encoding == ("bytes32", "uint256")


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("values", "encoding"),
    [
        ([], ["bytes32"]),
        ([[b32(1)]], []),
        ([[b32(1)]], "bytes32"),
        ([[b32(1)]], [["bytes32"]]),
        ([[b32(1)]], ["bytes33"]),
        ([[b32(1)]], ["bytes32", "uint256"]),
        ([b32(1)], ["bytes32"]),
        ([["0xzz"]], ["bytes32"]),
        ([["not a number"]], ["uint256"]),
        ([[-1]], ["uint256"]),
        ([[b"\x00" * 33]], ["bytes32"]),
    ],
)
def test_of_rejects_bad_input(values: Any, encoding: Any) -> None:
    with pytest.raises(InvalidInputError):
        StandardMerkleTree.of(values, encoding)


def test_proof_rejects_bad_index_and_unknown_value() -> None:
    tree = StandardMerkleTree.of(FIVE, ["bytes32"])
    for index in (-1, 5, True):
        with pytest.raises(InvalidInputError):
            tree.proof(index)
    with pytest.raises(InvalidInputError):
        tree.proof_for([b32(6)])


def test_verify_proof_rejects_malformed_nodes() -> None:
    with pytest.raises(InvalidInputError):
        verify_proof(b"\x00" * 31, b"\x00" * 32, [])
    with pytest.raises(InvalidInputError):
        verify_proof(b"\x00" * 32, b"\x00" * 32, [b"\x00"])


def test_load_rejects_tampered_dumps() -> None:
    good = StandardMerkleTree.of(FIVE, ["bytes32"]).dump()

    def tampered(change: Any) -> dict[str, Any]:
        dump = json.loads(json.dumps(good))
        change(dump)
        return dump

    bad_dumps = [
        tampered(lambda d: d.update(format="standard-v2")),
        tampered(lambda d: d.pop("leafEncoding")),
        tampered(lambda d: d["tree"].__setitem__(0, b32(0))),
        tampered(lambda d: d["tree"].__setitem__(8, b32(0))),
        tampered(lambda d: d["tree"].__setitem__(1, "0x1234")),
        tampered(lambda d: d["values"][0].update(value=[b32(9)])),
        tampered(lambda d: d["values"][0].update(treeIndex=0)),
        tampered(lambda d: d["values"][0].update(treeIndex=d["values"][1]["treeIndex"])),
        tampered(lambda d: d["values"].pop()),
    ]
    for dump in bad_dumps:
        with pytest.raises(InvalidInputError):
            StandardMerkleTree.load(dump)
    assert StandardMerkleTree.load(good).dump() == good


# ---------------------------------------------------------------- properties
@settings(max_examples=150, deadline=None)
@given(
    leaves=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=64),
    sort_leaves=st.booleans(),
    data=st.data(),
)
def test_every_proof_verifies_and_tampering_fails(leaves: list[bytes], sort_leaves: bool, data: Any) -> None:
    tree = StandardMerkleTree.of([[leaf] for leaf in leaves], ["bytes32"], sort_leaves=sort_leaves)
    assert len(tree) == len(leaves)
    for i, leaf in enumerate(leaves):
        proof = tree.proof(i)
        hashed = leaf_hash([leaf], ["bytes32"])
        assert tree.leaf_hashes[i] == hashed
        assert len(proof) <= len(leaves).bit_length()
        assert verify_proof(tree.root, hashed, proof)
        assert process_proof(hashed, proof) == tree.root

    i = data.draw(st.integers(0, len(leaves) - 1), label="index")
    proof, hashed = tree.proof(i), tree.leaf_hashes[i]
    bit = data.draw(st.integers(0, 255), label="bit")
    flip = (1 << bit).to_bytes(32, "big")

    def flipped(node: bytes) -> bytes:
        return bytes(x ^ y for x, y in zip(node, flip, strict=True))

    assert not verify_proof(tree.root, flipped(hashed), proof)
    tampered_leaf = bytes(x ^ y for x, y in zip(leaves[i], flip, strict=True))
    assert not verify_proof(tree.root, leaf_hash([tampered_leaf], ["bytes32"]), proof)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1), label="proof element")
        assert not verify_proof(tree.root, hashed, [*proof[:j], flipped(proof[j]), *proof[j + 1 :]])
        assert not verify_proof(tree.root, hashed, proof[:-1])
    assert StandardMerkleTree.load(tree.dump()).dump() == tree.dump()


# ---------------------------------------------------------------- interop with OpenZeppelin
INTEROP_CASES = [
    (encoding, count, sort_leaves)
    for encoding in (["bytes32"], ["bytes32", "uint256"])
    for count in (1, 2, 3, 4, 7, 16, 33)
    for sort_leaves in (True, False)
]


@pytest.mark.parametrize(("encoding", "count", "sort_leaves"), INTEROP_CASES)
def test_js_built_tree_matches_python(encoding: list[str], count: int, sort_leaves: bool) -> None:
    values = random_values(random.Random(f"{encoding}{count}"), count, encoding)
    if count > 3:
        values[-1] = values[0]  # a duplicated leaf, which OZ also allows
    js = oz({"op": "build", "values": values, "encoding": encoding, "sortLeaves": sort_leaves})

    tree = StandardMerkleTree.of(values, encoding, sort_leaves=sort_leaves)
    assert "0x" + tree.root.hex() == js["root"]
    assert [hexes(tree.proof(i)) for i in range(count)] == js["proofs"]
    assert tree.dump() == js["dump"]

    loaded = StandardMerkleTree.load(js["dump"])
    assert loaded.root == tree.root
    assert [loaded.proof(i) for i in range(count)] == [tree.proof(i) for i in range(count)]


@pytest.mark.parametrize(("encoding", "count", "sort_leaves"), INTEROP_CASES)
def test_python_dump_loads_in_js(encoding: list[str], count: int, sort_leaves: bool) -> None:
    rng = random.Random(f"py{encoding}{count}")
    values: list[list[Any]] = [[rng.randbytes(32), rng.getrandbits(256)][: len(encoding)] for _ in range(count)]
    tree = StandardMerkleTree.of(values, encoding, sort_leaves=sort_leaves)
    # Round-trip through JSON text, as a dump would be stored.
    js = oz({"op": "verify", "dump": json.loads(json.dumps(tree.dump()))})
    assert js["valid"] is True, js
    assert js["root"] == "0x" + tree.root.hex()
    assert js["proofs"] == [hexes(tree.proof(i)) for i in range(count)]


def test_js_rejects_a_tampered_python_dump() -> None:
    dump = StandardMerkleTree.of(FIVE, ["bytes32"]).dump()
    dump["values"][2]["value"] = [b32(99)]
    assert oz({"op": "verify", "dump": dump})["valid"] is False


# ---------------------------------------------------------------- scale
def test_ten_thousand_leaves() -> None:
    values = random_values(random.Random(10_000), 10_000, ["bytes32", "uint256"])
    started = time.perf_counter()
    tree = StandardMerkleTree.of(values, ["bytes32", "uint256"])
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"building 10,000 leaves took {elapsed:.2f}s"  # ~0.3 s here; generous for slow CI
    for i in (0, 1, 4_999, 9_998, 9_999):
        proof = tree.proof(i)
        assert len(proof) <= 14
        assert verify_proof(tree.root, leaf_hash(values[i], ["bytes32", "uint256"]), proof)
    js = oz({"op": "build", "values": values[:2_000], "encoding": ["bytes32", "uint256"]})
    assert js["root"] == "0x" + StandardMerkleTree.of(values[:2_000], ["bytes32", "uint256"]).root.hex()
