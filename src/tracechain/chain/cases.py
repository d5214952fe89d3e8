"""Typed client of the CaseRegistry contract (procurement cases), its hash-chain and state math, the
EIP-712 `CaseStep` signature, and a verifier that rebuilds a case from the contract's logs alone."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import IntFlag
from functools import lru_cache
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier

from tracechain.chain.client import ContractClient
from tracechain.chain.transact import TxResult
from tracechain.errors import InvalidInputError
from tracechain.hashing import keccak_text, parse_bytes32, to_hex
from tracechain.types import to_address as _to_address

CONTRACT = "CaseRegistry"


@lru_cache(maxsize=4096)
def to_address(value: str) -> str:
    """`types.to_address`, memoised: folding a case checksums the same few parties again and again."""
    return _to_address(value)


DOMAIN_NAME = "TraceChainCases"
DOMAIN_VERSION = "1"
MAX_KINDS = 31
ZERO32 = bytes(32)
ZERO_ADDRESS = "0x" + "00" * 20
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")

CASE_STEP_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "CaseStep": [
        {"name": "caseId", "type": "bytes32"},
        {"name": "index", "type": "uint32"},
        {"name": "kind", "type": "uint8"},
        {"name": "amends", "type": "uint32"},
        {"name": "documentHash", "type": "bytes32"},
        {"name": "ref", "type": "bytes32"},
        {"name": "party", "type": "address"},
        {"name": "signers", "type": "address[]"},
        {"name": "deadline", "type": "uint256"},
    ],
}


class StepRule(IntFlag):
    """Bits of a step kind's rule byte (the contract's `StepRules`)."""

    BUYER = 1 << 0
    SUPPLIER = 1 << 1
    INSPECTOR = 1 << 2
    NAMES_SUPPLIER = 1 << 3
    CLOSES = 1 << 4

    @property
    def signer_roles(self) -> tuple[str, ...]:
        """The roles that sign a step with this rule, in signing order."""
        order = ((StepRule.BUYER, "buyer"), (StepRule.SUPPLIER, "supplier"), (StepRule.INSPECTOR, "inspector"))
        return tuple(name for bit, name in order if self & bit)


SIGNER_BITS = {"buyer": StepRule.BUYER, "supplier": StepRule.SUPPLIER, "inspector": StepRule.INSPECTOR}


# ---------------------------------------------------------------- kinds and rules
def encode_kind_name(name: str) -> bytes:
    """A step kind's name as the bytes32 its template registration logs (ASCII, left-aligned).

    Raises:
        InvalidInputError: not 1-32 characters of a-z, 0-9 and `_`, starting with a letter.
    """
    if not isinstance(name, str) or not _KIND.fullmatch(name):
        raise InvalidInputError(f"invalid step kind {name!r}", hint="1-32 of a-z 0-9 _, starting with a letter")
    return name.encode("ascii").ljust(32, b"\0")


def decode_kind_name(raw: bytes) -> str:
    """The name in a bytes32 kind (its hex when it is not an encoded name)."""
    text = bytes(raw).rstrip(b"\0")
    try:
        name = text.decode("ascii")
    except UnicodeDecodeError:
        return to_hex(raw)
    return name if _KIND.fullmatch(name) else to_hex(raw)


def pack_rules(rules: Mapping[int, int]) -> bytes:
    """The bytes32 rules word: rule byte `k` (from the least significant end) for kind code `k`.

    Raises:
        InvalidInputError: a code outside 1..31 or a rule outside one byte.
    """
    word = 0
    for code, rule in rules.items():
        if not 1 <= code <= MAX_KINDS or not 0 <= rule <= 0xFF:
            raise InvalidInputError(f"kind code {code} / rule {rule} out of range")
        word |= rule << (8 * code)
    return word.to_bytes(32, "big")


def rule_of(rules: bytes, code: int) -> StepRule:
    """The rule of kind `code` in a rules word (0 when the kind is not part of it)."""
    if not 1 <= code <= MAX_KINDS:
        return StepRule(0)
    return StepRule((int.from_bytes(rules, "big") >> (8 * code)) & 0xFF)


# ---------------------------------------------------------------- hashes
def biz_transaction_key(biz_transaction: str) -> bytes:
    """keccak256(utf8(bizTransaction))."""
    return keccak_text(biz_transaction)


def case_id_of(biz_transaction: str, buyer: str) -> bytes:
    """caseId = keccak256(abi.encode(keccak256(utf8(bizTransaction)), buyer))."""
    return keccak(abi_encode(["bytes32", "address"], [biz_transaction_key(biz_transaction), to_address(buyer)]))


def genesis_head(case_id: bytes, buyer: str, supplier: str, template_hash: bytes, metadata_hash: bytes) -> bytes:
    """head_0 = keccak256(abi.encode(caseId, buyer, supplier, templateHash, metadataHash))."""
    return keccak(
        abi_encode(
            ["bytes32", "address", "address", "bytes32", "bytes32"],
            [case_id, to_address(buyer), to_address(supplier), template_hash, metadata_hash],
        )
    )


def signers_hash(signers: Sequence[str]) -> bytes:
    """keccak256(abi.encodePacked(address[])): each address left-padded to 32 bytes."""
    return keccak(b"".join(bytes(12) + bytes.fromhex(to_address(s)[2:]) for s in signers))


@dataclass(frozen=True)
class Step:
    """One step as the contract takes it (`ICaseRegistry.Step`)."""

    kind: int
    document_hash: bytes
    amends: int = 0
    ref: bytes = ZERO32
    party: str = ZERO_ADDRESS

    def __post_init__(self) -> None:
        object.__setattr__(self, "document_hash", parse_bytes32(self.document_hash))
        object.__setattr__(self, "ref", parse_bytes32(self.ref))
        object.__setattr__(self, "party", to_address(self.party))
        if not isinstance(self.kind, int) or not 0 <= self.kind <= 255:
            raise InvalidInputError(f"a step kind code is 0..255, got {self.kind!r}")
        if not isinstance(self.amends, int) or not 0 <= self.amends < 2**32:
            raise InvalidInputError(f"amends must be a step index (0 for none), got {self.amends!r}")

    def as_tuple(self) -> tuple[int, int, bytes, bytes, str]:
        return (self.kind, self.amends, self.document_hash, self.ref, self.party)


def next_head(previous: bytes, index: int, step: Step, signers: Sequence[str], timestamp: int) -> bytes:
    """head_n = keccak256(abi.encode(head_{n-1}, uint32 n, uint8 kind, uint32 amends, documentHash, ref,
    address party, keccak256(abi.encodePacked(signers)), uint64 timestamp))."""
    return keccak(
        abi_encode(
            ["bytes32", "uint32", "uint8", "uint32", "bytes32", "bytes32", "address", "bytes32", "uint64"],
            [
                previous,
                index,
                step.kind,
                step.amends,
                step.document_hash,
                step.ref,
                step.party,
                signers_hash(signers),
                timestamp,
            ],
        )
    )


@dataclass(frozen=True)
class CaseState:
    """What a case's one storage slot commits to (`ICaseRegistry.CaseState`)."""

    head: bytes
    steps: int
    buyer: str
    supplier: str
    rules: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "head", parse_bytes32(self.head))
        object.__setattr__(self, "rules", parse_bytes32(self.rules))
        object.__setattr__(self, "buyer", to_address(self.buyer))
        object.__setattr__(self, "supplier", to_address(self.supplier))

    def as_tuple(self) -> tuple[bytes, int, str, str, bytes]:
        return (self.head, self.steps, self.buyer, self.supplier, self.rules)

    @property
    def hash(self) -> bytes:
        """keccak256(abi.encode(state)): the value of the case's slot."""
        return keccak(abi_encode(["bytes32", "uint32", "address", "address", "bytes32"], list(self.as_tuple())))

    def after(self, step: Step, signers: Sequence[str], timestamp: int) -> CaseState:
        """The state once `step` is appended at `timestamp` (the contract's own transition)."""
        supplier = step.party if rule_of(self.rules, step.kind) & StepRule.NAMES_SUPPLIER else self.supplier
        head = next_head(self.head, self.steps + 1, step, signers, timestamp)
        return replace(self, head=head, steps=self.steps + 1, supplier=supplier)


