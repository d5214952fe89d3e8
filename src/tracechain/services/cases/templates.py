"""Process templates: the ordered step kinds of a procurement, who signs each, what each measures
(budget, ordered, shipped, received, warehoused, invoiced, paid) and the JSON Schema of its document.
A template is data (JSON, versioned); its hash — keccak256 of its canonical JSON — is part of every
case opened under it, and its signer rules are what the contract enforces."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tracechain import errors
from tracechain.chain.cases import MAX_KINDS, SIGNER_BITS, StepRule, encode_kind_name, pack_rules
from tracechain.hashing import document_hash, to_hex

TEMPLATE_TYPE = "tracechain/case-template"
DEFAULT_TEMPLATE = "procurement-v1.json"
MEASURES = ("budget", "ordered", "shipped", "received", "warehoused", "invoiced", "paid")


@dataclass(frozen=True)
class StepKind:
    """One kind of step of a template; `code` is its 1-based position, the contract's kind code."""

    code: int
    kind: str
    title: str
    signers: tuple[str, ...]  # in signing order: buyer, supplier, inspector
    names_supplier: bool = False
    closes: bool = False
    measure: str | None = None
    after: tuple[str, ...] = ()
    required: bool = True
    repeatable: bool = False
    epcis_biz_steps: tuple[str, ...] = ()  # business steps of EPCIS events that may stand for this step

    @property
    def rule(self) -> StepRule:
        rule = StepRule(0)
        for role in self.signers:
            rule |= SIGNER_BITS[role]
        if self.names_supplier:
            rule |= StepRule.NAMES_SUPPLIER
        if self.closes:
            rule |= StepRule.CLOSES
        return rule


@dataclass(frozen=True)
class CaseTemplate:
    """A parsed, checked template and its canonical hash."""

    document: dict[str, Any] = field(repr=False)
    name: str
    version: str
    title: str
    steps: tuple[StepKind, ...]
    hash: str  # 0x-hex keccak256 of the canonical JSON

    @property
    def hash_bytes(self) -> bytes:
        return bytes.fromhex(self.hash[2:])

    @property
    def rules(self) -> bytes:
        """The rules word the contract holds for this template."""
        return pack_rules({s.code: int(s.rule) for s in self.steps})

    @property
    def kind_names(self) -> tuple[str, ...]:
        return tuple(s.kind for s in self.steps)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def step(self, kind: str | int) -> StepKind:
        """The step kind named `kind` (or with code `kind`).

        Raises:
            InvalidInputError: the template has no such kind.
        """
        for s in self.steps:
            if s.kind == kind or s.code == kind:
                return s
        raise errors.InvalidInputError(
            f"template {self.label} has no step kind {kind!r}", hint=f"one of: {', '.join(self.kind_names)}"
        )

    def kinds_measuring(self, measure: str) -> tuple[str, ...]:
        return tuple(s.kind for s in self.steps if s.measure == measure)

    def validator(self, kind: str) -> Draft202012Validator | None:
        """The JSON Schema validator of `kind`'s documents (None when the template gives no schema)."""
        return _validator(self.hash, json.dumps(self.document, sort_keys=True), kind)


