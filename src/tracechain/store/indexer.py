"""Reads every deployed contract's logs into the store, checkpointed by block, and follows the chain
when it forgets blocks (a reorganisation, or a node restarted from an older state).

Each chunk of blocks is applied in one database transaction together with its checkpoint and the
hashes of the blocks it read, so a stop at any point resumes cleanly: no duplicates, no gaps.
Before each sync the checkpoint block's hash is compared with the chain's; when they differ the
indexer finds the newest block both still agree on, rewinds every table to it in one transaction
(feature modules contribute `rewind` functions) and indexes forward again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError
from sqlalchemy.orm import Session

from tracechain.chain.artifact import load_artifact
from tracechain.chain.connect import Chain
from tracechain.chain.deploy import Deployment
from tracechain.hashing import to_hex
from tracechain.store import actors, capture_jobs, cases, notary, provenance, rights
from tracechain.store.db import Activity, Checkpoint, IndexedBlock, Store
from tracechain.types import to_address

STREAM = "contracts"


@dataclass(frozen=True)
class ChainLog:
    """A decoded contract event with where and when it happened."""

    contract: str
    event: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str
    timestamp: int
    block_hash: str = ""

    def activity(self, actor: str, kind: str, subject: str) -> Activity:
        """An activity row for `actor` recording this log."""
        return Activity(**self.activity_row(actor, kind, subject))

    def activity_row(self, actor: str, kind: str, subject: str) -> dict[str, Any]:
        """The activity row for `actor` recording this log, as values (for bulk inserts)."""
        return {
            "actor": actor,
            "kind": kind,
            "subject": subject,
            "contract": self.contract,
            "tx_hash": self.tx_hash,
            "log_index": self.log_index,
            "block_number": self.block_number,
            "timestamp": self.timestamp,
        }


Handler = Callable[[Session, ChainLog], None]


@dataclass(frozen=True)
class RawLog:
    """A log as the node returns it, before decoding."""

    address: str  # lower-case
    topics: list[bytes]
    data: bytes
    block_number: int
    log_index: int
    tx_hash: str
    block_hash: str

    @classmethod
    def of_rpc(cls, entry: dict[str, Any]) -> RawLog:
        """From a raw JSON-RPC log (hex strings)."""
        return cls(
            entry["address"].lower(),
            [bytes.fromhex(t[2:]) for t in entry["topics"]],
            bytes.fromhex(entry["data"][2:]),
            int(entry["blockNumber"], 16),
            int(entry["logIndex"], 16),
            entry["transactionHash"],
            entry.get("blockHash") or "",
        )

    @classmethod
    def of_web3(cls, entry: Any) -> RawLog:
        """From a log web3 formatted."""
        return cls(
            str(entry["address"]).lower(),
            [bytes(t) for t in entry["topics"]],
            bytes(entry["data"]),
            int(entry["blockNumber"]),
            int(entry["logIndex"]),
            "0x" + bytes(entry["transactionHash"]).hex(),
            to_hex(entry["blockHash"]) if entry.get("blockHash") else "",
        )


class EventCodec:
    """Decodes one event's logs with eth_abi directly (web3's generic path costs ~10x more): indexed
    arguments from their topics, the rest from the data; addresses checksummed, like web3's."""

    def __init__(self, contract: str, abi: dict[str, Any]) -> None:
        self.contract = contract
        self.name = str(abi["name"])
        inputs = abi["inputs"]
        self.indexed = [(i["name"], i["type"]) for i in inputs if i["indexed"]]
        self.data_names = [i["name"] for i in inputs if not i["indexed"]]
        self.data_types = [i["type"] for i in inputs if not i["indexed"]]

    def args(self, log: RawLog) -> dict[str, Any]:
        args = {
            name: _topic_value(kind, topic) for (name, kind), topic in zip(self.indexed, log.topics[1:], strict=True)
        }
        if self.data_types:
            values = abi_decode(self.data_types, log.data)
            for name, kind, value in zip(self.data_names, self.data_types, values, strict=True):
                args[name] = _checksummed(kind, value)
        return args


