"""The one exception tree of TraceChain: every error a user can see is a TraceChainError.

Each class carries a machine-readable `code`. The category bases (InvalidInputError,
NotFoundError, ConflictError, PermissionDeniedError, ...) decide the HTTP status, in
`tracechain.api.errors`, and the CLI exit code, in `tracechain.cli`.

Contract custom errors are decoded (in `tracechain.chain.reverts`) into the subclass of
ContractRevertError named exactly like the Solidity error; a test checks that every custom error
in the artifacts has its class here.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar


class TraceChainError(Exception):
    """Root of every TraceChain error."""

    code: ClassVar[str] = "tracechain_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")


# ---------------------------------------------------------------- categories
class InvalidInputError(TraceChainError, ValueError):
    """The input is malformed or violates a rule."""

    code = "invalid_input"


class NotFoundError(TraceChainError, LookupError):
    """The thing asked for does not exist."""

    code = "not_found"


class ConflictError(TraceChainError):
    """The request clashes with existing state (a duplicate, a wrong status)."""

    code = "conflict"


class PermissionDeniedError(TraceChainError, PermissionError):
    """The account may not do this."""

    code = "permission_denied"


class UnavailableError(TraceChainError, ConnectionError):
    """A service TraceChain depends on cannot be reached."""

    code = "unavailable"


class IntegrityError(TraceChainError):
    """Stored or supplied data does not match what the chain commits to."""

    code = "integrity_violation"


# ---------------------------------------------------------------- configuration and toolchain
class ConfigurationError(TraceChainError):
    """Settings are missing or inconsistent."""

    code = "configuration_error"


class CompilationError(TraceChainError):
    """The Solidity compiler failed or is not installed."""

    code = "compilation_failed"


class ArtifactMissingError(ConfigurationError):
    """A contract artifact is missing: contracts were not compiled."""

    code = "artifact_missing"


# ---------------------------------------------------------------- chain
class ChainUnavailableError(UnavailableError):
    """No node answers at the configured RPC URL."""

    code = "chain_unavailable"


class NodeStartError(UnavailableError):
    """The local Anvil node could not be started."""

    code = "node_start_failed"


class DeploymentError(ConflictError):
    """A deployment manifest does not match the chain it is used with."""

    code = "deployment_mismatch"


class TransactionError(TraceChainError):
    """A transaction failed without a decodable reason."""

    code = "transaction_failed"


class TransactionPendingError(UnavailableError):
    """A transaction was sent but not mined in time; it may still be mined (look it up before resending)."""

    code = "transaction_pending"

    def __init__(self, message: str, tx_hash: str = "", *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.tx_hash = tx_hash


class InsufficientFundsError(InvalidInputError):
    """The account cannot pay for the gas of what it would send (or, on the embedded chain, of a
    simulation from it)."""

    code = "insufficient_funds"


class SignatureError(PermissionDeniedError):
    """A signature or signed request is invalid, expired or already used."""

    code = "invalid_signature"


# ---------------------------------------------------------------- store
class StoreChainMismatchError(ConflictError):
    """The store was built against another chain; it must not be mixed with this one."""

    code = "store_chain_mismatch"


# ---------------------------------------------------------------- contract reverts
def _snake(name: str) -> str:
    """CamelCase to snake_case, keeping acronyms whole: ERC721InsufficientApproval -> erc721_insufficient_approval."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


class ContractRevertError(TraceChainError):
    """A contract call reverted with a custom error; `error_args` holds its decoded arguments."""

    def __init__(self, error_args: dict[str, Any] | None = None, *, error_name: str | None = None) -> None:
        self.error_name = error_name or type(self).__name__
        self.error_args = error_args or {}
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.error_args.items())
        doc = (type(self).__doc__ or "").strip()
        super().__init__(f"{self.error_name}({shown}): {doc}" if doc else f"{self.error_name}({shown})")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = _snake(cls.__name__)


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


class UnknownContractError(ContractRevertError, TransactionError):
    """A contract reverted with data TraceChain cannot decode."""


class TraceChainZeroAddress(ContractRevertError, InvalidInputError):
    """A required address was the zero address."""


class TraceChainZeroHash(ContractRevertError, InvalidInputError):
    """A required hash was zero."""


# OpenZeppelin errors that reach users.
class AccessControlUnauthorizedAccount(ContractRevertError, PermissionDeniedError):
    """The account lacks the role this action needs."""


class AccessControlBadConfirmation(ContractRevertError, InvalidInputError):
    """renounceRole must be called by the account itself."""


class ERC2771ForwarderInvalidSigner(ContractRevertError, SignatureError):
    """The forward request's signature is not the sender's (or its nonce was already used)."""


