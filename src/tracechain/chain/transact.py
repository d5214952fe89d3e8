"""The one send path: build, sign locally, send, wait, and decode reverts — directly or relayed
through the ERC-2771 forwarder, where the actor signs and a relayer pays the gas."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from tracechain import errors
from tracechain.chain.artifact import Artifact
from tracechain.chain.connect import Chain
from tracechain.chain.reverts import RevertDecoder, default_decoder

FORWARDER_NAME = "TraceChainForwarder"
FORWARDER_VERSION = "1"
DEFAULT_REQUEST_TTL = 3600  # seconds a signed forward request stays valid by default
_GAS_MARGIN = 1.2
SenderLock = Callable[[str], AbstractContextManager[Any]]
TX_GAS_CAP = 2**24  # EIP-7825: no transaction may use more (Ethereum since Osaka)
MIN_REQUEST_GAS = 21_000
RELAY_OVERHEAD = 60_000  # the forwarder's own work around a relayed call
# The embedded chain's estimator re-runs a call a dozen times in the Python EVM; its calls get this.
EMBEDDED_CALL_GAS = 8_000_000


def relay_gas(request_gas: int) -> int:
    """Gas for relaying a request signed with `request_gas`: the forwarder must keep 63/64 of it for
    the call (EIP-150) and does its own work (signature check, nonce) around it."""
    return request_gas * 64 // 63 + RELAY_OVERHEAD


def max_request_gas(cap: int) -> int:
    """The most gas a request may be signed with so its relay still fits a transaction of `cap` gas."""
    return (cap - RELAY_OVERHEAD) * 63 // 64


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    logs: list[Any]


@dataclass(frozen=True)
class ForwardRequest:
    """An ERC-2771 request signed by `sender` (EIP-712, domain TraceChainForwarder v1)."""

    sender: str
    to: str
    value: int
    gas: int
    nonce: int
    deadline: int
    data: str  # 0x-hex calldata
    signature: str = ""  # 0x-hex, 65 bytes

    def typed_data(self, chain_id: int, forwarder: str) -> dict[str, Any]:
        """The EIP-712 message the sender signs."""
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "ForwardRequest": [
                    {"name": "from", "type": "address"},
                    {"name": "to", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "gas", "type": "uint256"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint48"},
                    {"name": "data", "type": "bytes"},
                ],
            },
            "primaryType": "ForwardRequest",
            "domain": {
                "name": FORWARDER_NAME,
                "version": FORWARDER_VERSION,
                "chainId": chain_id,
                "verifyingContract": forwarder,
            },
            "message": {
                "from": self.sender,
                "to": self.to,
                "value": self.value,
                "gas": self.gas,
                "nonce": self.nonce,
                "deadline": self.deadline,
                "data": self.data,
            },
        }

    def as_struct(self) -> tuple[Any, ...]:
        """The ForwardRequestData tuple `ERC2771Forwarder.execute` takes."""
        return (
            self.sender,
            self.to,
            self.value,
            self.gas,
            self.deadline,
            bytes.fromhex(self.data.removeprefix("0x")),
            bytes.fromhex(self.signature.removeprefix("0x")),
        )


class EncodedCall:
    """A contract call ABI-encoded directly with eth_abi: for large batches, where web3's argument
    normalisation costs seconds. It offers what the send path uses of a web3 ContractFunction."""

    def __init__(self, contract: Contract, fn_name: str, args: tuple[Any, ...]) -> None:
        (abi,) = [i for i in contract.abi if i.get("type") == "function" and i.get("name") == fn_name]
        types = [_abi_type(p) for p in abi["inputs"]]  # type: ignore[typeddict-item]
        selector = function_signature_to_4byte_selector(f"{fn_name}({','.join(types)})")
        self.w3 = contract.w3
        self.address = str(contract.address)
        self.fn_name = fn_name
        self.data = "0x" + (selector + abi_encode(types, list(args))).hex()

    def _encode_transaction_data(self) -> str:
        return self.data

    def call(self, params: Any = None) -> Any:
        tx: Any = {**(params or {}), "to": self.address, "data": self.data}
        return self.w3.eth.call(tx)

    def estimate_gas(self, params: Any = None) -> int:
        tx: Any = {**(params or {}), "to": self.address, "data": self.data}
        return int(self.w3.eth.estimate_gas(tx))

    def build_transaction(self, params: Any) -> Any:
        from web3._utils.transactions import fill_transaction_defaults

        return fill_transaction_defaults(self.w3, {**params, "to": self.address, "data": self.data})


def _abi_type(param: Any) -> str:
    """The canonical ABI type of a parameter, tuples spelled out (`(uint8,bytes32[])[]`)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


