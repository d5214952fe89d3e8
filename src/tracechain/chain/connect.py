"""Connected chains: the embedded eth-tester chain or any JSON-RPC node, with dev accounts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from tracechain.errors import ChainUnavailableError, ConfigurationError
from tracechain.settings import Settings

# The well-known development mnemonic shared by Anvil, Hardhat and our embedded chain, so dev
# account N is the same address everywhere. Its keys are public: never use them with real value.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_HD_PATH = "m/44'/60'/0'/0"
DEV_ACCOUNT_COUNT = 10
ANVIL_CHAIN_ID = 31337


@dataclass
class Chain:
    """A connected chain plus the test controls local chains offer (snapshots, time)."""

    w3: Web3
    url: str | None = None  # None for the embedded chain
    _tester: Any = field(default=None, repr=False)
    send_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)  # nonce + send

    @property
    def embedded(self) -> bool:
        """True for the in-process eth-tester chain."""
        return self._tester is not None

    @cached_property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def block_hash(self, number: int) -> str | None:
        """The 0x-hex hash of block `number`, or None when the chain has no such block."""
        try:
            return "0x" + bytes(self.w3.eth.get_block(number)["hash"]).hex()
        except Exception:  # BlockNotFound, or a node that lost the block
            return None

    @property
    def is_dev(self) -> bool:
        """True on chains whose dev accounts hold the well-known mnemonic's keys."""
        return self.embedded or self.chain_id == ANVIL_CHAIN_ID

    def label(self) -> str:
        return "embedded eth-tester chain" if self.embedded else f"node at {self.url}"

    # ---- local-chain controls (tests, demo)
    def snapshot(self) -> Any:
        """Take a snapshot to revert to; local chains only."""
        if self._tester is not None:
            return self._tester.take_snapshot()
        return self.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]

    def revert(self, snapshot_id: Any) -> None:
        """Return the chain to `snapshot_id`."""
        if self._tester is not None:
            self._tester.revert_to_snapshot(snapshot_id)
        else:
            self.w3.provider.make_request("evm_revert", [snapshot_id])  # type: ignore[arg-type]

    def increase_time(self, seconds: int) -> int:
        """Mine a block `seconds` after the latest one; returns the new block timestamp."""
        if self._tester is not None:
            # The pending block may already be later than latest + seconds (on a wall clock): never
            # travel backwards, and on a manual clock there is no drift at all.
            now = int(self.w3.eth.get_block("latest")["timestamp"])
            pending = int(self.w3.eth.get_block("pending")["timestamp"])
            backend = self._tester.backend
            backend.chain.header = backend.chain.header.copy(timestamp=max(now + seconds, pending))
            self._tester.mine_blocks(1)
        else:
            self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        return int(self.w3.eth.get_block("latest")["timestamp"])


def embedded_chain(*, manual_clock: bool = False) -> Chain:
    """A fresh in-process eth-tester (py-evm) chain whose accounts are the dev accounts.

    Its blocks carry wall-clock times; with `manual_clock` each block is one second after its
    parent unless `Chain.increase_time` moves the clock, so tests never depend on how fast they run.
    """
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    class ManualClockBackend(PyEVMBackend):
        """Blocks one second apart, whatever the wall clock says."""

        def mine_blocks(self, num_blocks: int = 1, coinbase: Any = None) -> tuple[Any, ...]:
            mined: list[Any] = []
            for _ in range(num_blocks):
                mined += super().mine_blocks(1) if coinbase is None else super().mine_blocks(1, coinbase)
                self._tick()
            return tuple(mined)

        def revert_to_snapshot(self, snapshot: Any) -> None:
            super().revert_to_snapshot(snapshot)
            self._tick()

        def _tick(self) -> None:
            head = self.chain.get_canonical_head()
            self.chain.header = self.chain.header.copy(timestamp=head.timestamp + 1)

    class SerializedTesterProvider(EthereumTesterProvider):
        """py-evm is not thread-safe: API worker threads take turns."""

        _lock = threading.RLock()

        def make_request(self, method: Any, params: Any) -> Any:
            with self._lock:
                return super().make_request(method, params)

    backend_class = ManualClockBackend if manual_clock else PyEVMBackend
    backend = backend_class(mnemonic=DEV_MNEMONIC, hd_path=DEV_HD_PATH)
    tester = EthereumTester(backend)
    return Chain(w3=Web3(SerializedTesterProvider(tester)), _tester=tester)


