"""GS1 CBV 2.0 Event Hash IDs (CBV 2.0 section 8.9, ``ni:///sha-256;<hex>?ver=CBV2.0``), computed natively.

The pre-hash string is built exactly as GS1's reference generator (``epcis-event-hash-generator`` 1.9.3,
the test oracle) builds it for JSON/JSON-LD, without its per-event JSON-LD processing:

* standard fields in the canonical property order; list entries sorted; values trimmed; numbers without
  trailing zeros; times in UTC with milliseconds (rounded half-even on microseconds, as the generator
  does); CBV URNs, bare CBV terms and declared CURIEs expanded to Web URIs; EPC URNs and Digital Link
  URIs on any host converted to the constrained canonical Digital Link on ``https://id.gs1.org``
  (`gs1_digital_link`, which mirrors the generator's normaliser, quirks included);
* user extensions, ``ilmd``, ``bizTransactionList``, ``sourceList`` and ``destinationList`` appended as the
  generator appends them: sorted, namespaced keys as ``{namespace}local``; extensions inside
  ``readPoint``, ``bizLocation`` and sensor elements at the end of their parent.

Where the generator's result depends on something other than the event itself, the native ID follows
the CBV (an event's ID is a function of the event's content alone):

* each ``bizTransaction``/``source``/``destination`` entry hashes as its type then its ID, whatever the
  JSON key order (the generator concatenates them in key order, so a re-serialised document - e.g. keys
  sorted into canonical JSON order - got another ID: the false tamper alarm). GS1 writes the type first,
  so GS1's documents get the generator's IDs; an entry without a type hashes as its ID alone (the
  generator fails on it);
* bare CBV values are expanded from the event's own fields (the generator looks across the whole
  document, so a bare word in one event could expand because of another event);
* the event's own ``@context`` supplies namespaces and is not hashed (the generator only reads the
  document's and would hash an event-level ``@context`` as an extension);
* the ``epcis-context-simple.jsonld`` context gives standard terms the same meaning as the full context.

`ignore_fields` implements the generator's document-level ``{prefix}:ignoreFields`` convention (see
`documents.py`): top-level event fields listed there are left out of the pre-hash string.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from tracechain.epcis.vocabulary import CONTEXT_PREFIXES, Vocabulary, terms_of, vocabulary_uri
from tracechain.errors import InvalidInputError

HASH_ID_PREFIX = "ni:///sha-256;"
HASH_ID_SUFFIX = "?ver=CBV2.0"
_HASH_ID = re.compile(r"ni:///sha-256;([0-9a-fA-F]{64})\?ver=CBV2\.0")

# ---------------------------------------------------------------- canonical property order
# (name, sub-order or None). bizTransactionList, sourceList and destinationList are appended with the
# extensions, after sensorElementList, as the reference generator does.
_QUANTITY = (("epcClass", None), ("quantity", None), ("uom", None))
_SENSOR_METADATA = tuple(
    (name, None)
    for name in ("time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
                 "bizRules")
)  # fmt: skip
_SENSOR_REPORT = tuple(
    (name, None)
    for name in ("type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
                 "microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue",
                 "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue",
                 "uom", "coordinateReferenceSystem")
)  # fmt: skip
_Order = tuple[tuple[str, Any], ...]
_PROPERTY_ORDER: _Order = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", (("epc", None),)),
    ("inputEPCList", (("epc", None),)),
    ("childEPCs", (("epc", None),)),
    ("quantityList", (("quantityElement", _QUANTITY),)),
    ("childQuantityList", (("quantityElement", _QUANTITY),)),
    ("inputQuantityList", (("quantityElement", _QUANTITY),)),
    ("outputEPCList", (("epc", None),)),
    ("outputQuantityList", (("quantityElement", _QUANTITY),)),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    (
        "sensorElementList",
        (("sensorElement", (("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT))),),
    ),
)
_NOT_HASHED = frozenset({"recordTime", "eventID", "type", "errorDeclaration"})
_NEVER_CONVERTED = frozenset({"#text", "rdfs:comment", "comment"})
_PAIR_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
_PAIR_KEYS = frozenset(_PAIR_LISTS.values())
_VOCAB_PREFIXES = ("https://ref.gs1.org/cbv", "https://gs1.org/voc")


# ---------------------------------------------------------------- the tree (name, value, children)
# An element is a tuple (name, value, children) as the generator models it; `value` is the raw JSON
# scalar (rewritten and stringified when hashed). A bizTransaction/source/destination entry is a _Pair.
class _Pair(tuple[Any, ...]):
    """A bizTransaction/source/destination entry: its type element then its ID element (order fixed)."""

    __slots__ = ()


class _Converter:
    """Turns one event (a JSON object) into the generator's tree and hashes it, with the value rewrites
    that need the event's context: bare CBV terms expanded, declared CURIEs and namespaced keys expanded."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self.key_ns = {p: "{" + iri + "}" for p, iri in namespaces.items()}
        self.value_ns = {p: iri.replace("{", "").replace("}", "") for p, iri in namespaces.items()}
        self.web_uris: set[str] = set()  # CBV/GS1 Web URIs among the values (for bare-term expansion)
        self.expansions: Mapping[str, str] = {}

    # ------------------------------------------------------------ JSON -> tree
    def key(self, key: str) -> str:
        if ":" in key:
            prefix, _, local = key.partition(":")
            namespace = self.key_ns.get(prefix)
            if namespace is not None:
                return namespace + local
        return key

    def children(self, obj: Mapping[str, Any], skip: Collection[str] = ()) -> list[Any]:
        """The child elements of a JSON object, with the generator's list restructuring applied."""
        nodes: list[Any] = []
        lists: dict[str, list[Any]] = {}
        for raw_key, val in obj.items():
            if raw_key in _NEVER_CONVERTED or raw_key in skip:
                continue
            if isinstance(val, list) and not val:
                continue  # an empty list is no element at all
            key = self.key(raw_key)
            if key.endswith("List"):
                target = lists.setdefault(key, [])
            elif key == "childEPCs":
                target = lists.setdefault(key, [])
            else:
                target = nodes
            if isinstance(val, list):
                for v in val:
                    target.append(self.element(key, v))
            else:
                target.append(self.element(key, val))
        for key, elements in lists.items():
            if key in _PAIR_LISTS:
                nodes.append((key, "", [_pair(e, _PAIR_LISTS[key]) for e in elements]))
            elif key == "childEPCs":
                nodes.append((key, "", [("epc", e[1], []) for e in elements]))
            else:
                item = _ITEM_NAMES.get(key) or key[:-4]
                nodes.append((key, "", [_renamed((item, e[1], e[2])) for e in elements]))
        return nodes

    def element(self, key: str, val: Any) -> tuple[str, Any, list[Any]]:
        if isinstance(val, dict):
            return _renamed((key, val.get("#text", ""), self.children(val)))
        if isinstance(val, list):  # a list inside a list: its entries keep their own names
            return (key, "", [self.nested(v) for v in val])
        return (key, val, [])

    def nested(self, val: Any) -> tuple[str, Any, list[Any]]:
        if isinstance(val, dict):
            name = val.get("type", "")
            return (name if isinstance(name, str) else "", val.get("#text", ""), self.children(val))
        if isinstance(val, list):
            return ("", "", [self.nested(v) for v in val])
        return ("", val, [])

    # ------------------------------------------------------------ tree -> pre-hash string
    def text(self, value: Any) -> str:
        """A raw value as the generator stringifies it: bare CBV terms and declared CURIEs expanded."""
        if isinstance(value, str):
            value = self.expansions.get(value, value)
            if ":" in value:
                prefix, _, rest = value.partition(":")
                namespace = self.value_ns.get(prefix)
                if namespace is not None:
                    return namespace + rest
            return value
        return str(value)

    def ordered(self, children: list[Any], order: _Order) -> tuple[str, list[Any]]:
        """The pre-hash of `children` in `order`, and the children it did not consume."""
        remaining = list(children)
        extensions = _gather_extensions(remaining)
        by_name: dict[str, list[int]] = {}
        for i, c in enumerate(remaining):
            by_name.setdefault(c[0], []).append(i)
        pre_hash = ""
        dropped: set[int] = set()
        for child_name, sub_order in order:
            indexes = by_name.get(child_name)
            if not indexes:
                continue
            values = []
            for i in indexes:
                text, left = self.child(remaining[i], sub_order)
                if text:
                    values.append(text)
                if left:
                    remaining[i] = (remaining[i][0], remaining[i][1], left)
                else:
                    dropped.add(i)
            if values:
                values.sort()
                pre_hash += "".join(values)
        if extensions:
            pre_hash += self.generic(extensions)
        if dropped:
            remaining = [c for i, c in enumerate(remaining) if i not in dropped]
        return pre_hash, remaining

    def event_fields(self, event: Mapping[str, Any], skip: Collection[str]) -> tuple[str, list[Any]]:
        """`ordered` for a whole event that has an eventTime, field by field: plain shapes (scalars, lists
        of IDs, {id}, quantity elements, set/unset) directly, any other shape through the tree."""
        parts = []
        leftovers: list[Any] = []
        for name, sub_order in _PROPERTY_ORDER:
            if name not in event or name in skip:
                continue
            val = event[name]
            text = self.plain_field(name, val)
            if text is None:
                values = []
                for node in self.children({name: val}):
                    node_text, left = self.child(node, sub_order)
                    if node_text:
                        values.append(node_text)
                    if left:
                        leftovers.append((node[0], node[1], left))
                values.sort()
                text = "".join(values)
            parts.append(text)
        rest = {k: v for k, v in event.items() if k not in _ORDER_NAMES and k not in skip and k not in _NOT_HASHED}
        if rest:
            leftovers.extend(self.children(rest))
        return "".join(parts), leftovers

    def plain_field(self, name: str, val: Any) -> str | None:
        """The pre-hash of a standard field of a plain shape, or None for any other shape."""
        if name in _SCALAR_FIELDS:
            if isinstance(val, dict | list):
                return None
            text = self.text(val).strip()
            if not text:
                return ""
            return f"{name}={_utc_millis(text) if name == 'eventTime' else canonical_value(text)}"
        if name in _EPC_LISTS:
            items = val if isinstance(val, list) else [val]
            values = []
            for item in items:
                if isinstance(item, dict | list):
                    return None
                text = self.text(item).strip()
                if text:
                    values.append("epc=" + canonical_value(text))
            if not values:
                return ""
            values.sort()
            return name + "".join(values)
        if name in ("readPoint", "bizLocation"):
            if not isinstance(val, dict) or val.keys() != {"id"} or isinstance(val["id"], dict | list):
                return None
            text = self.text(val["id"]).strip()
            return f"{name}id={canonical_value(text)}" if text else ""
        if name in _QUANTITY_LISTS:
            if not isinstance(val, list):
                return None
            values = []
            for element in val:
                if not isinstance(element, dict) or not element or not element.keys() <= _QUANTITY_KEYS:
                    return None
                parts = []
                for key in ("epcClass", "quantity", "uom"):
                    if key in element:
                        item = element[key]
                        if isinstance(item, dict | list):
                            return None
                        text = self.text(item).strip()
                        if text:
                            parts.append(f"{key}={canonical_value(text)}")
                if parts:
                    values.append("quantityElement" + "".join(parts))
            if not values:
                return ""
            values.sort()
            return name + "".join(values)
        if name == "persistentDisposition":
            if not isinstance(val, dict) or not val.keys() <= {"set", "unset"}:
                return None
            grand = ""
            for key in ("set", "unset"):
                items = val.get(key, [])
                values = []
                for item in items if isinstance(items, list) else [items]:
                    if isinstance(item, dict | list):
                        return None
                    text = self.text(item).strip()
                    if text:
                        values.append(f"{key}={canonical_value(text)}")
                values.sort()
                grand += "".join(values)
            return name + grand if grand else ""
        return None

    def child(self, child: tuple[str, Any, list[Any]], sub_order: _Order | None) -> tuple[str, list[Any]]:
        name, value, kids = child
        grand, left = ("", kids) if not sub_order else self.ordered(kids, sub_order)
        text = self.text(value).strip()
        if text:
            text = "=" + (_utc_millis(text) if _is_time(name) else canonical_value(text))
        if text or grand:
            return name + text + grand, left
        return "", left

    def generic(self, children: Iterable[Any]) -> str:
        """The generator's pre-hash of elements outside the property order: name[=value] and children,
        sorted (except the two halves of a bizTransaction/source/destination entry)."""
        values = []
        sort = True
        for child in children:
            if isinstance(child, _Pair):
                values.append(self.generic(child))
                continue
            name, value, kids = child
            if name in _PAIR_KEYS:
                sort = False
            text = self.text(value).strip()
            if text:
                text = "=" + canonical_value(text)
            values.append(name + text + self.generic(kids) if kids else name + text)
        if len(values) > 1 and sort:
            values.sort()
        return "".join(values)