class ERC2771ForwarderExpiredRequest(ContractRevertError, SignatureError):
    """The forward request's deadline has passed."""


class ERC2771ForwarderMismatchedValue(ContractRevertError, InvalidInputError):
    """The value sent does not match the forward request."""


class ERC2771UntrustfulTarget(ContractRevertError, InvalidInputError):
    """The target contract does not trust this forwarder."""


class ERC2771ForwarderNoRefundReceiver(ContractRevertError, InvalidInputError):
    """A batch of forward requests has no refund receiver."""


class InvalidShortString(ContractRevertError, InvalidInputError):
    """A short string is malformed."""


class StringTooLong(ContractRevertError, InvalidInputError):
    """A string is too long to be a short string."""


class InvalidAccountNonce(ContractRevertError, SignatureError):
    """The nonce was already used."""


class FailedCall(ContractRevertError, TransactionError):
    """A low-level call failed."""


class ECDSAInvalidSignature(ContractRevertError, SignatureError):
    """The signature is not a valid ECDSA signature."""


class ECDSAInvalidSignatureLength(ContractRevertError, SignatureError):
    """The signature has the wrong length."""


class ECDSAInvalidSignatureS(ContractRevertError, SignatureError):
    """The signature's s value is out of range."""


class InsufficientBalance(ContractRevertError, InvalidInputError):
    """The account's balance is too low."""


class AddressEmptyCode(ContractRevertError, InvalidInputError):
    """The target address has no code."""


# ActorRegistry
class ActorRegistryActorExists(ContractRevertError, ConflictError):
    """The account is already a registered actor."""


class ActorRegistryUnknownActor(ContractRevertError, PermissionDeniedError):
    """The account is not a registered actor."""


class ActorRegistryActorSuspended(ContractRevertError, PermissionDeniedError):
    """The actor is suspended and may not act."""


class ActorRegistryActorNotSuspended(ContractRevertError, ConflictError):
    """The actor is not suspended."""


class ActorRegistryMissingRole(ContractRevertError, PermissionDeniedError):
    """The actor does not hold the role this action needs."""


class ActorRegistryEmptyName(ContractRevertError, InvalidInputError):
    """An actor's display name must not be empty."""


class ActorRegistryGovernanceLockout(ContractRevertError, ConflictError):
    """A governor may not suspend itself or give up its own governance role."""


class ActorRegistryNotSelfOrGovernance(ContractRevertError, PermissionDeniedError):
    """Only the actor itself or governance may update an actor's profile."""


# Notary
class NotaryRecordExists(ContractRevertError, ConflictError):
    """This notarization (same record hash, kind and notary, or same parties) already exists (see
    blockNumber and timestamp for when)."""


class NotaryBatchExists(ContractRevertError, ConflictError):
    """This notary already anchored a batch with this Merkle root (see blockNumber and timestamp for when)."""


class NotaryEmptyKind(ContractRevertError, InvalidInputError):
    """A record kind must not be empty."""


class NotaryEmptyBatch(ContractRevertError, InvalidInputError):
    """A batch must hold at least one record."""


class NotaryPartyCount(ContractRevertError, InvalidInputError):
    """A co-signed record needs between one and `max` parties."""


class NotaryDuplicateParty(ContractRevertError, InvalidInputError):
    """A party is named more than once."""


class NotarySignatureCount(ContractRevertError, SignatureError):
    """Every named party must give exactly one signature, in the order of the parties."""


class NotaryInvalidSignature(ContractRevertError, SignatureError):
    """The signature is not the named party's co-signature of this record."""


class NotarySignaturesExpired(ContractRevertError, SignatureError):
    """The co-signatures' deadline has passed."""


# DataRightsRegistry
class DataRightsRegistryDatasetExists(ContractRevertError, ConflictError):
    """The dataset is already registered."""


class DataRightsRegistryUnknownDataset(ContractRevertError, NotFoundError):
    """No dataset is registered under this id."""


class DataRightsRegistryNotHolder(ContractRevertError, PermissionDeniedError):
    """Only the holder of the dataset may do this."""


class DataRightsRegistryRightNotGrantable(ContractRevertError, InvalidInputError):
    """The holding right is not granted by certificate; it moves by transfer."""


class DataRightsRegistrySelfGrant(ContractRevertError, InvalidInputError):
    """The holder cannot grant a certificate to itself."""


class DataRightsRegistryInvalidWindow(ContractRevertError, InvalidInputError):
    """The validity window is empty or already over: expiry must be after the start and the block time."""


