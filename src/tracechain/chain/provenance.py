"""Typed client of the ProvenanceRegistry contract, its business-step codes and hash-chain math."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract
from web3.types import BlockIdentifier

from tracechain.chain.client import ContractClient
from tracechain.chain.transact import Transactor, TxResult
from tracechain.errors import InvalidInputError
from tracechain.hashing import keccak_text, parse_bytes32, to_hex
from tracechain.types import to_address

ZERO32 = bytes(32)

# GS1 CBV 2.0 business steps in the CBV's alphabetical order: code = position + 1 (1..41).
# The table is part of the protocol (docs/PROTOCOL.md): append only, never reorder.
CBV_BIZ_STEPS: tuple[str, ...] = tuple(
    """accepting arriving assembling collecting commissioning consigning creating_class_instance
    cycle_counting decommissioning departing destroying disassembling dispensing encoding entering_exiting
    holding inspecting installing killing loading other packing picking receiving removing repackaging
    repairing replacing reserving retail_selling sampling sensor_reporting shipping staging_outbound
    stock_taking stocking storing transporting unloading unpacking void_shipping""".split()
)
EXTENSION_BIZ_STEP = 255  # a non-CBV business step (a URI named in the event document)
_CODES = {name: i + 1 for i, name in enumerate(CBV_BIZ_STEPS)}
_CBV_PREFIXES = ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-", "cbv:BizStep-", "gs1:BizStep-")


def biz_step_code(biz_step: str) -> int:
    """The one-byte code of a business step: 1-41 for CBV steps (bare, URN, URI or CURIE form),
    255 for any other URI (an extension step).

    Raises:
        InvalidInputError: neither a CBV step nor a URI.
    """
    value = biz_step.strip() if isinstance(biz_step, str) else ""
    for prefix in _CBV_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    if value in _CODES:
        return _CODES[value]
    if ":" in value and " " not in value:
        return EXTENSION_BIZ_STEP
    raise InvalidInputError(
        f"unknown business step {biz_step!r}", hint="use a CBV 2.0 bizStep (e.g. 'shipping') or a URI"
    )


def biz_step_name(code: int) -> str:
    """The CBV name of `code` ('extension' for 255, 'invalid' otherwise)."""
    if 1 <= code <= len(CBV_BIZ_STEPS):
        return CBV_BIZ_STEPS[code - 1]
    return "extension" if code == EXTENSION_BIZ_STEP else "invalid"


# ---------------------------------------------------------------- hash chain
def genesis_head(product_key: bytes, manufacturer: str, metadata_hash: bytes) -> bytes:
    """head_0 = keccak256(abi.encode(productKey, manufacturer, metadataHash))."""
    return keccak(abi_encode(["bytes32", "address", "bytes32"], [product_key, manufacturer, metadata_hash]))


def next_head(
    previous: bytes,
    product_key: bytes,
    event_id: bytes,
    document_hash: bytes,
    biz_step: int,
    actor: str,
    timestamp: int,
) -> bytes:
    """head_n = keccak256(abi.encode(head_{n-1}, productKey, eventId, documentHash, bizStep, actor, timestamp))."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "bytes32", "uint8", "address", "uint64"],
            [previous, product_key, event_id, document_hash, biz_step, actor, timestamp],
        )
    )


# ---------------------------------------------------------------- records
class ProductStatus(IntEnum):
    """On-chain product status (the contract's ProductStatus enum)."""

    NONE = 0
    ACTIVE = 1
    RECALLED = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class ProductState:
    """A product as the contract holds it."""

    product_key: str  # 0x-hex bytes32
    manufacturer: str
    custodian: str
    status: ProductStatus
    event_count: int
    registered_at: int
    head: str  # 0x-hex bytes32
    recall_reason_hash: str | None = None  # 0x-hex, set once recalled


@dataclass(frozen=True)
class EventInput:
    """One event to record: product key, event-ID digest, document hash, business-step code."""

    product_key: bytes
    event_id: bytes
    document_hash: bytes
    biz_step: int

    def __post_init__(self) -> None:
        for name in ("product_key", "event_id", "document_hash"):
            object.__setattr__(self, name, parse_bytes32(getattr(self, name)))
        if not isinstance(self.biz_step, int) or not 0 <= self.biz_step <= 255:
            raise InvalidInputError(f"business-step code must be 0..255, got {self.biz_step!r}")

    def as_tuple(self) -> tuple[bytes, bytes, bytes, int]:
        return (self.product_key, self.event_id, self.document_hash, self.biz_step)


@dataclass(frozen=True)
class ProductRegisteredLog:
    product_key: str
    manufacturer: str
    product_id: str
    metadata_hash: str


@dataclass(frozen=True)
class EventRecordedLog:
    product_key: str
    actor: str
    event_id: str
    document_hash: str
    biz_step: int
    index: int
    timestamp: int


@dataclass(frozen=True)
class CustodyTransferredLog:
    product_key: str
    from_: str
    to: str


@dataclass(frozen=True)
class ProductRecalledLog:
    product_key: str
    by: str
    reason_hash: str


ProvenanceLog = ProductRegisteredLog | EventRecordedLog | CustodyTransferredLog | ProductRecalledLog
EVENT_NAMES = ("ProductRegistered", "ProductEventRecorded", "CustodyTransferred", "ProductRecalled")


def _hex(value: Any) -> str:
    return to_hex(bytes(value))