_ITEM_NAMES = {"inputEPCList": "epc", "outputEPCList": "epc"}
_ORDER_NAMES = frozenset(name for name, _ in _PROPERTY_ORDER)
_SCALAR_FIELDS = frozenset(name for name, sub in _PROPERTY_ORDER if sub is None)
_EPC_LISTS = frozenset({"epcList", "inputEPCList", "outputEPCList", "childEPCs"})
_QUANTITY_LISTS = frozenset({"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"})
_QUANTITY_KEYS = frozenset({"epcClass", "quantity", "uom"})


@lru_cache(maxsize=1024)
def _is_time(name: str) -> bool:
    """The generator formats a value as a time when its element name says 'time' (not 'offset')."""
    lower = name.lower()
    return "time" in lower and "offset" not in lower


def _renamed(node: tuple[str, Any, list[Any]]) -> tuple[str, Any, list[Any]]:
    """The generator's JSON-to-XML model corrections of element names."""
    name = node[0]
    if name in ("inputQuantity", "outputQuantity", "childQuantity") or (name == "quantity" and node[2]):
        return ("quantityElement", node[1], node[2])
    return node


def _pair(element: tuple[str, Any, list[Any]], id_key: str) -> _Pair:
    kids = element[2]
    type_nodes = [k for k in kids if k[0] == "type"]
    id_nodes = [k for k in kids if k[0] == id_key]
    return _Pair(type_nodes[:1] + id_nodes[:1])