# ---------------------------------------------------------------- EIP-712
def step_typed_data(
    chain_id: int,
    contract: str,
    case_id: bytes,
    index: int,
    step: Step,
    signers: Sequence[str],
    deadline: int,
) -> dict[str, Any]:
    """The full EIP-712 message each signer of a step signs."""
    return {
        "types": CASE_STEP_TYPES,
        "primaryType": "CaseStep",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_address(contract),
        },
        "message": {
            "caseId": parse_bytes32(case_id),
            "index": int(index),
            "kind": step.kind,
            "amends": step.amends,
            "documentHash": step.document_hash,
            "ref": step.ref,
            "party": step.party,
            "signers": [to_address(s) for s in signers],
            "deadline": int(deadline),
        },
    }


def sign_step(
    signer: LocalAccount,
    chain_id: int,
    contract: str,
    case_id: bytes,
    index: int,
    step: Step,
    signers: Sequence[str],
    deadline: int,
) -> str:
    """`signer`'s EIP-712 signature (0x-hex, 65 bytes) of a step."""
    message = encode_typed_data(
        full_message=step_typed_data(chain_id, contract, case_id, index, step, signers, deadline)
    )
    return to_hex(Account.sign_message(message, signer.key).signature)


def recover_step_signer(
    signature: str, chain_id: int, contract: str, case_id: bytes, index: int, step: Step,
    signers: Sequence[str], deadline: int,
) -> str:  # fmt: skip
    """The address whose key made `signature` over the step (for checks before sending)."""
    message = encode_typed_data(
        full_message=step_typed_data(chain_id, contract, case_id, index, step, signers, deadline)
    )
    return to_address(Account.recover_message(message, signature=bytes.fromhex(signature.removeprefix("0x"))))


