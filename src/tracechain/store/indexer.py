"""Reads every deployed contract's logs into the store, checkpointed by block.

Each chunk of blocks is applied in one database transaction together with its checkpoint, so a
stop at any point resumes cleanly: no duplicates, no gaps. Feature modules contribute handlers
keyed by (contract name, event name).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError
from sqlalchemy.orm import Session
from web3._utils.events import get_event_data

from tracechain.chain.artifact import load_artifact
from tracechain.chain.connect import Chain
from tracechain.chain.deploy import Deployment
from tracechain.store import actors, notary, provenance, rights
from tracechain.store.db import Activity, Checkpoint, Store

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

    def activity(self, actor: str, kind: str, subject: str) -> Activity:
        """An activity row for `actor` recording this log."""
        return Activity(
            actor=actor,
            kind=kind,
            subject=subject,
            contract=self.contract,
            tx_hash=self.tx_hash,
            log_index=self.log_index,
            block_number=self.block_number,
            timestamp=self.timestamp,
        )


Handler = Callable[[Session, ChainLog], None]


def default_handlers() -> dict[tuple[str, str], Handler]:
    """Every feature's handlers."""
    merged: dict[tuple[str, str], Handler] = {}
    for module in (actors, provenance, notary, rights):
        merged.update(module.HANDLERS)
    return merged


class Indexer:
    """Applies new logs of a deployment to the store, up to the chain head."""

    def __init__(
        self,
        chain: Chain,
        deployment: Deployment,
        store: Store,
        handlers: Mapping[tuple[str, str], Handler] | None = None,
        *,
        chunk_blocks: int = 2000,
        confirmations: int = 0,
    ) -> None:
        self.chain = chain
        self.store = store
        self.handlers = dict(default_handlers() if handlers is None else handlers)
        self.chunk_blocks = chunk_blocks
        self.confirmations = confirmations
        self.start_block = deployment.start_block
        self._events: dict[tuple[str, bytes], tuple[str, dict[str, Any]]] = {}
        for name, deployed in deployment.contracts.items():
            for item in load_artifact(name).abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    topic = _event_topic(item)
                    self._events[(deployed.address.lower(), topic)] = (name, item)
        self.addresses = [c.address for c in deployment.contracts.values()]
        # Held while applying logs; readers that need rows and checkpoint to agree hold it too.
        self.lock = threading.RLock()

    def sync(self, to_block: int | None = None) -> int:
        """Index every block up to `to_block` (default: head minus confirmations); returns logs applied.

        Safe to call from many threads (they take turns) and from many processes sharing one
        store (a chunk another indexer applied first is skipped, not applied twice).
        """
        with self.lock:
            head = int(self.chain.w3.eth.block_number) - self.confirmations
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

    def _next_block(self) -> int:
        done = self.store.checkpoint(STREAM)
        return self.start_block if done is None else done + 1

    def _apply(self, start: int, end: int) -> int:
        raw = self.chain.w3.eth.get_logs(
            {"address": self.addresses, "fromBlock": start, "toBlock": end}  # type: ignore[typeddict-item]
        )
        decoded = sorted(self._decode(raw), key=lambda log: (log.block_number, log.log_index))
        with self.store.session() as session:
            checkpoint = session.get(Checkpoint, STREAM)
            if checkpoint is not None and checkpoint.block_number >= start:
                return 0  # another indexer applied this range meanwhile
            for log in decoded:
                handler = self.handlers.get((log.contract, log.event))
                if handler is not None:
                    handler(session, log)
            if checkpoint is None:
                session.add(Checkpoint(name=STREAM, block_number=end))
            else:
                checkpoint.block_number = end
        return len(decoded)

    def _decode(self, raw: Iterable[Any]) -> Iterable[ChainLog]:
        timestamps: dict[int, int] = {}
        for entry in raw:
            topics = entry["topics"]
            if not topics:
                continue
            known = self._events.get((str(entry["address"]).lower(), bytes(topics[0])))
            if known is None:
                continue
            contract, abi = known
            data = get_event_data(self.chain.w3.codec, abi, entry)
            block = int(entry["blockNumber"])
            if block not in timestamps:
                timestamps[block] = int(self.chain.w3.eth.get_block(block)["timestamp"])
            yield ChainLog(
                contract=contract,
                event=str(abi["name"]),
                args=dict(data["args"]),
                block_number=block,
                log_index=int(entry["logIndex"]),
                tx_hash="0x" + bytes(entry["transactionHash"]).hex(),
                timestamp=timestamps[block],
            )


def _event_topic(abi: dict[str, Any]) -> bytes:
    from eth_utils import event_abi_to_log_topic

    return bytes(event_abi_to_log_topic(abi))  # type: ignore[arg-type]