class DataRightsRegistryOpenCertificate(ContractRevertError, ConflictError):
    """The grantee already has an open certificate for this right; revoke it or let it expire first."""


class DataRightsRegistryUnknownCertificate(ContractRevertError, NotFoundError):
    """No certificate has this id."""


class DataRightsRegistryNotRevoker(ContractRevertError, PermissionDeniedError):
    """Only the holder, governance or the grantee itself may revoke a certificate."""


class DataRightsRegistryNotGrantee(ContractRevertError, PermissionDeniedError):
    """Only the certificate's grantee may use it."""


class DataRightsRegistryWrongRight(ContractRevertError, PermissionDeniedError):
    """The certificate grants another right than the one exercised."""


class DataRightsRegistryCertificateRevoked(ContractRevertError, PermissionDeniedError):
    """The certificate has been revoked."""


class DataRightsRegistryCertificateExpired(ContractRevertError, PermissionDeniedError):
    """The certificate has expired."""


class DataRightsRegistryCertificateNotYetValid(ContractRevertError, PermissionDeniedError):
    """The certificate is not valid yet (before its not-before time)."""


# OpenZeppelin ERC-721 (the DataRightsRegistry holding-right token)
class ERC721IncorrectOwner(ContractRevertError, PermissionDeniedError):
    """The token is not owned by the given sender."""


class ERC721InsufficientApproval(ContractRevertError, PermissionDeniedError):
    """The operator is neither the token's owner nor approved for it."""


class ERC721InvalidApprover(ContractRevertError, PermissionDeniedError):
    """The approver may not approve this token."""


class ERC721InvalidOperator(ContractRevertError, InvalidInputError):
    """The operator address is invalid."""


class ERC721InvalidOwner(ContractRevertError, InvalidInputError):
    """The owner address is invalid (zero)."""


class ERC721InvalidReceiver(ContractRevertError, InvalidInputError):
    """The receiver cannot take the token (zero address, or a contract that does not accept ERC-721)."""


class ERC721InvalidSender(ContractRevertError, InvalidInputError):
    """The sender address is invalid."""


class ERC721NonexistentToken(ContractRevertError, NotFoundError):
    """No token has this id (no dataset is registered under it)."""


# ProvenanceRegistry
class ProvenanceRegistryEmptyIdentifier(ContractRevertError, InvalidInputError):
    """The subject identifier to create was empty."""


class ProvenanceRegistrySubjectExists(ContractRevertError, ConflictError):
    """A subject with this key already exists."""


class ProvenanceRegistryUnknownSubject(ContractRevertError, NotFoundError):
    """No subject (product, lot, pallet, ...) has this key."""


class ProvenanceRegistryNotCustodian(ContractRevertError, PermissionDeniedError):
    """Only the subject's current custodian may do this."""


class ProvenanceRegistryUnknownBizStep(ContractRevertError, InvalidInputError):
    """The business-step code is not one the contract knows."""


class ProvenanceRegistryInvalidKind(ContractRevertError, InvalidInputError):
    """The entry kind is not one this write accepts."""


class ProvenanceRegistrySubjectRecalled(ContractRevertError, ConflictError):
    """The subject is recalled: it cannot be recalled again or sold at retail."""


class ProvenanceRegistryOpenSubject(ContractRevertError, ConflictError):
    """The subject is open (class-level, e.g. a lot): it has no custodian to hand over."""


class ProvenanceRegistryNotSupplyChainActor(ContractRevertError, PermissionDeniedError):
    """The account is not an active manufacturer, logistics or retail actor."""


class ProvenanceRegistryAlreadyCustodian(ContractRevertError, ConflictError):
    """The account already is the subject's custodian."""


class ProvenanceRegistryNotRecaller(ContractRevertError, PermissionDeniedError):
    """Only the subject's originator (an active manufacturer) or governance may recall it."""


class ProvenanceRegistryEmptyBatch(ContractRevertError, InvalidInputError):
    """A write must hold at least one item, and an event at least one subject."""


# CaseRegistry
class CaseRegistryTemplateExists(ContractRevertError, ConflictError):
    """A template with this hash is already registered."""


class CaseRegistryUnknownTemplate(ContractRevertError, NotFoundError):
    """No process template is registered under this hash (governance registers templates)."""


class CaseRegistryInvalidRules(ContractRevertError, InvalidInputError):
    """The template's step rules are invalid: every kind needs a signer and only defined bits."""


class CaseRegistryKindNames(ContractRevertError, InvalidInputError):
    """The template names a different number of step kinds than its rules define."""