def rpc_chain(url: str, timeout: float = 5.0) -> Chain:
    """Connect to a JSON-RPC node. Every call waits at most `timeout` seconds and is not retried:
    a hung node costs one timeout, not a minute of back-off per request.

    Raises:
        ChainUnavailableError: nothing answers at `url`.
    """
    import requests
    from requests.utils import get_environ_proxies

    session = requests.Session()
    session.trust_env = False  # read the proxy environment once, not on every call
    session.proxies.update(get_environ_proxies(url))
    provider = Web3.HTTPProvider(
        url, request_kwargs={"timeout": timeout}, session=session, exception_retry_configuration=None
    )
    w3 = Web3(provider)
    try:
        w3.eth.chain_id  # noqa: B018 - a round trip proves the node answers
    except Exception as exc:  # requests/aiohttp raise many kinds; all mean "no node here"
        raise ChainUnavailableError(
            f"no Ethereum node answers at {url}", hint="start one with `tracechain node` or check --rpc"
        ) from exc
    return Chain(w3=w3, url=url)


def connect(settings: Settings) -> Chain:
    """The chain the settings name: `rpc_url` if set, else a new embedded chain."""
    return rpc_chain(settings.rpc_url, settings.rpc_timeout_seconds) if settings.rpc_url else embedded_chain()


def dev_accounts(count: int = DEV_ACCOUNT_COUNT) -> list[LocalAccount]:
    """The first `count` dev accounts of DEV_MNEMONIC (Anvil's defaults)."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"{DEV_HD_PATH}/{i}") for i in range(count)]


class NoOperator(LocalAccount):
    """Stands in for the operator where no key is configured: reads work; whatever would sign or
    pay raises ConfigurationError saying which key is missing."""

    def __init__(self, chain_id: int) -> None:  # no key, so no LocalAccount.__init__
        self.chain_id = chain_id

    def _missing(self) -> ConfigurationError:
        return ConfigurationError(
            f"chain {self.chain_id} is not a local dev chain and TRACECHAIN_PRIVATE_KEY is not set",
            hint="reads need no key; writes need the operator's key in TRACECHAIN_PRIVATE_KEY",
        )

    @property
    def address(self) -> Any:
        raise self._missing()

    @property
    def key(self) -> Any:
        raise self._missing()

    def __getattribute__(self, name: str) -> Any:
        if name.startswith(("sign", "unsafe_sign", "encrypt")):
            raise object.__getattribute__(self, "_missing")()
        return object.__getattribute__(self, name)


def operator_account(settings: Settings, chain: Chain, *, required: bool = True) -> LocalAccount:
    """The account that deploys and relays: TRACECHAIN_PRIVATE_KEY, or dev account 0 on dev chains.
    With `required` false, a NoOperator when there is neither (for processes that only read).

    Raises:
        ConfigurationError: a non-dev chain, no key configured, and `required`.
    """
    secret = settings.private_key.get_secret_value().strip() if settings.private_key is not None else ""
    if secret:  # an empty TRACECHAIN_PRIVATE_KEY= is no key
        try:
            account: LocalAccount = Account.from_key(secret)
        except (ValueError, TypeError):
            raise ConfigurationError("TRACECHAIN_PRIVATE_KEY is not a valid private key (hex, 32 bytes)") from None
        return account
    if chain.is_dev:
        return dev_accounts(1)[0]
    if not required:
        return NoOperator(chain.chain_id)
    raise NoOperator(chain.chain_id)._missing()