def _topic_value(kind: str, topic: bytes) -> Any:
    if kind == "address":
        return to_address("0x" + topic[12:].hex())
    if kind == "bool":
        return topic[-1] != 0
    if kind.startswith("uint"):
        return int.from_bytes(topic, "big")
    if kind == "bytes32":
        return topic
    return _checksummed(kind, abi_decode([kind], topic)[0])


def _checksummed(kind: str, value: Any) -> Any:
    if kind == "address":
        return to_address(value)
    if kind == "address[]":
        return tuple(to_address(v) for v in value)
    return value


@dataclass(frozen=True)
class Rewind:
    """What a feature module needs to forget blocks: the session, the last block kept, and a way
    to read back a contract's logs up to it (for state that cannot be undone row by row)."""

    session: Session
    to_block: int
    replay: Callable[[str], list[ChainLog]]  # contract name -> its logs up to `to_block`, in order


Rewinder = Callable[[Rewind], None]
# A contract whose logs come by the thousand is applied a chunk at a time (its logs in order), not log by log.
ChunkHandler = Callable[[Session, list[ChainLog]], None]
MODULES = (actors, provenance, notary, rights, cases)
CHUNK_HANDLERS: dict[str, ChunkHandler] = {provenance.CONTRACT: provenance.apply_logs}


def default_handlers() -> dict[tuple[str, str], Handler]:
    """Every feature's handlers of single logs (besides CHUNK_HANDLERS)."""
    merged: dict[tuple[str, str], Handler] = {}
    for module in MODULES:
        if module.CONTRACT not in CHUNK_HANDLERS:
            merged.update(module.HANDLERS)
    return merged


class ChainRewoundError(Exception):
    """The chain changed under a chunk being read; the sync retries."""