def log_record(event_name: str, args: Any) -> ProvenanceLog:
    """Our record of one decoded contract event (`args` as web3 decodes them)."""
    if event_name == "ProductRegistered":
        return ProductRegisteredLog(
            _hex(args["productKey"]),
            to_address(args["manufacturer"]),
            str(args["productId"]),
            _hex(args["metadataHash"]),
        )
    if event_name == "ProductEventRecorded":
        return EventRecordedLog(
            _hex(args["productKey"]),
            to_address(args["actor"]),
            _hex(args["eventId"]),
            _hex(args["documentHash"]),
            int(args["bizStep"]),
            int(args["index"]),
            int(args["timestamp"]),
        )
    if event_name == "CustodyTransferred":
        return CustodyTransferredLog(_hex(args["productKey"]), to_address(args["from"]), to_address(args["to"]))
    if event_name == "ProductRecalled":
        return ProductRecalledLog(_hex(args["productKey"]), to_address(args["by"]), _hex(args["reasonHash"]))
    raise InvalidInputError(f"not a ProvenanceRegistry event: {event_name!r}")


def product_key_of(product_id: str) -> bytes:
    """keccak256(utf8(product_id)): the key of a canonical product ID."""
    return keccak_text(product_id)


# ---------------------------------------------------------------- client
class ProvenanceRegistryClient(ContractClient):
    """Reads and writes products and their events; writes go through the given Transactor."""

    def __init__(self, contract: Contract, transactor: Transactor) -> None:
        super().__init__(contract, transactor)
        self._topic_names: dict[bytes, str] | None = None

    # ---------------------------------------------------------------- writes
    def register_product(self, sender: LocalAccount, product_id: str, metadata_hash: bytes = ZERO32) -> TxResult:
        """Register `product_id` (a canonical ID) with `sender` as manufacturer and custodian."""
        fn = self.contract.functions.registerProduct(product_id, parse_bytes32(metadata_hash))
        return self.tx.send(sender, fn)

    def register_products(
        self, sender: LocalAccount, product_ids: Sequence[str], metadata_hashes: Sequence[bytes] | None = None
    ) -> TxResult:
        """Register many products in one transaction (all or none)."""
        hashes = (
            [parse_bytes32(h) for h in metadata_hashes] if metadata_hashes is not None else [ZERO32] * len(product_ids)
        )
        return self.tx.send(sender, self.contract.functions.registerProducts(list(product_ids), hashes))

    def record_event(self, sender: LocalAccount, event: EventInput) -> TxResult:
        """Record one event, extending its product's hash chain."""
        return self.tx.send(sender, self.contract.functions.recordEvent(*event.as_tuple()))

    def record_events(self, sender: LocalAccount, events: Iterable[EventInput]) -> TxResult:
        """Record many events in one transaction, in order (all or none)."""
        return self.tx.send(sender, self.contract.functions.recordEvents([e.as_tuple() for e in events]))

    def transfer_custody(self, sender: LocalAccount, product_key: bytes, to: str) -> TxResult:
        """Hand custody of a product to another active supply-chain actor (custodian only)."""
        fn = self.contract.functions.transferCustody(parse_bytes32(product_key), to_address(to))
        return self.tx.send(sender, fn)

    def recall_product(self, sender: LocalAccount, product_key: bytes, reason_hash: bytes) -> TxResult:
        """Recall a product (its manufacturer or governance); `reason_hash` commits to the notice."""
        fn = self.contract.functions.recallProduct(parse_bytes32(product_key), parse_bytes32(reason_hash))
        return self.tx.send(sender, fn)

    # ---------------------------------------------------------------- reads
    def get_product(self, product_key: bytes, block: BlockIdentifier = "latest") -> ProductState | None:
        """The product's on-chain state, or None if it is not registered."""
        key = parse_bytes32(product_key)
        fn = self.contract.functions
        custodian, count, status, manufacturer, registered_at, head = fn.getProduct(key).call(block_identifier=block)
        state = ProductStatus(int(status))
        if state is ProductStatus.NONE:
            return None
        reason = fn.recallReason(key).call(block_identifier=block) if state is ProductStatus.RECALLED else None
        return ProductState(
            product_key=to_hex(key),
            manufacturer=to_address(manufacturer),
            custodian=to_address(custodian),
            status=state,
            event_count=int(count),
            registered_at=int(registered_at),
            head=_hex(head),
            recall_reason_hash=_hex(reason) if reason is not None else None,
        )

    def decode_log(self, log: Any) -> ProvenanceLog | None:
        """Our record of one raw log of this contract (None for a log it did not emit)."""
        if str(log["address"]).lower() != self.address.lower() or not log["topics"]:
            return None
        name = self._topics().get(bytes(log["topics"][0]))
        if name is None:
            return None
        decoded = getattr(self.contract.events, name)().process_log(log)
        return log_record(name, decoded["args"])

    def logs_of(self, result: TxResult) -> list[ProvenanceLog]:
        """The ProvenanceRegistry events a transaction emitted, in log order."""
        return [record for log in result.logs if (record := self.decode_log(log)) is not None]

    def _topics(self) -> dict[bytes, str]:
        if self._topic_names is None:
            self._topic_names = {event_topic(self.contract, name): name for name in EVENT_NAMES}
        return self._topic_names


def event_topic(contract: Contract, name: str) -> bytes:
    """topic0 (keccak of the canonical signature) of event `name` in `contract`'s ABI."""
    (item,) = [i for i in contract.abi if i.get("type") == "event" and i.get("name") == name]
    types = ",".join(str(i["type"]) for i in item["inputs"])  # type: ignore[typeddict-item]
    return keccak(text=f"{name}({types})")