Call = ContractFunction | EncodedCall  # what the send path takes


class Transactor:
    """Sends contract calls signed by local accounts and turns failures into TraceChain errors.

    With `relayer` set, every `send` is instead signed by the actor as an ERC-2771 forward
    request and submitted by the relayer, who pays the gas.
    """

    def __init__(
        self,
        chain: Chain,
        *,
        forwarder: Contract | None = None,
        relayer: LocalAccount | None = None,
        decoder: RevertDecoder | None = None,
        sender_lock: SenderLock | None = None,
    ) -> None:
        self.chain = chain
        self.w3 = chain.w3
        self.forwarder = forwarder
        self.relayer = relayer
        self.decoder = decoder or default_decoder()
        self.sender_lock: SenderLock = sender_lock or (lambda _address: nullcontext())

    def via_relayer(self, relayer: LocalAccount) -> Transactor:
        """A transactor whose sends are signed forward requests relayed (and paid) by `relayer`."""
        if self.forwarder is None:
            raise errors.ConfigurationError("relaying needs the deployment's forwarder")
        return Transactor(
            self.chain, forwarder=self.forwarder, relayer=relayer, decoder=self.decoder, sender_lock=self.sender_lock
        )

    # ---------------------------------------------------------------- direct
    def send(
        self,
        sender: LocalAccount,
        call: Call,
        *,
        value: int = 0,
        gas: int | None = None,
        before_send: Callable[[], None] | None = None,
    ) -> TxResult:
        """Send `call` as `sender` (or as a relayed request signed by `sender`). Everything is
        checked first (one simulation); then `before_send` runs (e.g. to store the documents the call
        commits to, so a refused write stores nothing), then the transaction is sent.

        `gas` skips estimation when the caller knows an upper bound for the call's shape.

        Raises:
            ContractRevertError: the contract refused, decoded to its named subclass.
            TransactionError: the transaction failed for another reason.
        """
        if self.relayer is not None:
            request = self.sign(sender, self.build_request(sender.address, call, value=value, gas=gas))
            return self.relay(request, before_send=before_send)
        limit = gas if gas is not None else self.estimate(sender.address, call, value=value)
        if gas is not None:
            self.simulate(sender.address, call, value=value, gas=limit)
        if before_send is not None:
            before_send()
        params: Any = {"from": sender.address, "value": value, "gas": limit, "chainId": self.chain.chain_id}
        return self._submit(sender, lambda nonce: call.build_transaction(_with_nonce(params, nonce)))

    def deploy(self, sender: LocalAccount, artifact: Artifact, *args: Any) -> tuple[str, TxResult]:
        """Deploy `artifact` with constructor `args`; returns (address, result)."""
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        constructor = factory.constructor(*args)
        try:
            gas = int(constructor.estimate_gas({"from": sender.address}) * _GAS_MARGIN)
        except Exception as exc:
            raise self._translate(exc) from exc
        params: Any = {"from": sender.address, "gas": gas, "chainId": self.chain.chain_id}
        result = self._submit(sender, lambda nonce: constructor.build_transaction(_with_nonce(params, nonce)))
        receipt = self.w3.eth.get_transaction_receipt(result.tx_hash)  # type: ignore[arg-type]
        return str(receipt["contractAddress"]), result

    def estimate(self, sender: str, call: Call, *, value: int = 0) -> int:
        """Gas for `call` from `sender`, with margin; a revert raises its decoded error.

        On the embedded chain the call is simulated once and given a fixed allowance instead: its
        estimator re-runs the call a dozen times (a binary search) in the Python EVM.
        """
        if self.chain.embedded:
            self.simulate(sender, call, value=value, gas=EMBEDDED_CALL_GAS)
            return EMBEDDED_CALL_GAS
        try:
            params: Any = {"from": sender, "value": value}
            return int(call.estimate_gas(params) * _GAS_MARGIN) + 10_000
        except Exception as exc:
            raise self._translate(exc) from exc

    def simulate(self, sender: str, call: Call, *, value: int = 0, gas: int | None = None) -> None:
        """Run `call` from `sender` without sending it; a revert raises its decoded error."""
        try:
            params: Any = {"from": sender, "value": value}
            if gas is not None:
                params["gas"] = gas
            call.call(params)
        except Exception as exc:
            raise self._translate(exc) from exc

    # ---------------------------------------------------------------- relayed (ERC-2771)
    def sign_request(
        self, signer: LocalAccount, call: Call, *, value: int = 0, ttl: int = DEFAULT_REQUEST_TTL
    ) -> ForwardRequest:
        """Build and sign a forward request for `call` (first checking it would succeed)."""
        return self.sign(signer, self.build_request(signer.address, call, value=value, ttl=ttl))

    def build_request(
        self,
        sender: str,
        call: Call,
        *,
        value: int = 0,
        ttl: int = DEFAULT_REQUEST_TTL,
        gas: int | None = None,
    ) -> ForwardRequest:
        """The unsigned forward request `sender` signs for `call`. Without `gas` the call is estimated
        (so a refusal raises now); with it, the relay's own check finds refusals.

        Raises:
            ContractRevertError: the contract would refuse the call from `sender`.
        """
        forwarder = self._require_forwarder()
        if gas is None:
            gas = self.estimate(sender, call, value=value)
        deadline = int(self.w3.eth.get_block("latest")["timestamp"]) + ttl
        return ForwardRequest(
            sender=sender,
            to=call.address,
            value=value,
            gas=gas,
            nonce=int(forwarder.functions.nonces(sender).call()),
            deadline=deadline,
            data=call._encode_transaction_data(),
        )

    def sign(self, signer: LocalAccount, request: ForwardRequest) -> ForwardRequest:
        """`request` with `signer`'s EIP-712 signature attached."""
        forwarder = self._require_forwarder()
        message = encode_typed_data(full_message=request.typed_data(self.chain.chain_id, forwarder.address))
        signature = Account.sign_message(message, signer.key).signature
        return ForwardRequest(**{**request.__dict__, "signature": "0x" + bytes(signature).hex()})

    def relay(
        self,
        request: ForwardRequest,
        relayer: LocalAccount | None = None,
        *,
        before_send: Callable[[], None] | None = None,
    ) -> TxResult:
        """Check and submit a signed forward request, paid by `relayer` (default: ours); `before_send`
        runs once every check passed, just before the transaction is sent.

        Raises:
            SignatureError: the signature is not the sender's, the nonce is used, or it expired.
            RequestGasError: the request's gas is too little for its call, or more than a transaction may use.
            ContractRevertError: the target contract would refuse the call.
        """
        relayer = relayer or self.relayer
        if relayer is None:
            raise errors.ConfigurationError("no relayer account to submit the request")
        call, gas = self.check_request(request, relayer.address)
        if before_send is not None:
            before_send()
        params: Any = {"from": relayer.address, "value": 0, "gas": gas, "chainId": self.chain.chain_id}
        return self._submit(relayer, lambda nonce: call.build_transaction(_with_nonce(params, nonce)))

    def check_signature(self, request: ForwardRequest) -> int:
        """The cheap checks of a signed request, before any work is spent on what it carries: no
        ether, gas within what one transaction may use, not expired, signed by its sender with its
        current nonce. Returns the chain's per-transaction gas cap.

        Raises:
            SignatureError: bad signature, used nonce or expired.
            RequestGasError: gas outside what a relay can carry.
            InvalidInputError: the request carries ether.
        """
        forwarder = self._require_forwarder()
        if request.value != 0:
            raise errors.InvalidInputError("TraceChain contracts take no ether: a forward request's value must be 0")
        latest = self.w3.eth.get_block("latest")
        cap = min(int(latest["gasLimit"]), TX_GAS_CAP)
        if not MIN_REQUEST_GAS <= request.gas <= max_request_gas(cap):
            raise errors.RequestGasError(
                f"the request's gas {request.gas} is outside {MIN_REQUEST_GAS}..{max_request_gas(cap)}",
                hint="sign the request with the gas POST /v1/provenance/requests (or an estimate) gives",
            )
        if request.deadline < int(latest["timestamp"]):
            raise errors.ERC2771ForwarderExpiredRequest({"deadline": request.deadline})
        if not forwarder.functions.verify(request.as_struct()).call():
            raise errors.ERC2771ForwarderInvalidSigner({"signer": request.sender, "from": request.sender})
        return cap

    def check_request(self, request: ForwardRequest, relayer: str | None = None) -> tuple[ContractFunction, int]:
        """Everything `relay` checks before the relayer pays: value, deadline, signature and nonce
        (`check_signature`), then the whole relay simulated with the request's own gas (a request
        signed with too little gas would otherwise fail on-chain again and again at the relayer's
        cost). When that fails, the call alone is simulated as the signer to name the contract's
        reason. Returns the forwarder call and the gas to send it with.

        Raises:
            SignatureError, RequestGasError, ContractRevertError: as `relay`.
        """
        forwarder = self._require_forwarder()
        cap = self.check_signature(request)
        call = forwarder.functions.execute(request.as_struct())
        gas = min(relay_gas(request.gas), cap)
        try:
            call.call({"from": relayer or request.sender, "value": 0, "gas": gas})  # type: ignore[arg-type]
            return call, gas
        except Exception as exc:
            relay_failure = self._translate(exc)
        # The forwarder hides the target's revert reason; simulate as the sender to decode it.
        try:
            self.w3.eth.call({"from": request.sender, "to": request.to, "data": request.data})  # type: ignore[typeddict-item]
        except Exception as exc:
            raise self._translate(exc) from exc
        raise errors.RequestGasError(
            f"the relayed call would fail with the request's gas {request.gas} ({relay_failure.message})",
            hint="sign the request with more gas",
        )

    # ---------------------------------------------------------------- internals
    def _require_forwarder(self) -> Contract:
        if self.forwarder is None:
            raise errors.ConfigurationError("relaying needs the deployment's forwarder")
        return self.forwarder

    def _nonce(self, address: str) -> int:
        return int(self.w3.eth.get_transaction_count(address, "pending"))  # type: ignore[arg-type]

    def _submit(self, sender: LocalAccount, build: Callable[[int], Any]) -> TxResult:
        """Build the transaction with the sender's next nonce, sign, send and wait for it.

        Nonce, signing and sending happen under the chain's send lock and the sender lock (shared by
        every process over one store), so threads and processes sharing an account never reuse a
        nonce; a nonce taken meanwhile by someone else is retried once with a fresh one.
        """
        try:
            for attempt in (1, 2):
                try:
                    with self.chain.send_lock, self.sender_lock(sender.address):
                        tx = build(self._nonce(sender.address))
                        signed = sender.sign_transaction(tx)
                        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                    break
                except Exception as exc:
                    if attempt == 2 or not _nonce_taken(exc):
                        raise
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.05)
        except Exception as exc:
            raise self._translate(exc) from exc
        if receipt["status"] != 1:
            raise self._replay_failure(tx, int(receipt["blockNumber"]))
        return TxResult(
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            logs=list(receipt["logs"]),
        )

    def _replay_failure(self, tx: dict[str, Any], block: int) -> errors.TraceChainError:
        """Re-run a mined failed transaction as a call to learn why it reverted."""
        call = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        try:
            self.w3.eth.call(call, block - 1)  # type: ignore[arg-type]
        except Exception as exc:
            return self._translate(exc)
        return errors.TransactionError("transaction reverted (out of gas or state changed before mining)")

    def _translate(self, exc: BaseException) -> errors.TraceChainError:
        if isinstance(exc, errors.TraceChainError):
            return exc
        if isinstance(exc, ConnectionError | TimeoutError) or "Connection" in type(exc).__name__:
            return errors.ChainUnavailableError(f"{self.chain.label()} did not answer: {exc}")
        return self.decoder.translate(exc)


