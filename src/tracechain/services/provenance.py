"""Product provenance use cases: register products, record EPCIS events (one, many, a whole EPCIS
document), transfer custody, recall, and serve a product's trace with its verification against the
chain. Writes are sent signed by the actor (directly or relayed); API writes arrive pre-signed and are
checked against the documents they come with before the server relays them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from web3.contract.contract import ContractFunction

from tracechain import errors
from tracechain.chain.provenance import (
    EventInput,
    ProductState,
    ProvenanceRegistryClient,
    biz_step_code,
    biz_step_name,
    genesis_head,
    next_head,
)
from tracechain.chain.transact import ForwardRequest, Transactor, TxResult, decode_request
from tracechain.epcis import (
    event_hash_id,
    event_hash_id_digest,
    object_events_from_document,
    product_ids_of,
    validate_object_event,
)
from tracechain.epcis.identifiers import ProductId, parse_product_id
from tracechain.hashing import canonical_json, document_hash, parse_bytes32, to_hex
from tracechain.services.runtime import Runtime
from tracechain.store.db import Checkpoint
from tracechain.store.indexer import STREAM
from tracechain.store.provenance import CustodyTransferRow, ProductEventRow, ProductRow
from tracechain.types import to_address

CONTRACT = "ProvenanceRegistry"
# Event records one transaction may carry: ~17k gas each, so ~17M gas, well inside common block limits.
MAX_BATCH_RECORDS = 1000
ZERO_HASH = to_hex(bytes(32))


# ---------------------------------------------------------------- prepared events
@dataclass(frozen=True)
class PreparedEvent:
    """A validated ObjectEvent with everything the chain commits to."""

    document: dict[str, Any]  # normalised (bare CBV vocabulary); stored and hashed as is
    event_hash_id: str  # ni:///sha-256;...?ver=CBV2.0
    event_id: bytes  # its sha-256 digest (bytes32 on chain)
    document_hash: bytes
    biz_step: int
    products: tuple[ProductId, ...]

    def inputs(self) -> list[EventInput]:
        """One chain record per product in the epcList."""
        return [EventInput(p.key, self.event_id, self.document_hash, self.biz_step) for p in self.products]


def prepare_event(doc: dict[str, Any]) -> PreparedEvent:
    """Validate an EPCIS 2.0 ObjectEvent and compute its Event Hash ID, document hash and step code.

    Raises:
        InvalidInputError: not a valid ObjectEvent, or an epcList entry is not a valid product ID.
    """
    event = validate_object_event(doc)
    hash_id = event_hash_id(event)
    products = tuple(dict.fromkeys(product_ids_of(event)))  # an EPC listed twice is one record
    return PreparedEvent(
        document=event,
        event_hash_id=hash_id,
        event_id=event_hash_id_digest(hash_id),
        document_hash=document_hash(event),
        biz_step=biz_step_code(event["bizStep"]),
        products=products,
    )


def prepare_epcis_document(epcis_doc: dict[str, Any]) -> list[PreparedEvent]:
    """Every ObjectEvent of an EPCISDocument, prepared, in document order.

    Raises:
        InvalidInputError: not an EPCISDocument, another event type, or an invalid event (named by index).
    """
    prepared = []
    for i, event in enumerate(object_events_from_document(epcis_doc)):
        try:
            prepared.append(prepare_event(event))
        except errors.InvalidInputError as exc:
            raise errors.InvalidInputError(f"eventList[{i}]: {exc.message}", hint=exc.hint) from exc
    if not prepared:
        raise errors.InvalidInputError("the EPCIS document holds no events")
    return prepared


def hash_id_of(event_id: str) -> str:
    """The CBV 2.0 Event Hash ID whose sha-256 digest is `event_id` (0x-hex)."""
    return f"ni:///sha-256;{event_id.removeprefix('0x')}?ver=CBV2.0"


# ---------------------------------------------------------------- trace records
@dataclass(frozen=True)
class TracedEvent:
    """One event of a product's trace as the index holds it, with its document."""

    index: int
    event_id: str
    event_hash_id: str
    document_hash: str
    biz_step: str
    biz_step_code: int
    actor: str
    actor_name: str | None
    timestamp: int
    tx_hash: str
    block_number: int
    document: dict[str, Any] | None
    document_verified: bool


