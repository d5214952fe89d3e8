"""What every command shares: options, runtime construction, signers, output and exit codes."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount
from typer.core import TyperGroup

from tracechain import errors
from tracechain.chain.connect import DEV_ACCOUNT_COUNT, dev_accounts
from tracechain.services.runtime import Runtime, open_runtime
from tracechain.settings import Settings, get_settings

# Exit codes, one per error category (Typer/Click use 2 for usage errors).
EXIT_CODES: tuple[tuple[type[errors.TraceChainError], int], ...] = (
    (errors.InvalidInputError, 2),
    (errors.NotFoundError, 3),
    (errors.PermissionDeniedError, 4),
    (errors.ConflictError, 5),
    (errors.UnavailableError, 6),
    (errors.IntegrityError, 7),
)


def exit_code_for(exc: errors.TraceChainError) -> int:
    """The process exit code for `exc` (1 when no category matches)."""
    return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), 1)


class TraceChainGroup(TyperGroup):
    """Turns any TraceChainError raised by a command into one line on stderr and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except errors.TraceChainError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exit_code_for(exc)) from None


RpcOption = Annotated[
    str | None,
    typer.Option(
        "--rpc",
        envvar="TRACECHAIN_RPC_URL",
        help="JSON-RPC URL of the chain; without it, the embedded chain (this process only).",
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option("--key", envvar="TRACECHAIN_ACTOR_KEY", help="Hex private key of the acting account."),
]
DevAccountOption = Annotated[
    int | None,
    typer.Option("--dev-account", min=0, max=DEV_ACCOUNT_COUNT - 1, help="Act as dev account N (local chains)."),
]


def settings_with(rpc: str | None) -> Settings:
    """The settings, with --rpc taking precedence."""
    settings = get_settings()
    return settings.model_copy(update={"rpc_url": rpc}) if rpc else settings


def node_runtime(rpc: str | None) -> Runtime:
    """The runtime for commands whose effect must outlive this process: they need a node.

    Raises:
        ConfigurationError: no --rpc / TRACECHAIN_RPC_URL.
    """
    settings = settings_with(rpc)
    if not settings.rpc_url:
        raise errors.ConfigurationError(
            "this command keeps state across invocations, so it needs a node",
            hint="start one with `tracechain node` and pass --rpc http://127.0.0.1:8545",
        )
    return open_runtime(settings, deploy_missing=False)


def signer(key: str | None, dev_account: int | None, runtime: Runtime) -> LocalAccount:
    """The acting account: --key, or --dev-account N on a local dev chain.

    Raises:
        InvalidInputError: neither given, both given, a bad key, or a dev account on a real chain.
    """
    if (key is None) == (dev_account is None):
        raise errors.InvalidInputError("give exactly one of --key or --dev-account")
    if key is not None:
        try:
            account: LocalAccount = Account.from_key(key)
        except (ValueError, TypeError) as exc:
            raise errors.InvalidInputError("--key is not a valid private key") from exc
        return account
    if not runtime.chain.is_dev:
        raise errors.InvalidInputError("--dev-account works only on local dev chains")
    assert dev_account is not None
    return dev_accounts(DEV_ACCOUNT_COUNT)[dev_account]


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
    except json.JSONDecodeError as exc:
        raise errors.InvalidInputError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def print_json(value: Any) -> None:
    """Print `value` as indented JSON."""
    typer.echo(json.dumps(value, indent=2, default=str))