def _gather_extensions(children: list[Any]) -> list[Any]:
    """Remove and return the namespaced user extensions of an element (not at event level)."""
    if len(children) <= 1:
        return []
    for c in children:
        if "eventTime" in c[0] or "action" in c[0]:
            return []
    found = [c for c in children if "{" in c[0] and "/}" in c[0]]
    for ext in found:
        children.remove(ext)
    return found


def pre_hash_string(
    event: Mapping[str, Any],
    *,
    namespaces: Mapping[str, str] | None = None,
    ignore_fields: Collection[str] = (),
) -> str:
    """The CBV 2.0 pre-hash string of an EPCIS 2.0 JSON event (see module docs).

    `namespaces` maps extension prefixes to namespace IRIs (the document's @context); the event's own
    @context adds to them. `ignore_fields` are top-level fields left out (the ignoreFields convention).

    Raises:
        InvalidInputError: not a JSON object, or a time field that is not an ISO 8601 date-time with offset.
    """
    if not isinstance(event, Mapping):
        raise InvalidInputError("an EPCIS event must be a JSON object")
    ns = dict(namespaces or {})
    context = event.get("@context")
    if context is not None:
        ns.update(context_namespaces(context))
    key = ignore_fields_key(ns)
    if key is not None and key in event:  # a declaration carried into the event from its document
        ignore_fields = {*ignore_fields, key, *declared_ignore_fields(event, ns)}
    converter = _Converter(ns)
    skip = _skipped(ignore_fields)
    _collect_web_uris(event, skip, converter.web_uris)
    converter.expansions = _bare_term_expansions(event, converter.web_uris)
    if "eventTime" in event and "eventTime" not in skip:
        ordered, remaining = converter.event_fields(event, skip)
    else:  # no eventTime: the generator would gather extensions at event level too
        ordered, remaining = converter.ordered(converter.children(event, skip=skip), _PROPERTY_ORDER)
    leftovers = [c for c in remaining if c[0] not in _NOT_HASHED]
    kind = event.get("type", "")
    rest = converter.generic(leftovers) if leftovers else ""
    return f"eventType={kind if isinstance(kind, str) else ''}{ordered}{rest}"


