"""The command classes behind every `tracechain` command: git-like help, and the one place that
turns an error into a message (text or JSON, on stderr) and an exit code."""

from __future__ import annotations

import json
import os
import shutil
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import typer
from typer._click import exceptions as click_exceptions
from typer.core import TyperCommand, TyperGroup

from tracechain import errors
from tracechain.cli import exitcodes, help
from tracechain.cli.messages import Names, describe, raw

PROG = "tracechain"
NAMES_KEY = "tracechain.names"  # ctx.meta: the Names a command collected (runtime, product IDs)


def prog() -> str:
    """How to run this program in a command printed for pasting: `tracechain` when that name runs
    this very program, else the path it was started by (e.g. `.venv/bin/tracechain`)."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) != "tracechain":
        return "tracechain"
    found = shutil.which("tracechain")
    if found and os.path.realpath(found) == os.path.realpath(argv0):
        return "tracechain"
    relative = os.path.relpath(argv0)
    if relative.startswith(".."):
        return argv0
    return relative if "/" in relative else f"./{relative}"


def names_of(ctx: Any) -> Names:
    """The Names of the running command (created on first use)."""
    meta = ctx.meta
    if NAMES_KEY not in meta:
        meta[NAMES_KEY] = Names()
    names: Names = meta[NAMES_KEY]
    return names


def report(exc: BaseException, *, as_json: bool, verbose: bool, names: Names | None = None) -> int:
    """Print `exc` on stderr (one line and an optional hint, or a JSON object); returns the exit code."""
    code = exitcodes.exit_code_for(exc)
    if isinstance(exc, errors.TraceChainError):
        message, hint = describe(exc, names, prog())
        error_code = exc.code
    else:
        message, hint = (
            f"{type(exc).__name__}: {exc}",
            "this is a bug in TraceChain: run again with --verbose for the traceback, and report it",
        )
        error_code = "internal_error"
    if as_json:
        body: dict[str, Any] = {"code": error_code, "message": message, "exitCode": code}
        if hint:
            body["hint"] = hint
        if isinstance(exc, errors.ContractRevertError):
            body["contractError"] = {"name": exc.error_name, "args": {k: str(v) for k, v in exc.error_args.items()}}
        typer.echo(json.dumps({"error": body}), err=True)
    else:
        typer.echo(f"error: {message}", err=True)
        if hint:
            typer.echo(f"hint: {hint}", err=True)
        if verbose:
            typer.echo(f"raw: {raw(exc)} [code {error_code}, exit {code}]", err=True)
    if verbose and code == exitcodes.INTERNAL:
        traceback.print_exception(exc, file=sys.stderr)
    return code


def _absent_flags_are_false(params: list[Any]) -> list[Any]:
    """Flags left out (--help, the completion flags) default to None, which Typer coerces through
    pydantic on every command line; an absent flag is simply False, so start-up skips that import."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if param.default is None and getattr(param, "is_flag", False) and descriptor is not None:
            if descriptor.annotation is bool:
                param.default = False
    return params


class TraceChainCommand(TyperCommand):
    """A leaf command: help rendered by `help.render`, errors reported by `report`."""

    def get_help(self, ctx: Any) -> str:
        return help.render(self, ctx)

    def get_params(self, ctx: Any) -> list[Any]:
        return _absent_flags_are_false(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, click_exceptions.ClickException, KeyboardInterrupt):
            raise
        except Exception as exc:  # every failure ends as one message and a documented exit code
            names = ctx.meta.get(NAMES_KEY)
            code = report(
                exc, as_json=bool(ctx.params.get("as_json")), verbose=bool(ctx.params.get("verbose")), names=names
            )
            raise typer.Exit(code) from None


class TraceChainGroup(TyperGroup):
    """A group of commands; the root one also reports usage errors and never lets a traceback out."""

    def get_help(self, ctx: Any) -> str:
        return help.render(self, ctx)

    def get_params(self, ctx: Any) -> list[Any]:
        return _absent_flags_are_false(super().get_params(ctx))

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        as_json, verbose = "--json" in argv, "--verbose" in argv or "-v" in argv
        try:
            result = super().main(argv, PROG, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else exitcodes.OK
        except click_exceptions.NoArgsIsHelpError as exc:
            assert exc.ctx is not None
            typer.echo(exc.ctx.get_help())
            code = exitcodes.OK
        except click_exceptions.UsageError as exc:
            code = _usage_error(exc, as_json)
        except click_exceptions.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except typer.Abort:
            typer.echo("aborted", err=True)
            code = exitcodes.INTERRUPTED
        except Exception as exc:  # raised outside a command (e.g. while building it): still one line
            code = report(exc, as_json=as_json, verbose=verbose)
        if standalone_mode:
            sys.exit(code)
        return code


def _usage_error(exc: click_exceptions.UsageError, as_json: bool) -> int:
    message = exc.format_message()
    message = message[:1].lower() + message[1:]
    if as_json:
        body = {"code": "usage", "message": message, "exitCode": exitcodes.USAGE}
        typer.echo(json.dumps({"error": body}), err=True)
        return exitcodes.USAGE
    typer.echo(f"error: {message}", err=True)
    if exc.ctx is not None:
        typer.echo(help.usage_line(exc.ctx.command, exc.ctx), err=True)
        typer.echo(f"See '{exc.ctx.command_path} --help'.", err=True)
    return exitcodes.USAGE
