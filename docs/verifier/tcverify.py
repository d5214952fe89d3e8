#!/usr/bin/env python3
"""tcverify: a minimal reference verifier of the TraceChain protocol, version 2.

Written from docs/PROTOCOL.md alone: it imports nothing of TraceChain, only web3 (for JSON-RPC and
keccak-256), eth-abi, rfc8785 and the standard library. Given a node's RPC URL and the deployment
manifest (PROTOCOL.md §4) it checks

  trace        a served product trace: every head recomputed and compared with headOf on-chain,
               every document's hash, the subject's state and recall (§5.7);
  receipt      a notary receipt, version 2 (§7.4);
  certificate  a data-rights certificate and, optionally, its served answer and terms (§8);
  right        a served right check: hasRight at the block it names (§8);
  lineage      a served trace's links, inherited events and recall path (§6);
  case         a served procurement case: its steps folded to the contract's state, each step's
               signatures recovered, documents, parties, status and reconciliation (§9).

    python tcverify.py --rpc URL --manifest MANIFEST.json trace TRACE.json [MORE_PAGES.json ...]
    python tcverify.py --rpc URL --manifest MANIFEST.json trace --api BASE_URL ID
    python tcverify.py --rpc URL --manifest MANIFEST.json receipt RECEIPT.json [--record RECORD.json]
    python tcverify.py --rpc URL --manifest MANIFEST.json certificate ID [--answer FILE | --api BASE_URL] [--terms FILE]
    python tcverify.py --rpc URL --manifest MANIFEST.json right ANSWER.json
    python tcverify.py --rpc URL --manifest MANIFEST.json lineage --api BASE_URL ID
    python tcverify.py --rpc URL --manifest MANIFEST.json case --api BASE_URL CASE_ID
    python tcverify.py --rpc URL --manifest MANIFEST.json case CASE.json [--template TEMPLATE.json]

Exit code 0: verified; 1: not verified (the reason is printed); 2: unusable input (malformed
manifest or document, a node that does not serve the manifest's chain).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import rfc8785
from eth_abi import decode, encode
from web3 import Web3

PROTOCOL_VERSION = 2
ZERO = "0x" + "00" * 32
LOG_BLOCK_STEP = 1_000  # blocks per eth_getLogs request (public endpoints cap the range)
CONTRACTS = ("TraceChainForwarder", "ActorRegistry", "ProvenanceRegistry", "Notary", "DataRightsRegistry")
OPTIONAL_CONTRACTS = ("CaseRegistry",)  # in manifests of deployments that have procurement cases (§9)
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,31}")


class Unusable(Exception):
    """The input cannot be checked at all (exit code 2)."""


class Reverted(Exception):
    """An eth_call reverted."""


# ---------------------------------------------------------------- §0, §1: encodings and hashes
def keccak(data: bytes) -> bytes:
    return bytes(Web3.keccak(primitive=data))


def hx(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def b32(value: str) -> bytes:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise Unusable(f"not a 0x-hex 32-byte value: {value!r}")
    return bytes.fromhex(value[2:])


def addr(value: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise Unusable(f"not an address: {value!r}")
    return Web3.to_checksum_address(value)


def same_address(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def document_hash(doc: Any) -> str:
    """§1: keccak256 of the RFC 8785 canonical JSON (integers beyond ±(2^53-1) are refused)."""
    try:
        return hx(keccak(rfc8785.dumps(doc)))
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise Unusable(f"a document cannot be canonicalised: {exc}") from exc


def kind32(kind: str) -> bytes:
    """§7.1: a record kind, left-aligned and zero-padded in a bytes32."""
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise Unusable(f"not a record kind: {kind!r}")
    return kind.encode("ascii").ljust(32, b"\0")


def address_word(account: str) -> bytes:
    return bytes(12) + bytes.fromhex(account[2:])


def iso_utc(timestamp: int) -> str:
    """§7.4: YYYY-MM-DDTHH:MM:SSZ."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- §5.3 hash chain
ENTRY_KINDS = {"event": 1, "error_declaration": 2, "custody": 3, "forced_custody": 4, "recall": 5}


def genesis_head(subject_key: bytes, originator: str, metadata_hash: bytes) -> bytes:
    return keccak(encode(["bytes32", "address", "bytes32"], [subject_key, originator, metadata_hash]))


def next_head(head: bytes, kind: int, ref: bytes, doc: bytes, code: int, actor: str, timestamp: int) -> bytes:
    types = ["bytes32", "uint8", "bytes32", "bytes32", "uint8", "address", "uint64"]
    return keccak(encode(types, [head, kind, ref, doc, code, actor, timestamp]))


# ---------------------------------------------------------------- §7 notary ids, leaves
def parties_hash(parties: Sequence[str]) -> bytes:
    return keccak(b"".join(address_word(p) for p in parties))


def single_record_id(record_hash: bytes, kind: bytes, notary: str) -> bytes:
    return keccak(encode(["bytes32", "bytes32", "address"], [record_hash, kind, notary]))


def cosigned_record_id(record_hash: bytes, kind: bytes, parties: Sequence[str]) -> bytes:
    return keccak(encode(["bytes32", "bytes32", "bytes32"], [record_hash, kind, parties_hash(parties)]))


def batch_id(root: bytes, notary: str) -> bytes:
    return keccak(encode(["bytes32", "address"], [root, notary]))


def leaf_hash(record_hash: bytes, kind: bytes) -> bytes:
    return keccak(keccak(encode(["bytes32", "bytes32"], [record_hash, kind])))


def fold_proof(leaf: bytes, proof: Iterable[bytes]) -> bytes:
    node = leaf
    for sibling in proof:
        node = keccak(min(node, sibling) + max(node, sibling))
    return node


def certificate_id(dataset_id: bytes, grantee: str, right: int, not_before: int, expires_at: int,
                   terms_hash: bytes, previous_id: bytes) -> bytes:  # fmt: skip
    types = ["bytes32", "address", "uint8", "uint64", "uint64", "bytes32", "bytes32"]
    return keccak(encode(types, [dataset_id, grantee, right, not_before, expires_at, terms_hash, previous_id]))


# ---------------------------------------------------------------- the node
def topic(signature: str) -> str:
    return hx(keccak(signature.encode("ascii")))


class Node:
    """Plain JSON-RPC reads: eth_call by signature with eth-abi, logs, blocks."""

    def __init__(self, rpc: str | Web3) -> None:
        self.w3 = rpc if isinstance(rpc, Web3) else Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 30}))
        # Answers about a numbered block (calls, logs up to it, blocks, transactions) do not change (a
        # reorganisation aside): one Node asks each question once.
        self._memo: dict[tuple[Any, ...], Any] = {}

    def _once(self, key: tuple[Any, ...], ask: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = ask()
        return self._memo[key]

    def call(self, to: str, signature: str, args: Sequence[Any], returns: Sequence[str], block: int | str) -> Any:
        """Call `signature` (e.g. "headOf(bytes32)") on `to` and decode `returns`; one value is unwrapped."""
        types = signature[signature.index("(") + 1 : -1]
        arg_types = _split_types(types)
        data = keccak(signature.encode("ascii"))[:4] + encode(arg_types, list(args))

        def ask() -> bytes:
            try:
                return bytes(self.w3.eth.call({"to": to, "data": hx(data)}, block))  # type: ignore[typeddict-item]
            except Exception as exc:  # web3 raises several types for a revert; all mean "no answer"
                raise Reverted(f"{signature} reverted: {exc}") from exc

        raw = self._once(("call", to, data, block), ask) if isinstance(block, int) else ask()
        values = decode(list(returns), raw)
        return values[0] if len(values) == 1 else values

    def transaction(self, tx_hash: str) -> dict[str, Any]:
        return self._once(("tx", tx_hash), lambda: dict(self.w3.eth.get_transaction(tx_hash)))  # type: ignore[arg-type]

    def code(self, address: str, block: int) -> bytes:
        return self._once(("code", address, block), lambda: bytes(self.w3.eth.get_code(address, block)))  # type: ignore[arg-type]

    def logs(self, address: str, topics: list[str | None], from_block: int, to_block: int) -> list[dict[str, Any]]:
        """Every matching log, in (block, log index) order, read in ranges of LOG_BLOCK_STEP blocks."""
        key = ("logs", address, tuple(topics), from_block, to_block)
        return list(self._once(key, lambda: self._logs(address, topics, from_block, to_block)))

    def _logs(self, address: str, topics: list[str | None], from_block: int, to_block: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        start = from_block
        while start <= to_block:
            end = min(start + LOG_BLOCK_STEP - 1, to_block)
            flt = {"address": address, "topics": topics, "fromBlock": start, "toBlock": end}
            found += [dict(log) for log in self.w3.eth.get_logs(flt)]  # type: ignore[arg-type]
            start = end + 1
        return sorted(found, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))

    def block(self, number: int | str) -> dict[str, Any]:
        if not isinstance(number, int):
            return dict(self.w3.eth.get_block(number))  # type: ignore[arg-type]
        return self._once(("block", number), lambda: dict(self.w3.eth.get_block(number)))


def _split_types(types: str) -> list[str]:
    out, depth, current = [], 0, ""
    for char in types:
        if char == "," and depth == 0:
            out.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    return out + ([current] if current else [])


def _topics(log: dict[str, Any]) -> list[str]:
    return [hx(bytes(t)) if not isinstance(t, str) else t.lower() for t in log["topics"]]


def _data(log: dict[str, Any]) -> bytes:
    data = log["data"]
    return bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)