class CaseRegistryNotSupplyChainActor(ContractRevertError, PermissionDeniedError):
    """Only an active manufacturer, logistics or retail actor may open a case as its buyer."""


class CaseRegistryEmptyBizTransaction(ContractRevertError, InvalidInputError):
    """A case needs a business transaction identifier (the purchase order URI)."""


class CaseRegistryCaseExists(ContractRevertError, ConflictError):
    """This buyer already opened a case for this business transaction."""


class CaseRegistryUnknownCase(ContractRevertError, NotFoundError):
    """No case has this id."""


class CaseRegistryStateMismatch(ContractRevertError, ConflictError):
    """The case state sent with the step is stale (another step landed first) or forged."""


class CaseRegistryUnknownKind(ContractRevertError, InvalidInputError):
    """The step kind is not part of the case's template."""


class CaseRegistryInvalidAmendment(ContractRevertError, InvalidInputError):
    """An amendment must name an earlier step of the case."""


class CaseRegistryInvalidParty(ContractRevertError, InvalidInputError):
    """Only a step that names the supplier (an award) carries a party, and it must."""


class CaseRegistryInvalidSupplier(ContractRevertError, PermissionDeniedError):
    """The supplier must be an active supply-chain actor other than the buyer."""


class CaseRegistryNoSupplier(ContractRevertError, ConflictError):
    """The step needs the supplier's signature, but the case names no supplier yet (award first)."""


class CaseRegistrySignerCount(ContractRevertError, SignatureError):
    """The step needs one signer and one signature for each party its rule names."""


class CaseRegistryWrongSigner(ContractRevertError, PermissionDeniedError):
    """A signer is not the case's party in the role the step's rule requires."""


class CaseRegistryInspectorNotIndependent(ContractRevertError, PermissionDeniedError):
    """The inspector must be neither the case's buyer nor its supplier."""


class CaseRegistryInvalidSignature(ContractRevertError, SignatureError):
    """A signature is not the named signer's EIP-712 signature of this step."""


class CaseRegistrySignaturesExpired(ContractRevertError, SignatureError):
    """The step's signatures expired (their deadline passed)."""


# Product provenance (domain)
class ProductNotFoundError(NotFoundError):
    """No product with this ID is registered."""

    code = "product_not_found"


class RequestGasError(InvalidInputError):
    """A signed request's gas is too little for its call, or more than one transaction may use."""

    code = "request_gas_invalid"


class RequestMismatchError(InvalidInputError):
    """A signed request does not match the documents or the route it was sent with."""

    code = "request_mismatch"


class EventAlreadyRecordedError(ConflictError):
    """This EPCIS event (same Event Hash ID) is already recorded."""

    code = "event_already_recorded"


class EventBeingRecordedError(ConflictError):
    """Another request is recording this EPCIS event right now."""

    code = "event_being_recorded"


# EPCIS documents (domain)
class EpcisDocumentError(InvalidInputError):
    """An EPCIS document or event breaks EPCIS 2.0; `pointer` (RFC 6901) locates the offending value and
    `event_index` the event in the document's eventList, when there is one."""

    code = "epcis_invalid"

    def __init__(self, detail: str, *, pointer: str = "", event_index: int | None = None, hint: str | None = None):
        self.detail = detail
        self.pointer = pointer
        self.event_index = event_index
        super().__init__(f"{pointer or '/'}: {detail}", hint=hint)


class EpcisSchemaError(EpcisDocumentError):
    """An EPCIS document does not conform to GS1's EPCIS 2.0 JSON schema."""

    code = "epcis_schema_violation"


# Notarization: receipts (domain)
class InvalidReceiptError(InvalidInputError):
    """The receipt is not a well-formed TraceChain notary receipt."""

    code = "invalid_receipt"


class ReceiptMismatchError(IntegrityError):
    """The chain (or the record file) does not confirm what the receipt claims."""

    code = "receipt_mismatch"


# Data rights (domain)
class DatasetNotFoundError(NotFoundError):
    """No dataset is registered under this id."""

    code = "dataset_not_found"


class CertificateNotFoundError(NotFoundError):
    """No certificate has this id."""

    code = "certificate_not_found"


# Notarization (domain)
class RecordHashMismatchError(InvalidInputError):
    """The record given does not hash to the record hash given with it."""

    code = "record_hash_mismatch"


class NotarizationNotFoundError(NotFoundError):
    """No notarization of this record hash is known to the chain or the batch queue."""

    code = "notarization_not_found"


class ReceiptNotReadyError(NotFoundError):
    """The record is queued for a batch the chain does not hold (not anchored yet, or its anchor
    was rolled back), so it has no receipt yet."""

    code = "receipt_not_ready"


