"""The exit codes of `tracechain`: one per error category, documented once (here), printed in
`tracechain --help` and checked against the README's table by a test."""

from __future__ import annotations

from dataclasses import dataclass

from tracechain import errors


@dataclass(frozen=True)
class ExitCode:
    """One exit code: its number, what it means, and the error categories that end with it."""

    code: int
    meaning: str
    categories: tuple[type[BaseException], ...] = ()


OK = 0
NO = 1
USAGE = 2
INTERNAL = 70
INTERRUPTED = 130

# Order matters: the first entry whose category matches an error decides its code.
EXIT_CODES: tuple[ExitCode, ...] = (
    ExitCode(OK, "success"),
    ExitCode(NO, "a check answered no (`rights check`, `compile --check`)"),
    ExitCode(USAGE, "invalid input: a bad argument, option, file or value", (errors.InvalidInputError,)),
    ExitCode(3, "not found: no such product, actor, dataset, certificate or record", (errors.NotFoundError,)),
    ExitCode(4, "not permitted: the account lacks the role, right or signature", (errors.PermissionDeniedError,)),
    ExitCode(5, "conflict with the chain's state (already done, recalled, other chain)", (errors.ConflictError,)),
    ExitCode(6, "chain or node unavailable, or a port already in use", (errors.UnavailableError,)),
    ExitCode(7, "integrity or verification failed", (errors.IntegrityError,)),
    ExitCode(
        8,
        "not set up: no node, key, deployment, artifact or compiler",
        (errors.ConfigurationError, errors.CompilationError),
    ),
    ExitCode(9, "a transaction failed for another reason", (errors.TransactionError,)),
    ExitCode(INTERNAL, "internal error (a bug: please report it with the output of --verbose)"),
    ExitCode(INTERRUPTED, "interrupted (Ctrl-C)"),
)


def exit_code_for(exc: BaseException) -> int:
    """The exit code that ends a command failing with `exc` (INTERNAL when no category matches)."""
    for entry in EXIT_CODES:
        if entry.categories and isinstance(exc, entry.categories):
            return entry.code
    return INTERNAL


def exit_code_table() -> str:
    """The table as plain text, one code a line (for `tracechain --help`)."""
    return "\n".join(f"{e.code:>5}  {e.meaning}" for e in EXIT_CODES)
