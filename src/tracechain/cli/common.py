"""What every command shares: options, opening a node for reads or writes, signers, output.

Nothing heavy is imported here at module level (web3, eth-account, SQLAlchemy, pydantic-settings):
`tracechain --help` must start fast, so each helper imports what it needs when it runs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.globals import get_current_context

from tracechain import errors
from tracechain.cli.core import TraceChainCommand, TraceChainGroup, names_of, prog

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from tracechain.chain.transact import TxResult
    from tracechain.services.runtime import Runtime
    from tracechain.settings import Settings

DEFAULT_RPC = "http://127.0.0.1:8545"

RpcOption = Annotated[
    str | None,
    typer.Option(
        "--rpc", metavar="URL", envvar="TRACECHAIN_RPC_URL", help=f"JSON-RPC URL of the node, e.g. {DEFAULT_RPC}."
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key", metavar="KEY", envvar="TRACECHAIN_ACTOR_KEY", help="Private key (hex) of the signing account."
    ),
]
DevAccountOption = Annotated[
    int | None,
    typer.Option("--dev-account", metavar="N", help="Sign as dev account N (0 to 9), on local dev chains only."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as one JSON document, for scripts.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="On error, also print the raw error and its code.")
]


def group(help: str) -> typer.Typer:
    """A sub-command group (`tracechain product ...`)."""
    return typer.Typer(cls=TraceChainGroup, no_args_is_help=True, help=help, rich_markup_mode=None)


def command(app: typer.Typer, name: str, **kwargs: Any) -> Any:
    """Decorator: register a function as command `name` of `app`, with TraceChain's help and errors."""
    return app.command(name, cls=TraceChainCommand, **kwargs)


# ---------------------------------------------------------------- settings, node, runtime
def settings_with(rpc: str | None) -> Settings:
    """The settings, with --rpc taking precedence."""
    from tracechain.settings import get_settings

    settings = get_settings()
    return settings.model_copy(update={"rpc_url": rpc}) if rpc else settings


def need_node(settings: Settings, what: str = "this command") -> str:
    """The node's URL, checked to answer.

    Raises:
        ConfigurationError: no --rpc / TRACECHAIN_RPC_URL.
        ChainUnavailableError: nothing answers there.
    """
    if not settings.rpc_url:
        raise errors.ConfigurationError(
            f"{what} needs a node: give --rpc URL or set TRACECHAIN_RPC_URL",
            hint=f"start one with `{prog()} node`, then pass --rpc {DEFAULT_RPC}",
        )
    probe(settings.rpc_url)
    return settings.rpc_url


def probe(url: str, timeout: float = 10.0) -> int:
    """The chain id the node at `url` answers with, over plain HTTP JSON-RPC (the standard library
    only, so a missing node is reported before any heavy import). Non-HTTP URLs are not probed.

    Raises:
        ChainUnavailableError: no JSON-RPC node answers at `url`.
    """
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        return 0
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
        return int(answer["result"], 16)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise errors.ChainUnavailableError(
            f"no Ethereum node answers at {url}", hint=f"start one with `{prog()} node`, or check --rpc"
        ) from exc


def open_node(rpc: str | None) -> Runtime:
    """The runtime of the deployment on the node. No key is needed to open it: the operator's key
    (TRACECHAIN_PRIVATE_KEY, or dev account 0 on local chains) is asked for only by what it pays.

    Raises:
        ConfigurationError: no node given, or no deployment recorded for it.
        ChainUnavailableError: the node does not answer.
    """
    settings = settings_with(rpc)
    need_node(settings)
    from tracechain.chain.connect import connect
    from tracechain.chain.deploy import find_manifest
    from tracechain.services.runtime import open_runtime

    chain = connect(settings)
    manifest = settings.manifest_path or find_manifest(settings.data_dir, chain)
    if not manifest.is_file():
        raise errors.ConfigurationError(
            f"no TraceChain deployment is recorded for chain {chain.chain_id} at {settings.rpc_url} "
            f"(looked for {manifest})",
            hint=f"deploy with `{prog()} deploy --rpc {settings.rpc_url}`, or set TRACECHAIN_DATA_DIR "
            "to the directory that holds its manifest",
        )
    runtime = open_runtime(settings, chain, deploy_missing=False, read_only=True)
    names_of(get_current_context()).runtime = runtime
    return runtime


def mention(*product_ids: str | None) -> None:
    """Tell error messages which product IDs this command works on (to name them instead of keys)."""
    names = names_of(get_current_context())
    names.subjects += [p for p in product_ids if p]