class QueueSignatureError(SignatureError):
    """The submitter's signature over a record queued for batching is missing, expired or wrong."""

    code = "invalid_queue_signature"


class BatchFlushConflictError(ConflictError):
    """Another process changed the batch queue at the same moment; try again."""

    code = "batch_flush_conflict"


class TooManyRecordsError(InvalidInputError):
    """A bulk request holds more records than one request may (TRACECHAIN_BULK_MAX_RECORDS)."""

    code = "too_many_records"


class DuplicateRecordError(InvalidInputError):
    """A bulk request names the same record and kind twice; `first_index` is the earlier one."""

    code = "duplicate_record"

    def __init__(self, first_index: int, *, hint: str | None = None) -> None:
        self.first_index = first_index
        super().__init__(f"the same record and kind as records[{first_index}]", hint=hint)


class RecordRefusedError(InvalidInputError):
    """One record of a bulk request was refused, so nothing of the request was kept. `index` is its
    position in the request and `cause` the reason, whose code and category are what a caller is
    told (a bad signature stays a bad signature, whichever record carried it)."""

    code = "record_refused"

    def __init__(
        self, message: str, *, index: int | None = None, cause: TraceChainError | None = None, hint: str | None = None
    ) -> None:
        self.index = index
        self.cause = cause
        super().__init__(message, hint=hint)

    @classmethod
    def at(cls, index: int, cause: TraceChainError) -> RecordRefusedError:
        """Record `index` of the request, refused for `cause`."""
        return cls(f"records[{index}]: {cause.message}", index=index, cause=cause, hint=cause.hint)


# Actors (domain)
class ActorNotFoundError(NotFoundError):
    """No registered actor has this address."""

    code = "actor_not_found"


# Master data (domain)
class MasterDataNotFoundError(NotFoundError):
    """Nobody provided master data for this product class or location."""

    code = "masterdata_not_found"


class MasterDataSignatureError(SignatureError):
    """The provider's signature over a master data document is missing, expired or wrong."""

    code = "invalid_masterdata_signature"


class DocumentNotFoundError(NotFoundError):
    """The store holds no document under this hash."""

    code = "document_not_found"


# EPCIS 2.0 REST bindings (domain): queries and capture jobs
class EpcisQueryParameterError(InvalidInputError):
    """An EPCIS query parameter is unknown, malformed, or contradicts another (EPCIS QueryParameterException)."""

    code = "epcis_query_parameter_invalid"


class EpcisQueryTooLargeError(InvalidInputError):
    """The query matches more events than its maxEventCount allows (EPCIS QueryTooLargeException)."""

    code = "epcis_query_too_large"


class EpcisNotImplementedError(InvalidInputError):
    """A standard EPCIS query parameter or capture option this repository does not support."""

    code = "epcis_not_implemented"


class CaptureLimitExceededError(InvalidInputError):
    """The captured document holds more events, or more bytes, than one capture takes."""

    code = "epcis_capture_limit_exceeded"


class NotAcceptableError(InvalidInputError):
    """The client accepts no representation (media type, EPCIS or CBV version) this server gives."""

    code = "not_acceptable"


class UnsupportedMediaTypeError(InvalidInputError):
    """The request body's media type is not one this endpoint reads."""

    code = "unsupported_media_type"


class SignerMissingError(SignatureError):
    """A write names no signer and carries no signed request: the server holds no actor's key."""

    code = "signer_missing"


class CaptureJobNotFoundError(NotFoundError):
    """No capture job has this ID."""

    code = "capture_job_not_found"


class CaptureJobStateError(ConflictError):
    """The capture job is not in a state that takes this request (e.g. it is signed already)."""

    code = "capture_job_state"


class EpcisEventNotFoundError(NotFoundError):
    """No recorded EPCIS event has this Event Hash ID or eventID."""

    code = "epcis_event_not_found"


# Procurement cases (domain)
class CaseNotFoundError(NotFoundError):
    """No procurement case has this id."""

    code = "case_not_found"


class CaseTemplateError(InvalidInputError):
    """The process template is not a valid TraceChain case template."""

    code = "invalid_case_template"


class CaseTemplateNotFoundError(NotFoundError):
    """The case's template document is not known to this server (neither built in nor stored)."""

    code = "case_template_not_found"


class StepDocumentError(InvalidInputError):
    """The step's document does not fit its kind (schema, case, kind, or an EPCIS event that does not
    name the purchase order)."""

    code = "invalid_step_document"


class StepSignatureError(SignatureError):
    """A step signature is missing, or not the signature of the party it is given for."""

    code = "invalid_step_signature"