@dataclass(frozen=True)
class CustodyRecord:
    from_actor: str
    from_name: str | None
    to_actor: str
    to_name: str | None
    timestamp: int
    tx_hash: str
    block_number: int


@dataclass(frozen=True)
class Recall:
    by: str
    by_name: str | None
    reason_hash: str
    reason: dict[str, Any] | None
    reason_verified: bool
    timestamp: int | None
    tx_hash: str | None


@dataclass(frozen=True)
class Problem:
    """Why (part of) a trace failed verification; `event_index` names the event when there is one."""

    code: str
    message: str
    event_index: int | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class Verification:
    """The trace checked against the contract's live state at `block_number`."""

    verdict: str  # "verified" | "tampered" | "incomplete"
    chain_id: int
    contract: str
    block_number: int
    chain_head: str | None
    chain_event_count: int | None
    recomputed_head: str
    recomputed_event_count: int
    problems: tuple[Problem, ...] = ()

    @property
    def verified(self) -> bool:
        return self.verdict == "verified"


@dataclass(frozen=True)
class ProductTrace:
    """A product's whole history and whether it is authentic."""

    product_id: str
    product_key: str
    digital_link_path: str | None
    status: str  # "active" | "recalled" (the chain's, when it answers)
    manufacturer: str
    manufacturer_name: str | None
    custodian: str
    custodian_name: str | None
    metadata_hash: str
    metadata: dict[str, Any] | None
    registered_at: int
    registered_tx: str
    registered_block: int
    events: tuple[TracedEvent, ...]
    custody: tuple[CustodyRecord, ...]
    recall: Recall | None
    verification: Verification

    @property
    def recalled(self) -> bool:
        return self.status == "recalled"


@dataclass(frozen=True)
class WriteReceipt:
    """A provenance write that landed, with what it committed."""

    tx: TxResult
    product_ids: tuple[str, ...] = ()
    event_hash_ids: tuple[str, ...] = ()
    document_hashes: tuple[str, ...] = field(default=())


_TAMPERING = {
    "document_altered",
    "metadata_altered",
    "recall_notice_altered",
    "event_altered",
    "state_mismatch",
    "event_invalid",
    "event_id_mismatch",
    "biz_step_mismatch",
    "product_mismatch",
}


