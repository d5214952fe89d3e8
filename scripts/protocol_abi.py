#!/usr/bin/env python3
"""Writes Appendix A of docs/PROTOCOL.md: every function, event, error and struct of the committed
contract artifacts (src/tracechain/chain/artifacts/*.json), rendered from their ABIs with selectors
and topic0 values, between the `<!-- abi:begin -->` and `<!-- abi:end -->` markers.

    python scripts/protocol_abi.py           # rewrite the appendix
    python scripts/protocol_abi.py --check   # exit 1 when the appendix does not match the ABIs

Signatures are written as Solidity declarations without data locations: a struct parameter by its
struct's name, an enum by its enum's name (ABI type uint8). tests/test_protocol_spec.py fails when
an artifact's ABI changes and the appendix was not regenerated in the same commit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eth_utils import keccak

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "src" / "tracechain" / "chain" / "artifacts"
PROTOCOL = REPO / "docs" / "PROTOCOL.md"
BEGIN, END = "<!-- abi:begin -->", "<!-- abi:end -->"
# Deployment order (docs/PROTOCOL.md §4).
CONTRACTS = (
    "TraceChainForwarder",
    "ActorRegistry",
    "ProvenanceRegistry",
    "Notary",
    "DataRightsRegistry",
    "CaseRegistry",
)


def abi_type(param: dict[str, Any]) -> str:
    """The canonical ABI type (tuples spelled out) used in selectors and topics."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


def solidity_type(param: dict[str, Any]) -> str:
    """How a Solidity declaration names the type: structs and enums by name, the rest by ABI type."""
    internal = str(param.get("internalType") or param["type"])
    for prefix in ("struct ", "enum "):
        if internal.startswith(prefix):
            return internal[len(prefix) :].rsplit(".", 1)[-1]
    if internal.startswith("contract "):
        return str(param["type"])
    return str(param["type"])


def _param(param: dict[str, Any], *, indexed: bool = False) -> str:
    text = solidity_type(param)
    if indexed and param.get("indexed"):
        text += " indexed"
    if param.get("name"):
        text += " " + param["name"]
    return text


def signature(item: dict[str, Any]) -> str:
    """The ABI signature `name(type,...)` whose keccak256 gives the selector or topic0."""
    return f"{item['name']}({','.join(abi_type(p) for p in item.get('inputs', []))})"


def declaration(item: dict[str, Any]) -> str:
    """The Solidity-style declaration of a function, event or error (how PROTOCOL.md writes it)."""
    kind = item["type"]
    inputs = ", ".join(_param(p, indexed=kind == "event") for p in item.get("inputs", []))
    text = f"{kind} {item['name']}({inputs})"
    if kind == "function":
        mutability = item.get("stateMutability", "nonpayable")
        if mutability != "nonpayable":
            text += f" {mutability}"
        outputs = item.get("outputs", [])
        if outputs:
            text += " returns (" + ", ".join(_param(p) for p in outputs) + ")"
    elif kind == "event" and item.get("anonymous"):
        text += " anonymous"
    return text


def selector(item: dict[str, Any]) -> str:
    digest = keccak(signature(item).encode("ascii"))
    return "0x" + (digest.hex() if item["type"] == "event" else digest[:4].hex())


def load_abi(name: str) -> list[dict[str, Any]]:
    abi: list[dict[str, Any]] = json.loads((ARTIFACTS / f"{name}.json").read_text())["abi"]
    return abi


def structs_of(abi: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every struct an ABI names, by name, with its components in field order."""
    found: dict[str, list[dict[str, Any]]] = {}

    def visit(param: dict[str, Any]) -> None:
        internal = str(param.get("internalType", ""))
        if internal.startswith("struct "):
            found[internal[len("struct ") :].rsplit(".", 1)[-1].split("[", 1)[0]] = param["components"]
        for component in param.get("components", []):
            visit(component)

    for item in abi:
        for param in [*item.get("inputs", []), *item.get("outputs", [])]:
            visit(param)
    return found


def struct_declaration(name: str, components: list[dict[str, Any]]) -> str:
    fields = " ".join(f"{solidity_type(c)} {c['name']};" for c in components)
    return f"struct {name} {{ {fields} }}"


def struct_abi(components: list[dict[str, Any]]) -> str:
    return "(" + ",".join(abi_type(c) for c in components) + ")"


def entries(name: str) -> list[tuple[str, str, str]]:
    """(kind, declaration, selector or topic0) of every function, event and error of one artifact."""
    abi = load_abi(name)
    rows = []
    for kind in ("function", "event", "error"):
        items = sorted((i for i in abi if i["type"] == kind), key=lambda i: (i["name"], signature(i)))
        rows += [(kind, declaration(i), selector(i)) for i in items]
    return rows


def render() -> str:
    """The appendix text between the markers."""
    lines = [
        BEGIN,
        "<!-- Generated by scripts/protocol_abi.py from src/tracechain/chain/artifacts/*.json: do not edit. -->",
        "",
    ]
    structs: dict[str, list[dict[str, Any]]] = {}
    for name in CONTRACTS:
        structs.update(structs_of(load_abi(name)))
        lines += [f"### A.{CONTRACTS.index(name) + 1} {name}", ""]
        heading = {"function": "selector", "event": "topic0", "error": "selector"}
        for kind in ("function", "event", "error"):
            rows = [r for r in entries(name) if r[0] == kind]
            if not rows:
                continue
            lines += [f"| {kind} | {heading[kind]} |", "|---|---|"]
            lines += [f"| `{decl}` | `{sel}` |" for _, decl, sel in rows]
            lines.append("")
    lines += [
        f"### A.{len(CONTRACTS) + 1} Structs (field order = ABI tuple order)",
        "",
        "| struct | ABI tuple |",
        "|---|---|",
    ]
    lines += [f"| `{struct_declaration(n, c)}` | `{struct_abi(c)}` |" for n, c in sorted(structs.items())]
    lines += ["", END]
    return "\n".join(lines)


def updated(text: str) -> str:
    """`text` (PROTOCOL.md) with its appendix replaced by a fresh rendering."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + render() + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = PROTOCOL.read_text()
    fresh = updated(text)
    if args.check:
        if fresh != text:
            print("docs/PROTOCOL.md Appendix A is stale: run scripts/protocol_abi.py", file=sys.stderr)
            return 1
        return 0
    PROTOCOL.write_text(fresh)
    print(f"wrote Appendix A of {PROTOCOL.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