def _collect_web_uris(event: Mapping[str, Any], skip: Collection[str], out: set[str]) -> None:
    """Add the CBV/GS1 Web URIs among the event's values (what the generator's expansion would see)."""
    stack: list[Any] = [v for k, v in event.items() if k not in skip and k not in _NEVER_CONVERTED]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if value.startswith(_VOCAB_PREFIXES):
                out.add(value)
        elif isinstance(value, dict):
            stack.extend(v for k, v in value.items() if k not in _NEVER_CONVERTED)
        elif isinstance(value, list):
            stack.extend(value)


@lru_cache(maxsize=256)
def _skipped_cached(ignore_fields: frozenset[str]) -> frozenset[str]:
    return ignore_fields | {"@context"}


def _skipped(ignore_fields: Collection[str]) -> frozenset[str]:
    return _skipped_cached(frozenset(ignore_fields)) if ignore_fields else _CONTEXT_ONLY


_CONTEXT_ONLY = frozenset({"@context"})


def event_hash_id(
    event: Mapping[str, Any],
    *,
    namespaces: Mapping[str, str] | None = None,
    ignore_fields: Collection[str] = (),
) -> str:
    """The GS1 CBV 2.0 Event Hash ID of an EPCIS 2.0 JSON event (``ni:///sha-256;<hex>?ver=CBV2.0``).

    Raises:
        InvalidInputError: see `pre_hash_string`.
    """
    pre_hash = pre_hash_string(event, namespaces=namespaces, ignore_fields=ignore_fields)
    return HASH_ID_PREFIX + hashlib.sha256(pre_hash.encode("utf-8", "surrogatepass")).hexdigest() + HASH_ID_SUFFIX


def event_hash_id_digest(hash_id: str) -> bytes:
    """The 32-byte sha-256 digest inside a CBV 2.0 Event Hash ID (for a bytes32 on chain).

    Raises:
        InvalidInputError: not a ``ni:///sha-256;<64 hex>?ver=CBV2.0`` string.
    """
    match = _HASH_ID.fullmatch(hash_id) if isinstance(hash_id, str) else None
    if match is None:
        raise InvalidInputError(
            f"not a CBV 2.0 sha-256 Event Hash ID: {hash_id!r}",
            hint="expected ni:///sha-256;<64 hex digits>?ver=CBV2.0",
        )
    return bytes.fromhex(match.group(1))


def hash_id_of(digest: bytes | str) -> str:
    """The CBV 2.0 Event Hash ID whose sha-256 digest is `digest` (32 bytes or 0x-hex)."""
    hex_digest = digest.hex() if isinstance(digest, bytes | bytearray) else digest.lower().removeprefix("0x")
    return f"{HASH_ID_PREFIX}{hex_digest}{HASH_ID_SUFFIX}"


# The generator's ignoreFields convention: a document (or query results) field '{prefix}:ignoreFields',
# where the prefix maps to this namespace, lists top-level event fields a repository added (its own
# hashes, capture IDs) that the Event Hash ID leaves out.
IGNORE_FIELDS_NAMESPACE = "https://repository-x.example.com/"