def _nonce_taken(exc: BaseException) -> bool:
    """True for a node's refusal because the nonce was used meanwhile (another sender of the account)."""
    text = str(exc).lower()
    return "nonce too low" in text or "replacement transaction underpriced" in text or "already known" in text


def _with_nonce(params: Any, nonce: int) -> Any:
    """Transaction parameters with the nonce filled in."""
    return {**params, "nonce": nonce}


def decode_request(
    contract: Contract, request: ForwardRequest, functions: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    """The function (one of `functions`) and arguments a signed request calls on `contract`, so a
    server can check a request against the documents sent with it before relaying it.

    Raises:
        RequestMismatchError: it targets another contract, is not a call of it, or calls another function.
    """
    name = contract.address
    if request.to.lower() != str(contract.address).lower():
        raise errors.RequestMismatchError(f"the signed request targets {request.to}, not the contract at {name}")
    try:
        fn, args = contract.decode_function_input(request.data)
    except Exception as exc:  # web3 raises several kinds for undecodable calldata
        raise errors.RequestMismatchError(f"the signed request's data is not a call of the contract at {name}") from exc
    if fn.fn_name not in functions:
        raise errors.RequestMismatchError(f"the signed request calls {fn.fn_name}, expected {' or '.join(functions)}")
    return str(fn.fn_name), dict(args)