# ---------------------------------------------------------------- logs
@dataclass(frozen=True)
class OpenedLog:
    """A `CaseOpened` log."""

    case_id: str
    biz_transaction: str
    buyer: str
    supplier: str
    template_hash: str
    metadata_hash: str
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class StepLog:
    """A `StepAppended` log with its block's timestamp."""

    case_id: str
    index: int
    step: Step
    signers: tuple[str, ...]
    timestamp: int
    block_number: int
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class ChainCase:
    """A case rebuilt from the contract's logs alone and checked against its slot."""

    case_id: str
    opened: OpenedLog
    rules: bytes
    kinds: tuple[str, ...]
    steps: tuple[StepLog, ...]
    heads: tuple[str, ...]  # heads[0] = head_0, heads[i] = head after step i
    state: CaseState
    stored_state_hash: str
    block_number: int
    problems: tuple[str, ...] = field(default=())

    @property
    def verified(self) -> bool:
        return not self.problems and to_hex(self.state.hash) == self.stored_state_hash


# ---------------------------------------------------------------- client
class CaseRegistryClient(ContractClient):
    """Templates, cases and steps; writes go through the given Transactor."""

    @property
    def chain_id(self) -> int:
        return self.tx.chain.chain_id

    # ---------------------------------------------------------------- writes
    def register_template(
        self, sender: LocalAccount, template_hash: bytes, rules: bytes, kinds: Sequence[str]
    ) -> TxResult:
        """Register a process template (governance).

        Raises:
            CaseRegistryTemplateExists, CaseRegistryInvalidRules, CaseRegistryKindNames: see the contract.
        """
        return self.tx.send(sender, self.register_template_call(template_hash, rules, kinds))

    def open_case(
        self,
        sender: LocalAccount,
        biz_transaction: str,
        template_hash: bytes,
        supplier: str = ZERO_ADDRESS,
        metadata_hash: bytes = ZERO32,
    ) -> TxResult:
        """Open a case as its buyer (`sender`)."""
        return self.tx.send(sender, self.open_call(biz_transaction, template_hash, supplier, metadata_hash))

    def append_step(
        self,
        sender: LocalAccount,
        case_id: bytes,
        state: CaseState,
        step: Step,
        signers: Sequence[str],
        deadline: int,
        signatures: Sequence[str | bytes],
    ) -> TxResult:
        """Append a signed step; `sender` only pays (the signatures are the authority)."""
        return self.tx.send(sender, self.append_call(case_id, state, step, signers, deadline, signatures))

    # ---------------------------------------------------------------- calls (to send or to sign)
    def register_template_call(self, template_hash: bytes, rules: bytes, kinds: Sequence[str]) -> ContractFunction:
        names = [encode_kind_name(k) for k in kinds]
        return self.contract.functions.registerTemplate(parse_bytes32(template_hash), parse_bytes32(rules), names)

    def open_call(
        self, biz_transaction: str, template_hash: bytes, supplier: str = ZERO_ADDRESS, metadata_hash: bytes = ZERO32
    ) -> ContractFunction:
        return self.contract.functions.openCase(
            biz_transaction, parse_bytes32(template_hash), to_address(supplier), parse_bytes32(metadata_hash)
        )

    def append_call(
        self,
        case_id: bytes,
        state: CaseState,
        step: Step,
        signers: Sequence[str],
        deadline: int,
        signatures: Sequence[str | bytes],
    ) -> ContractFunction:
        sigs = [bytes.fromhex(s.removeprefix("0x")) if isinstance(s, str) else bytes(s) for s in signatures]
        return self.contract.functions.appendStep(
            parse_bytes32(case_id),
            state.as_tuple(),
            step.as_tuple(),
            [to_address(s) for s in signers],
            int(deadline),
            sigs,
        )

    # ---------------------------------------------------------------- reads
    def state_hash_of(self, case_id: bytes, block: BlockIdentifier = "latest") -> str:
        """The case's stored state hash (zero if there is no such case)."""
        fn = self.contract.functions.stateHashOf(parse_bytes32(case_id))
        return to_hex(bytes(fn.call(block_identifier=block)))

    def template_rules(self, template_hash: bytes, block: BlockIdentifier = "latest") -> bytes:
        """A registered template's rules (zero if it is not registered)."""
        fn = self.contract.functions.templateRules(parse_bytes32(template_hash))
        return bytes(fn.call(block_identifier=block))

    def step_digest(self, case_id: bytes, index: int, step: Step, signers: Sequence[str], deadline: int) -> bytes:
        """The contract's EIP-712 digest of a step."""
        fn = self.contract.functions.stepDigest(
            parse_bytes32(case_id), index, step.as_tuple(), [to_address(s) for s in signers], int(deadline)
        )
        return bytes(fn.call())

    def sign(
        self, signer: LocalAccount, case_id: bytes, index: int, step: Step, signers: Sequence[str], deadline: int
    ) -> str:
        """`signer`'s signature of a step for this contract on this chain."""
        return sign_step(signer, self.chain_id, self.address, case_id, index, step, signers, deadline)

    # ---------------------------------------------------------------- logs (a verifier needs nothing else)
    def template_log(self, template_hash: bytes, from_block: int = 0) -> tuple[bytes, tuple[str, ...]] | None:
        """(rules, kind names) of a template from its `TemplateRegistered` log, or None."""
        event = self.contract.events.TemplateRegistered()
        logs = event.get_logs(from_block=from_block, argument_filters={"templateHash": parse_bytes32(template_hash)})
        if not logs:
            return None
        args = logs[0]["args"]
        return bytes(args["rules"]), tuple(decode_kind_name(bytes(k)) for k in args["kinds"])

    def read_case(self, case_id: bytes, from_block: int = 0, block: BlockIdentifier = "latest") -> ChainCase | None:
        """Rebuild a case from its logs up to `block` and check it against the slot at that block: what a
        third party does with any node, trusting no TraceChain server. None if no case has this id."""
        key = parse_bytes32(case_id)
        to_block = int(self.tx.w3.eth.get_block(block)["number"])
        opened_logs = self.contract.events.CaseOpened().get_logs(
            from_block=from_block, to_block=to_block, argument_filters={"caseId": key}
        )
        if not opened_logs:
            return None
        a = opened_logs[0]["args"]
        opened = OpenedLog(
            case_id=to_hex(key),
            biz_transaction=str(a["bizTransaction"]),
            buyer=to_address(a["buyer"]),
            supplier=to_address(a["supplier"]),
            template_hash=to_hex(bytes(a["templateHash"])),
            metadata_hash=to_hex(bytes(a["metadataHash"])),
            block_number=int(opened_logs[0]["blockNumber"]),
            tx_hash=to_hex(opened_logs[0]["transactionHash"]),
        )
        template = self.template_log(parse_bytes32(opened.template_hash), from_block)
        if template is None:  # logs pruned before from_block: the rules are in storage too
            template = (self.template_rules(parse_bytes32(opened.template_hash)), ())
        rules, kinds = template
        raw = self.contract.events.StepAppended().get_logs(
            from_block=from_block, to_block=to_block, argument_filters={"caseId": key}
        )
        raw = sorted(raw, key=lambda lg: (int(lg["blockNumber"]), int(lg["logIndex"])))
        times: dict[int, int] = {}
        steps = []
        for log in raw:
            number = int(log["blockNumber"])
            if number not in times:
                times[number] = int(self.tx.w3.eth.get_block(number)["timestamp"])
            steps.append(step_log(log, times[number]))
        problems: list[str] = []
        state = CaseState(
            genesis_head(key, opened.buyer, opened.supplier, parse_bytes32(opened.template_hash),
                         parse_bytes32(opened.metadata_hash)),
            0, opened.buyer, opened.supplier, rules,
        )  # fmt: skip
        heads = [to_hex(state.head)]
        for expected, s in enumerate(steps, start=1):
            if s.index != expected:
                problems.append(f"step {expected} is missing from the logs (found {s.index})")
            state = state.after(s.step, s.signers, s.timestamp)
            heads.append(to_hex(state.head))
        stored = self.state_hash_of(key, to_block)
        if to_hex(state.hash) != stored:
            problems.append("the state folded from the logs does not match the contract's slot")
        return ChainCase(
            case_id=to_hex(key),
            opened=opened,
            rules=rules,
            kinds=kinds,
            steps=tuple(steps),
            heads=tuple(heads),
            state=state,
            stored_state_hash=stored,
            block_number=to_block,
            problems=tuple(problems),
        )


def step_log(log: Any, timestamp: int) -> StepLog:
    """A decoded `StepAppended` log (web3's form) with its block's timestamp."""
    a = log["args"]
    step = Step(
        kind=int(a["kind"]),
        document_hash=bytes(a["documentHash"]),
        amends=int(a["amends"]),
        ref=bytes(a["ref"]),
        party=to_address(a["party"]),
    )
    return StepLog(
        case_id=to_hex(bytes(a["caseId"])),
        index=int(a["index"]),
        step=step,
        signers=tuple(to_address(s) for s in a["signers"]),
        timestamp=timestamp,
        block_number=int(log["blockNumber"]),
        tx_hash=to_hex(log["transactionHash"]),
        log_index=int(log["logIndex"]),
    )