def ignore_fields_key(namespaces: Mapping[str, str]) -> str | None:
    """The '{prefix}:ignoreFields' key of the ignoreFields convention, if a prefix maps to its namespace."""
    for prefix, iri in namespaces.items():
        if iri == IGNORE_FIELDS_NAMESPACE:
            return f"{prefix}:ignoreFields"
    return None


def declared_ignore_fields(holder: Mapping[str, Any], namespaces: Mapping[str, str]) -> tuple[str, ...]:
    """The fields `holder` (a document, query results or event) declares ignored, or ().

    Raises:
        InvalidInputError: the declaration is not a list of strings.
    """
    key = ignore_fields_key(namespaces)
    if key is None or key not in holder:
        return ()
    fields = holder[key]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise InvalidInputError(f"{key} must be a list of field names")
    return tuple(fields)


def context_namespaces(context: Any) -> dict[str, str]:
    """The {prefix: namespace IRI} entries of a JSON-LD @context (strings and term definitions skipped)."""
    entries = context if isinstance(context, list) else [context]
    found: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, dict):
            found.update({k: v for k, v in entry.items() if isinstance(k, str) and isinstance(v, str)})
    return found


# ---------------------------------------------------------------- bare CBV terms
def _vocab_values(event: Mapping[str, Any]) -> Iterable[tuple[Vocabulary, Any]]:
    """(vocabulary, value) of every field whose JSON-LD type makes bare terms expand."""
    yield Vocabulary.BIZ_STEP, event.get("bizStep")
    yield Vocabulary.DISPOSITION, event.get("disposition")
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, dict):
        for key in ("set", "unset"):
            values = persistent.get(key)
            for value in values if isinstance(values, list) else [values]:
                yield Vocabulary.DISPOSITION, value
    for key, vocabulary in (
        ("bizTransactionList", Vocabulary.BIZ_TRANSACTION_TYPE),
        ("sourceList", Vocabulary.SOURCE_DESTINATION_TYPE),
        ("destinationList", Vocabulary.SOURCE_DESTINATION_TYPE),
    ):
        entries = event.get(key)
        if entries is not None:
            for entry in entries if isinstance(entries, list) else [entries]:
                if isinstance(entry, dict):
                    yield vocabulary, entry.get("type")
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, dict):
        yield Vocabulary.ERROR_REASON, declaration.get("reason")
    elements = event.get("sensorElementList")
    if isinstance(elements, list):
        for element in elements:
            reports = element.get("sensorReport") if isinstance(element, dict) else None
            for report in reports if isinstance(reports, list) else [reports]:
                if isinstance(report, dict):
                    yield Vocabulary.MEASUREMENT_TYPE, report.get("type")
                    yield Vocabulary.SENSOR_ALERT_TYPE, report.get("exception")
                    yield Vocabulary.COMPONENT, report.get("component")


def _bare_term_expansions(event: Mapping[str, Any], web_uris: set[str]) -> Mapping[str, str]:
    """{bare value: Web URI} for the event's string values the generator's JSON-LD step would expand:
    a value is replaced when exactly one of the event's CBV/GS1 Web URIs (its expanded standard terms
    and the Web URIs it holds; `web_uris` has the latter) ends in '-value' or '/value'."""
    uris = web_uris
    for vocabulary, value in _vocab_values(event):
        if not isinstance(value, str):
            continue
        if value in terms_of(vocabulary):
            uris.add(vocabulary_uri(vocabulary, value))
        elif ":" in value:
            prefix, _, rest = value.partition(":")
            if prefix in CONTEXT_PREFIXES and not rest.startswith("//"):
                expanded = CONTEXT_PREFIXES[prefix] + rest
                if expanded.startswith(_VOCAB_PREFIXES):
                    uris.add(expanded)
    return _suffix_map(frozenset(uris)) if uris else {}


@lru_cache(maxsize=4096)
def _suffix_map(uris: frozenset[str]) -> dict[str, str]:
    by_suffix: dict[str, set[str]] = {}
    for uri in uris:
        for i, c in enumerate(uri):
            if c in "-/":
                by_suffix.setdefault(uri[i + 1 :], set()).add(uri)
    return {suffix: next(iter(found)) for suffix, found in by_suffix.items() if len(found) == 1}


# ---------------------------------------------------------------- values
_WEB_VOCABULARY = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)


@lru_cache(maxsize=131_072)
def canonical_value(text: str) -> str:
    """A (trimmed) value as the pre-hash string holds it: CBV URNs as Web URIs, numbers without trailing
    zeros, GS1 identifiers as constrained canonical Digital Link URIs."""
    if "urn:epcglobal:cbv:" in text:
        for urn, uri in _WEB_VOCABULARY:
            text = text.replace(urn, uri)
    if text[:1] in _NUMBER_STARTS or not text[:1].isascii():  # float() takes these, with Unicode digits
        try:
            number = float(text)
            text = str(int(number)) if int(number) == number else str(number)
        except (ValueError, OverflowError):  # not a number, or an infinite one (kept as text)
            pass
    return gs1_digital_link(text) or text


_NUMBER_STARTS = frozenset("0123456789+-._iInN")


ISO_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))"
)


