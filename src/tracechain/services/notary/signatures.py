"""The submitters' EIP-712 `BatchRecord` signatures over records queued for a Merkle batch, checked
fast enough for thousands in one request: the chain's time read once, digests computed here (not
one contract call each), ECDSA recovery through eth-keys (on coincurve's libsecp256k1), and one
registry read and one code read per submitter, not per record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_keys import keys
from eth_utils import function_signature_to_4byte_selector

from tracechain import errors
from tracechain.chain.notary import NotaryClient, batch_record_digest, encode_kind
from tracechain.errors import QueueSignatureError
from tracechain.hashing import parse_bytes32
from tracechain.services.runtime import Runtime
from tracechain.types import to_address

_IS_VALID_SIGNATURE = function_signature_to_4byte_selector("isValidSignature(bytes32,bytes)")
_ERC1271_MAGIC = bytes.fromhex("1626ba7e")


@dataclass(frozen=True)
class QueueRequest:
    """A submitter's request to queue `(record_hash, kind)` for a Merkle batch, signed until `deadline`."""

    record_hash: bytes
    kind: str
    submitter: str
    deadline: int
    signature: str


class QueueSignatures:
    """Checks queue requests against one moment of the chain: its time and the submitters' standing
    are read once, by the first request that needs them (so a checker serves one call or one bulk
    request, not a long-lived process)."""

    def __init__(self, runtime: Runtime, client: NotaryClient) -> None:
        self.runtime = runtime
        self.client = client
        self._now: int | None = None
        self._separator: bytes | None = None
        self._has_code: dict[str, bool] = {}
        self._standing: dict[str, errors.TraceChainError | None] = {}

    def check(self, request: QueueRequest) -> str:
        """Check that `request.submitter`, a registered actor in good standing, signed the EIP-712
        `BatchRecord(recordHash, kind, deadline)` message (docs/PROTOCOL.md), never a `CoSign`, and
        that it has not expired. Returns the checksummed submitter.

        Raises:
            InvalidInputError: a malformed record hash, kind or submitter.
            QueueSignatureError: expired or not the submitter's signature.
            ActorRegistryUnknownActor / ActorRegistryActorSuspended: the submitter may not act.
        """
        submitter = to_address(request.submitter)
        record_hash, kind = parse_bytes32(request.record_hash), encode_kind(request.kind)
        now = self._chain_time()
        if request.deadline < now:
            raise QueueSignatureError(f"the submitter's signature expired at {request.deadline} (chain time {now})")
        digest = batch_record_digest(self._domain(), record_hash, kind, request.deadline)
        if not self._signed_by(submitter, digest, request.signature):
            raise QueueSignatureError(f"the signature is not {submitter}'s BatchRecord of this record and kind")
        refusal = self._refusal(submitter)
        if refusal is not None:
            raise refusal
        return submitter

    def _chain_time(self) -> int:
        if self._now is None:
            self._now = int(self.runtime.chain.w3.eth.get_block("latest")["timestamp"])
        return self._now

    def _domain(self) -> bytes:
        if self._separator is None:
            self._separator = self.client.domain_separator
        return self._separator

    def _refusal(self, submitter: str) -> errors.TraceChainError | None:
        """Why `submitter` may not queue records (None: it may), asked of the registry once."""
        if submitter not in self._standing:
            actor = self.runtime.actors.get_actor(submitter)
            if actor is None:
                self._standing[submitter] = errors.ActorRegistryUnknownActor({"account": submitter})
            elif actor.suspended:
                self._standing[submitter] = errors.ActorRegistryActorSuspended({"account": submitter})
            else:
                self._standing[submitter] = None
        return self._standing[submitter]

    def _signed_by(self, signer: str, digest: bytes, signature: str) -> bool:
        """ECDSA for accounts without code, ERC-1271 `isValidSignature` for contract accounts
        (the contract's own rule, as OpenZeppelin SignatureChecker applies it)."""
        try:
            raw = bytes.fromhex(signature.removeprefix("0x"))
        except ValueError:
            return False
        if signer not in self._has_code:
            self._has_code[signer] = bool(self.runtime.chain.w3.eth.get_code(signer))  # type: ignore[arg-type]
        if self._has_code[signer]:
            return self._wallet_accepts(signer, digest, raw)
        return recovers_to(digest, raw, signer)

    def _wallet_accepts(self, wallet: str, digest: bytes, raw: bytes) -> bool:
        call: Any = {"to": wallet, "data": _IS_VALID_SIGNATURE + abi_encode(["bytes32", "bytes"], [digest, raw])}
        try:
            answer = self.runtime.chain.w3.eth.call(call)
        except Exception:  # a reverting wallet simply does not vouch for the signature
            return False
        return bytes(answer[:4]) == _ERC1271_MAGIC


def recovers_to(digest: bytes, signature: bytes, signer: str) -> bool:
    """Whether the 65-byte `r || s || v` signature of `digest` recovers to `signer`. It accepts what
    eth-account's `Account._recover_hash` accepts (v as 0/1, 27/28 or EIP-155 style), without its
    per-call conversions."""
    if len(signature) != 65:
        return False
    v = signature[64]
    if v in (0, 1):
        standard = v
    elif v in (27, 28):
        standard = v - 27
    elif v >= 35:
        standard = (v - 35) % 2
    else:
        return False
    try:
        key = keys.Signature(signature_bytes=signature[:64] + bytes([standard])).recover_public_key_from_msg_hash(
            digest
        )
    except Exception:  # malformed signatures do not recover
        return False
    return key.to_canonical_address() == bytes.fromhex(signer[2:])