# ---------------------------------------------------------------- §4 deployments
@dataclass(frozen=True)
class Deployment:
    chain_id: int
    addresses: dict[str, str]
    blocks: dict[str, int]


def bind(node: Node, manifest: dict[str, Any]) -> Deployment:
    """§4: the manifest's chain id and anchor block are the node's, and every contract has code.

    Raises:
        Unusable: a malformed manifest, or a node that is not the manifest's chain.
    """
    if not isinstance(manifest, dict) or manifest.get("version") != PROTOCOL_VERSION:
        raise Unusable(f"not a protocol version {PROTOCOL_VERSION} deployment manifest")
    try:
        chain_id, anchor = int(manifest["chainId"]), manifest["anchorBlock"]
        names = [*CONTRACTS, *(n for n in OPTIONAL_CONTRACTS if n in manifest["contracts"])]
        addresses = {name: addr(manifest["contracts"][name]["address"]) for name in names}
        blocks = {name: int(manifest["contracts"][name]["block"]) for name in names}
        number, anchor_hash = int(anchor["number"]), b32(anchor["hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Unusable(f"malformed deployment manifest: {exc!r}") from exc
    if int(node.w3.eth.chain_id) != chain_id:
        raise Unusable(f"the node serves chain {node.w3.eth.chain_id}, the manifest chain {chain_id}")
    try:
        block = node.block(number)
    except Exception as exc:
        raise Unusable(f"the node has no block {number}: not the manifest's chain") from exc
    if bytes(block["hash"]) != anchor_hash:
        raise Unusable(f"block {number} is not the manifest's anchor block: another chain with id {chain_id}")
    for name, address in addresses.items():
        if not node.w3.eth.get_code(address):  # type: ignore[arg-type]
            raise Unusable(f"no code at {name} {address}")
    return Deployment(chain_id, addresses, blocks)


# ---------------------------------------------------------------- verdicts
TAMPERED, INCOMPLETE = "tampered", "incomplete"


@dataclass
class Verdict:
    """`verdict` is "verified" or why not; `problems` are (severity, message); `checks` what held."""

    what: str
    problems: list[tuple[str, str]] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if any(s == TAMPERED for s, _ in self.problems):
            return TAMPERED
        return INCOMPLETE if self.problems else "verified"

    @property
    def ok(self) -> bool:
        return not self.problems

    def check(self, condition: bool, passed: str, failed: str, severity: str = TAMPERED) -> bool:
        if condition:
            self.checks.append(passed)
        else:
            self.problems.append((severity, failed))
        return condition

    def summary(self) -> str:
        if self.ok:
            facts = ", ".join(f"{k} {v}" for k, v in self.facts.items())
            return f"VERIFIED {self.what}" + (f" ({facts})" if facts else "")
        return f"{self.verdict.upper()} {self.what}: " + "; ".join(m for _, m in self.problems)


# ---------------------------------------------------------------- §5.7 traces
SUBJECT = ["(address,uint8,bool,uint64,address,bytes32)"]
STATUS = {1: "active", 2: "recalled"}


def merge_pages(pages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One trace from its pages (any order): the newest page's subject state and every entry."""
    if not pages:
        raise Unusable("no trace pages")
    ids = {p.get("product_id") for p in pages}
    if len(ids) != 1:
        raise Unusable(f"the pages are of different subjects: {sorted(map(str, ids))}")
    newest = max(pages, key=lambda p: max((e["index"] for e in p.get("entries", [])), default=-1))
    entries = {e["index"]: e for p in pages for e in p.get("entries", [])}
    return {**newest, "entries": [entries[i] for i in sorted(entries)]}


def verify_trace(node: Node, deployment: Deployment, pages: Sequence[dict[str, Any]], block: int | str = "latest"
                 ) -> Verdict:  # fmt: skip
    """§5.7: recompute the subject's chain from the served entries and compare with the contract."""
    trace = merge_pages(pages)
    registry = deployment.addresses["ProvenanceRegistry"]
    block = int(node.block(block)["number"]) if isinstance(block, str) else block
    identifier = trace["product_id"]
    key = keccak(identifier.encode("utf-8"))
    v = Verdict(f"trace of {identifier}")
    v.check(
        hx(key) == str(trace.get("product_key", "")).lower(),
        "subjectKey = keccak256(utf8(product_id))",
        "product_key is not keccak256(utf8(product_id))",
    )
    custodian, status, is_open, _created, originator, subject_head = node.call(
        registry, "getSubject(bytes32)", [key], SUBJECT, block
    )
    if status == 0:
        v.problems.append((INCOMPLETE, f"the contract holds no subject {identifier}"))
        return v
    chain_head = node.call(registry, "headOf(bytes32)", [key], ["bytes32"], block)
    v.check(bytes(chain_head) == bytes(subject_head), "headOf = getSubject().head", "headOf disagrees with getSubject")
    served = (trace["open"], trace["originator"], trace["custodian"], trace["status"])
    chain = (is_open, originator, None if is_open else custodian, STATUS.get(status, str(status)))
    v.check(
        served[0] == chain[0]
        and same_address(served[1], chain[1])
        and served[3] == chain[3]
        and (served[2] is None if is_open else same_address(served[2], chain[2])),
        "subject state (open, originator, custodian, status) is the chain's",
        f"the served state {served} is not the chain's {chain}",
    )
    metadata_hash = trace["metadata_hash"]
    if metadata_hash != ZERO:
        if trace.get("metadata") is None:
            v.problems.append((INCOMPLETE, "the metadata document is missing"))
        else:
            v.check(
                document_hash(trace["metadata"]) == metadata_hash.lower(),
                "metadata hashes to metadata_hash",
                "the metadata document does not hash to metadata_hash",
            )

    head = genesis_head(key, originator, b32(metadata_hash))
    entries = trace["entries"]
    missing = sorted(set(range(max((e["index"] for e in entries), default=-1) + 1)) - {e["index"] for e in entries})
    gapless = v.check(
        not missing,
        f"entries #0..#{len(entries) - 1} without a gap",
        f"entries {', '.join(f'#{i}' for i in missing[:5])} are missing from the served trace",
        INCOMPLETE,
    )
    for e in entries:
        n = e["index"]
        kind = ENTRY_KINDS.get(e["kind"]) or int(str(e["kind"]).removeprefix("kind_") or 0)
        head = next_head(
            head,
            kind,
            b32(e["ref"]),
            b32(e["document_hash"]),
            int(e["biz_step_code"]),
            addr(e["actor"]),
            int(e["timestamp"]),
        )
        if gapless and hx(head) != str(e["head"]).lower():
            v.problems.append((TAMPERED, f"entry #{n}: the served head is not the fold of the entries up to it"))
        if e["document_hash"] != ZERO:
            if e.get("document") is None:
                v.problems.append((INCOMPLETE, f"entry #{n}: its document is missing"))
            elif document_hash(e["document"]) != e["document_hash"].lower():
                v.problems.append((TAMPERED, f"entry #{n}: its document does not hash to its document_hash"))
        if kind in (3, 4) and not same_address(e.get("custodian"), "0x" + e["ref"][-40:]):
            v.problems.append((TAMPERED, f"entry #{n}: custodian is not the address in ref"))
    if not gapless:
        pass  # nothing to fold: the chain's head cannot be recomputed from a trace with holes
    elif hx(head) == hx(bytes(chain_head)):
        v.checks.append(f"recomputed head = headOf at block {block}")
    else:
        v.problems.append(_locate(node, deployment, key, entries, block))
    if status == 2:
        recall = trace.get("recall") or {}
        reason = hx(node.call(registry, "recallReason(bytes32)", [key], ["bytes32"], block))
        v.check(
            str(recall.get("reason_hash", "")).lower() == reason,
            "recall.reason_hash = recallReason",
            "the served recall reason hash is not the chain's",
        )
        if recall.get("reason") is None:
            v.problems.append((INCOMPLETE, "the recall notice is missing"))
        else:
            v.check(
                document_hash(recall["reason"]) == reason,
                "the recall notice hashes to recallReason",
                "the recall notice does not hash to recallReason",
            )
    v.facts.update(entries=len(entries), head=hx(head)[:10] + "…", block=block, status=STATUS.get(status))
    return v


ENTRY_APPENDED = topic("EntryAppended(bytes32,bytes32,address,uint8,uint8,bytes32)")


def _locate(node: Node, deployment: Deployment, key: bytes, entries: list[dict[str, Any]], block: int
            ) -> tuple[str, str]:  # fmt: skip
    """Why the fold differs from the chain's head, from the subject's EntryAppended logs (§5.4)."""
    logs = node.logs(
        deployment.addresses["ProvenanceRegistry"],
        [ENTRY_APPENDED, hx(key)],
        deployment.blocks["ProvenanceRegistry"],
        block,
    )
    for n, (e, log) in enumerate(zip(entries, logs, strict=False)):
        topics = _topics(log)
        kind, code, doc = decode(["uint8", "uint8", "bytes32"], _data(log))
        chain = (topics[2], "0x" + topics[3][-40:], kind, code, hx(doc))
        served = (
            e["ref"].lower(),
            e["actor"].lower(),
            ENTRY_KINDS.get(e["kind"]),
            int(e["biz_step_code"]),
            e["document_hash"].lower(),
        )
        if chain != served:
            return TAMPERED, f"entry #{n} differs from what the chain recorded"
    if len(logs) > len(entries):
        return INCOMPLETE, f"the chain holds {len(logs)} entries, the trace serves {len(entries)}"
    return TAMPERED, "the recomputed head is not the chain's head (an entry's time or the creation was altered)"


# ---------------------------------------------------------------- §6 lineage and recall paths
LINK_GROUPS = ("containers", "contents", "inputs", "outputs", "lots", "items")
_HASH_ID = re.compile(r"ni:///sha-256;([0-9a-f]{64})\?ver=CBV2\.0")


def event_id_of(hash_id: str) -> bytes:
    match = _HASH_ID.fullmatch(hash_id) if isinstance(hash_id, str) else None
    if match is None:
        raise Unusable(f"not a CBV 2.0 Event Hash ID: {hash_id!r}")
    return bytes.fromhex(match.group(1))


def entry_in_chain(
    node: Node, deployment: Deployment, subject_key: bytes, event_id: bytes, doc: str, block: int
) -> bool:
    """§5.4: the subject's chain holds an event entry (kind 1 or 2) with this eventId and document hash."""
    logs = node.logs(
        deployment.addresses["ProvenanceRegistry"],
        [ENTRY_APPENDED, hx(subject_key), hx(event_id)],
        deployment.blocks["ProvenanceRegistry"],
        block,
    )
    for log in logs:
        kind, _code, document_hash_ = decode(["uint8", "uint8", "bytes32"], _data(log))
        if kind in (1, 2) and hx(document_hash_) == doc.lower():
            return True
    return False


def verify_lineage(node: Node, deployment: Deployment, answer: dict[str, Any], block: int | str = "latest") -> Verdict:
    """§6: every served link, inherited event and recall path is proved by entries of the chains of
    the subjects it joins (the stating event is an entry of both); a recall path starts at a subject
    the chain holds recalled. Each linked subject's own trace is checked with verify_trace."""
    block = int(node.block(block)["number"]) if isinstance(block, str) else block
    this = keccak(answer["product_id"].encode("utf-8"))
    v = Verdict(f"lineage of {answer['product_id']}")
    lineage = answer.get("lineage") or {}

    def link(item: dict[str, Any], downstream: bytes, what: str) -> None:
        other = b32(item["subject_key"])
        v.check(
            keccak(item["identifier"].encode("utf-8")) == other,
            f"{what}: subject key of {item['identifier']}",
            f"{what}: subject_key is not keccak256(utf8({item['identifier']}))",
        )
        event_id = event_id_of(item["event_hash_id"])
        for key, whose in ((other, item["identifier"]), (downstream, "its other end")):
            v.check(
                entry_in_chain(node, deployment, key, event_id, item["document_hash"], block),
                f"{what}: the stating event is in the chain of {whose}",
                f"{what}: the chain of {whose} holds no entry of event {item['event_hash_id']}",
            )

    links = 0
    for group in LINK_GROUPS:
        for item in lineage.get(group, []):
            link(item, this, f"{group} {item['identifier']}")
            links += 1
    for item in lineage.get("inherited", []):
        what = f"inherited event #{item['index']} of {item['container']}"
        event_id = event_id_of(item["event_hash_id"])
        v.check(
            entry_in_chain(node, deployment, b32(item["container_key"]), event_id, item["document_hash"], block),
            f"{what} is in the container's chain",
            f"{what}: the container's chain holds no such entry",
        )
        if item.get("document") is not None:
            v.check(
                document_hash(item["document"]) == item["document_hash"].lower(),
                f"{what}: document hash",
                f"{what}: its document does not hash to its document_hash",
            )
    via = answer.get("recalled_via")
    if via:
        path = via["links"]
        recalled = b32(via["recalled_key"])
        v.check(
            bool(path) and path[0]["subject_key"].lower() == hx(recalled),
            "the recall path starts at the recalled subject",
            "the recall path does not start at the recalled subject",
        )
        for j, item in enumerate(path):
            downstream = b32(path[j + 1]["subject_key"]) if j + 1 < len(path) else this
            link(item, downstream, f"recall path link {j} ({item['identifier']})")
        _, status, _, _, _, _ = node.call(
            deployment.addresses["ProvenanceRegistry"], "getSubject(bytes32)", [recalled], SUBJECT, block
        )
        v.check(status == 2, f"{via['recalled']} is recalled on-chain", f"{via['recalled']} is not recalled on-chain")
        reason = hx(
            node.call(
                deployment.addresses["ProvenanceRegistry"], "recallReason(bytes32)", [recalled], ["bytes32"], block
            )
        )
        if via.get("reason_hash") is not None:
            v.check(
                via["reason_hash"].lower() == reason,
                "the path's reason hash is recallReason",
                "the path's reason hash is not the chain's",
            )
        if via.get("reason") is not None:
            v.check(
                document_hash(via["reason"]) == reason,
                "the recall notice hashes to recallReason",
                "the recall notice does not hash to recallReason",
            )
    v.facts.update(links=links, inherited=len(lineage.get("inherited", [])), recalled_via=(via or {}).get("recalled"))
    return v


# ---------------------------------------------------------------- §7.4 receipts
EVENTS = {
    "single": topic("RecordNotarized(bytes32,bytes32,address)"),
    "cosigned": topic("RecordCoSigned(bytes32,bytes32,bytes32,address[])"),
    "batched": topic("BatchAnchored(bytes32,address,uint32,bytes32)"),
}
RECEIPT_FIELDS = ("format", "version", "chainId", "contract", "id", "recordHash", "kind", "method", "notary", "parties",
                  "merkle", "txHash", "blockNumber", "blockHash", "timestamp", "time")  # fmt: skip


def verify_receipt(node: Node, deployment: Deployment, receipt: dict[str, Any], record: Any = None) -> Verdict:
    """§7.4, steps 1-8 in order; the first failure ends the check."""
    v = Verdict(f"receipt of {receipt.get('recordHash')}")
    try:
        _receipt_steps(node, deployment, receipt, record, v)
    except _Stop:
        pass
    except Reverted as exc:
        v.problems.append((TAMPERED, f"the contract refused a read: {exc}"))
    return v


class _Stop(Exception):
    pass


def _need(v: Verdict, condition: bool, passed: str, failed: str) -> None:
    if not v.check(condition, passed, failed):
        raise _Stop


def _receipt_steps(node: Node, deployment: Deployment, r: dict[str, Any], record: Any, v: Verdict) -> None:
    # 1. well formed, with `time` the ISO form of `timestamp`
    _need(
        v,
        isinstance(r, dict) and set(RECEIPT_FIELDS) <= set(r),
        "receipt has every field",
        f"malformed receipt: missing {sorted(set(RECEIPT_FIELDS) - set(r or {}))}",
    )
    _need(
        v,
        r["format"] == "tracechain-notary-receipt" and r["version"] == 2,
        "format and version 2",
        f"not a version 2 receipt ({r['format']!r}, version {r['version']!r})",
    )
    method = r["method"]
    _need(v, method in EVENTS, f"method {method}", f"unknown method {method!r}")
    _need(
        v,
        isinstance(r["timestamp"], int) and r["time"] == iso_utc(r["timestamp"]),
        "time is the ISO form of timestamp",
        f"the receipt's time {r['time']!r} is not its timestamp {r['timestamp']!r}",
    )
    record_hash, kind = b32(r["recordHash"]), kind32(r["kind"])
    parties = [addr(p) for p in r["parties"]]
    notary = addr(r["notary"]) if r["notary"] is not None else None
    merkle = r["merkle"]
    _need(
        v,
        (method == "cosigned") == (notary is None)
        and (method == "cosigned") == bool(parties)
        and (method == "batched") == isinstance(merkle, dict),
        "fields fit the method",
        f"the fields do not fit method {method}",
    )
    # 2. the trusted Notary
    contract = addr(r["contract"])
    _need(
        v,
        same_address(contract, deployment.addresses["Notary"]),
        "contract is the manifest's Notary",
        f"the receipt names contract {contract}, not the deployment's Notary {deployment.addresses['Notary']}",
    )
    # 3. the record
    if record is not None:
        _need(
            v,
            document_hash(record) == hx(record_hash),
            "documentHash(record) = recordHash",
            "the record does not hash to recordHash",
        )
    # 4. the id
    if method == "single":
        derived = single_record_id(record_hash, kind, notary)  # type: ignore[arg-type]
    elif method == "cosigned":
        derived = cosigned_record_id(record_hash, kind, parties)
    else:
        derived = batch_id(b32(merkle["root"]), notary)  # type: ignore[arg-type]
    _need(v, hx(derived) == r["id"].lower(), "id is what the fields derive", f"id {r['id']} is not {hx(derived)}")
    # 5. the Merkle proof, locally
    if method == "batched":
        leaf = leaf_hash(record_hash, kind)
        _need(
            v, hx(leaf) == merkle["leaf"].lower(), "leaf = leafHash(recordHash, kind)", "the leaf is not the record's"
        )
        proof = [b32(p) for p in merkle["proof"]]
        _need(
            v,
            fold_proof(leaf, proof) == b32(merkle["root"]),
            "the proof folds to the root",
            "the Merkle proof does not lead from the leaf to the root",
        )
    # 6. chain, block, code
    _need(v, int(r["chainId"]) == deployment.chain_id, "chain id", f"the receipt is for chain {r['chainId']}")
    try:
        block = node.block(int(r["blockNumber"]))
    except Exception:
        _need(v, False, "", f"block {r['blockNumber']} does not exist on this chain")
    _need(
        v,
        hx(bytes(block["hash"])) == r["blockHash"].lower(),
        "block hash",
        f"block {r['blockNumber']} has another hash than the receipt's",
    )
    _need(
        v,
        int(block["timestamp"]) == r["timestamp"],
        "block timestamp",
        f"block {r['blockNumber']} has timestamp {block['timestamp']}, not {r['timestamp']}",
    )
    # 7. the transaction and its event
    try:
        tx = node.w3.eth.get_transaction_receipt(r["txHash"])
    except Exception:
        _need(v, False, "", f"transaction {r['txHash']} is not on this chain")
    _need(
        v,
        int(tx["status"]) == 1 and int(tx["blockNumber"]) == r["blockNumber"],
        "transaction succeeded in the block",
        f"transaction {r['txHash']} did not succeed in block {r['blockNumber']}",
    )
    if method == "single":
        expected = [EVENTS[method], hx(record_hash), hx(kind), hx(address_word(notary))]  # type: ignore[arg-type]
        data: tuple[Any, ...] | None = None
    elif method == "cosigned":
        expected = [EVENTS[method], hx(record_hash), hx(kind), hx(parties_hash(parties))]
        data = (tuple(p.lower() for p in parties),)
    else:
        expected = [EVENTS[method], merkle["root"].lower(), hx(address_word(notary))]  # type: ignore[arg-type]
        data = (merkle["recordCount"], b32(merkle["metadataHash"]))
    found = False
    for log in tx["logs"]:
        if not same_address(log["address"], contract) or _topics(log) != expected:
            continue
        if data is None:
            found = True
        elif method == "cosigned":
            (logged,) = decode(["address[]"], _data(log))
            found = tuple(a.lower() for a in logged) == data[0]
        else:
            found = decode(["uint32", "bytes32"], _data(log)) == data
        if found:
            break
    _need(
        v,
        found,
        "the method's event is in the transaction",
        f"transaction {r['txHash']} holds no matching {method} event from {contract}",
    )
    # 8. the contract's state
    if method == "batched":
        timestamp, number, count = node.call(
            contract, "getBatch(bytes32)", [derived], ["(uint40,uint40,uint32)"], "latest"
        )
        _need(
            v,
            (timestamp, number, count) == (r["timestamp"], r["blockNumber"], merkle["recordCount"]),
            "getBatch(id) = (timestamp, block, recordCount)",
            "the contract's batch differs from the receipt",
        )
        included = node.call(
            contract,
            "verifyInclusion(bytes32,address,bytes32,bytes32,bytes32[])",
            [b32(merkle["root"]), notary, record_hash, kind, [b32(p) for p in merkle["proof"]]],
            ["bool"],
            "latest",
        )
        _need(v, included, "verifyInclusion is true", "the contract rejects the Merkle proof")
    else:
        timestamp, number, stored = node.call(
            contract, "getRecord(bytes32)", [derived], ["(uint40,uint40,uint8)"], "latest"
        )
        _need(
            v,
            (timestamp, number, stored) == (r["timestamp"], r["blockNumber"], 1 if method == "single" else 2),
            "getRecord(id) = (timestamp, block, method)",
            "the contract's record differs from the receipt",
        )
    v.facts.update(method=method, block=r["blockNumber"], time=r["time"])


# ---------------------------------------------------------------- §8 certificates and rights
RIGHTS = ("holding", "processing", "operation")
STATUSES = ("not_yet_valid", "valid", "expired", "revoked")
CERTIFICATE = ["(bytes32,bytes32,address,uint64,uint8,uint64,uint64,uint32)"]
CERTIFICATE_GRANTED = topic("CertificateGranted(bytes32,bytes32,address,address,uint8,uint64,uint64,bytes32,bytes32)")


def verify_certificate(node: Node, deployment: Deployment, cid: str, answer: dict[str, Any] | None = None,
                       terms: Any = None) -> Verdict:  # fmt: skip
    """§8: the certificate on-chain, its id recomputed from its grant, the served answer and terms."""
    rights = deployment.addresses["DataRightsRegistry"]
    key = b32(cid)
    block = int(answer["checked_at"]["block_number"]) if answer else int(node.block("latest")["number"])
    v = Verdict(f"certificate {cid}")
    try:
        dataset, terms_hash, grantee, not_before, right, expires_at, revoked_at, uses = node.call(
            rights, "getCertificate(bytes32)", [key], CERTIFICATE, block
        )
    except Reverted:
        v.problems.append((TAMPERED, f"the contract holds no certificate {cid} at block {block}"))
        return v
    status = STATUSES[node.call(rights, "certificateStatus(bytes32)", [key], ["uint8"], block)]
    use_count = node.call(rights, "useCount(bytes32)", [key], ["uint32"], block)
    v.check(use_count == uses, "useCount = getCertificate().useCount", "useCount disagrees with getCertificate")
    grants = node.logs(rights, [CERTIFICATE_GRANTED, hx(key)], deployment.blocks["DataRightsRegistry"], block)
    if v.check(len(grants) == 1, "one CertificateGranted log", f"{len(grants)} CertificateGranted logs for the id"):
        topics = _topics(grants[0])
        grantor, g_right, g_nb, g_exp, g_terms, previous = decode(
            ["address", "uint8", "uint64", "uint64", "bytes32", "bytes32"], _data(grants[0])
        )
        derived = certificate_id(b32(topics[2]), "0x" + topics[3][-40:], g_right, g_nb, g_exp, g_terms, previous)
        v.check(
            derived == key
            and (bytes(dataset), g_right, g_nb, g_exp, bytes(g_terms))
            == (b32(topics[2]), right, not_before, expires_at, bytes(terms_hash)),
            "id = keccak256(abi.encode(datasetId, grantee, right, notBefore, expiresAt, termsHash, previousId))",
            "the certificate id is not what its grant derives",
        )
        v.facts["previous"] = hx(previous)
    actor = node.call(deployment.addresses["ActorRegistry"], "isActor(address)", [grantee], ["bool"], block)
    has = node.call(rights, "hasRight(bytes32,address,uint8)", [bytes(dataset), grantee, right], ["bool"], block)
    v.check(
        has == (status == "valid" and actor),
        "hasRight(grantee) agrees with the status",
        f"hasRight is {has} for a {status} certificate",
    )
    if answer is not None:
        served = (
            answer["dataset_id"].lower(),
            answer["grantee"].lower(),
            answer["right"],
            answer["not_before"],
            answer["expires_at"],
            answer["terms_hash"].lower(),
            answer["status"],
            answer["use_count"],
        )
        chain = (
            hx(bytes(dataset)),
            grantee.lower(),
            RIGHTS[right],
            not_before,
            expires_at,
            hx(bytes(terms_hash)),
            status,
            use_count,
        )
        v.check(
            served == chain,
            f"the served certificate is the chain's at block {block}",
            f"the served certificate {served} is not the chain's {chain}",
        )
        if revoked_at:
            v.check(
                (answer.get("revocation") or {}).get("revoked_at") == revoked_at,
                "revocation time",
                "the served revocation time is not the chain's",
            )
        terms = answer.get("terms") if terms is None else terms
    if terms is not None:
        v.check(
            document_hash(terms) == hx(bytes(terms_hash)),
            "documentHash(terms) = termsHash",
            "the terms do not hash to termsHash",
        )
    v.facts.update(status=status, uses=use_count, block=block)
    return v


def verify_right_check(node: Node, deployment: Deployment, answer: dict[str, Any]) -> Verdict:
    """§8: a served right check is hasRight (and datasetExists, latestCertificate) at its block."""
    rights = deployment.addresses["DataRightsRegistry"]
    block = int(answer["checked_at"]["block_number"])
    dataset, account = b32(answer["dataset_id"]), addr(answer["account"])
    right = RIGHTS.index(answer["right"])
    v = Verdict(f"right check of {account} for {answer['right']} on {answer['dataset_id']}")
    has = node.call(rights, "hasRight(bytes32,address,uint8)", [dataset, account, right], ["bool"], block)
    v.check(has == answer["has_right"], f"hasRight = {has} at block {block}", f"the chain says hasRight = {has}")
    exists = node.call(rights, "datasetExists(bytes32)", [dataset], ["bool"], block)
    if "dataset_registered" in answer:
        v.check(exists == answer["dataset_registered"], "datasetExists", f"the chain says datasetExists = {exists}")
    if right != 0 and exists:
        latest = hx(
            node.call(rights, "latestCertificate(bytes32,address,uint8)", [dataset, account, right], ["bytes32"], block)
        )
        served = answer.get("certificate_id")
        v.check((served or ZERO).lower() == latest, "latestCertificate", f"the chain's latest certificate is {latest}")
    v.facts.update(has_right=has, block=block)
    return v


# ---------------------------------------------------------------- §9 procurement cases
CASE_RULE = {"BUYER": 0x01, "SUPPLIER": 0x02, "INSPECTOR": 0x04, "NAMES_SUPPLIER": 0x08, "CLOSES": 0x10}
INSPECTOR_ROLE = keccak(b"INSPECTOR")
ZERO_ADDRESS = "0x" + "00" * 20
CASE_OPENED = topic("CaseOpened(bytes32,bytes32,address,string,bytes32,address,bytes32)")
STEP_APPENDED = topic("StepAppended(bytes32,uint32,uint8,uint32,bytes32,bytes32,address,address[])")
TEMPLATE_REGISTERED = topic("TemplateRegistered(bytes32,address,bytes32,bytes32[])")
CASE_STEP_TYPE = (
    "CaseStep(bytes32 caseId,uint32 index,uint8 kind,uint32 amends,bytes32 documentHash,bytes32 ref,"
    "address party,address[] signers,uint256 deadline)"
)
_STEP_TUPLE = "(uint8,uint32,bytes32,bytes32,address)"
_STATE_TUPLE = "(bytes32,uint32,address,address,bytes32)"
APPEND_STEP = f"appendStep(bytes32,{_STATE_TUPLE},{_STEP_TUPLE},address[],uint256,bytes[])"
EXECUTE = "execute((address,address,uint256,uint256,uint48,bytes,bytes))"
MEASURES = ("ordered", "shipped", "received", "warehoused", "invoiced", "paid")


def case_id_of(biz_transaction: str, buyer: str) -> bytes:
    """§9: caseId = keccak256(abi.encode(keccak256(utf8(bizTransaction)), buyer))."""
    return keccak(encode(["bytes32", "address"], [keccak(biz_transaction.encode("utf-8")), buyer]))


def case_genesis_head(case_id: bytes, buyer: str, supplier: str, template_hash: bytes, metadata_hash: bytes
                      ) -> bytes:  # fmt: skip
    types = ["bytes32", "address", "address", "bytes32", "bytes32"]
    return keccak(encode(types, [case_id, buyer, supplier, template_hash, metadata_hash]))


def signers_hash(signers: Sequence[str]) -> bytes:
    """keccak256(abi.encodePacked(address[])): each address in a 32-byte word."""
    return keccak(b"".join(address_word(s) for s in signers))


def case_next_head(head: bytes, index: int, kind: int, amends: int, doc: bytes, ref: bytes, party: str,
                   signers: Sequence[str], timestamp: int) -> bytes:  # fmt: skip
    types = ["bytes32", "uint32", "uint8", "uint32", "bytes32", "bytes32", "address", "bytes32", "uint64"]
    return keccak(encode(types, [head, index, kind, amends, doc, ref, party, signers_hash(signers), timestamp]))


def case_state_hash(head: bytes, steps: int, buyer: str, supplier: str, rules: bytes) -> bytes:
    return keccak(encode(["bytes32", "uint32", "address", "address", "bytes32"], [head, steps, buyer, supplier, rules]))


def eip712_domain_separator(name: str, version: str, chain_id: int, contract: str) -> bytes:
    type_hash = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    values = [type_hash, keccak(name.encode()), keccak(version.encode()), chain_id, contract]
    return keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"], values))


def case_step_struct_hash(case_id: bytes, index: int, kind: int, amends: int, doc: bytes, ref: bytes, party: str,
                          signers: Sequence[str], deadline: int) -> bytes:  # fmt: skip
    types = ["bytes32", "bytes32", "uint32", "uint8", "uint32", "bytes32", "bytes32", "address", "bytes32", "uint256"]
    values = [keccak(CASE_STEP_TYPE.encode()), case_id, index, kind, amends, doc, ref, party, signers_hash(signers),
              deadline]  # fmt: skip
    return keccak(encode(types, values))


def rule_of(rules: bytes, kind: int) -> int:
    return (int.from_bytes(rules, "big") >> (8 * kind)) & 0xFF if 1 <= kind <= 31 else 0


def template_rules(template: dict[str, Any]) -> tuple[bytes, list[str]]:
    """§9: the rules word and kind names a template document stands for."""
    word = 0
    for k, step in enumerate(template["steps"], start=1):
        rule = sum(CASE_RULE[r.upper()] for r in step["signers"])
        rule |= CASE_RULE["NAMES_SUPPLIER"] if step.get("namesSupplier") else 0
        rule |= CASE_RULE["CLOSES"] if step.get("closes") else 0
        word |= rule << (8 * k)
    return word.to_bytes(32, "big"), [str(s["kind"]) for s in template["steps"]]


class _Signable(tuple):  # the (version, header, body) shape web3's account recovers EIP-191 messages from
    def __new__(cls, header: bytes, body: bytes) -> _Signable:
        return super().__new__(cls, (b"\x01", header, body))

    version = property(lambda self: self[0])
    header = property(lambda self: self[1])
    body = property(lambda self: self[2])


def recover_typed(node: Node, separator: bytes, struct_hash: bytes, signature: bytes) -> str | None:
    """The account whose key made `signature` over the EIP-712 digest, or None."""
    try:
        return str(node.w3.eth.account.recover_message(_Signable(separator, struct_hash), signature=signature))
    except Exception:  # a malformed signature recovers nobody
        return None


@dataclass
class ChainStep:
    index: int
    kind: int
    amends: int
    document_hash: bytes
    ref: bytes
    party: str
    signers: list[str]
    block: int
    timestamp: int
    tx_hash: str
    head: bytes = b""


def _decode_opened(log: dict[str, Any]) -> dict[str, Any]:
    topics = _topics(log)
    biz, template_hash, supplier, metadata_hash = decode(["string", "bytes32", "address", "bytes32"], _data(log))
    return {"key": b32(topics[2]), "buyer": Web3.to_checksum_address("0x" + topics[3][-40:]), "biz": biz,
            "template": bytes(template_hash), "supplier": Web3.to_checksum_address(supplier),
            "metadata": bytes(metadata_hash), "block": int(log["blockNumber"]),
            "tx": hx(bytes(log["transactionHash"]))}  # fmt: skip


def _decode_step(log: dict[str, Any], timestamp: int) -> ChainStep:
    topics = _topics(log)
    amends, doc, ref, party, signers = decode(["uint32", "bytes32", "bytes32", "address", "address[]"], _data(log))
    return ChainStep(int(topics[2], 16), int(topics[3], 16), amends, bytes(doc), bytes(ref),
                     Web3.to_checksum_address(party), [Web3.to_checksum_address(a) for a in signers],
                     int(log["blockNumber"]), timestamp, hx(bytes(log["transactionHash"])))  # fmt: skip


def _append_calldata(node: Node, deployment: Deployment, tx_hash: str) -> tuple[Any, ...] | None:
    """The decoded appendStep arguments of the transaction: a direct call to CaseRegistry, or one relayed
    through the deployment's forwarder (§3); None when the step came through any other contract."""
    tx = node.transaction(tx_hash)
    data = bytes(tx["input"])
    to = tx.get("to")
    selector = keccak(APPEND_STEP.encode())[:4]
    if same_address(to, deployment.addresses["TraceChainForwarder"]) and data[:4] == keccak(EXECUTE.encode())[:4]:
        ((_from, target, _value, _gas, _deadline, inner, _signature),) = decode(
            ["(address,address,uint256,uint256,uint48,bytes,bytes)"], data[4:]
        )
        if not same_address(target, deployment.addresses["CaseRegistry"]):
            return None
        data, to = bytes(inner), target
    if not same_address(to, deployment.addresses["CaseRegistry"]) or data[:4] != selector:
        return None
    types = ["bytes32", _STATE_TUPLE, _STEP_TUPLE, "address[]", "uint256", "bytes[]"]
    return tuple(decode(types, data[4:]))


def gtin_of(epc: Any) -> str | None:
    """The GTIN-14 an EPCIS item or class identifier names: a Digital Link URI (/01/{gtin}), an SGTIN or
    LGTIN URN or an SGTIN pattern (company prefix + item reference, check digit computed)."""
    if not isinstance(epc, str):
        return None
    link = re.search(r"/01/(\d{14})(?:/|$)", epc)
    if link:
        return link.group(1)
    urn = re.fullmatch(r"urn:epc:(?:id|class|idpat):(?:sgtin|lgtin):(\d{6,12})\.(\d{1,7})\..*", epc)
    if not urn or len(urn.group(1)) + len(urn.group(2)) != 13:
        return None
    body = urn.group(2)[0] + urn.group(1) + urn.group(2)[1:]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _quantities(doc: Any, epcis: bool) -> dict[str, Decimal]:
    """§9: a document's lines summed per GTIN; an EPCIS event's epcList items counted per GTIN plus its
    quantityList."""
    found: dict[str, Decimal] = {}
    if not isinstance(doc, dict):
        return found
    if epcis:
        for epc in list(doc.get("epcList") or []) + list(doc.get("childEPCs") or []):
            gtin = gtin_of(epc)
            if gtin:
                found[gtin] = found.get(gtin, Decimal(0)) + 1
        listed = list(doc.get("quantityList") or []) + list(doc.get("childQuantityList") or [])
        entries = [(gtin_of(e.get("epcClass")), e.get("quantity")) for e in listed if isinstance(e, dict)]
    else:
        lines = [line for line in doc.get("lines") or [] if isinstance(line, dict)]
        entries = [(line.get("gtin"), line.get("quantity")) for line in lines]
    for gtin, quantity in entries:
        if isinstance(gtin, str) and not isinstance(quantity, bool) and isinstance(quantity, int | float | str):
            try:
                found[gtin] = found.get(gtin, Decimal(0)) + Decimal(str(quantity))
            except ArithmeticError:
                continue
    return found


# Findings a verifier recomputes from the quantities per GTIN (§9), with the condition that raises each.
QUANTITY_FINDINGS: dict[str, Callable[[dict[str, Decimal], dict[str, bool], bool], bool]] = {
    "unordered_item": lambda q, has, closed: has["ordered"] and not q["ordered"] and any(q[m] for m in MEASURES[1:]),
    "over_shipped": lambda q, has, closed: has["ordered"] and has["shipped"] and q["shipped"] > q["ordered"] > 0,
    "short_shipped": lambda q, has, closed: closed and has["ordered"] and q["shipped"] < q["ordered"],
    "received_more_than_shipped": lambda q, has, closed: (
        has["shipped"] and has["received"] and q["received"] > q["shipped"]
    ),
    "short_received": lambda q, has, closed: has["shipped"] and has["received"] and q["received"] < q["shipped"],
    "invoiced_not_received": lambda q, has, closed: has["invoiced"] and q["invoiced"] > q["received"],
    "invoiced_over_ordered": lambda q, has, closed: (
        has["invoiced"] and has["ordered"] and q["invoiced"] > q["ordered"] > 0
    ),
    "paid_not_received": lambda q, has, closed: has["paid"] and q["paid"] > q["received"],
}


def verify_case(node: Node, deployment: Deployment, answer: dict[str, Any], template: Any = None) -> Verdict:
    """§9: a served case (GET /v1/cases/{id}) against CaseRegistry's logs and slot at the block it names:
    the case id, the opening, every step folded to stateHashOf, every step's signatures recovered from
    its transaction, the signers' roles, every served step, document and party, the status, and — with
    the template document — the reconciliation quantities and the findings they raise."""
    if "CaseRegistry" not in deployment.addresses:
        raise Unusable("the deployment manifest names no CaseRegistry")
    registry = deployment.addresses["CaseRegistry"]
    start = deployment.blocks["CaseRegistry"]
    block = int(answer["verification"]["block_number"])
    case_id = b32(answer["case_id"])
    v = Verdict(f"case {answer['case_id']}")
    opened_logs = node.logs(registry, [CASE_OPENED, hx(case_id)], start, block)
    if not opened_logs:
        v.problems.append((TAMPERED, f"CaseRegistry holds no case {answer['case_id']} at block {block}"))
        return v
    o = _decode_opened(opened_logs[0])
    v.check(
        keccak(o["biz"].encode("utf-8")) == o["key"] and case_id_of(o["biz"], o["buyer"]) == case_id,
        "caseId = keccak256(abi.encode(keccak256(utf8(bizTransaction)), buyer))",
        "the case id is not what its opening derives",
    )
    opened_time = int(node.block(o["block"])["timestamp"])
    served_opening = (answer["biz_transaction"], answer["opened_tx"].lower(), answer["opened_block"],
                      answer["opened_at"], answer["metadata_hash"].lower())  # fmt: skip
    chain_opening = (o["biz"], o["tx"], o["block"], opened_time, hx(o["metadata"]))
    v.check(served_opening == chain_opening, "the opening is CaseOpened's",
            f"the served opening {served_opening} is not the chain's {chain_opening}")  # fmt: skip
    if o["metadata"] != bytes(32):
        if answer.get("metadata") is None:
            v.problems.append((INCOMPLETE, "the opening document is missing"))
        else:
            v.check(document_hash(answer["metadata"]) == hx(o["metadata"]), "the opening document hashes to "
                    "metadataHash", "the opening document does not hash to metadataHash")  # fmt: skip
    # the template: rules and kind names as registered, and the served document if given
    registered = node.logs(registry, [TEMPLATE_REGISTERED, hx(o["template"])], start, block)
    rules = bytes(node.call(registry, "templateRules(bytes32)", [o["template"]], ["bytes32"], block))
    kinds: list[str] = []
    if registered:
        logged_rules, names = decode(["bytes32", "bytes32[]"], _data(registered[0]))
        kinds = [bytes(n).rstrip(b"\0").decode("ascii", "replace") for n in names]
        v.check(bytes(logged_rules) == rules, "templateRules = TemplateRegistered.rules",
                "templateRules disagrees with the template's registration")  # fmt: skip
    served_template = answer.get("template") or {}
    v.check(
        str(served_template.get("hash", "")).lower() == hx(o["template"])
        and (not kinds or list(served_template.get("kinds", [])) == kinds),
        "template hash and kind names as registered",
        "the served template is not the one the case was opened under",
    )
    template = template if template is not None else served_template.get("document")
    if template is not None:
        v.check(document_hash(template) == hx(o["template"]) and template_rules(template) == (rules, kinds or
                template_rules(template)[1]), "the template document hashes to templateHash and gives its rules",
                "the template document is not the case's template")  # fmt: skip
    # the chain: every StepAppended log, folded to the slot
    times: dict[int, int] = {}
    steps: list[ChainStep] = []
    for log in node.logs(registry, [STEP_APPENDED, hx(case_id)], start, block):
        number = int(log["blockNumber"])
        if number not in times:
            times[number] = int(node.block(number)["timestamp"])
        steps.append(_decode_step(log, times[number]))
    head = case_genesis_head(case_id, o["buyer"], o["supplier"], o["template"], o["metadata"])
    supplier, closed = o["supplier"], False
    separator = eip712_domain_separator("TraceChainCases", "1", deployment.chain_id, registry)
    for n, s in enumerate(steps, start=1):
        if s.index != n:
            v.problems.append((TAMPERED, f"the chain's step {n} is logged as index {s.index}"))
            return v
        rule = rule_of(rules, s.kind)
        before = supplier
        if rule & CASE_RULE["NAMES_SUPPLIER"]:
            supplier = s.party
        closed = closed or bool(rule & CASE_RULE["CLOSES"])
        head = case_next_head(head, n, s.kind, s.amends, s.document_hash, s.ref, s.party, s.signers, s.timestamp)
        s.head = head
        _check_signers(node, deployment, v, s, rule, o["buyer"], supplier, before, separator, case_id)
    stored = bytes(node.call(registry, "stateHashOf(bytes32)", [case_id], ["bytes32"], block))
    state = case_state_hash(head, len(steps), o["buyer"], supplier, rules)
    v.check(state == stored, f"the {len(steps)} logged steps fold to stateHashOf at block {block}",
            "the logged steps do not fold to the contract's state hash")  # fmt: skip
    _check_served_steps(node, deployment, v, answer, steps, kinds, rules, block)
    # the whole case as served
    verification = answer["verification"]
    served = (verification["chain_id"], verification["contract"].lower(), (verification["stored_state_hash"] or
              ZERO).lower(), answer["status"])  # fmt: skip
    chain = (deployment.chain_id, registry.lower(), hx(stored), "closed" if closed else "open")
    v.check(served == chain, "chain, contract, stored state hash and status are the chain's",
            f"the served (chain, contract, state, status) {served} is not the chain's {chain}")  # fmt: skip
    parties = {(p["role"], p["address"].lower()) for p in answer.get("parties", [])}
    expected = {("buyer", o["buyer"].lower())} | ({("supplier", supplier.lower())} if supplier != ZERO_ADDRESS
                                                   else set())  # fmt: skip
    expected |= {("inspector", s.signers[-1].lower()) for s in steps if rule_of(rules, s.kind) & CASE_RULE["INSPECTOR"]}
    v.check(parties == expected, "the parties are the chain's buyer, supplier and inspectors",
            "the served parties are not the chain's")  # fmt: skip
    if template is not None:
        _check_reconciliation(v, answer, template, steps, closed)
    v.facts.update(steps=len(steps), status="closed" if closed else "open", block=block)
    return v


def _check_signers(node: Node, deployment: Deployment, v: Verdict, s: ChainStep, rule: int, buyer: str,
                   supplier: str, supplier_before: str, separator: bytes, case_id: bytes) -> None:  # fmt: skip
    """The signers are the roles the kind's rule names, and each signature recovers to its signer."""
    roles = [r for r in ("BUYER", "SUPPLIER", "INSPECTOR") if rule & CASE_RULE[r]]
    expected = {"BUYER": buyer, "SUPPLIER": supplier}
    fits = len(roles) == len(s.signers) and all(
        same_address(a, expected[r]) if r != "INSPECTOR" else not (same_address(a, buyer) or same_address(a, supplier))
        for r, a in zip(roles, s.signers, strict=False)
    )
    if "INSPECTOR" in roles and fits:
        fits = bool(node.call(deployment.addresses["ActorRegistry"], "isActive(address,bytes32)",
                              [s.signers[-1], INSPECTOR_ROLE], ["bool"], s.block - 1))  # fmt: skip
    v.check(fits, f"step {s.index}: signed by {', '.join(r.lower() for r in roles)}",
            f"step {s.index}: the signers do not fit the kind's roles")  # fmt: skip
    call = _append_calldata(node, deployment, s.tx_hash)
    if call is None:
        v.checks.append(f"step {s.index}: sent through another contract; its signatures were checked on-chain only")
        return
    cid, state, step, signers, deadline, signatures = call
    v.check(
        bytes(cid) == case_id
        and tuple(step[:4]) == (s.kind, s.amends, s.document_hash, s.ref)
        and same_address(step[4], s.party)
        and [a.lower() for a in signers] == [a.lower() for a in s.signers]
        and state[1] == s.index - 1,
        f"step {s.index}: its transaction appended this step",
        f"step {s.index}: its transaction's calldata is not the logged step",
    )
    struct = case_step_struct_hash(case_id, s.index, s.kind, s.amends, s.document_hash, s.ref, s.party, s.signers,
                                   deadline)  # fmt: skip
    for i, (signer, signature) in enumerate(zip(s.signers, signatures, strict=False)):
        # OpenZeppelin SignatureChecker: the ECDSA signer, else ERC-1271 for a contract account
        ok = same_address(recover_typed(node, separator, struct, bytes(signature)), signer)
        if not ok and node.code(signer, s.block - 1):
            digest = keccak(b"\x19\x01" + separator + struct)
            try:
                magic = node.call(signer, "isValidSignature(bytes32,bytes)", [digest, bytes(signature)], ["bytes4"],
                                  s.block - 1)  # fmt: skip
            except Reverted:
                magic = b""
            ok = bytes(magic) == bytes.fromhex("1626ba7e")
        v.check(ok, f"step {s.index}: signature {i} is {signer}'s",
                f"step {s.index}: signature {i} is not {signer}'s signature of the step")  # fmt: skip
    v.check(s.timestamp <= deadline, f"step {s.index}: within its deadline",
            f"step {s.index}: appended after its signatures' deadline")  # fmt: skip


def _check_served_steps(node: Node, deployment: Deployment, v: Verdict, answer: dict[str, Any],
                        steps: list[ChainStep], kinds: list[str], rules: bytes, block: int) -> None:  # fmt: skip
    served = {s["index"]: s for s in answer.get("timeline", [])}
    withheld = [s.index for s in steps if s.index not in served]
    v.check(
        not withheld,
        f"every one of the {len(steps)} steps is served",
        f"step(s) {', '.join(map(str, withheld))} are on-chain but withheld from the served case",
        INCOMPLETE,
    )
    extra = sorted(set(served) - {s.index for s in steps})
    v.check(not extra, "no step is served that the chain does not hold",
            f"step(s) {extra} are served but not on-chain")  # fmt: skip
    superseded = {s.amends: s.index for s in steps if s.amends}
    for s in steps:
        e = served.get(s.index)
        if e is None:
            continue
        ref = hx(s.ref)
        is_event = s.ref != bytes(32)
        mine = (s.kind, kinds[s.kind - 1] if 0 < s.kind <= len(kinds) else e["kind"], s.amends or None,
                superseded.get(s.index), "epcis" if is_event else "document", hx(s.document_hash),
                f"ni:///sha-256;{ref[2:]}?ver=CBV2.0" if is_event else None,
                None if s.party == ZERO_ADDRESS else s.party.lower(), [a.lower() for a in s.signers], s.timestamp,
                iso_utc(s.timestamp), s.tx_hash, s.block, hx(s.head))  # fmt: skip
        theirs = (e["kind_code"], e["kind"], e["amends"], e["superseded_by"], e["source"], e["document_hash"].lower(),
                  e["event_hash_id"], (e["party"] or "").lower() or None, [x["address"].lower() for x in e["signers"]],
                  e["timestamp"], e["time"], e["tx_hash"].lower(), e["block_number"], e["head"].lower())  # fmt: skip
        if mine != theirs:
            fields = ("kind_code", "kind", "amends", "superseded_by", "source", "document_hash", "event_hash_id",
                      "party", "signers", "timestamp", "time", "tx_hash", "block_number", "head")  # fmt: skip
            differ = [f for f, a, b in zip(fields, mine, theirs, strict=True) if a != b]
            v.problems.append((TAMPERED, f"step {s.index}: the served {', '.join(differ)} is not the chain's"))
        doc = e.get("document")
        if doc is None:
            v.problems.append((INCOMPLETE, f"step {s.index}: its document is missing"))
            continue
        if document_hash(doc) != hx(s.document_hash):
            v.problems.append((TAMPERED, f"step {s.index}: its document does not hash to its documentHash"))
            continue
        rule = rule_of(rules, s.kind)
        if rule & CASE_RULE["NAMES_SUPPLIER"] and not is_event:
            account = (doc.get("supplier") or {}).get("account") if isinstance(doc, dict) else None
            v.check(same_address(account, s.party), f"step {s.index}: the award names the supplier in party",
                    f"step {s.index}: the document names supplier {account}, the chain {s.party}")  # fmt: skip
        if is_event:
            recorded = node.logs(deployment.addresses["ProvenanceRegistry"], [ENTRY_APPENDED, None, ref],
                                 deployment.blocks["ProvenanceRegistry"], block)  # fmt: skip
            found = any(decode(["uint8", "uint8", "bytes32"], _data(log))[2] == s.document_hash for log in recorded)
            v.check(found, f"step {s.index}: the ProvenanceRegistry recorded event {ref[:10]}… with this document",
                    f"step {s.index}: the ProvenanceRegistry holds no event {ref} with this document")  # fmt: skip
            names = {t.get("bizTransaction") for t in doc.get("bizTransactionList") or [] if isinstance(t, dict)}
            v.check(answer["biz_transaction"] in names, f"step {s.index}: the event names the order",
                    f"step {s.index}: the event does not name the order in its bizTransactionList")  # fmt: skip
        elif isinstance(doc, dict):
            v.check(doc.get("case") == answer["biz_transaction"], f"step {s.index}: the document names the order",
                    f"step {s.index}: the document names another order ({doc.get('case')!r})")  # fmt: skip


def _check_reconciliation(v: Verdict, answer: dict[str, Any], template: dict[str, Any], steps: list[ChainStep],
                          closed: bool) -> None:  # fmt: skip
    """§9: quantities per GTIN and measure over the effective steps whose documents verify, and the
    quantity findings they raise, as served."""
    measure_of = {k: str(s.get("measure")) for k, s in enumerate(template["steps"], start=1)}
    served = {e["index"]: e for e in answer.get("timeline", [])}
    superseded = {s.amends for s in steps if s.amends}
    qty: dict[str, dict[str, Decimal]] = {m: {} for m in MEASURES}
    has = dict.fromkeys(MEASURES, False)
    for s in steps:
        measure, e = measure_of.get(s.kind), served.get(s.index)
        if measure not in qty or s.index in superseded or e is None or e.get("document") is None:
            continue
        if document_hash(e["document"]) != hx(s.document_hash):
            continue
        has[measure] = True
        for gtin, n in _quantities(e["document"], s.ref != bytes(32)).items():
            qty[measure][gtin] = qty[measure].get(gtin, Decimal(0)) + n
    unknown = [
        s.index
        for s in steps
        if measure_of.get(s.kind) in qty
        and s.index not in superseded
        and (
            served.get(s.index) is None
            or served[s.index].get("document") is None
            or document_hash(served[s.index]["document"]) != hx(s.document_hash)
        )
    ]
    if unknown:  # already a problem above; the quantities cannot be recomputed without those documents
        v.checks.append(f"reconciliation not recomputed: no verified document of step(s) {unknown}")
        return
    gtins = sorted({g for q in qty.values() for g in q})
    lines = {line["gtin"]: line for line in (answer.get("reconciliation") or {}).get("lines", [])}
    v.check(sorted(lines) == gtins, "the reconciliation covers every GTIN of the case",
            f"the reconciliation's GTINs {sorted(lines)} are not the documents' {gtins}")  # fmt: skip
    mine, theirs = set(), {(f["code"], f.get("gtin")) for f in answer.get("findings", []) if f["code"] in
                           QUANTITY_FINDINGS}  # fmt: skip
    for gtin in gtins:
        q = {m: qty[m].get(gtin, Decimal(0)) for m in MEASURES}
        line = lines.get(gtin, {})
        for m in MEASURES:
            shown = line.get(m)
            ok = (shown is None) if not has[m] else (shown is not None and Decimal(shown) == q[m])
            v.check(ok, f"{gtin}: {m} {q[m] if has[m] else '-'}",
                    f"{gtin}: {m} is served as {shown}, the documents give {q[m] if has[m] else None}")  # fmt: skip
        mine |= {(code, gtin) for code, raised in QUANTITY_FINDINGS.items() if raised(q, has, closed)}
    v.check(mine == theirs, f"quantity findings {sorted(c for c, _ in mine) or 'none'}, as served",
            f"the documents raise {sorted(mine)}, the served case {sorted(theirs)}")  # fmt: skip
    by_index = {s.index: s for s in steps}
    for f in answer.get("findings", []):
        for e in f.get("evidence", []):
            if e["case_id"].lower() != answer["case_id"].lower():
                continue
            s = by_index.get(e["index"])
            v.check(s is not None and hx(s.document_hash) == e["document_hash"].lower(),
                    f"{f['code']}: evidence step {e['index']} is the chain's",
                    f"{f['code']}: evidence step {e['index']} is not the chain's step")  # fmt: skip


# ---------------------------------------------------------------- command line
def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the URL the user gave
        return json.load(answer)


def fetch_trace(api: str, identifier: str) -> list[dict[str, Any]]:
    """Every page of GET {api}/v1/products/{identifier} (§5.6)."""
    base = f"{api.rstrip('/')}/v1/products/{urllib.parse.quote(identifier, safe='/:')}?limit=500"
    pages = [fetch_json(base)]
    while pages[-1].get("next_cursor") is not None:
        pages.append(fetch_json(f"{base}&before={pages[-1]['next_cursor']}"))
    return pages


def verify_lineage_deep(node: Node, deployment: Deployment, api: str, identifier: str) -> Verdict:
    """The subject's trace, its lineage, and the trace of every subject it links to (their verdicts
    must be the ones served)."""
    pages = fetch_trace(api, identifier)
    block = int(node.block("latest")["number"])
    verdict = verify_trace(node, deployment, pages, block)
    lineage = verify_lineage(node, deployment, pages[0], block)
    verdict.problems += lineage.problems
    verdict.checks += lineage.checks
    linked = [i for g in LINK_GROUPS for i in (pages[0].get("lineage") or {}).get(g, [])]
    linked += (pages[0].get("recalled_via") or {}).get("links", [])
    for item in {i["identifier"]: i for i in linked}.values():
        other = verify_trace(node, deployment, fetch_trace(api, item["identifier"]), block)
        verdict.check(
            other.verdict == item["verdict"] or item["verdict"] == "unknown",
            f"{item['identifier']}: {other.verdict}, as served",
            f"{item['identifier']} is {other.verdict}, served as {item['verdict']}",
        )
    verdict.facts.update(lineage.facts)
    return verdict


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reference verifier of TraceChain protocol version 2.")
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of a node of the deployment's chain")
    parser.add_argument("--manifest", required=True, help="the deployment manifest (PROTOCOL.md §4)")
    sub = parser.add_subparsers(dest="command", required=True)
    trace = sub.add_parser("trace", help="verify a served trace (PROTOCOL.md §5.7)")
    trace.add_argument("pages", nargs="*", help="trace answer files (every page), or with --api: the identifier")
    trace.add_argument("--api", help="fetch every page of the trace from this TraceChain server")
    trace.add_argument("--block", type=int, help="verify against this block (default: the latest)")
    receipt = sub.add_parser("receipt", help="verify a notary receipt (PROTOCOL.md §7.4)")
    receipt.add_argument("receipt")
    receipt.add_argument("--record", help="the record document, to check its hash")
    certificate = sub.add_parser("certificate", help="verify a data-rights certificate (PROTOCOL.md §8)")
    certificate.add_argument("certificate_id")
    certificate.add_argument("--answer", help="the served GET /v1/certificates/{id} answer")
    certificate.add_argument("--api", help="fetch the answer from this TraceChain server")
    certificate.add_argument("--terms", help="the terms document")
    right = sub.add_parser("right", help="verify a served right check (PROTOCOL.md §8)")
    right.add_argument("answer")
    case = sub.add_parser("case", help="verify a served procurement case (PROTOCOL.md §9)")
    case.add_argument("case", help="the case id (with --api), or a GET /v1/cases/{id} answer file")
    case.add_argument("--api", help="fetch the case and its template from this TraceChain server")
    case.add_argument("--template", help="the case's template document (recomputes the reconciliation)")
    lineage = sub.add_parser("lineage", help="verify a served trace's lineage and recall path (PROTOCOL.md §6)")
    lineage.add_argument("identifier")
    lineage.add_argument("--api", required=True, help="the TraceChain server to read the traces from")
    args = parser.parse_args(argv)
    try:
        node = Node(args.rpc)
        deployment = bind(node, _load(args.manifest))
        if args.command == "trace":
            if args.api:
                if len(args.pages) != 1:
                    raise Unusable("with --api give one identifier")
                pages = fetch_trace(args.api, args.pages[0])
            else:
                pages = [_load(p) for p in args.pages]
            verdict = verify_trace(node, deployment, pages, args.block if args.block is not None else "latest")
        elif args.command == "receipt":
            record = _load(args.record) if args.record else None
            verdict = verify_receipt(node, deployment, _load(args.receipt), record)
        elif args.command == "certificate":
            answer = _load(args.answer) if args.answer else None
            if args.api:
                answer = fetch_json(f"{args.api.rstrip('/')}/v1/certificates/{args.certificate_id}")
            terms = _load(args.terms) if args.terms else None
            verdict = verify_certificate(node, deployment, args.certificate_id, answer, terms)
        elif args.command == "right":
            verdict = verify_right_check(node, deployment, _load(args.answer))
        elif args.command == "case":
            template = _load(args.template) if args.template else None
            if args.api:
                base = args.api.rstrip("/")
                answer = fetch_json(f"{base}/v1/cases/{args.case}")
                if template is None:
                    template = fetch_json(f"{base}/v1/procurement/templates/{answer['template']['hash']}")
            else:
                answer = _load(args.case)
            verdict = verify_case(node, deployment, answer, template)
        else:
            verdict = verify_lineage_deep(node, deployment, args.api, args.identifier)
    except Unusable as exc:
        print(f"UNUSABLE: {exc}")
        return 2
    except (OSError, KeyError, TypeError, ValueError) as exc:
        print(f"UNUSABLE: {type(exc).__name__}: {exc}")
        return 2
    print(verdict.summary())
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
