"""Typed client of the ProvenanceRegistry contract (protocol v2: subjects, entries, custody), its
business-step codes and the hash-chain math."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from tracechain.chain.client import ContractClient
from tracechain.chain.transact import Call, EncodedCall, TxResult

# The business-step codes (CBV steps 1-41, 255 extension, 0 none) live with the CBV vocabulary.
from tracechain.epcis.vocabulary import biz_step_code as biz_step_code
from tracechain.epcis.vocabulary import biz_step_name as biz_step_name
from tracechain.errors import InvalidInputError
from tracechain.hashing import keccak_text, parse_bytes32, to_hex
from tracechain.types import to_address

ZERO32 = bytes(32)


# ---------------------------------------------------------------- hash chain
class EntryKind(IntEnum):
    """What an entry of a subject's chain is (the contract's `EntryKinds`)."""

    EVENT = 1
    ERROR_DECLARATION = 2
    CUSTODY = 3
    FORCED_CUSTODY = 4
    RECALL = 5

    @property
    def label(self) -> str:
        return self.name.lower()


def genesis_head(subject_key: bytes, originator: str, metadata_hash: bytes) -> bytes:
    """head_0 = keccak256(abi.encode(subjectKey, originator, metadataHash))."""
    return keccak(abi_encode(["bytes32", "address", "bytes32"], [subject_key, originator, metadata_hash]))


def next_head(
    previous: bytes, kind: int, ref: bytes, document_hash: bytes, code: int, actor: str, timestamp: int
) -> bytes:
    """head_n = keccak256(abi.encode(head_{n-1}, kind, ref, documentHash, code, actor, timestamp))."""
    return keccak(
        abi_encode(
            ["bytes32", "uint8", "bytes32", "bytes32", "uint8", "address", "uint64"],
            [previous, kind, ref, document_hash, code, actor, timestamp],
        )
    )


def address_ref(account: str) -> bytes:
    """The `ref` of a custody entry: the new custodian as a left-zero-padded bytes32."""
    return bytes(12) + bytes.fromhex(to_address(account)[2:])


# ---------------------------------------------------------------- records
class SubjectStatus(IntEnum):
    """On-chain subject status (the contract's SubjectStatus enum)."""

    NONE = 0
    ACTIVE = 1
    RECALLED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class SubjectState:
    """A subject as the contract holds it."""

    subject_key: str  # 0x-hex bytes32
    originator: str
    custodian: str | None  # None for open subjects
    open: bool
    status: SubjectStatus
    created_at: int
    head: str  # 0x-hex bytes32
    recall_reason_hash: str | None = None  # 0x-hex, set once recalled


@dataclass(frozen=True)
class NewSubject:
    """A subject to create: canonical identifier, metadata document hash, open (class-level) or not."""

    identifier: str
    metadata_hash: bytes = ZERO32
    open: bool = False

    def as_tuple(self) -> tuple[str, bytes, bool]:
        return (self.identifier, parse_bytes32(self.metadata_hash), self.open)


@dataclass(frozen=True)
class EventInput:
    """One EPCIS event (or error declaration) for the chains of `subjects`."""

    event_id: bytes
    document_hash: bytes
    biz_step: int
    subjects: tuple[bytes, ...]
    kind: EntryKind = EntryKind.EVENT

    def __post_init__(self) -> None:
        for name in ("event_id", "document_hash"):
            object.__setattr__(self, name, parse_bytes32(getattr(self, name)))
        object.__setattr__(self, "subjects", tuple(parse_bytes32(k) for k in self.subjects))
        if not isinstance(self.biz_step, int) or not 0 <= self.biz_step <= 255:
            raise InvalidInputError(f"business-step code must be 0..255, got {self.biz_step!r}")
        if not self.subjects:
            raise InvalidInputError("an event names at least one subject")

    def as_tuple(self) -> tuple[int, int, bytes, bytes, list[bytes]]:
        return (int(self.kind), self.biz_step, self.event_id, self.document_hash, list(self.subjects))


def subject_key_of(identifier: str) -> bytes:
    """keccak256(utf8(identifier)): the key of a canonical identifier."""
    return keccak_text(identifier)


# ---------------------------------------------------------------- client
class ProvenanceRegistryClient(ContractClient):
    """Reads and writes subjects and their entries; writes go through the given Transactor."""

    # ---------------------------------------------------------------- writes
    def create_subjects(self, sender: LocalAccount, subjects: Sequence[NewSubject]) -> TxResult:
        """Create subjects with `sender` as originator (and custodian of those not open)."""
        return self.tx.send(sender, self.create_call(subjects))

    def record_events(
        self, sender: LocalAccount, events: Sequence[EventInput], create: Sequence[NewSubject] = ()
    ) -> TxResult:
        """Create `create`, then record `events` in order, in one transaction (all or none)."""
        return self.tx.send(sender, self.record_call(events, create))

    def transfer_custody(self, sender: LocalAccount, subject_keys: Sequence[bytes], to: str) -> TxResult:
        """Hand custody of subjects to another active supply-chain actor (their custodian only)."""
        return self.tx.send(sender, self.transfer_call(subject_keys, to))

    def force_custody(self, sender: LocalAccount, subject_key: bytes, to: str, reason_hash: bytes) -> TxResult:
        """Governance moves custody of a subject; `reason_hash` commits to the reason document."""
        key, reason = parse_bytes32(subject_key), parse_bytes32(reason_hash)
        fn = self.contract.functions.forceCustody(key, to_address(to), reason)
        return self.tx.send(sender, fn)

    def recall(self, sender: LocalAccount, subject_key: bytes, reason_hash: bytes) -> TxResult:
        """Recall a subject (its originator or governance); `reason_hash` commits to the notice."""
        return self.tx.send(sender, self.recall_call(subject_key, reason_hash))

    # ---------------------------------------------------------------- calls (to send or to sign)
    def create_call(self, subjects: Sequence[NewSubject]) -> ContractFunction:
        return self.contract.functions.createSubjects([s.as_tuple() for s in subjects])

    def record_call(self, events: Sequence[EventInput], create: Sequence[NewSubject] = ()) -> Call:
        """`recordEvent` for one plain event on one subject, else `recordEvents` (encoded directly)."""
        if not create and len(events) == 1 and len(events[0].subjects) == 1 and events[0].kind == EntryKind.EVENT:
            e = events[0]
            return self.contract.functions.recordEvent(e.subjects[0], e.event_id, e.document_hash, e.biz_step)
        args = ([s.as_tuple() for s in create], [e.as_tuple() for e in events])
        return EncodedCall(self.contract, "recordEvents", args)

    def transfer_call(self, subject_keys: Sequence[bytes], to: str) -> ContractFunction:
        return self.contract.functions.transferCustody([parse_bytes32(k) for k in subject_keys], to_address(to))

    def recall_call(self, subject_key: bytes, reason_hash: bytes) -> ContractFunction:
        return self.contract.functions.recall(parse_bytes32(subject_key), parse_bytes32(reason_hash))

    # ---------------------------------------------------------------- reads
    def get_subject(self, subject_key: bytes, block: BlockIdentifier = "latest") -> SubjectState | None:
        """The subject's on-chain state, or None if it does not exist."""
        key = parse_bytes32(subject_key)
        fn = self.contract.functions
        custodian, status, is_open, created_at, originator, head = fn.getSubject(key).call(block_identifier=block)
        state = SubjectStatus(int(status))
        if state is SubjectStatus.NONE:
            return None
        reason = fn.recallReason(key).call(block_identifier=block) if state is SubjectStatus.RECALLED else None
        return SubjectState(
            subject_key=to_hex(key),
            originator=to_address(originator),
            custodian=None if is_open else to_address(custodian),
            open=bool(is_open),
            status=state,
            created_at=int(created_at),
            head=to_hex(bytes(head)),
            recall_reason_hash=to_hex(bytes(reason)) if reason is not None else None,
        )

    def head_of(self, subject_key: bytes, block: BlockIdentifier = "latest") -> str:
        """The head of a subject's chain (zero if it does not exist)."""
        return to_hex(bytes(self.contract.functions.headOf(parse_bytes32(subject_key)).call(block_identifier=block)))

    def entry_logs(self, subject_key: bytes, from_block: int, to_block: BlockIdentifier = "latest") -> list[Any]:
        """The EntryAppended logs of one subject, in chain order (for naming an altered entry)."""
        event = self.contract.events.EntryAppended()
        logs = event.get_logs(
            from_block=from_block, to_block=to_block, argument_filters={"subjectKey": parse_bytes32(subject_key)}
        )
        return sorted(logs, key=lambda lg: (int(lg["blockNumber"]), int(lg["logIndex"])))
