"""Loads docs/schemas/*.schema.json (JSON Schema 2020-12) and validates documents against them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"


# Fields a schema requires that the code does not produce until another engineer's pending work lands
# (docs/PROTOCOL.md marks it): by schema, the fields and whether that work is still pending. Once it
# has landed the fields are required like any other.
def _rights_v1() -> bool:
    from tracechain.chain import rights

    return not hasattr(rights, "dataset_id_of")  # the rights engineer's content-hash registration


PENDING: dict[str, tuple[set[str], Callable[[], bool]]] = {
    "dataset": ({"content_hash"}, _rights_v1),
    "right-check": ({"dataset_registered"}, _rights_v1),
}


@cache
def schema(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return body


def names() -> list[str]:
    return sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))


@cache
def registry() -> Registry:  # type: ignore[type-arg]
    resources = [(schema(n)["$id"], Resource.from_contents(schema(n))) for n in names()]
    return Registry().with_resources(resources)


def errors(instance: Any, name: str, pending: Iterable[str] = ()) -> list[str]:
    """Every way `instance` breaks schema `name` (its pending top-level fields may be absent)."""
    body = copy.deepcopy(schema(name))
    missing = [f for f in pending if isinstance(instance, dict) and f not in instance]
    if missing:
        body["required"] = [f for f in body["required"] if f not in missing]
    validator = Draft202012Validator(body, registry=registry())
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(instance)]


def validate(instance: Any, name: str) -> None:
    """Assert that `instance` matches schema `name` (without its PENDING fields while they are pending)."""
    fields, pending = PENDING.get(name, (set(), lambda: False))
    found = errors(instance, name, fields if pending() else ())
    assert not found, f"{name}: " + "; ".join(found[:10])