@lru_cache(maxsize=65_536)
def _utc_millis(text: str) -> str:
    """An ISO 8601 date-time as UTC with milliseconds (``2024-03-01T09:00:00.000Z``).

    Raises:
        InvalidInputError: not a date-time with offset, or its fraction rounds up to a whole second (the
            generator cannot hash such a time: it rounds microseconds half-even to milliseconds and fails
            on 1,000,000).
    """
    match = ISO_DATE_TIME.fullmatch(text)
    if match is None:
        raise InvalidInputError(
            f"time {text!r} is not an ISO 8601 date-time with offset", hint="e.g. 2024-03-01T10:00:00.000+01:00"
        )
    try:
        moment = datetime.fromisoformat(text).astimezone(UTC)  # truncates beyond microseconds, as dateutil
    except ValueError:  # lowercase 't'/'z', or an invalid date
        year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
        micro = int((fraction or "").ljust(6, "0")[:6])
        sign_factor = 1 if sign == "+" else -1
        try:
            offset = timedelta(0) if zulu else sign_factor * timedelta(hours=int(off_h), minutes=int(off_m))
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
                              tzinfo=timezone(offset)).astimezone(UTC)  # fmt: skip
        except (ValueError, OverflowError) as exc:
            raise InvalidInputError(f"time {text!r} is not a valid date-time: {exc}") from exc
    except OverflowError as exc:
        raise InvalidInputError(f"time {text!r} is out of range: {exc}") from exc
    millis = round(moment.microsecond, -3)
    if millis == 1_000_000:
        raise InvalidInputError(
            f"time {text!r} has a fraction that rounds up to a whole second",
            hint="GS1's Event Hash ID generator cannot hash it; use millisecond precision",
        )
    return f"{moment.replace(microsecond=millis).isoformat(timespec='milliseconds')[:-6]}Z"


# ---------------------------------------------------------------- GS1 identifiers in values
_SER = r"(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])"
_C39 = r"(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])"
_CS = r"[\"'\-.0-9;-?A-Z_a-z]"  # GS1 Digital Link value characters the normaliser keeps


def _numeric(total: int, twelve: str | None = None) -> str:
    """Company prefix (6-12 digits) '.' reference, `total` digits in all; `twelve` overrides the
    12-digit alternative (some GS1 patterns write it with an extra dot)."""
    alts = [rf"\d{{{n}}}\.\d{{{total - n}}}" for n in range(6, 12)]
    alts.append(twelve if twelve is not None else rf"\d{{12}}\.\d{{{total - 12}}}")
    return "(?:" + "|".join(alts) + ")"


def _prefix_then(body: str, limits: tuple[int, ...]) -> str:
    return "(?:" + "|".join(rf"\d{{{n}}}\.{body}{{1,{lim}}}" for n, lim in zip(range(6, 13), limits, strict=True)) + ")"


def _urn(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + r"$")


