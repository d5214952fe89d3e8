"""The submitters' EIP-712 `BatchRecord` signatures over records queued for a Merkle batch, checked
fast enough for thousands in one request: the chain's time read once, digests computed here (not
one contract call each), ECDSA recovery straight through libsecp256k1 (coincurve), and one
registry read and one code read per submitter, not per record."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from coincurve import PublicKey
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector

from tracechain import errors
from tracechain.chain.notary import NotaryClient, batch_record_digest, encode_kind
from tracechain.errors import QueueSignatureError
from tracechain.hashing import keccak256, parse_bytes32
from tracechain.services.runtime import Runtime
from tracechain.types import to_address

_IS_VALID_SIGNATURE = function_signature_to_4byte_selector("isValidSignature(bytes32,bytes)")
_ERC1271_MAGIC = bytes.fromhex("1626ba7e")
_PARALLEL_ABOVE = 256  # fewer signatures are recovered on the calling thread
_MAX_WORKERS = 8


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
        self._recovered: dict[tuple[bytes, bytes], bytes | None] = {}  # (digest, signature) -> signer
        self._digests: dict[tuple[bytes, str, int], bytes] = {}

    def recover_all(self, requests: Sequence[QueueRequest]) -> None:
        """Recover the signers of many requests ahead of `check`, on a thread per core:
        libsecp256k1 runs without the GIL, and recovery is most of a bulk request's work. Requests
        that `check` refuses for other reasons (malformed, expired, a contract account's) are left
        to it; nothing is refused here."""
        work: list[tuple[bytes, bytes]] = []
        for request in requests:
            try:
                submitter = to_address(request.submitter)
                if request.deadline < self._chain_time() or self._contract_account(submitter):
                    continue
                raw = bytes.fromhex(request.signature.removeprefix("0x"))
                digest = self._digest(request)
            except (errors.TraceChainError, ValueError):
                continue
            work.append((digest, raw))
        workers = min(os.cpu_count() or 1, _MAX_WORKERS) if len(work) >= _PARALLEL_ABOVE else 1
        if workers == 1:
            signers = _recover_chunk(work)
        else:
            size = -(-len(work) // workers)
            with ThreadPoolExecutor(workers, thread_name_prefix="recover") as pool:
                parts = pool.map(_recover_chunk, [work[i : i + size] for i in range(0, len(work), size)])
                signers = [signer for part in parts for signer in part]
        self._recovered.update(zip(work, signers, strict=True))

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
        digest = self._digest(request)
        now = self._chain_time()
        if request.deadline < now:
            raise QueueSignatureError(f"the submitter's signature expired at {request.deadline} (chain time {now})")
        if not self._signed_by(submitter, digest, request.signature):
            raise QueueSignatureError(f"the signature is not {submitter}'s BatchRecord of this record and kind")
        refusal = self._refusal(submitter)
        if refusal is not None:
            raise refusal
        return submitter

    def _digest(self, request: QueueRequest) -> bytes:
        """The request's `BatchRecord` digest (remembered from `recover_all`).

        Raises:
            InvalidInputError: a malformed record hash or kind.
        """
        key = (request.record_hash, request.kind, request.deadline)
        digest = self._digests.get(key)
        if digest is None:
            kind = encode_kind(request.kind)
            digest = batch_record_digest(self._domain(), parse_bytes32(request.record_hash), kind, request.deadline)
            self._digests[key] = digest
        return digest

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
            registered, suspended = self.runtime.actors.standing(submitter)
            if not registered:
                self._standing[submitter] = errors.ActorRegistryUnknownActor({"account": submitter})
            elif suspended:
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
        if self._contract_account(signer):
            return self._wallet_accepts(signer, digest, raw)
        key = (digest, raw)
        if key not in self._recovered:
            self._recovered[key] = recovered(digest, raw)
        return self._recovered[key] == bytes.fromhex(signer[2:])

    def _contract_account(self, account: str) -> bool:
        """Whether `account` has code (asked of the chain once): its signatures are its own rule."""
        if account not in self._has_code:
            self._has_code[account] = bool(self.runtime.chain.w3.eth.get_code(account))  # type: ignore[arg-type]
        return self._has_code[account]

    def _wallet_accepts(self, wallet: str, digest: bytes, raw: bytes) -> bool:
        call: Any = {"to": wallet, "data": _IS_VALID_SIGNATURE + abi_encode(["bytes32", "bytes"], [digest, raw])}
        try:
            answer = self.runtime.chain.w3.eth.call(call)
        except Exception:  # a reverting wallet simply does not vouch for the signature
            return False
        return bytes(answer[:4]) == _ERC1271_MAGIC


def _recover_chunk(work: list[tuple[bytes, bytes]]) -> list[bytes | None]:
    return [recovered(digest, signature) for digest, signature in work]


def recovers_to(digest: bytes, signature: bytes, signer: str) -> bool:
    """Whether the 65-byte `r || s || v` signature of `digest` recovers to `signer`. It accepts what
    eth-account's `Account._recover_hash` accepts (v as 0/1, 27/28 or EIP-155 style; r and s below
    the curve order), through libsecp256k1 directly: half the cost of going through eth-keys."""
    return recovered(digest, signature) == bytes.fromhex(signer[2:])


def recovered(digest: bytes, signature: bytes) -> bytes | None:
    """The 20-byte address that signed `digest` with the 65-byte `signature`, or None when the
    signature is malformed or recovers no key (see `recovers_to`)."""
    if len(signature) != 65:
        return None
    v = signature[64]
    if v in (0, 1):
        standard = v
    elif v in (27, 28):
        standard = v - 27
    elif v >= 35:
        standard = (v - 35) % 2
    else:
        return None
    try:
        key = PublicKey.from_signature_and_message(signature[:64] + bytes([standard]), digest, hasher=None)
    except Exception:  # r or s out of range, or no point: no signer
        return None
    return keccak256(key.format(compressed=False)[1:])[12:]