# ---------------------------------------------------------------- signers
def signer(key: str | None, dev_account: int | None, runtime: Runtime) -> LocalAccount:
    """The signing account: --key, or --dev-account N on a local dev chain.

    Raises:
        InvalidInputError: neither given, both given, a bad key, or a dev account on a real chain.
    """
    from eth_account import Account

    from tracechain.chain.connect import DEV_ACCOUNT_COUNT, dev_accounts

    if (key is None) == (dev_account is None):
        raise errors.InvalidInputError(
            "give exactly one of --key or --dev-account", hint="--key KEY signs with a private key (hex)"
        )
    if key is not None:
        try:
            account: LocalAccount = Account.from_key(key)
        except (ValueError, TypeError) as exc:
            raise errors.InvalidInputError("--key is not a valid private key") from exc
        return account
    assert dev_account is not None
    if not 0 <= dev_account < DEV_ACCOUNT_COUNT:
        raise errors.InvalidInputError(f"--dev-account {dev_account}: dev accounts are 0 to {DEV_ACCOUNT_COUNT - 1}")
    if not runtime.chain.is_dev:
        raise errors.InvalidInputError("--dev-account works only on local dev chains", hint="give --key KEY")
    return dev_accounts(DEV_ACCOUNT_COUNT)[dev_account]


def party(value: str, flag: str) -> LocalAccount:
    """A signing party given with `flag` (--cosign, --sign): a hex private key, or `dev:N` (dev
    account N, local chains).

    Raises:
        InvalidInputError: neither a private key nor dev:N within the dev accounts.
    """
    from eth_account import Account

    from tracechain.chain.connect import DEV_ACCOUNT_COUNT, dev_accounts

    if value.startswith("dev:"):
        try:
            index = int(value[4:])
        except ValueError:
            raise errors.InvalidInputError(f"{flag} {value!r}: expected dev:N") from None
        if not 0 <= index < DEV_ACCOUNT_COUNT:
            raise errors.InvalidInputError(f"{flag} {value!r}: dev accounts are 0 to {DEV_ACCOUNT_COUNT - 1}")
        return dev_accounts()[index]
    try:
        account: LocalAccount = Account.from_key(value)
    except (ValueError, TypeError):
        raise errors.InvalidInputError(f"a {flag} value is neither a private key nor dev:N") from None
    return account


def optional_signer(key: str | None, dev_account: int | None, runtime: Runtime) -> LocalAccount | None:
    """The signing account if --key or --dev-account was given."""
    return signer(key, dev_account, runtime) if (key is not None or dev_account is not None) else None


def who(runtime: Runtime, address: str) -> str:
    """`Acme Dairy Co-op (0x7099…)`: an address with its actor name, when it has one."""
    return names_of(get_current_context()).actor(address) if runtime else address


def operator_address(runtime: Runtime) -> str | None:
    """The operator's address, or None when no operator key is configured."""
    try:
        return str(runtime.operator.address)
    except errors.ConfigurationError:
        return None


def accounts(runtime: Runtime, signed_by: str, paid_by: str) -> tuple[str, dict[str, str]]:
    """Who signed a write and who paid for it: a sentence and its JSON."""
    if signed_by == paid_by:
        text = f"signed and paid by {who(runtime, signed_by)}"
    else:
        text = f"signed by {who(runtime, signed_by)}; relayed and paid by the operator {who(runtime, paid_by)}"
    return text, {"signedBy": signed_by, "paidBy": paid_by}


def tx_json(tx: TxResult) -> dict[str, Any]:
    """A landed transaction as JSON."""
    return {"txHash": tx.tx_hash, "blockNumber": tx.block_number, "gasUsed": tx.gas_used}


def tx_text(tx: TxResult) -> str:
    """A landed transaction in words."""
    return f"block {tx.block_number}, tx {tx.tx_hash}, gas {tx.gas_used}"


# ---------------------------------------------------------------- files and output
def read_json(path: str) -> Any:
    """The JSON document in file `path`.

    Raises:
        InvalidInputError: missing file or invalid JSON.
    """
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise errors.InvalidInputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise errors.InvalidInputError(f"{path} is a directory, not a JSON file") from None
    except UnicodeDecodeError:
        raise errors.InvalidInputError(f"{path} is not a text file") from None
    except json.JSONDecodeError as exc:
        raise errors.InvalidInputError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def read_object(path: str, what: str = "a JSON object") -> dict[str, Any]:
    """The JSON object in file `path`.

    Raises:
        InvalidInputError: missing file, invalid JSON, or not an object.
    """
    value = read_json(path)
    if not isinstance(value, dict):
        raise errors.InvalidInputError(f"{path} must hold {what}")
    return value


def print_json(value: Any) -> None:
    """Print `value` as indented JSON."""
    typer.echo(json.dumps(value, indent=2, default=str))


def emit(as_json: bool, data: dict[str, Any], *lines: str) -> None:
    """The command's result: `data` as JSON with --json, else the text `lines`."""
    if as_json:
        print_json(data)
    else:
        for line in lines:
            typer.echo(line)