_URN_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("sgtin", _urn(r"urn:epc:id:sgtin:" + _numeric(13) + r"\." + _SER + "{1,20}")),
    ("sscc", _urn(r"urn:epc:id:sscc:" + _numeric(17))),
    ("sgln", _urn(r"urn:epc:id:sgln:" + _numeric(12) + r"\." + _SER + "{1,20}")),
    ("grai", _urn(r"urn:epc:id:grai:" + _numeric(12, r"\d{12}\.\.") + r"\." + _SER + "{1,16}")),
    ("giai", _urn(r"urn:epc:id:giai:" + _prefix_then(_SER, (24, 23, 22, 21, 20, 19, 18)))),
    ("gsrn", _urn(r"urn:epc:id:gsrn:" + _numeric(17))),
    ("gsrnp", _urn(r"urn:epc:id:gsrnp:" + _numeric(17))),
    ("gdti", _urn(r"urn:epc:id:gdti:" + _numeric(12, r"\d{12}\.\.") + _SER + "{1,20}")),
    ("cpi", _urn(r"urn:epc:id:cpi:" + _prefix_then(_C39, (24, 23, 22, 21, 20, 19, 18)) + r"\.\d{1,12}")),
    ("sgcn", _urn(r"urn:epc:id:sgcn:" + _numeric(12) + r"\.\d{1,12}")),
    ("ginc", _urn(r"urn:epc:id:ginc:" + _prefix_then(_SER, (24, 23, 22, 21, 20, 19, 18)))),
    ("gsin", _urn(r"urn:epc:id:gsin:" + _numeric(16))),
    ("itip", _urn(r"urn:epc:id:itip:" + _numeric(13) + r"\.\d{2}\.\d{2}\." + _SER + "{1,20}")),
    ("upui", _urn(r"urn:epc:id:upui:" + _numeric(13) + r"\." + _SER + "{1,28}")),
    ("pgln", _urn(r"urn:epc:id:pgln:" + _numeric(12))),
    ("lgtin", _urn(r"urn:epc:class:lgtin:" + _numeric(13) + r"\." + _SER + "{1,20}")),
    ("idpat-sgtin", _urn(r"urn:epc:idpat:sgtin:" + _numeric(13) + r"\.\*")),
    ("idpat-grai", _urn(r"urn:epc:idpat:grai:" + _numeric(12, r"\d{12}\.\.") + r"\.\*")),
    ("idpat-gdti", _urn(r"urn:epc:idpat:gdti:" + _numeric(12, r"\d{12}\.\.") + r"\.\*")),
    ("idpat-sgcn", _urn(r"urn:epc:idpat:sgcn:" + _numeric(12, r"\d{12}\.\.") + r"\.\*")),
    ("idpat-cpi", _urn(r"urn:epc:idpat:cpi:" + _prefix_then(_C39, (24, 23, 22, 21, 20, 19, 18)) + r"\.\*")),
    ("idpat-itip", _urn(r"urn:epc:idpat:itip:" + _numeric(13) + r"\.\d{2}\.\d{2}\.\*")),
    ("idpat-upui", _urn(r"urn:epc:idpat:upui:" + _numeric(13) + r"\.\*")),
)
_DL_KEYS = (
    "01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin"
    "|8003|grai|8004|giai"
)
_DL_GATE = re.compile(r"https?:[^?#]*/(?:" + _DL_KEYS + r")/\d{4}[^/]")
_DL_SHORT_NAMES = (
    ("/gtin/", "/01/"), ("/itip/", "/8006/"), ("/cpid/", "/8010/"), ("/gln/", "/414/"), ("/party/", "/417/"),
    ("/gsrnp/", "/8017/"), ("/gsrn/", "/8018/"), ("/gcn/", "/255/"), ("/sscc/", "/00/"), ("/gdti/", "/253/"),
    ("/ginc/", "/401/"), ("/gsin/", "/402/"), ("/grai/", "/8003/"), ("/giai/", "/8004/"), ("/cpv/", "/22/"),
    ("/lot/", "/10/"), ("/ser/", "/21/"),
)  # fmt: skip
_DL_PRIMARY = ("00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017", "8018")
_DL_HOST = "https://id.gs1.org"
_DL_CANONICAL = re.compile(
    r"https://id.gs1.org/(?:01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/\d{4}[^/]"
)
_GTIN_PAD = (
    (re.compile(r"https://id.gs1.org/01/\d{13}"), "/01/0"),
    (re.compile(r"https://id.gs1.org/01/\d{12}"), "/01/00"),
    (re.compile(r"https://id.gs1.org/01/\d{8}"), "/01/000000"),
)
_GTIN14 = re.compile(r"https://id.gs1.org/01/\d{14}")
_CPV_ONLY = re.compile(rf"https://id.gs1.org/(?:8006/\d{{18}}|01/\d{{14}})/22/{_CS}{{0,20}}$")
_CPV_THEN = re.compile(r"https://id.gs1.org/(?:8006/\d{18}|01/\d{14})/22/[\"'\-./0-9;-?A-Z_a-z]{0,20}$")
_LOT_AND_SERIAL = re.compile(rf"https://id.gs1.org/(?:8006/\d{{18}}|01/\d{{14}})/10/{_CS}{{0,20}}/21/{_CS}{{0,20}}$")
_DL_VALID = re.compile(
    rf"https://id.gs1.org/(?:00/\d{{18}}|01/\d{{14}}(?:/21/{_CS}{{0,20}}|/10/{_CS}{{0,20}}|/235/{_CS}{{0,28}})?"
    rf"|253/\d{{13}}{_CS}{{0,17}}|255/\d{{13}}\d{{0,12}}|401/{_CS}{{0,30}}|402/\d{{17}}"
    rf"|414/\d{{13}}(?:/254/{_CS}{{0,20}})?|417/\d{{13}}|8003/\d{{14}}{_CS}{{0,16}}|8004/{_CS}{{0,30}}"
    rf"|8006/\d{{18}}(?:/21/{_CS}{{0,20}}|/10/{_CS}{{0,20}})?|8010/[#\-/0-9A-Z]{{0,30}}(?:/8011/\d{{0,12}})?"
    rf"|8017/\d{{18}}|8018/\d{{18}})$"
)
_DL_ESCAPES = str.maketrans({"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"})