# ---------------------------------------------------------------- service
class ProvenanceService:
    """Provenance over one Runtime. `transactor` decides how direct writes are sent: the runtime's
    relaying transactor (actor signs, operator pays; the default) or its plain one (actor pays)."""

    def __init__(self, runtime: Runtime, transactor: Transactor | None = None) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.client = ProvenanceRegistryClient(runtime.contract(CONTRACT), transactor or runtime.relaying)

    # ---------------------------------------------------------------- direct writes (actor key at hand)
    def register(self, sender: LocalAccount, product_id: str, metadata: dict[str, Any] | None = None) -> WriteReceipt:
        """Register a product with its metadata document (stored off-chain, hash on-chain).

        Raises:
            InvalidInputError: invalid product ID or metadata that is not canonical JSON.
            ContractRevertError: the contract refused (e.g. already registered, not a manufacturer).
        """
        pid = parse_product_id(product_id)
        meta_hash = self._store_optional(metadata)
        tx = self.client.register_product(sender, pid.canonical, meta_hash)
        return WriteReceipt(tx, (pid.canonical,), document_hashes=(to_hex(meta_hash),))

    def register_many(
        self, sender: LocalAccount, products: Sequence[tuple[str, dict[str, Any] | None]]
    ) -> WriteReceipt:
        """Register many (product ID, metadata) pairs in one transaction (all or none).

        Raises:
            InvalidInputError: no products, an invalid ID, or the same product twice.
            ContractRevertError: the contract refused (e.g. one is already registered).
        """
        if not products:
            raise errors.InvalidInputError("no products to register")
        ids = [parse_product_id(product_id).canonical for product_id, _ in products]
        if len(set(ids)) != len(ids):
            raise errors.InvalidInputError("the same product is listed twice")
        hashes = [self._store_optional(metadata) for _, metadata in products]
        tx = self.client.register_products(sender, ids, hashes)
        return WriteReceipt(tx, tuple(ids), document_hashes=tuple(to_hex(h) for h in hashes))

    def record_events(self, sender: LocalAccount, documents: Sequence[dict[str, Any]]) -> WriteReceipt:
        """Record EPCIS ObjectEvents (each for every product in its epcList) in one transaction.

        Raises:
            InvalidInputError: an invalid event.
            ProductNotFoundError: an event names a product that is not registered.
            ContractRevertError: the contract refused (e.g. not the custodian).
        """
        if not documents:
            raise errors.InvalidInputError("no events to record")
        prepared = []
        for i, doc in enumerate(documents):
            try:
                prepared.append(prepare_event(doc))
            except errors.InvalidInputError as exc:
                where = f"event {i}: " if len(documents) > 1 else ""
                raise errors.InvalidInputError(f"{where}{exc.message}", hint=exc.hint) from exc
        return self._record(sender, prepared)

    def import_epcis(self, sender: LocalAccount, epcis_doc: dict[str, Any]) -> WriteReceipt:
        """Record every ObjectEvent of an EPCISDocument in one batch transaction.

        Raises:
            InvalidInputError: not an EPCISDocument, an unsupported event type, or an invalid event.
            ProductNotFoundError: an event names a product that is not registered.
        """
        return self._record(sender, prepare_epcis_document(epcis_doc))

    def transfer(self, sender: LocalAccount, product_id: str, to: str) -> WriteReceipt:
        """Hand custody of a product to another supply-chain actor.

        Raises:
            ProductNotFoundError: unknown product.
            ContractRevertError: not the custodian, or the recipient may not hold products.
        """
        pid = self._require_registered(parse_product_id(product_id))
        return WriteReceipt(self.client.transfer_custody(sender, pid.key, to_address(to)), (pid.canonical,))

    def recall(self, sender: LocalAccount, product_id: str, notice: dict[str, Any]) -> WriteReceipt:
        """Recall a product; `notice` (the recall notice document) is stored, its hash goes on-chain.

        Raises:
            ProductNotFoundError: unknown product.
            ContractRevertError: not its manufacturer or governance, or already recalled.
        """
        pid = self._require_registered(parse_product_id(product_id))
        reason = self._store_required(notice, "recall notice")
        tx = self.client.recall_product(sender, pid.key, reason)
        return WriteReceipt(tx, (pid.canonical,), document_hashes=(to_hex(reason),))

    # ---------------------------------------------------------------- relayed writes (pre-signed requests)
    def relay_register(self, request: ForwardRequest, product_id: str, metadata: dict[str, Any] | None) -> WriteReceipt:
        """Relay a signed `registerProduct` after checking it registers `product_id` with `metadata`.

        Raises:
            RequestMismatchError: the request is for another product, metadata or function.
            SignatureError: bad signature, used nonce or expired request.
        """
        pid = parse_product_id(product_id)
        args = self._decode(request, "registerProduct")
        meta_hash = document_hash(metadata) if metadata is not None else bytes(32)
        if args["productId"] != pid.canonical:
            raise errors.RequestMismatchError(
                f"the signed request registers {args['productId']!r}, not {pid.canonical!r}",
                hint="sign registerProduct with the canonical product ID",
            )
        if bytes(args["metadataHash"]) != meta_hash:
            raise errors.RequestMismatchError("the signed metadata hash is not the hash of the metadata sent")
        self._store_optional(metadata)
        return WriteReceipt(self._relay(request), (pid.canonical,), document_hashes=(to_hex(meta_hash),))

    def relay_events(
        self, request: ForwardRequest, documents: Sequence[dict[str, Any]], product_id: str | None = None
    ) -> WriteReceipt:
        """Relay a signed `recordEvent`/`recordEvents` after checking it records exactly `documents`
        (and, with `product_id`, that every event concerns that product).

        Raises:
            RequestMismatchError: the signed records differ from the documents' product keys, event IDs,
                document hashes or business steps, or in order.
        """
        prepared = [prepare_event(doc) for doc in documents]
        return self._relay_prepared(request, prepared, product_id)

    def relay_epcis(self, request: ForwardRequest, epcis_doc: dict[str, Any]) -> WriteReceipt:
        """Relay a signed `recordEvents` importing every ObjectEvent of an EPCISDocument."""
        return self._relay_prepared(request, prepare_epcis_document(epcis_doc), None)

    def relay_transfer(self, request: ForwardRequest, product_id: str) -> WriteReceipt:
        """Relay a signed `transferCustody` of `product_id`."""
        pid = self._require_registered(parse_product_id(product_id))
        args = self._decode(request, "transferCustody")
        self._check_key(args["productKey"], pid)
        return WriteReceipt(self._relay(request), (pid.canonical,))

    def relay_recall(self, request: ForwardRequest, product_id: str, notice: dict[str, Any]) -> WriteReceipt:
        """Relay a signed `recallProduct` of `product_id` whose reason hash is the hash of `notice`."""
        pid = self._require_registered(parse_product_id(product_id))
        args = self._decode(request, "recallProduct")
        self._check_key(args["productKey"], pid)
        if bytes(args["reasonHash"]) != document_hash(notice):
            raise errors.RequestMismatchError("the signed reason hash is not the hash of the recall notice sent")
        reason = self._store_required(notice, "recall notice")
        return WriteReceipt(self._relay(request), (pid.canonical,), document_hashes=(to_hex(reason),))

    # ---------------------------------------------------------------- calls to sign (for clients)
    def register_call(self, product_id: str, metadata: dict[str, Any] | None = None) -> ContractFunction:
        """The registerProduct call a manufacturer signs for `product_id` and `metadata`."""
        pid = parse_product_id(product_id)
        meta = document_hash(metadata) if metadata is not None else bytes(32)
        return self.client.contract.functions.registerProduct(pid.canonical, meta)

    def events_call(self, documents: Sequence[dict[str, Any]]) -> ContractFunction:
        """The recordEvents call an actor signs to record `documents`."""
        inputs = [i.as_tuple() for doc in documents for i in prepare_event(doc).inputs()]
        return self.client.contract.functions.recordEvents(inputs)

    def epcis_call(self, epcis_doc: dict[str, Any]) -> ContractFunction:
        """The recordEvents call an actor signs to import an EPCISDocument."""
        inputs = [i.as_tuple() for p in prepare_epcis_document(epcis_doc) for i in p.inputs()]
        return self.client.contract.functions.recordEvents(inputs)

    def transfer_call(self, product_id: str, to: str) -> ContractFunction:
        return self.client.contract.functions.transferCustody(parse_product_id(product_id).key, to_address(to))

    def recall_call(self, product_id: str, notice: dict[str, Any]) -> ContractFunction:
        key = parse_product_id(product_id).key
        return self.client.contract.functions.recallProduct(key, document_hash(notice))

    def unsigned_request(self, sender: str, call: ContractFunction, ttl: int = 3600) -> ForwardRequest:
        """The forward request `sender` signs for `call` (checked first: a refusal raises now).

        Raises:
            ContractRevertError: the contract would refuse the call from `sender`.
        """
        return self.runtime.transactor.build_request(to_address(sender), call, ttl=ttl)

    # ---------------------------------------------------------------- reads
    def trace(self, product_id: str | ProductId) -> ProductTrace:
        """The product's trace from the index (brought up to date first), verified against the chain.

        Raises:
            InvalidInputError: invalid product ID.
            ProductNotFoundError: the product is not registered.
        """
        pid = product_id if isinstance(product_id, ProductId) else parse_product_id(product_id)
        self.runtime.sync()
        key = to_hex(pid.key)
        # Rows and checkpoint are read together, so a sync in another thread cannot slip between
        # them and make an honest trace look altered.
        with self.runtime.indexer.lock, self.store.session() as s:
            product = s.get(ProductRow, key)
            if product is None:
                raise errors.ProductNotFoundError(f"no product {pid.canonical} is registered")
            events = list(
                s.scalars(
                    select(ProductEventRow).where(ProductEventRow.product_key == key).order_by(ProductEventRow.seq)
                )
            )
            transfers = list(
                s.scalars(
                    select(CustodyTransferRow)
                    .where(CustodyTransferRow.product_key == key)
                    .order_by(CustodyTransferRow.block_number, CustodyTransferRow.log_index)
                )
            )
            checkpoint = s.get(Checkpoint, STREAM)
        block = checkpoint.block_number if checkpoint else int(self.runtime.chain.w3.eth.block_number)
        chain = self.client.get_product(pid.key, block)
        return self._assemble(pid, product, events, transfers, chain, block)

    # ---------------------------------------------------------------- internals
    def _record(self, sender: LocalAccount, prepared: list[PreparedEvent]) -> WriteReceipt:
        self._check_new_events(prepared)
        inputs = [i for p in prepared for i in p.inputs()]
        for p in prepared:
            self.store.put_document(p.document)
        tx = (
            self.client.record_event(sender, inputs[0])
            if len(inputs) == 1
            else self.client.record_events(sender, inputs)
        )
        return self._receipt(tx, prepared)

    def _relay_prepared(
        self, request: ForwardRequest, prepared: list[PreparedEvent], product_id: str | None
    ) -> WriteReceipt:
        if not prepared:
            raise errors.InvalidInputError("no events to record")
        expected = [i.as_tuple() for p in prepared for i in p.inputs()]
        name, args = self._decode_any(request, ("recordEvent", "recordEvents"))
        records = [args] if name == "recordEvent" else list(args["events"])
        signed = [
            (bytes(r["productKey"]), bytes(r["eventId"]), bytes(r["documentHash"]), int(r["bizStep"])) for r in records
        ]
        if signed != expected:
            raise errors.RequestMismatchError(
                f"the signed request records {len(signed)} event record(s) that differ from the "
                f"{len(expected)} the documents give",
                hint="sign recordEvents with, per event and epcList product in order: product key, "
                "event-hash digest, document hash and business-step code",
            )
        if product_id is not None:
            pid = parse_product_id(product_id)
            others = {p.canonical for e in prepared for p in e.products} - {pid.canonical}
            if others:
                raise errors.RequestMismatchError(
                    f"events posted for {pid.canonical} also concern {', '.join(sorted(others))}",
                    hint="post multi-product events to /v1/epcis/capture",
                )
        self._check_new_events(prepared)
        for p in prepared:
            self.store.put_document(p.document)
        return self._receipt(self._relay(request), prepared)

    def _check_new_events(self, prepared: list[PreparedEvent]) -> None:
        """Refuse batches too large for one transaction, unknown products and events already recorded
        (a re-sent capture must not enter a product's history twice)."""
        records = sum(len(p.products) for p in prepared)
        if records > MAX_BATCH_RECORDS:
            raise errors.InvalidInputError(
                f"{records} event records do not fit in one transaction (at most {MAX_BATCH_RECORDS})",
                hint="split the EPCIS document into smaller ones",
            )
        products = {pid.canonical: pid for p in prepared for pid in p.products}
        for pid in products.values():
            self._require_registered(pid)
        self.runtime.sync()
        seen: set[tuple[str, str]] = set()
        with self.store.session() as s:
            for p in prepared:
                event_id = to_hex(p.event_id)
                for pid in p.products:
                    key = to_hex(pid.key)
                    recorded = s.scalar(
                        select(ProductEventRow.seq).where(
                            ProductEventRow.product_key == key, ProductEventRow.event_id == event_id
                        )
                    )
                    if recorded is not None or (key, event_id) in seen:
                        where = f" as event #{recorded}" if recorded is not None else " twice in this batch"
                        raise errors.EventAlreadyRecordedError(
                            f"event {p.event_hash_id} is already recorded for {pid.canonical}{where}"
                        )
                    seen.add((key, event_id))

    def _receipt(self, tx: TxResult, prepared: list[PreparedEvent]) -> WriteReceipt:
        products = tuple(dict.fromkeys(pid.canonical for p in prepared for pid in p.products))
        return WriteReceipt(
            tx, products, tuple(p.event_hash_id for p in prepared), tuple(to_hex(p.document_hash) for p in prepared)
        )

    def _relay(self, request: ForwardRequest) -> TxResult:
        return self.runtime.transactor.relay(request, self.runtime.operator)

    def _decode(self, request: ForwardRequest, function: str) -> dict[str, Any]:
        return self._decode_any(request, (function,))[1]

    def _decode_any(self, request: ForwardRequest, functions: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        return decode_request(self.client.contract, request, functions)

    def _check_key(self, signed_key: Any, pid: ProductId) -> None:
        if bytes(signed_key) != pid.key:
            raise errors.RequestMismatchError(f"the signed request concerns another product than {pid.canonical}")

    def _require_registered(self, pid: ProductId) -> ProductId:
        if self.client.get_product(pid.key) is None:
            raise errors.ProductNotFoundError(f"no product {pid.canonical} is registered")
        return pid

    def _store_optional(self, doc: dict[str, Any] | None) -> bytes:
        if doc is None:
            return bytes(32)
        return parse_bytes32(self.store.put_document(doc))

    def _store_required(self, doc: dict[str, Any], what: str) -> bytes:
        if not isinstance(doc, dict) or not doc:
            raise errors.InvalidInputError(f"the {what} must be a non-empty JSON object")
        return parse_bytes32(self.store.put_document(doc))

    def _assemble(
        self,
        pid: ProductId,
        product: ProductRow,
        rows: list[ProductEventRow],
        transfers: list[CustodyTransferRow],
        chain: ProductState | None,
        block: int,
    ) -> ProductTrace:
        problems: list[Problem] = []
        key = pid.key
        names = self.store.actor_names(
            list(
                {
                    product.manufacturer,
                    product.custodian,
                    *(r.actor for r in rows),
                    *(t.from_actor for t in transfers),
                    *(t.to_actor for t in transfers),
                    *([product.recalled_by] if product.recalled_by else []),
                }
            )
        )

        metadata = None
        if product.metadata_hash != ZERO_HASH:
            metadata = self.store.get_document(product.metadata_hash)
            problems += _document_problems(metadata, product.metadata_hash, "metadata", "product metadata")

        head = genesis_head(key, product.manufacturer, parse_bytes32(product.metadata_hash))
        events: list[TracedEvent] = []
        for expected, row in enumerate(rows):
            if row.seq != expected:
                problems.append(Problem("event_missing", f"event #{expected} is missing from the index", expected))
            doc = self.store.get_document(row.document_hash)
            doc_problems = _document_problems(doc, row.document_hash, "document", f"event #{row.seq}'s document")
            if not doc_problems:
                doc_problems = _event_claim_problems(doc, row, pid)
            problems += [_for_event(p, row) for p in doc_problems]
            events.append(
                TracedEvent(
                    index=row.seq,
                    event_id=row.event_id,
                    event_hash_id=hash_id_of(row.event_id),
                    document_hash=row.document_hash,
                    biz_step=biz_step_name(row.biz_step),
                    biz_step_code=row.biz_step,
                    actor=row.actor,
                    actor_name=names.get(row.actor),
                    timestamp=row.timestamp,
                    tx_hash=row.tx_hash,
                    block_number=row.block_number,
                    document=doc,
                    document_verified=not doc_problems,
                )
            )
            head = next_head(
                head,
                key,
                parse_bytes32(row.event_id),
                parse_bytes32(row.document_hash),
                row.biz_step,
                row.actor,
                row.timestamp,
            )

        status, custodian = product.status, product.custodian
        recall_hash = product.recall_reason_hash
        if chain is None:
            problems.append(Problem("not_on_chain", f"the contract holds no product {pid.canonical}"))
        else:
            status, custodian = chain.status.label, chain.custodian
            recall_hash = chain.recall_reason_hash or recall_hash
            if chain.event_count > len(rows):
                missing = ", ".join(f"#{i}" for i in range(len(rows), chain.event_count))
                problems.append(
                    Problem(
                        "event_missing", f"the chain holds {chain.event_count} events; missing: {missing}", len(rows)
                    )
                )
            elif chain.event_count < len(rows):
                problems.append(
                    Problem("event_altered", f"the index holds {len(rows)} events, the chain {chain.event_count}")
                )
            elif chain.head != to_hex(head):
                problems.append(self._locate_altered_event(key, rows))
            if (product.status, product.custodian) != (status, custodian):
                problems.append(
                    Problem(
                        "state_mismatch",
                        f"the index says {product.status}/{product.custodian}, "
                        f"the chain {status}/{custodian}; serving the chain's",
                    )
                )

        recall = None
        if status == "recalled" and recall_hash is not None:
            notice = self.store.get_document(recall_hash)
            notice_problems = _document_problems(notice, recall_hash, "recall_notice", "the recall notice")
            problems += notice_problems
            recall = Recall(
                by=product.recalled_by or "",
                by_name=names.get(product.recalled_by or ""),
                reason_hash=recall_hash,
                reason=notice,
                reason_verified=not notice_problems,
                timestamp=product.recalled_at,
                tx_hash=product.recall_tx,
            )

        if custodian not in names:
            names.update(self.store.actor_names([custodian]))
        verdict = "verified"
        if problems:
            verdict = "tampered" if any(p.code in _TAMPERING for p in problems) else "incomplete"
        verification = Verification(
            verdict=verdict,
            chain_id=self.runtime.chain.chain_id,
            contract=self.client.address,
            block_number=block,
            chain_head=chain.head if chain else None,
            chain_event_count=chain.event_count if chain else None,
            recomputed_head=to_hex(head),
            recomputed_event_count=len(rows),
            problems=tuple(problems),
        )
        return ProductTrace(
            product_id=pid.canonical,
            product_key=to_hex(key),
            digital_link_path=pid.digital_link_path,
            status=status,
            manufacturer=product.manufacturer,
            manufacturer_name=names.get(product.manufacturer),
            custodian=custodian,
            custodian_name=names.get(custodian),
            metadata_hash=product.metadata_hash,
            metadata=metadata,
            registered_at=product.registered_at,
            registered_tx=product.registered_tx,
            registered_block=product.registered_block,
            events=tuple(events),
            custody=tuple(
                CustodyRecord(
                    t.from_actor,
                    names.get(t.from_actor),
                    t.to_actor,
                    names.get(t.to_actor),
                    t.timestamp,
                    t.tx_hash,
                    t.block_number,
                )
                for t in transfers
            ),
            recall=recall,
            verification=verification,
        )

    def _locate_altered_event(self, key: bytes, rows: list[ProductEventRow]) -> Problem:
        """Compare the index with the contract's own logs to name the first event that differs."""
        event = self.client.contract.events.ProductEventRecorded()
        start = self.runtime.deployment.contracts[CONTRACT].block
        logs = event.get_logs(from_block=start, argument_filters={"productKey": key})
        on_chain = sorted(logs, key=lambda lg: int(lg["args"]["index"]))
        for row, log in zip(rows, on_chain, strict=False):
            a = log["args"]
            fields = (
                to_hex(bytes(a["eventId"])),
                to_hex(bytes(a["documentHash"])),
                int(a["bizStep"]),
                to_address(a["actor"]),
                int(a["timestamp"]),
            )
            if fields != (row.event_id, row.document_hash, row.biz_step, row.actor, row.timestamp):
                return Problem(
                    "event_altered",
                    f"event #{row.seq} in the index differs from what the chain recorded",
                    row.seq,
                    row.event_id,
                )
        return Problem("event_altered", "the recomputed head does not match the chain's (product registration altered)")


def _document_problems(doc: Any, expected: str, code: str, what: str) -> list[Problem]:
    if doc is None:
        return [Problem(f"{code}_missing", f"{what} ({expected}) is not in the store")]
    if to_hex(document_hash(doc)) != expected:
        return [Problem(f"{code}_altered", f"{what} no longer matches its on-chain hash {expected}")]
    return []


def _event_claim_problems(doc: Any, row: ProductEventRow, pid: ProductId) -> list[Problem]:
    """What an authentic event document contradicts in its on-chain record: the Event Hash ID, the
    business step, or the product (a writer talking to the contract directly could commit any)."""
    try:
        event = validate_object_event(doc)
        claimed_id = _event_id_of_canonical(canonical_json(event))
        products = product_ids_of(event)
        step = biz_step_code(event["bizStep"])
    except errors.InvalidInputError as exc:
        return [Problem("event_invalid", f"event #{row.seq}'s document is not a valid ObjectEvent: {exc.message}")]
    problems = []
    if claimed_id != row.event_id:
        problems.append(Problem("event_id_mismatch", f"event #{row.seq}'s document has Event Hash ID digest "
                                f"{claimed_id}, the chain records {row.event_id}"))
    if step != row.biz_step:
        problems.append(Problem("biz_step_mismatch", f"event #{row.seq}'s document says {event['bizStep']}, "
                                f"the chain records {biz_step_name(row.biz_step)}"))
    if pid not in products:
        problems.append(Problem("product_mismatch", f"event #{row.seq}'s document does not list {pid.canonical}"))
    return problems


@lru_cache(maxsize=65_536)
def _event_id_of_canonical(canonical: bytes) -> str:
    """Memoised: GS1's generator takes milliseconds, and traces recheck the same documents."""
    return to_hex(event_hash_id_digest(event_hash_id(json.loads(canonical))))


def _for_event(problem: Problem, row: ProductEventRow) -> Problem:
    """`problem` naming the event of `row`."""
    return Problem(problem.code, problem.message, row.seq, row.event_id)
