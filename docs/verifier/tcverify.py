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
  lineage      a served trace's links, inherited events and recall path (§6).

    python tcverify.py --rpc URL --manifest MANIFEST.json trace TRACE.json [MORE_PAGES.json ...]
    python tcverify.py --rpc URL --manifest MANIFEST.json trace --api BASE_URL ID
    python tcverify.py --rpc URL --manifest MANIFEST.json receipt RECEIPT.json [--record RECORD.json]
    python tcverify.py --rpc URL --manifest MANIFEST.json certificate ID [--answer FILE | --api BASE_URL] [--terms FILE]
    python tcverify.py --rpc URL --manifest MANIFEST.json right ANSWER.json
    python tcverify.py --rpc URL --manifest MANIFEST.json lineage --api BASE_URL ID

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785
from eth_abi import decode, encode
from web3 import Web3

PROTOCOL_VERSION = 2
ZERO = "0x" + "00" * 32
LOG_BLOCK_STEP = 1_000  # blocks per eth_getLogs request (public endpoints cap the range)
CONTRACTS = ("TraceChainForwarder", "ActorRegistry", "ProvenanceRegistry", "Notary", "DataRightsRegistry")
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

    def call(self, to: str, signature: str, args: Sequence[Any], returns: Sequence[str], block: int | str) -> Any:
        """Call `signature` (e.g. "headOf(bytes32)") on `to` and decode `returns`; one value is unwrapped."""
        types = signature[signature.index("(") + 1 : -1]
        arg_types = _split_types(types)
        data = keccak(signature.encode("ascii"))[:4] + encode(arg_types, list(args))
        try:
            raw = self.w3.eth.call({"to": to, "data": hx(data)}, block)  # type: ignore[typeddict-item]
        except Exception as exc:  # web3 raises several types for a revert; all mean "no answer"
            raise Reverted(f"{signature} reverted: {exc}") from exc
        values = decode(list(returns), bytes(raw))
        return values[0] if len(values) == 1 else values

    def logs(self, address: str, topics: list[str | None], from_block: int, to_block: int) -> list[dict[str, Any]]:
        """Every matching log, in (block, log index) order, read in ranges of LOG_BLOCK_STEP blocks."""
        found: list[dict[str, Any]] = []
        start = from_block
        while start <= to_block:
            end = min(start + LOG_BLOCK_STEP - 1, to_block)
            flt = {"address": address, "topics": topics, "fromBlock": start, "toBlock": end}
            found += [dict(log) for log in self.w3.eth.get_logs(flt)]  # type: ignore[arg-type]
            start = end + 1
        return sorted(found, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))

    def block(self, number: int | str) -> dict[str, Any]:
        return dict(self.w3.eth.get_block(number))  # type: ignore[arg-type]


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
        addresses = {name: addr(manifest["contracts"][name]["address"]) for name in CONTRACTS}
        blocks = {name: int(manifest["contracts"][name]["block"]) for name in CONTRACTS}
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