def parse_template(doc: Any) -> CaseTemplate:
    """Check a template document and parse it.

    Raises:
        CaseTemplateError: not a valid template (shape, kinds, signers, schemas).
    """
    if not isinstance(doc, dict) or doc.get("type") != TEMPLATE_TYPE:
        raise errors.CaseTemplateError(f"a case template is a JSON object with type {TEMPLATE_TYPE!r}")
    name, version = doc.get("name"), doc.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        raise errors.CaseTemplateError("a case template needs a name and a version")
    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not 1 <= len(raw_steps) <= MAX_KINDS:
        raise errors.CaseTemplateError(f"a case template lists 1..{MAX_KINDS} steps")
    steps: list[StepKind] = []
    for code, raw in enumerate(raw_steps, start=1):
        steps.append(_step(code, raw))
    kinds = [s.kind for s in steps]
    if len(set(kinds)) != len(kinds):
        raise errors.CaseTemplateError("a step kind is listed twice")
    for s in steps:
        unknown = [k for k in s.after if k not in kinds or k == s.kind]
        if unknown:
            raise errors.CaseTemplateError(f"step {s.kind!r} comes after unknown kinds {unknown}")
    schemas = doc.get("schemas", {})
    if not isinstance(schemas, dict) or any(k not in kinds for k in schemas):
        raise errors.CaseTemplateError("schemas must be an object keyed by step kinds of the template")
    template = CaseTemplate(
        document=doc,
        name=name,
        version=version,
        title=str(doc.get("title", name)),
        steps=tuple(steps),
        hash=to_hex(document_hash(doc)),
    )
    for s in steps:
        template.validator(s.kind)  # a broken schema fails here, not on first use
    return template


def _step(code: int, raw: Any) -> StepKind:
    if not isinstance(raw, dict):
        raise errors.CaseTemplateError(f"step {code} must be an object")
    kind = raw.get("kind")
    try:
        encode_kind_name(kind)  # type: ignore[arg-type]  # checked here
    except errors.InvalidInputError as exc:
        raise errors.CaseTemplateError(f"step {code}: {exc.message}", hint=exc.hint) from None
    signers = raw.get("signers")
    if not isinstance(signers, list) or not signers or any(r not in SIGNER_BITS for r in signers):
        raise errors.CaseTemplateError(f"step {kind!r}: signers must list buyer, supplier and/or inspector")
    order = [r for r in SIGNER_BITS if r in signers]
    if signers != order:
        raise errors.CaseTemplateError(f"step {kind!r}: list signers in the order buyer, supplier, inspector")
    measure = raw.get("measure")
    if measure is not None and measure not in MEASURES:
        raise errors.CaseTemplateError(f"step {kind!r}: measure must be one of {', '.join(MEASURES)}")
    after = raw.get("after", [])
    epcis = raw.get("epcis", [])
    if not isinstance(after, list) or not isinstance(epcis, list):
        raise errors.CaseTemplateError(f"step {kind!r}: after and epcis are lists")
    return StepKind(
        code=code,
        kind=str(kind),
        title=str(raw.get("title", kind)),
        signers=tuple(order),
        names_supplier=bool(raw.get("namesSupplier", False)),
        closes=bool(raw.get("closes", False)),
        measure=measure,
        after=tuple(after),
        required=bool(raw.get("required", True)),
        repeatable=bool(raw.get("repeatable", False)),
        epcis_biz_steps=tuple(epcis),
    )


@cache
def _validator(template_hash: str, document: str, kind: str) -> Draft202012Validator | None:
    """One compiled validator per (template, kind), shared by every read."""
    doc = json.loads(document)
    schema = doc.get("schemas", {}).get(kind)
    if schema is None:
        return None
    full = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": doc.get("$defs", {}), **schema}
    try:
        Draft202012Validator.check_schema(full)
    except SchemaError as exc:
        message = f"the schema of step {kind!r} is not a valid JSON Schema: {exc.message}"
        raise errors.CaseTemplateError(message) from None
    return Draft202012Validator(full)


@cache
def builtin_templates() -> dict[str, CaseTemplate]:
    """The templates shipped with TraceChain, by hash."""
    folder = resources.files("tracechain.services.cases").joinpath("templates")
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            template = parse_template(json.loads(entry.read_text(encoding="utf-8")))
            found[template.hash] = template
    return found


def default_template() -> CaseTemplate:
    """The default procurement template (demand and approval to settlement)."""
    folder = resources.files("tracechain.services.cases").joinpath("templates")
    doc = json.loads(folder.joinpath(DEFAULT_TEMPLATE).read_text(encoding="utf-8"))
    return builtin_templates()[to_hex(document_hash(doc))]
