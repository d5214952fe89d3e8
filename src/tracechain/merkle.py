"""Merkle trees and proofs, byte-compatible with OpenZeppelin's StandardMerkleTree and MerkleProof.sol.

This mirrors `@openzeppelin/merkle-tree` (v1.0.x) exactly:

- a leaf is `keccak256(keccak256(abi.encode(values...)))` for a list of ABI types (the leaf encoding);
- a node is `keccak256(min(a, b) || max(a, b))` (sorted pairs, as `MerkleProof.sol` expects);
- the tree is OZ's array layout (`makeMerkleTree`): node `i` has children `2i+1` and `2i+2`, the
  leaves fill the end of the array in reverse, and by default they are sorted by hash first.

So for the same values, encoding and `sort_leaves` option the root, proofs and `dump()` JSON are the
same as OZ's, and a dump from either side loads in the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from eth_abi import encode, is_encodable_type
from eth_abi.exceptions import EncodingError
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_utils import keccak

from tracechain.errors import InvalidInputError

DUMP_FORMAT = "standard-v1"


# ---------------------------------------------------------------- hashing
@lru_cache(maxsize=64)
def _parse_encoding(encoding: tuple[str, ...]) -> tuple[ABIType, ...]:
    if not encoding:
        raise InvalidInputError("The leaf encoding must name at least one ABI type")
    for abi_type in encoding:
        if not is_encodable_type(abi_type):
            raise InvalidInputError(f"Not an ABI type: {abi_type!r}")
    return tuple(parse(abi_type) for abi_type in encoding)


def _encoding_tuple(encoding: Sequence[str]) -> tuple[str, ...]:
    if isinstance(encoding, str) or not all(isinstance(abi_type, str) for abi_type in encoding):
        raise InvalidInputError("The leaf encoding must be a list of ABI type strings")
    return tuple(encoding)


def _coerce(value: Any, abi_type: ABIType) -> Any:
    """Turn the JSON forms OZ dumps use (0x-hex bytes, decimal or hex integer strings) into Python values."""
    if abi_type.is_array:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise InvalidInputError(f"Expected a list for ABI type {abi_type.to_type_str()}")
        return [_coerce(item, abi_type.item_type) for item in value]
    if isinstance(abi_type, TupleType):
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise InvalidInputError(f"Expected a list for ABI type {abi_type.to_type_str()}")
        if len(value) != len(abi_type.components):
            raise InvalidInputError(f"Expected {len(abi_type.components)} items for {abi_type.to_type_str()}")
        return tuple(_coerce(item, component) for item, component in zip(value, abi_type.components, strict=True))
    if isinstance(abi_type, BasicType) and isinstance(value, str):
        try:
            if abi_type.base == "bytes":
                return bytes.fromhex(value.removeprefix("0x"))
            if abi_type.base in ("uint", "int"):
                return int(value, 16) if value.lower().startswith("0x") else int(value, 10)
        except ValueError as exc:
            raise InvalidInputError(f"Bad {abi_type.to_type_str()} value: {value!r}") from exc
    return value


def _coerce_leaf(values: Any, encoding: tuple[str, ...]) -> tuple[Any, ...]:
    abi_types = _parse_encoding(encoding)
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidInputError("A leaf must be a list of values, one per type of the leaf encoding")
    if len(values) != len(abi_types):
        raise InvalidInputError(f"A leaf has {len(values)} values but the encoding has {len(abi_types)} types")
    return tuple(_coerce(value, abi_type) for value, abi_type in zip(values, abi_types, strict=True))


def _hash_coerced(values: tuple[Any, ...], encoding: tuple[str, ...]) -> bytes:
    try:
        encoded = encode(encoding, values)
    except (EncodingError, ValueError, TypeError, OverflowError) as exc:
        raise InvalidInputError(f"Cannot ABI-encode {values!r} as {list(encoding)}: {exc}") from exc
    return keccak(keccak(encoded))


def leaf_hash(values: Sequence[Any], encoding: Sequence[str]) -> bytes:
    """OZ's `standardLeafHash`: keccak256(keccak256(abi.encode(values...))).

    Values may be Python values or the JSON forms of an OZ dump (0x-hex for bytes, strings for integers).

    Raises:
        InvalidInputError: the encoding is not a list of ABI types or the values do not fit it.
    """
    types = _encoding_tuple(encoding)
    return _hash_coerced(_coerce_leaf(values, types), types)


def _hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b if a <= b else b + a)


def _check_node(node: Any, what: str) -> bytes:
    if not isinstance(node, bytes | bytearray) or len(node) != 32:
        raise InvalidInputError(f"{what} must be 32 bytes")
    return bytes(node)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a proof leads to from a leaf hash (`MerkleProof.processProof`).

    Raises:
        InvalidInputError: the leaf or a proof element is not 32 bytes.
    """
    computed = _check_node(leaf, "A leaf hash")
    for sibling in proof:
        computed = _hash_pair(computed, _check_node(sibling, "A proof element"))
    return computed


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` proves the leaf hash `leaf` under `root` (`MerkleProof.verify`).

    Raises:
        InvalidInputError: the root, the leaf or a proof element is not 32 bytes.
    """
    return _check_node(root, "The root") == process_proof(leaf, proof)


# ---------------------------------------------------------------- tree
def _jsonable(value: Any) -> Any:
    """The JSON form OZ dumps hold: bytes as 0x-hex, integers as decimal strings."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _sibling(i: int) -> int:
    return i + 1 if i % 2 else i - 1


def _is_valid_tree(tree: Sequence[bytes]) -> bool:
    """OZ's `isValidMerkleTree`: every internal node hashes its two children."""
    for i, node in enumerate(tree):
        left, right = 2 * i + 1, 2 * i + 2
        if right >= len(tree):
            if left < len(tree):
                return False
        elif node != _hash_pair(tree[left], tree[right]):
            return False
    return len(tree) > 0


class StandardMerkleTree:
    """OZ's StandardMerkleTree: values (lists matching a leaf encoding) committed to by one root.

    Build one with `of` or `load`; `proof(i)` proves the i-th value in the order it was given.
    """

    def __init__(
        self,
        tree: Sequence[bytes],
        values: Sequence[tuple[Any, ...]],
        tree_indices: Sequence[int],
        encoding: tuple[str, ...],
    ) -> None:
        self._tree = list(tree)
        self._values = list(values)
        self._tree_indices = list(tree_indices)
        self._encoding = encoding
        # Like OZ's hashLookup: a duplicated value maps to its last occurrence.
        self._lookup = {self._tree[t]: i for i, t in enumerate(self._tree_indices)}

    @classmethod
    def of(
        cls, values: Sequence[Sequence[Any]], encoding: Sequence[str], sort_leaves: bool = True
    ) -> StandardMerkleTree:
        """Build the tree OZ's `StandardMerkleTree.of(values, encoding, {sortLeaves})` builds.

        Raises:
            InvalidInputError: there are no values, or a value does not fit the encoding.
        """
        types = _encoding_tuple(encoding)
        if not values:
            raise InvalidInputError("A Merkle tree needs at least one leaf")
        coerced = [_coerce_leaf(value, types) for value in values]
        hashes = [_hash_coerced(value, types) for value in coerced]
        order = list(range(len(hashes)))
        if sort_leaves:
            order.sort(key=hashes.__getitem__)  # stable, like JS Array.prototype.sort
        size = 2 * len(hashes) - 1
        tree: list[bytes] = [b""] * size
        tree_indices = [0] * len(hashes)
        for position, value_index in enumerate(order):
            tree_indices[value_index] = size - 1 - position
            tree[size - 1 - position] = hashes[value_index]
        for i in range(size - 1 - len(hashes), -1, -1):
            tree[i] = _hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        return cls(tree, coerced, tree_indices, types)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """Load an OZ `tree.dump()` (format "standard-v1"), checking every hash in it.

        Raises:
            InvalidInputError: the dump is malformed, or its tree or values do not hash consistently.
        """
        if not isinstance(data, Mapping) or data.get("format") != DUMP_FORMAT:
            raise InvalidInputError(f"Not a Merkle tree dump in format {DUMP_FORMAT!r}")
        encoding = data.get("leafEncoding")
        raw_tree, raw_values = data.get("tree"), data.get("values")
        if not isinstance(encoding, list) or not isinstance(raw_tree, list) or not isinstance(raw_values, list):
            raise InvalidInputError("A Merkle tree dump needs leafEncoding, tree and values lists")
        types = _encoding_tuple(encoding)
        try:
            tree = [bytes.fromhex(node.removeprefix("0x")) for node in raw_tree]
        except (AttributeError, ValueError) as exc:
            raise InvalidInputError("Merkle tree nodes must be 0x-hex strings") from exc
        for node in tree:
            _check_node(node, "A Merkle tree node")
        if not raw_values or len(tree) != 2 * len(raw_values) - 1:
            raise InvalidInputError("A Merkle tree dump needs one leaf per value and at least one value")
        if not _is_valid_tree(tree):
            raise InvalidInputError("Merkle tree is invalid: a node does not hash its children")
        values, tree_indices = [], []
        for entry in raw_values:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("treeIndex"), int):
                raise InvalidInputError("Each dumped value needs a value and an integer treeIndex")
            index = entry["treeIndex"]
            if not len(tree) // 2 <= index < len(tree):  # the leaves are the last (n+1)/2 nodes
                raise InvalidInputError(f"treeIndex {index} is not a leaf of the tree")
            value = _coerce_leaf(entry.get("value"), types)
            if tree[index] != _hash_coerced(value, types):
                raise InvalidInputError(f"Merkle tree does not contain the expected value at treeIndex {index}")
            values.append(value)
            tree_indices.append(index)
        if len(set(tree_indices)) != len(tree_indices):
            raise InvalidInputError("Two dumped values share a treeIndex")
        return cls(tree, values, tree_indices, types)

    def dump(self) -> dict[str, Any]:
        """The tree as OZ's `tree.dump()` JSON: format, leafEncoding, tree (0x-hex), values."""
        return {
            "format": DUMP_FORMAT,
            "leafEncoding": list(self._encoding),
            "tree": ["0x" + node.hex() for node in self._tree],
            "values": [
                {"value": _jsonable(value), "treeIndex": index}
                for value, index in zip(self._values, self._tree_indices, strict=True)
            ],
        }

    @property
    def root(self) -> bytes:
        """The Merkle root."""
        return self._tree[0]

    @property
    def encoding(self) -> tuple[str, ...]:
        """The leaf encoding (ABI types)."""
        return self._encoding

    @property
    def values(self) -> list[tuple[Any, ...]]:
        """The values, in the order given, as Python values (bytes, int, ...)."""
        return list(self._values)

    @property
    def leaf_hashes(self) -> list[bytes]:
        """The leaf hash of each value, in the order the values were given."""
        return [self._tree[index] for index in self._tree_indices]

    def __len__(self) -> int:
        return len(self._values)

    def proof(self, index: int) -> list[bytes]:
        """The proof of the value at `index` (in the order the values were given), leaf to root.

        Raises:
            InvalidInputError: the index is out of range.
        """
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self._values):
            raise InvalidInputError(f"Leaf index {index!r} is out of range (the tree has {len(self)} values)")
        proof = []
        node = self._tree_indices[index]
        while node > 0:
            proof.append(self._tree[_sibling(node)])
            node = (node - 1) // 2
        return proof

    def proof_for(self, value: Sequence[Any]) -> list[bytes]:
        """The proof of a value, found by its leaf hash.

        Raises:
            InvalidInputError: the value does not fit the encoding or is not in the tree.
        """
        index = self._lookup.get(leaf_hash(value, self._encoding))
        if index is None:
            raise InvalidInputError("The value is not a leaf of this tree")
        return self.proof(index)
