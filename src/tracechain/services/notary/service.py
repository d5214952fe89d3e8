"""The notary service: single and co-signed records, the batch queue (from `BatchQueue`), every
notarization of a record hash, and receipts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from sqlalchemy import select

from tracechain import errors
from tracechain.chain.notary import Method, NotaryClient, cosigned_record_id, encode_kind, single_record_id
from tracechain.chain.transact import ForwardRequest, decode_request
from tracechain.errors import NotarizationNotFoundError, ReceiptNotReadyError, RecordHashMismatchError
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.services.notary.batches import BatchQueue
from tracechain.services.notary.results import Notarization
from tracechain.services.receipts import NotaryReceipt, individual_receipt
from tracechain.store.notary import NotarizationRow, NotaryBatchRow, NotaryQueueRow, notarizations_of


class NotaryService(BatchQueue):
    """Notarizes records for a Runtime; `anchor` (default: the operator) signs batch anchors and
    must hold the notary role."""

    # ---------------------------------------------------------------- inputs
    def record_hash_of(self, record: Any | None = None, record_hash: str | bytes | None = None) -> bytes:
        """The record hash of `record` or the given hash; both must agree. Nothing is stored: call
        `keep` once the record is notarized or queued.

        Raises:
            InvalidInputError: neither given, a malformed hash, or a record that is not canonical JSON.
            RecordHashMismatchError: the record does not hash to `record_hash`.
        """
        if record is None and record_hash is None:
            raise errors.InvalidInputError("give the record or its hash")
        given = parse_bytes32(record_hash) if record_hash is not None else None
        if record is None:
            assert given is not None
            return given
        digest = document_hash(record)
        if given is not None and given != digest:
            raise RecordHashMismatchError(
                f"the record hashes to {to_hex(digest)}, not {to_hex(given)}",
                hint="the record hash is keccak256 of the record's RFC 8785 canonical JSON",
            )
        return digest

    def keep(self, record: Any | None) -> None:
        """Store a notarized or queued record in the document store, under its hash."""
        if record is not None:
            self.runtime.store.put_document(record)

    # ---------------------------------------------------------------- single and co-signed
    def notarize_single(self, signer: LocalAccount, record_hash: bytes, kind: str) -> Notarization:
        """Notarize one record as `signer` (a notary), relayed and paid by the operator.

        Raises:
            NotaryRecordExists: `signer` already notarized it. ActorRegistryMissingRole: `signer` is no notary.
        """
        client = NotaryClient(self.runtime.contract("Notary"), self.runtime.relaying)
        client.notarize(signer, record_hash, kind)
        self.runtime.sync()  # read-your-writes: the index holds it before we answer
        return self._individual(single_record_id(record_hash, kind, signer.address), record_hash)

    def relay_single(self, request: ForwardRequest, record_hash: bytes, kind: str) -> Notarization:
        """Relay a notary's signed ERC-2771 request for `Notary.notarize(record_hash, kind)`.

        Raises:
            InvalidInputError: the request targets another contract or another call.
            SignatureError / ContractRevertError: the forwarder or the Notary refuses it.
        """
        self._check_request(request, record_hash, kind)
        self.runtime.transactor.relay(request, self.runtime.operator)
        self.runtime.sync()
        return self._individual(single_record_id(record_hash, kind, request.sender), record_hash)

    def notarize_cosigned(
        self,
        record_hash: bytes,
        kind: str,
        parties: Sequence[str],
        deadline: int,
        signatures: Sequence[str],
        submitter: LocalAccount | None = None,
    ) -> Notarization:
        """Submit a record with every party's co-signature (the operator submits by default; the
        submitter is not recorded: the record is the parties').

        Raises:
            NotaryInvalidSignature, NotarySignatureCount, NotarySignaturesExpired, NotaryRecordExists, ...
        """
        record_id = cosigned_record_id(record_hash, kind, parties)
        # The contract refuses an existing record before it looks at the deadline, so a retry after
        # the deadline learns that the first submission went through (NotaryRecordExists).
        sender = submitter or self.runtime.operator
        self.client.notarize_cosigned(sender, record_hash, kind, parties, deadline, signatures)
        self.runtime.sync()
        return self._individual(record_id, record_hash)

    def _check_request(self, request: ForwardRequest, record_hash: bytes, kind: str) -> None:
        decode_request(self.client.contract, request, ("notarize",))
        expected = self.client.contract.functions.notarize(parse_bytes32(record_hash), encode_kind(kind))
        if request.data.lower() != expected._encode_transaction_data().lower():
            selector = "0x" + function_signature_to_4byte_selector("notarize(bytes32,bytes32)").hex()
            raise errors.RequestMismatchError(
                "the signed request does not call Notary.notarize with this record hash and kind",
                hint=f"sign a request whose data is notarize(recordHash, kind) (selector {selector})",
            )

    def _individual(self, record_id: bytes | str, record_hash: bytes | str) -> Notarization:
        """A single or co-signed notarization as the chain holds it now.

        Raises:
            NotarizationNotFoundError: the contract holds no record under `record_id`.
        """
        record = self.client.get_record(record_id)
        if record is None:
            raise NotarizationNotFoundError(f"no notarization {to_hex(parse_bytes32(record_id))} is on the chain")
        event = self.client.find_event(record.id, record_hash, record.block_number)
        if event is None or event.record_hash is None or event.kind is None:
            raise errors.IntegrityError(f"the chain holds record {record.id} but no event for it")
        return Notarization(
            record_hash=event.record_hash,
            kind=event.kind,
            status="notarized",
            method="cosigned" if record.method == Method.COSIGNED else "single",
            id=record.id,
            notary=event.notary,
            parties=event.parties,
            tx_hash=event.tx_hash,
            block_number=record.block_number,
            log_index=event.log_index,
            timestamp=record.timestamp,
        )

    # ---------------------------------------------------------------- reads
    def notarizations(self, record_hash: bytes | str) -> list[Notarization]:
        """Every notarization of `record_hash` known here, newest first (queued and sealed ones
        first): single and co-signed ones as the index holds them (brought up to the chain first,
        unless a background task follows it), batched ones from the queue — reported notarized only
        while the chain holds their batch.

        Raises:
            NotarizationNotFoundError: none is known.
        """
        h = to_hex(parse_bytes32(record_hash))
        self.runtime.refresh()
        with self.runtime.store.session() as s:
            found = [_from_row(r) for r in notarizations_of(s, h)]
            queued = list(s.scalars(select(NotaryQueueRow).where(NotaryQueueRow.record_hash == h)))
            found += [self._queued(q, s.get(NotaryBatchRow, q.batch_id) if q.batch_id else None) for q in queued]
        if not found:
            raise self._not_found(h)
        return sorted(found, key=Notarization.order, reverse=True)

    def _not_found(self, record_hash: str) -> NotarizationNotFoundError:
        confirmations = self.runtime.indexer.confirmations
        hint = (
            f"single and co-signed notarizations are listed once {confirmations} blocks confirm them; "
            "ask for one by its id meanwhile"
            if confirmations
            else None
        )
        return NotarizationNotFoundError(f"no notarization of record {record_hash} is known", hint=hint)

    def status(self, record_hash: bytes | str, id: str | None = None) -> Notarization:
        """One notarization of `record_hash`: the one whose id is `id`, else the earliest notarized,
        else a queued or sealed one.

        Raises:
            NotarizationNotFoundError: none is known (or none has that id).
        """
        h = to_hex(parse_bytes32(record_hash))
        try:
            known = self.notarizations(h)
        except NotarizationNotFoundError:
            known = []
        if id is not None:
            wanted = to_hex(parse_bytes32(id))
            match = next((n for n in known if n.id == wanted), None)
            if match is not None:
                return match
            return self._individual(wanted, h)  # not indexed yet (confirmations): ask the chain
        if not known:
            raise self._not_found(h)
        notarized = [n for n in known if n.notarized]
        return min(notarized, key=Notarization.order) if notarized else known[0]

    def receipt(self, record_hash: bytes | str, id: str | None = None) -> NotaryReceipt:
        """The receipt of a notarization of the record (see `status` for which one).

        Raises:
            NotarizationNotFoundError: unknown record or id.
            ReceiptNotReadyError: it is queued or sealed in a batch that the chain does not hold
            (not anchored yet, or its anchor was rolled back and awaits the next flush).
        """
        n = self.status(record_hash, id)
        if not n.notarized or n.id is None:
            where = f"sealed in batch {n.batch_root}" if n.status == "sealed" else "queued for a batch"
            raise ReceiptNotReadyError(
                f"record {n.record_hash} is {where} that the chain does not hold yet",
                hint="anchor it with `tracechain batch flush`",
            )
        if n.method != "batched":
            receipt = individual_receipt(self.client, n.id, n.record_hash)
            if receipt is None:
                raise NotarizationNotFoundError(f"notarization {n.id} is no longer on the chain")
            return receipt
        return self._batched_receipt(n)


def _from_row(row: NotarizationRow) -> Notarization:
    return Notarization(
        record_hash=row.record_hash,
        kind=row.kind,
        status="notarized",
        method=row.method,
        id=row.id,
        notary=row.notary,
        parties=tuple(filter(None, row.parties.split(","))),
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        log_index=row.log_index,
        timestamp=row.timestamp,
    )
