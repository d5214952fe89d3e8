"""Help pages that read like git's: a usage line, prose reflowed to the terminal, options with
value names (never types), defaults in full, and the command's examples last."""

from __future__ import annotations

import inspect
import shutil
import textwrap
from typing import Any

INDENT = "  "
MAX_LEFT = 26  # widest option column before its help moves to the next line
EXAMPLES = "Examples:"


def terminal_width() -> int:
    """The width help is wrapped to: the terminal's, between 60 and 100 columns."""
    return max(60, min(100, shutil.get_terminal_size((80, 24)).columns))


def summary(command: Any) -> str:
    """The first paragraph of a command's help, in one line (never cut short)."""
    text = command.short_help or command.help or ""
    first = inspect.cleandoc(text).split("\n\n", 1)[0]
    return " ".join(first.split())


def split_help(text: str) -> tuple[list[str], list[str]]:
    """A docstring's prose paragraphs and its example lines (the block after "Examples:")."""
    text = inspect.cleandoc(text or "").partition("\f")[0]
    prose, _, examples = text.partition(f"\n{EXAMPLES}\n") if f"\n{EXAMPLES}\n" in text else (text, "", "")
    paragraphs = [p.strip("\n") for p in prose.split("\n\n") if p.strip()]
    return paragraphs, [line.rstrip() for line in textwrap.dedent(examples).splitlines() if line.strip()]


def reflow(paragraph: str, width: int, indent: str = "") -> list[str]:
    """`paragraph` wrapped to `width`: prose lines are joined first, so a sentence is never broken
    where the source happened to break it; "- " bullets and indented lines keep their own lines."""
    lines: list[str] = []
    items: list[str] = []
    for raw in paragraph.splitlines():
        if raw.startswith(("- ", "  ")) or not items:
            items.append(raw)
        else:
            items[-1] += " " + raw.strip()
    for item in items:
        if item.startswith("  "):
            lines.append(indent + item.rstrip())
            continue
        hang = "  " if item.startswith("- ") else ""
        lines += textwrap.wrap(
            " ".join(item.split()),
            width=width,
            initial_indent=indent,
            subsequent_indent=indent + hang,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [indent]
    return lines


def _value_name(param: Any) -> str:
    if param.metavar:
        return str(param.metavar)
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", None)
    if desc is not None and desc.is_path:
        return "FILE"
    if annotation is int:
        return "N"
    return str(param.name or "value").upper()


def argument_name(param: Any) -> str:
    """An argument's name as help shows it: its metavar, or its name in capitals."""
    name = _value_name(param)
    return f"{name}..." if param.nargs != 1 else name


def option_names(param: Any) -> str:
    """`-h, --help`, `--rpc URL`, `--[no-]serve`: how an option is spelled, with its value name."""
    opts = sorted(param.opts, key=len)
    if param.secondary_opts:
        long = [o for o in opts if o.startswith("--")]
        if len(long) == 1 and param.secondary_opts == [f"--no-{long[0][2:]}"]:
            opts = [o for o in opts if not o.startswith("--")] + [f"--[no-]{long[0][2:]}"]
        else:
            opts += list(param.secondary_opts)
    spelled = ", ".join(opts)
    if not (param.is_flag or param.count):
        spelled += f" {_value_name(param)}"
    return spelled


def _sentence(text: str) -> str:
    text = " ".join((text or "").split())
    return text if not text or text[-1] in ".:?!)" else text + "."


def option_help(param: Any, ctx: Any) -> str:
    """An option's help text with its default and environment variable, as sentences."""
    parts = [_sentence(inspect.cleandoc(param.help or ""))]
    default = param.get_default(ctx, call=False) if param.show_default else None
    if param.is_flag and param.secondary_opts and param.show_default:
        name = (param.opts if default else param.secondary_opts)[0]
        parts.append(f"Default: {name}.")
    elif default not in (None, False, "", (), []) and not callable(default) and not param.is_flag:
        shown = default.value if hasattr(default, "value") else default
        parts.append(f"Default: {shown}.")
    if param.envvar and isinstance(param.envvar, str):
        parts.append(f"Environment: {param.envvar}.")
    return " ".join(p for p in parts if p)


def _definitions(rows: list[tuple[str, str]], width: int, left: int | None = None) -> list[str]:
    left = left or min(MAX_LEFT, max((len(name) for name, _ in rows), default=0))
    lines: list[str] = []
    for name, text in rows:
        first = f"{INDENT}{name}"
        help_indent = " " * (len(INDENT) + left + 2)
        wrapped = reflow(text, width, help_indent) if text else []
        if len(name) > left or not wrapped:
            lines.append(first)
            lines += wrapped
        else:
            lines.append(first.ljust(len(help_indent)) + wrapped[0][len(help_indent) :])
            lines += wrapped[1:]
    return lines


def usage_line(command: Any, ctx: Any) -> str:
    """`usage: tracechain product event [OPTIONS] [PRODUCT_ID]`."""
    pieces = [ctx.command_path]
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    if any(p.param_type_name == "option" for p in params):
        pieces.append("[OPTIONS]")
    for p in params:
        if p.param_type_name == "argument":
            name = argument_name(p)
            pieces.append(name if p.required else f"[{name}]")
    if hasattr(command, "commands"):
        pieces.append("COMMAND")
    return "usage: " + " ".join(pieces)


def render(command: Any, ctx: Any, width: int | None = None) -> str:
    """The whole help page of `command` (a Click command or group) in context `ctx`."""
    width = width or terminal_width()
    out: list[str] = [usage_line(command, ctx)]
    paragraphs, examples = split_help(command.help or "")
    for paragraph in paragraphs:
        out += ["", *reflow(paragraph, width)]

    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [(argument_name(p), _sentence(p.help or "")) for p in params if p.param_type_name == "argument"]
    options = [(option_names(p), option_help(p, ctx)) for p in params if p.param_type_name == "option"]
    if hasattr(command, "commands"):
        sections: list[tuple[str, list[str]]] = getattr(command, "SECTIONS", None) or [
            ("Commands:", command.list_commands(ctx))
        ]
        left = max(len(name) for _, names in sections for name in names)
        for title, names in sections:
            rows = []
            for name in names:
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    rows.append((name, summary(sub)))
            if rows:
                out += ["", title, *_definitions(rows, width, left)]
    if arguments:
        out += ["", "Arguments:", *_definitions(arguments, width)]
    if options:
        out += ["", "Options:", *_definitions(options, width)]
    if examples:
        out += ["", EXAMPLES, *(INDENT + line for line in examples)]
    if command.epilog:  # laid out by hand (a table): printed as it is
        out += ["", *command.epilog.strip("\n").splitlines()]
    if hasattr(command, "commands") and ctx.parent is None:
        out += ["", f"See '{ctx.command_path} COMMAND --help' for more on a command."]
    return "\n".join(line.rstrip() for line in out)
