"""Case writes: register a template (governance), open a case (the buyer, signing; relayed), and append
steps signed by the parties their kind requires (anyone submits; here the operator pays). Every write
is checked against the chain before anything is stored, so a refused step leaves nothing behind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from web3.contract.contract import ContractFunction

from tracechain import errors
from tracechain.chain.cases import (
    CONTRACT,
    ZERO32,
    ZERO_ADDRESS,
    CaseRegistryClient,
    CaseState,
    Step,
    case_id_of,
    recover_step_signer,
    step_typed_data,
)
from tracechain.chain.transact import ForwardRequest, Transactor, TxResult, decode_request
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.services.cases.documents import check_epcis_event, is_uri, require_document
from tracechain.services.cases.facts import refresh_facts, template_of
from tracechain.services.cases.templates import CaseTemplate, StepKind, default_template
from tracechain.services.runtime import Runtime
from tracechain.store import cases as index
from tracechain.store import provenance as provenance_index
from tracechain.types import to_address

DEFAULT_SIGNATURE_TTL = 3600


@dataclass(frozen=True)
class CaseOpening:
    """A case that was opened."""

    case_id: str
    biz_transaction: str
    buyer: str
    template_hash: str
    metadata_hash: str
    tx: TxResult


@dataclass(frozen=True)
class PreparedStep:
    """A step ready to sign: what each signer signs (`typed_data`) and what the contract will get."""

    case_id: str
    biz_transaction: str
    index: int
    kind: StepKind
    step: Step
    signers: tuple[str, ...]  # in rule order
    roles: tuple[str, ...]  # the role each signer signs in
    deadline: int
    state: CaseState
    typed_data: dict[str, Any]
    document: dict[str, Any] | None  # None when an EPCIS event (already stored) stands for the step
    event_hash_id: str | None = None


@dataclass(frozen=True)
class StepWrite:
    """A step that landed."""

    case_id: str
    index: int
    kind: str
    document_hash: str
    tx: TxResult


class CaseService:
    """Case writes over one Runtime. `transactor` decides how the buyer's own writes (opening) are sent:
    the runtime's relaying transactor (the buyer signs, the operator pays; the default) or its plain one."""

    def __init__(self, runtime: Runtime, transactor: Transactor | None = None) -> None:
        self.runtime = runtime
        self.store = runtime.store
        contract = runtime.contract(CONTRACT)
        self.client = CaseRegistryClient(contract, transactor or runtime.relaying)
        self.submitter = CaseRegistryClient(contract, runtime.transactor)  # the operator sends signed steps

    # ---------------------------------------------------------------- templates
    def register_template(self, governance: LocalAccount, template: CaseTemplate | None = None) -> TxResult | None:
        """Register `template` (default: the built-in procurement template) on-chain and keep its
        document; None when it is registered already.

        Raises:
            ActorRegistryMissingRole: `governance` is not an active governor.
        """
        template = template or default_template()
        if self.client.template_rules(template.hash_bytes) != ZERO32:
            self.store.put_document(template.document)
            return None
        call = self.client.register_template_call(template.hash_bytes, template.rules, template.kind_names)

        def keep() -> None:
            self.store.put_document(template.document)

        return self.client.tx.send(governance, call, before_send=keep)

    def template(self, template_hash: str | None = None) -> CaseTemplate:
        """A template by hash (built in, or stored when registered); the default without a hash.

        Raises:
            CaseTemplateNotFoundError: the template's document is unknown here.
        """
        if template_hash is None:
            return default_template()
        return template_of(self.store, template_hash)

    # ---------------------------------------------------------------- opening
    def open(
        self,
        buyer: LocalAccount,
        biz_transaction: str,
        *,
        template: CaseTemplate | None = None,
        metadata: dict[str, Any] | None = None,
        supplier: str | None = None,
    ) -> CaseOpening:
        """Open a case for the purchase order `biz_transaction` as `buyer`.

        Raises:
            InvalidInputError: not a URI, or metadata that is not a JSON object.
            CaseRegistryCaseExists, CaseRegistryUnknownTemplate, CaseRegistryNotSupplyChainActor: refused.
        """
        template = template or default_template()
        call, metadata_hash = self._open_call(biz_transaction, template, metadata, supplier)
        tx = self.client.tx.send(buyer, call, before_send=lambda: self._keep(template, metadata))
        return self._opened(tx, biz_transaction, buyer.address, template, metadata_hash)

    def open_call(
        self,
        biz_transaction: str,
        template_hash: str | None = None,
        metadata: dict[str, Any] | None = None,
        supplier: str | None = None,
    ) -> ContractFunction:
        """The `openCase` call a buyer signs (as an ERC-2771 request) to open this case."""
        return self._open_call(biz_transaction, self.template(template_hash), metadata, supplier)[0]

    def open_request(
        self,
        buyer: str,
        biz_transaction: str,
        template_hash: str | None = None,
        metadata: dict[str, Any] | None = None,
        supplier: str | None = None,
        ttl: int = 3600,
    ) -> ForwardRequest:
        """The unsigned ERC-2771 request `buyer` signs to open this case, checked against the chain first.

        Raises:
            ActorRegistryUnknownActor: `buyer` is not a registered actor.
            ContractRevertError: the contract would refuse the opening (role, template, case exists, ...).
        """
        account = to_address(buyer)
        if self.runtime.actors.get_actor(account) is None:  # said plainly, before any simulation from it
            raise errors.ActorRegistryUnknownActor({"account": account})
        call = self.open_call(biz_transaction, template_hash, metadata, supplier)
        return self.runtime.transactor.build_request(account, call, ttl=ttl)

    def relay_open(
        self,
        request: ForwardRequest,
        biz_transaction: str,
        template_hash: str | None = None,
        metadata: dict[str, Any] | None = None,
        supplier: str | None = None,
    ) -> CaseOpening:
        """Relay a buyer's signed `openCase` request after checking it opens exactly this case.

        Raises:
            SignatureError: bad signature, used nonce or expired request.
            RequestMismatchError: the request opens another case, template, supplier or metadata.
        """
        transactor = self.runtime.transactor
        transactor.check_signature(request)
        template = self.template(template_hash)
        expected, metadata_hash = self._open_call(biz_transaction, template, metadata, supplier)
        _, args = decode_request(self.client.contract, request, ("openCase",))
        signed = (args["bizTransaction"], bytes(args["templateHash"]), to_address(args["supplier"]),
                  bytes(args["metadataHash"]))  # fmt: skip
        wanted = (biz_transaction, template.hash_bytes, to_address(supplier or ZERO_ADDRESS), metadata_hash)
        if signed != wanted:
            raise errors.RequestMismatchError(
                "the signed request opens another case (order, template, supplier or metadata) than the one sent",
                hint="sign openCase(bizTransaction, templateHash, supplier, documentHash(metadata))",
            )
        tx = transactor.relay(request, self.runtime.operator, before_send=lambda: self._keep(template, metadata))
        return self._opened(tx, biz_transaction, request.sender, template, metadata_hash)

    def _open_call(
        self, biz_transaction: str, template: CaseTemplate, metadata: dict[str, Any] | None, supplier: str | None
    ) -> tuple[ContractFunction, bytes]:
        if not is_uri(biz_transaction):
            raise errors.InvalidInputError(
                f"the business transaction must be a URI, got {biz_transaction!r}",
                hint="e.g. urn:epcglobal:cbv:bt:{GLN}:{PO number}",
            )
        if metadata is not None and (not isinstance(metadata, dict) or not metadata):
            raise errors.InvalidInputError("the case's opening document must be a non-empty JSON object")
        metadata_hash = document_hash(metadata) if metadata is not None else ZERO32
        call = self.client.open_call(biz_transaction, template.hash_bytes, supplier or ZERO_ADDRESS, metadata_hash)
        return call, metadata_hash

    def _keep(self, template: CaseTemplate, metadata: dict[str, Any] | None) -> None:
        """Store what an opening commits to, once every check passed (a refused opening keeps nothing)."""
        self.store.put_document(template.document)
        if metadata is not None:
            self.store.put_document(metadata)

    @staticmethod
    def _opened(
        tx: TxResult, biz_transaction: str, buyer: str, template: CaseTemplate, metadata_hash: bytes
    ) -> CaseOpening:
        return CaseOpening(
            case_id=to_hex(case_id_of(biz_transaction, buyer)),
            biz_transaction=biz_transaction,
            buyer=to_address(buyer),
            template_hash=template.hash,
            metadata_hash=to_hex(metadata_hash),
            tx=tx,
        )

    # ---------------------------------------------------------------- steps
    def prepare_step(
        self,
        case_id: str,
        kind: str,
        *,
        document: dict[str, Any] | None = None,
        event: str | None = None,
        amends: int = 0,
        supplier: str | None = None,
        inspector: str | None = None,
        deadline: int | None = None,
        ttl: int = DEFAULT_SIGNATURE_TTL,
    ) -> PreparedStep:
        """What the parties sign to append a `kind` step: its document (or the EPCIS event, by Event Hash
        ID or its digest, that names the order and stands for the step), its index and its signers.

        Raises:
            CaseNotFoundError: no such case.
            StepDocumentError: the document or event does not fit the step.
            InvalidInputError: missing supplier or inspector, or an amendment of a later step.
        """
        case = self._case(case_id)
        template = template_of(self.store, case.template_hash)
        step_kind = template.step(kind)
        if (document is None) == (event is None):
            raise errors.InvalidInputError("give the step's document or the EPCIS event that stands for it")
        event_hash_id = None
        if document is not None:
            require_document(template, step_kind, document, case.biz_transaction)
            doc_hash, ref = document_hash(document), ZERO32
        else:
            assert event is not None
            doc_hash, ref, event_hash_id = self._event(step_kind, event, case.biz_transaction)
        state = case.state()
        if not 0 <= amends <= state.steps:
            raise errors.InvalidInputError(f"amends must name an earlier step (1..{state.steps}) or be 0")
        party = ZERO_ADDRESS
        if step_kind.names_supplier:
            if supplier is None:
                raise errors.InvalidInputError(f"a {step_kind.kind} step names the supplier: give its address")
            party = to_address(supplier)
        named_supplier = party if step_kind.names_supplier else state.supplier
        signers = []
        for role in step_kind.signers:
            if role == "buyer":
                signers.append(state.buyer)
            elif role == "supplier":
                if named_supplier == ZERO_ADDRESS:
                    raise errors.InvalidInputError(f"the case has no supplier yet: a {step_kind.kind} needs one")
                signers.append(named_supplier)
            else:
                if inspector is None:
                    raise errors.InvalidInputError(f"a {step_kind.kind} step is signed by an inspector: give one")
                signers.append(to_address(inspector))
        step = Step(step_kind.code, doc_hash, amends, ref, party)
        if deadline is None:
            deadline = int(self.runtime.chain.w3.eth.get_block("latest")["timestamp"]) + ttl
        index_ = state.steps + 1
        typed = step_typed_data(
            self.runtime.chain.chain_id, self.client.address, parse_bytes32(case.case_id), index_, step, signers,
            deadline,
        )  # fmt: skip
        return PreparedStep(
            case_id=case.case_id,
            biz_transaction=case.biz_transaction,
            index=index_,
            kind=step_kind,
            step=step,
            signers=tuple(signers),
            roles=step_kind.signers,
            deadline=deadline,
            state=state,
            typed_data=typed,
            document=document,
            event_hash_id=event_hash_id,
        )

    def submit_step(self, prepared: PreparedStep, signatures: Sequence[str] | Mapping[str, str]) -> StepWrite:
        """Check every signature, have the contract check the whole step, send it (the operator pays) and
        only then keep its document: a refused step stores nothing.

        Raises:
            StepSignatureError: a signature is missing or not its signer's.
            ConflictError: the case moved on since the step was prepared (sign again).
            ContractRevertError: the contract refused (wrong role, suspended party, expired, ...).
        """
        sigs = self._ordered(prepared, signatures)
        chain_id, contract = self.runtime.chain.chain_id, self.client.address
        for role, signer, signature in zip(prepared.roles, prepared.signers, sigs, strict=True):
            try:
                recovered = recover_step_signer(
                    signature,
                    chain_id,
                    contract,
                    parse_bytes32(prepared.case_id),
                    prepared.index,
                    prepared.step,
                    prepared.signers,
                    prepared.deadline,
                )
            except Exception:  # malformed signature bytes  # noqa: BLE001
                recovered = ""
            if recovered != signer:
                raise errors.StepSignatureError(
                    f"the {role}'s signature is not {signer}'s signature of step {prepared.index} as prepared",
                    hint="sign the typed data of the prepared step (same index, deadline and signers)",
                )
        call = self.submitter.append_call(
            parse_bytes32(prepared.case_id), prepared.state, prepared.step, prepared.signers, prepared.deadline, sigs
        )
        document = prepared.document

        def keep() -> None:  # after every check passed, before the transaction is sent
            if document is not None:
                self.store.put_document(document)

        tx = self.submitter.tx.send(self.runtime.operator, call, before_send=keep)
        try:  # the step landed; facts are a convenience the next read rebuilds if this fails
            self.runtime.sync()
            with self.store.session() as s:
                refresh_facts(s, self.store, prepared.case_id)
        except DatabaseIntegrityError:
            pass  # another process indexed or refreshed the same rows at the same moment
        return StepWrite(prepared.case_id, prepared.index, prepared.kind.kind, to_hex(prepared.step.document_hash), tx)

    def step(
        self,
        case_id: str,
        kind: str,
        signers: Sequence[LocalAccount],
        *,
        document: dict[str, Any] | None = None,
        event: str | None = None,
        amends: int = 0,
        supplier: str | None = None,
    ) -> StepWrite:
        """Prepare, sign with `signers` (each signer's key at hand: tests, the demo, the CLI) and submit.
        The inspector, when the step needs one, is the signer who is neither buyer nor supplier."""
        case = self._case(case_id)
        named = to_address(supplier) if supplier else case.supplier
        inspector = next((a.address for a in signers if a.address not in (case.buyer, named)), None)
        prepared = self.prepare_step(
            case_id, kind, document=document, event=event, amends=amends, supplier=supplier, inspector=inspector
        )
        keys: dict[str, LocalAccount] = {str(a.address): a for a in signers}
        missing = [s for s in prepared.signers if s not in keys]
        if missing:
            raise errors.StepSignatureError(f"no key at hand for signer(s) {', '.join(missing)} of the {kind}")
        sigs = [self.client.sign(keys[s], parse_bytes32(prepared.case_id), prepared.index, prepared.step,
                                 prepared.signers, prepared.deadline) for s in prepared.signers]  # fmt: skip
        return self.submit_step(prepared, sigs)

    # ---------------------------------------------------------------- internals
    def _case(self, case_id: str) -> index.CaseRow:
        key = to_hex(parse_bytes32(case_id))
        self.runtime.sync()
        with self.store.session() as s:
            case = s.get(index.CaseRow, key)
            if case is None:
                raise errors.CaseNotFoundError(f"no case {key} is open")
            s.expunge(case)
        return case

    def _event(self, kind: StepKind, event: str, biz_transaction: str) -> tuple[bytes, bytes, str]:
        """(document hash, event id, Event Hash ID) of a recorded EPCIS event that may stand for the step."""
        digest = _event_digest(event)
        with self.store.session() as s:
            facts = s.query(provenance_index.EventFactsRow).filter_by(event_id=to_hex(digest)).first()
            recorded = provenance_index.recorded_events(s, [to_hex(digest)])
        if facts is None or not recorded:
            raise errors.StepDocumentError(
                f"EPCIS event {event} is not recorded in this deployment's provenance",
                hint="capture it first (POST /v1/epcis/capture or tracechain product event)",
            )
        doc = self.store.get_document(facts.document_hash)
        if doc is None or to_hex(document_hash(doc)) != facts.document_hash:
            raise errors.StepDocumentError(f"the document of EPCIS event {event} is missing or altered in the store")
        problems = check_epcis_event(kind, doc, biz_transaction)
        if problems:
            reasons = "; ".join(problems)
            raise errors.StepDocumentError(f"EPCIS event {event} cannot stand for the {kind.kind}: {reasons}")
        hash_id = f"ni:///sha-256;{digest.hex()}?ver=CBV2.0"
        return parse_bytes32(facts.document_hash), digest, hash_id

    @staticmethod
    def _ordered(prepared: PreparedStep, signatures: Sequence[str] | Mapping[str, str]) -> list[str]:
        if isinstance(signatures, Mapping):
            by_signer = {to_address(k): v for k, v in signatures.items()}
            missing = [s for s in prepared.signers if s not in by_signer]
            if missing:
                raise errors.StepSignatureError(f"missing the signature of {', '.join(missing)}")
            return [by_signer[s] for s in prepared.signers]
        if len(signatures) != len(prepared.signers):
            raise errors.StepSignatureError(
                f"a {prepared.kind.kind} needs {len(prepared.signers)} signature(s) "
                f"({', '.join(prepared.roles)}), got {len(signatures)}"
            )
        return list(signatures)


def _event_digest(event: str) -> bytes:
    """The 32-byte id of an EPCIS event given as its Event Hash ID or as the 0x-hex digest."""
    if event.startswith("ni:///sha-256;"):
        body = event.removeprefix("ni:///sha-256;").split("?", 1)[0]
        try:
            return parse_bytes32("0x" + body)
        except errors.InvalidInputError:
            pass
    try:
        return parse_bytes32(event)
    except errors.InvalidInputError:
        raise errors.InvalidInputError(
            f"not an EPCIS Event Hash ID or event id: {event!r}", hint="ni:///sha-256;<64 hex>?ver=CBV2.0"
        ) from None
