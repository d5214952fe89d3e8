"""Help that reads like git's: value names instead of types, arguments in capitals, full sentences
never broken where the source broke them, defaults in full, an example per command that parses, and
--json / --verbose / completion everywhere."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
from typer._click import exceptions as click_exceptions
from typer.main import get_command
from typer.testing import CliRunner

from tracechain.cli import help as cli_help
from tracechain.cli.core import TraceChainCommand, TraceChainGroup
from tracechain.cli.main import RootGroup, app

runner = CliRunner()
ROOT = get_command(app)


def commands(command: Any = ROOT, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, (*path, name))


def context(path: tuple[str, ...]) -> Any:
    ctx = ROOT.make_context("tracechain", [], resilient_parsing=True)
    command = ROOT
    for name in path:
        command = command.commands[name]
        ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
    return ctx


ALL = list(commands())
LEAVES = [(p, c) for p, c in ALL if not hasattr(c, "commands") and not c.hidden]
IDS = [" ".join(p) or "tracechain" for p, _ in ALL]


def _help(path: tuple[str, ...], width: int | None = None) -> str:
    ctx = context(path)
    return cli_help.render(ctx.command, ctx, width)


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_every_command_uses_tracechain_classes(path: tuple[str, ...], command: Any) -> None:
    assert isinstance(command, TraceChainGroup if hasattr(command, "commands") else TraceChainCommand), path


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_help_shows_value_names_not_types(path: tuple[str, ...], command: Any) -> None:
    text = _help(path)
    usage = text.splitlines()[0]
    assert usage.startswith("usage: tracechain"), usage
    assert not re.search(r"[<>{}]", usage), usage
    for word in usage.split()[2 + len(path) :]:
        assert word.strip("[].") == word.strip("[].").upper(), f"argument names are capitals: {usage}"
    assert not re.search(r"<(bool|str|int|path|list|float|datetime)", text), text
    assert "%Y" not in text and "%H" not in text, "no raw strptime format"
    assert "…" not in text, "nothing is cut off"


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_help_is_full_sentences_never_broken_mid_line(path: tuple[str, ...], command: Any) -> None:
    text = _help(path, width=10_000)
    prose = text.split("\n\n")[1:]
    for paragraph in prose:
        if paragraph.split("\n", 1)[0].endswith(":"):  # a section: Options:, Examples:, Exit codes: ...
            continue
        for line in paragraph.splitlines():  # with room enough, a paragraph is one line ending a sentence
            assert line[-1] in ".:?!)", f"{' '.join(path)}: {line!r}"
    for param in command.params:
        if param.hidden or not param.help:
            assert param.hidden or param.name in ("install_completion", "show_completion"), param.name
            continue
        assert param.help[0].isupper() or param.help[0] in "-0123456789", f"{path} {param.name}: {param.help!r}"
        assert param.help.rstrip()[-1] in ".)", f"{path} {param.name}: {param.help!r}"


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_has_an_example_that_parses(path: tuple[str, ...], command: Any) -> None:
    _, examples = cli_help.split_help(command.help)
    assert examples, f"{' '.join(path)} has no example"
    lines = "\n".join(examples).replace("\\\n", " ").splitlines()  # continuation lines joined
    # every `tracechain ...` on a line, up to a pipe or the end of a $(...) substitution
    for example in (m for line in lines for m in re.findall(r"tracechain [^|)]*", line)):
        words = shlex.split(example)
        assert words[: 1 + len(path)] == ["tracechain", *path], example
        try:
            ctx = context(path[:-1])
            command.make_context(path[-1], words[1 + len(path) :], parent=ctx)
        except click_exceptions.UsageError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{example}: {exc.format_message()}")


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_has_json_and_verbose(path: tuple[str, ...], command: Any) -> None:
    names = {opt for p in command.params for opt in p.opts}
    assert {"--json", "--verbose", "-v"} <= names, path


def test_the_root_lists_every_command_once_by_purpose() -> None:
    listed = [name for _, names in RootGroup.SECTIONS for name in names]
    visible = [name for name, c in ROOT.commands.items() if not c.hidden]
    assert sorted(listed) == sorted(visible) and len(set(listed)) == len(listed)


def test_help_is_git_like_end_to_end() -> None:
    result = runner.invoke(app, ["product", "event", "-h"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("usage: tracechain product event [OPTIONS] [PRODUCT_ID]\n")
    assert "  --event-time TIME " in out and "  --json " in out and "  -v, --verbose " in out
    assert "Default: active." in out and "TRACECHAIN_RPC_URL." in out
    assert "\nExamples:\n  tracechain product event " in out
    bare = runner.invoke(app, [])
    assert bare.exit_code == 0 and bare.output.startswith("usage: tracechain [OPTIONS] COMMAND"), bare.output


def test_reflow_joins_what_the_source_broke_and_keeps_bullets() -> None:
    text = "A sentence the source\nbroke in two.\n- a bullet\n  an indented line"
    assert cli_help.reflow(text, 1000) == ["A sentence the source broke in two.", "- a bullet", "  an indented line"]
    assert cli_help.reflow("word " * 30, 40, "  ")[0].startswith("  word")


def test_unknown_commands_and_options_suggest_the_nearest() -> None:
    typo = runner.invoke(app, ["prodcut"])
    assert typo.exit_code == 2 and "Did you mean 'product'?" in typo.output, typo.output
    option = runner.invoke(app, ["product", "trace", "x", "--jsn"])
    assert option.exit_code == 2 and "--json" in option.output, option.output
    assert "usage: tracechain product trace" in option.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and re.fullmatch(r"tracechain \d+\.\d+\.\d+\S*\n", result.output), result.output


def test_shell_completion_is_typer_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    script = runner.invoke(app, ["--show-completion", "bash"])
    assert script.exit_code == 0 and "_TRACECHAIN_COMPLETE=complete_bash" in script.output, script.output
    env = {"_TRACECHAIN_COMPLETE": "complete_bash", "COMP_WORDS": "tracechain product event x --biz-step shi",
           "COMP_CWORD": "5"}  # fmt: skip
    steps = runner.invoke(app, [], env=env)
    assert steps.output.split() == ["shipping"], steps.output
    env = {"_TRACECHAIN_COMPLETE": "complete_bash", "COMP_WORDS": "tracechain actors grant 0x1 ma", "COMP_CWORD": "4"}
    roles = runner.invoke(app, [], env=env)
    assert roles.output.split() == ["manufacturer"], roles.output