class Indexer:
    """Applies new logs of a deployment to the store, up to the chain head."""

    def __init__(
        self,
        chain: Chain,
        deployment: Deployment,
        store: Store,
        handlers: Mapping[tuple[str, str], Handler] | None = None,
        chunk_handlers: Mapping[str, ChunkHandler] | None = None,
        *,
        chunk_blocks: int = 2000,
        confirmations: int | Callable[[], int] = 0,
    ) -> None:
        self.chain = chain
        self.store = store
        self.handlers = dict(default_handlers() if handlers is None else handlers)
        self.chunk_handlers = dict(CHUNK_HANDLERS if chunk_handlers is None else chunk_handlers)
        self.rewinders: list[Rewinder] = [module.rewind for module in MODULES] + [capture_jobs.rewind]
        self.chunk_blocks = chunk_blocks
        self._confirmations = confirmations
        self.start_block = deployment.start_block
        self._events: dict[tuple[str, bytes], EventCodec] = {}
        self._addresses_by_name: dict[str, str] = {}
        for name, deployed in deployment.contracts.items():
            self._addresses_by_name[name] = deployed.address
            for item in load_artifact(name).abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    self._events[(deployed.address.lower(), _event_topic(item))] = EventCodec(name, item)
        self.addresses = [c.address for c in deployment.contracts.values()]
        # Held while applying logs; readers that need rows and checkpoint to agree hold it too.
        self.lock = threading.RLock()
        self.rewinds = 0  # rewinds performed by this indexer (for status and tests)
        self._checkpoint_hash: tuple[str | None, float] | None = None  # (hash, when read)

    def sync(self, to_block: int | None = None) -> int:
        """Index every block up to `to_block` (default: head minus confirmations); returns logs applied.

        Safe to call from many threads (they take turns) and from many processes sharing one
        store (a chunk another indexer applied first is skipped, not applied twice). A chain that
        forgot indexed blocks is followed: the index rewinds to the newest block it still shares.
        """
        with self.lock:
            for _ in range(8):
                try:
                    return self._sync(to_block)
                except ChainRewoundError:
                    continue
            return self._sync(to_block)

    def _sync(self, to_block: int | None) -> int:
        self._checkpoint_hash = None  # what this process indexes, it sees at once
        chain_head = int(self.chain.w3.eth.block_number)
        self._follow_rewinds(chain_head)
        head = chain_head - self.confirmations
        target = head if to_block is None else min(to_block, head)
        applied = 0
        while (start := self._next_block()) <= target:
            end = min(start + self.chunk_blocks - 1, target)
            try:
                applied += self._apply(start, end)
            except SQLAlchemyIntegrityError:
                if self._next_block() == start:  # not a race with another indexer: a real error
                    raise
        return applied

    @property
    def confirmations(self) -> int:
        """Blocks the index stays behind the head (decided on first use when given as a function)."""
        if callable(self._confirmations):
            self._confirmations = self._confirmations()
        return self._confirmations

    def checkpoint(self) -> int | None:
        """The last block indexed."""
        return self.store.checkpoint(STREAM)

    def checkpoint_hash(self, max_age: float = 0.0) -> str | None:
        """The hash of the last block indexed: one query, or the answer of one at most `max_age`
        seconds old (another process may have indexed meanwhile; this process's own syncs are seen
        at once)."""
        cached = self._checkpoint_hash
        if cached is not None and time.monotonic() - cached[1] <= max_age:
            return cached[0]
        digest = self._read_checkpoint_hash()
        self._checkpoint_hash = (digest, time.monotonic())
        return digest

    def _read_checkpoint_hash(self) -> str | None:
        with self.store.session() as s:
            row = s.execute(
                select(IndexedBlock.hash)
                .join(Checkpoint, Checkpoint.block_number == IndexedBlock.number)
                .where(Checkpoint.name == STREAM)
            ).first()
            return None if row is None else str(row[0])

    # ---------------------------------------------------------------- rewinds
    def _follow_rewinds(self, chain_head: int) -> None:
        """Rewind the index when the chain no longer holds the checkpoint block it indexed."""
        done = self.store.checkpoint(STREAM)
        if done is None:
            return
        with self.store.session() as s:
            known = s.get(IndexedBlock, done)
            stored = known.hash if known is not None else None
        if stored is not None and done <= chain_head and self._hash_at(done) == stored:
            return
        if stored is None and done <= chain_head:
            return  # an index written before block hashes were kept: nothing to compare
        self.rewind(self._common_ancestor(min(done, chain_head)))

    def _common_ancestor(self, highest: int) -> int:
        """The newest indexed block (at most `highest`) whose hash the chain still has; blocks
        chain by hash, so every block below it is unchanged too. Binary search over kept hashes."""
        with self.store.session() as s:
            kept = list(
                s.execute(
                    select(IndexedBlock.number, IndexedBlock.hash)
                    .where(IndexedBlock.number <= highest)
                    .order_by(IndexedBlock.number)
                )
            )
        lo, hi, best = 0, len(kept) - 1, self.start_block - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            number, digest = kept[mid]
            if self._hash_at(number) == digest:
                best, lo = number, mid + 1
            else:
                hi = mid - 1
        return best

    def rewind(self, to_block: int) -> None:
        """Forget everything indexed after `to_block`, in one database transaction."""
        with self.lock, self.store.session() as session:
            context = Rewind(session, to_block, lambda name: self._replay(name, to_block))
            for rewinder in self.rewinders:
                rewinder(context)
            session.execute(delete(Activity).where(Activity.block_number > to_block))
            session.execute(delete(IndexedBlock).where(IndexedBlock.number > to_block))
            checkpoint = session.get(Checkpoint, STREAM)
            if checkpoint is not None:
                checkpoint.block_number = to_block
            self.rewinds += 1
            self._checkpoint_hash = None

    def _replay(self, contract: str, to_block: int) -> list[ChainLog]:
        address = self._addresses_by_name.get(contract)
        if address is None or to_block < self.start_block:
            return []
        return sorted(self._decode(self._logs(address, self.start_block, to_block)), key=_log_order)

    def _hash_at(self, number: int) -> str | None:
        try:
            return self._block(number)[0]
        except Exception:  # BlockNotFound (or a node that lost it): no hash to agree on
            return None

    def _block(self, number: int) -> tuple[str, int]:
        """Hash and timestamp of block `number`.

        Raises:
            LookupError: the chain has no such block.
        """
        if self.chain.embedded:
            block = self.chain.w3.eth.get_block(number)
            return to_hex(block["hash"]), int(block["timestamp"])
        found = self.chain.rpc("eth_getBlockByNumber", [hex(number), False])
        if found is None:
            raise LookupError(f"no block {number}")
        return str(found["hash"]), int(found["timestamp"], 16)

    def _logs(self, address: str | list[str], start: int, end: int, topic: bytes | None = None) -> list[RawLog]:
        """The logs of `address` (with first topic `topic`) in blocks start..end, raw (bulk reads
        skip web3's formatting)."""
        topics = [] if topic is None else ["0x" + topic.hex()]
        if self.chain.embedded:
            query: Any = {"address": address, "fromBlock": start, "toBlock": end, "topics": topics}
            return [RawLog.of_web3(e) for e in self.chain.w3.eth.get_logs(query)]
        found = self.chain.rpc(
            "eth_getLogs", [{"address": address, "fromBlock": hex(start), "toBlock": hex(end), "topics": topics}]
        )
        return [RawLog.of_rpc(e) for e in found]

    def unconfirmed(self, contract: str, event: str) -> list[ChainLog]:
        """`contract`'s `event` logs in the blocks after the index's checkpoint, up to the head: what
        a write must know of (a subject created a moment ago exists) while reads wait for confirmations."""
        start, head = self._next_block(), int(self.chain.w3.eth.block_number)
        address = self._addresses_by_name[contract]
        topic = next(t for (a, t), c in self._events.items() if a == address.lower() and c.name == event)
        if start > head:
            return []
        return sorted(self._decode(self._logs(address, start, head, topic)), key=_log_order)

    # ---------------------------------------------------------------- applying
    def _next_block(self) -> int:
        done = self.store.checkpoint(STREAM)
        return self.start_block if done is None else done + 1

    def _apply(self, start: int, end: int) -> int:
        blocks: dict[int, tuple[str, int]] = {}
        decoded = sorted(self._decode(self._logs(self.addresses, start, end), blocks), key=_log_order)
        blocks[end] = self._block(end)
        for log in decoded:  # logs and blocks must come from the same chain, not straddle a reorg
            if log.block_hash and log.block_hash != blocks[log.block_number][0]:
                raise ChainRewoundError(f"block {log.block_number} changed while it was read")
        with self.store.session() as session:
            checkpoint = session.get(Checkpoint, STREAM)
            if checkpoint is not None and checkpoint.block_number >= start:
                return 0  # another indexer applied this range meanwhile
            by_contract: dict[str, list[ChainLog]] = {name: [] for name in self.chunk_handlers}
            for log in decoded:
                if log.contract in by_contract:
                    by_contract[log.contract].append(log)
                elif (handler := self.handlers.get((log.contract, log.event))) is not None:
                    handler(session, log)
            for name, logs in by_contract.items():
                if logs:
                    self.chunk_handlers[name](session, logs)
            for number, (digest, _) in blocks.items():
                session.merge(IndexedBlock(number=number, hash=digest))
            if checkpoint is None:
                session.add(Checkpoint(name=STREAM, block_number=end))
            else:
                checkpoint.block_number = end
        return len(decoded)

    def _decode(self, raw: Iterable[RawLog], blocks: dict[int, tuple[str, int]] | None = None) -> Iterable[ChainLog]:
        blocks = {} if blocks is None else blocks
        for log in raw:
            if not log.topics:
                continue
            codec = self._events.get((log.address, log.topics[0]))
            if codec is None:
                continue
            number = log.block_number
            if number not in blocks:
                blocks[number] = self._block(number)
            yield ChainLog(
                contract=codec.contract,
                event=codec.name,
                args=codec.args(log),
                block_number=number,
                log_index=log.log_index,
                tx_hash=log.tx_hash,
                timestamp=blocks[number][1],
                block_hash=log.block_hash,
            )


def _log_order(log: ChainLog) -> tuple[int, int]:
    return log.block_number, log.log_index


def _event_topic(abi: dict[str, Any]) -> bytes:
    from eth_utils import event_abi_to_log_topic

    return bytes(event_abi_to_log_topic(abi))  # type: ignore[arg-type]