@lru_cache(maxsize=65_536)
def _check(body: str) -> str:
    """GS1 mod-10 check digit of `body` (any Unicode decimal digits, as the normaliser accepts)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(math.ceil(total / 10) * 10 - total)


# GTIN-based URN rules and where their company prefix starts.
_GTIN_RULES = {"sgtin": 17, "lgtin": 20, "upui": 16, "itip": 16, "idpat-sgtin": 20, "idpat-upui": 19,
               "idpat-itip": 19}  # fmt: skip


def _urn_to_digital_link(rule: str, uri: str) -> str:
    """The normaliser's output for a URN that matched `rule` (offsets as the TDS layouts fix them)."""
    p = uri.index(".")
    if rule in _GTIN_RULES:
        cp = uri[_GTIN_RULES[rule] : p]
        ref = uri[p + 1 : p + 1 + (13 - len(cp))]
        gtin = ref[:1] + cp + ref[1:]
        gtin += _check(gtin)
        if rule == "sgtin":
            return f"{_DL_HOST}/01/{gtin}/21/{uri[32:].translate(_DL_ESCAPES)}"
        if rule == "lgtin":
            return f"{_DL_HOST}/01/{gtin}/10/{uri[35:].translate(_DL_ESCAPES)}"
        if rule == "upui":
            return f"{_DL_HOST}/01/{gtin}/235/{uri[31:].translate(_DL_ESCAPES)}"
        if rule == "itip":
            return f"{_DL_HOST}/8006/{gtin}{uri[31:33]}{uri[34:36]}/21/{uri[37:].translate(_DL_ESCAPES)}"
        if rule == "idpat-itip":
            return f"{_DL_HOST}/8006/{gtin}{uri[34:36]}{uri[37:39]}"
        return f"{_DL_HOST}/01/{gtin}"
    if rule in ("sscc", "gsrn", "gsrnp", "gsin"):
        cp = uri[(17 if rule == "gsrnp" else 16) : p]
        if rule == "sscc":
            body = uri[p + 1 : p + 2] + cp + uri[p + 2 :]
            return f"{_DL_HOST}/00/{body}{_check(body)}"
        body = cp + uri[p + 1 :]
        ai = {"gsrn": "8018", "gsrnp": "8017", "gsin": "402"}[rule]
        return f"{_DL_HOST}/{ai}/{body}{_check(body)}"
    if rule in ("giai", "ginc"):
        return f"{_DL_HOST}/{'8004' if rule == 'giai' else '401'}/{uri[16:p]}{uri[p + 1 :].translate(_DL_ESCAPES)}"
    if rule in ("cpi", "idpat-cpi"):
        cp = uri[(15 if rule == "cpi" else 18) : p]
        sep = uri.rfind(".")
        cpid = (cp + uri[p + 1 : sep]).translate(_DL_ESCAPES)
        return f"{_DL_HOST}/8010/{cpid}/8011/{uri[sep + 1 :]}" if rule == "cpi" else f"{_DL_HOST}/8010/{cpid}"
    # 12-digit keys: sgln, pgln, grai, gdti, sgcn and their patterns
    idpat = rule.startswith("idpat-")
    cp = uri[(19 if idpat else 16) : p]
    body = cp + uri[p + 1 : p + 1 + (12 - len(cp))]
    scheme = rule.removeprefix("idpat-")
    if scheme == "grai":
        body = "0" + body
    key = body + _check(body)
    if scheme == "sgln":
        ext = uri[30:]
        return f"{_DL_HOST}/414/{key}" if ext == "0" else f"{_DL_HOST}/414/{key}/254/{ext.translate(_DL_ESCAPES)}"
    if scheme == "pgln":
        return f"{_DL_HOST}/417/{key}"
    ai = {"grai": "8003", "gdti": "253", "sgcn": "255"}[scheme]
    if idpat:
        return f"{_DL_HOST}/{ai}/{key}"
    serial = uri[30:]
    return f"{_DL_HOST}/{ai}/{key}{serial if scheme == 'sgcn' else serial.translate(_DL_ESCAPES)}"


@lru_cache(maxsize=65_536)
def gs1_digital_link(uri: str) -> str | None:
    """The constrained canonical GS1 Digital Link URI (``https://id.gs1.org/...``, most specific key level,
    no CPV, no query) of an EPC URN, EPC class/pattern URN or Digital Link URI - exactly as the reference
    generator's normaliser gives it - or None when it is none of these."""
    if "." not in uri:
        return None
    if uri.startswith("urn:epc:"):
        for rule, pattern in _URN_RULES:
            if pattern.match(uri):
                return _urn_to_digital_link(rule, uri)
        return None
    if not _DL_GATE.match(uri):
        return None
    if "?" in uri:
        uri = uri[: uri.index("?")]
    for short, ai in _DL_SHORT_NAMES:
        uri = uri.replace(short, ai)
    if not _DL_CANONICAL.match(uri):
        for ai in _DL_PRIMARY:
            found = uri.find(f"/{ai}/")
            if found != -1:
                uri = _DL_HOST + uri[found:]
                break
    if not _GTIN14.match(uri):
        for pattern, padded in _GTIN_PAD:
            if pattern.match(uri):
                uri = uri.replace("/01/", padded)
                break
    cpv = uri[uri.find("/22/") + 4 :]
    if _CPV_ONLY.match(uri):
        uri = uri[: uri.find("/22/")] + cpv[cpv.find("/") : -1]
    if _CPV_THEN.match(uri):
        uri = uri[: uri.find("/22/")] + cpv[cpv.find("/") :]
    if _LOT_AND_SERIAL.match(uri):
        rest = uri[uri.find("/10/") + 4 :]
        uri = uri[: uri.find("/10/")] + rest[rest.find("/") :]
    return uri if _DL_VALID.match(uri) else None
