#!/usr/bin/env python3
"""Writes docs/vectors/*.json: the test vectors of docs/PROTOCOL.md (protocol version 2).

Every expected value is computed here from first principles - eth-abi, keccak-256, the `rfc8785`
package, GS1's reference Event Hash ID generator (`epcis-event-hash-generator`) and OpenZeppelin's
`@openzeppelin/merkle-tree` (through scripts/oz-merkle.js) - and never with tracechain's own code,
so the tests that hold tracechain and the deployed contracts against these files compare
independent computations (tests/test_protocol_vectors.py).

    python scripts/protocol_vectors.py           # (re)write docs/vectors/
    python scripts/protocol_vectors.py --check   # exit 1 when a committed file is stale

A change to what goes on-chain or how it is hashed changes these files; commit them with the
change, together with docs/PROTOCOL.md and docs/schemas/.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import logging
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785
from eth_abi import encode
from eth_utils import keccak

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "vectors"
PROTOCOL_VERSION = 2
ZERO = "0x" + "00" * 32

# Anvil's default dev accounts 1-5 (mnemonic "test test ... junk", m/44'/60'/0'/0/i): readable
# and, in the tests, registered actors that can reproduce the certificate vectors on-chain.
DEV = {
    1: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    2: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    3: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    4: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    5: "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
}
# A fixed EIP-712 domain for the notary digests (Anvil's chain id, an arbitrary contract address).
NOTARY_DOMAIN = {
    "name": "TraceChainNotary",
    "version": "2",
    "chainId": 31337,
    "verifyingContract": "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
}
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
IGNORE_FIELDS_NAMESPACE = "https://repository-x.example.com/"


def hx(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def b32(value: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x"))
    assert len(raw) == 32, value
    return raw


def jcs(value: Any) -> bytes:
    return rfc8785.dumps(value)


def document_hash(value: Any) -> str:
    return hx(keccak(jcs(value)))


def header(what: str, spec: str) -> dict[str, Any]:
    return {
        "protocolVersion": PROTOCOL_VERSION,
        "description": what,
        "spec": f"docs/PROTOCOL.md {spec}",
        "generator": "scripts/protocol_vectors.py (do not edit by hand)",
    }


# ---------------------------------------------------------------- canonical JSON
CANONICAL_CASES: list[tuple[str, str]] = [
    ("keys are sorted", '{"b": 1, "a": 2}'),
    ("nested objects are sorted, arrays keep their order", '{"z": [3, 1, 2], "a": {"d": true, "c": null}}'),
    (
        "numbers are written as ECMAScript writes doubles",
        "[1.0, 1e3, 0.1, -0.0, 1e-7, 1e21, 1E+2, 123.456e-2, 5e-324, 1.7976931348623157e308, 333333333.33333329]",
    ),
    ("the largest integers accepted", "[9007199254740991, -9007199254740991]"),
    ("integers beyond 2^53-1 are accepted when written as doubles", "[9007199254740992.0, 1e300]"),
    ("string escapes: only the mandatory ones", '"\\u0041\\t\\n\\u001f\\u007f\\u2028\\u00e9\\ud83d\\ude00\\\\\\"/"'),
    (
        "keys sort by UTF-16 code units (RFC 8785 section 3.2.3)",
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",'
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",'
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    ),
    ("empty object", "{}"),
    (
        "a recall notice",
        '{"type": "recall-notice/v1", "reason": "Listeria monocytogenes found in lot L-2511-G",'
        ' "authority": "National Food Safety Agency", "lots": ["L-2511-G"], "action": "do not sell"}',
    ),
    (
        "a dataset manifest",
        '{"type": "dataset-manifest/v1", "title": "Store sales, dairy, October 2026", "rows": 48211,'
        ' "file": {"name": "sales.csv", "sha256": "5f0c8e1b6a3d47f29c1e0b7a9d2f4c6e8a1b3d5f7e9c0a2b4d6f8e1c3a5b7d9f"}}',
    ),
]
CANONICAL_REFUSED: list[tuple[str, str]] = [
    ("an integer of 2^53 (JSON number without fraction or exponent)", "9007199254740992"),
    ("a negative integer of -2^53", '{"n": -9007199254740992}'),
    ("a number beyond the double range", "1e400"),
    ("a lone surrogate", '"\\ud800"'),
]


def canonical_vectors() -> dict[str, Any]:
    vectors = []
    for name, text in CANONICAL_CASES:
        canonical = jcs(json.loads(text))
        vectors.append(
            {
                "name": name,
                "json": text,
                "canonical": canonical.decode("utf-8"),
                "canonicalUtf8Hex": hx(canonical),
                "documentHash": hx(keccak(canonical)),
            }
        )
    refused = []
    for name, text in CANONICAL_REFUSED:
        try:
            jcs(json.loads(text))
        except (rfc8785.CanonicalizationError, ValueError):
            refused.append({"name": name, "json": text})
            continue
        raise AssertionError(f"{name}: rfc8785 accepted {text}")
    return {
        **header("documentHash(doc) = keccak256(RFC 8785 canonical JSON of doc); `json` is the input text", "§1"),
        "vectors": vectors,
        "refused": refused,
    }


# ---------------------------------------------------------------- subject keys
# (form, category, open, canonical, other spellings that normalise to it): the canonical identifier
# is normative; its key is keccak256(utf8(canonical)).
SUBJECTS: list[tuple[str, str, bool, str, list[str]]] = [
    (
        "sgtin",
        "item",
        False,
        "01/09506000134352/21/SN-0001",
        [
            "urn:epc:id:sgtin:9506000.013435.SN-0001",
            "https://id.example.com/01/09506000134352/21/SN-0001",
            "/01/09506000134352/21/SN-0001",
            "01/09506000134352/21/SN-0001",
        ],
    ),
    (
        "sgtin with a serial that needs percent-encoding",
        "item",
        False,
        "01/09506000134352/21/A%2Fb",
        ["https://id.example.com/01/09506000134352/21/A%2fb", "urn:epc:id:sgtin:9506000.013435.A%2Fb"],
    ),
    (
        "lgtin (lot)",
        "lot",
        True,
        "01/09506000134352/10/L-17",
        ["urn:epc:class:lgtin:9506000.013435.L-17", "https://id.example.com/01/09506000134352/10/L-17"],
    ),
    (
        "gtin (product class)",
        "class",
        True,
        "01/09506000134352",
        ["urn:epc:idpat:sgtin:9506000.013435.*", "/01/09506000134352"],
    ),
    (
        "sscc (logistic unit)",
        "logistic_unit",
        False,
        "00/095060000000000176",
        ["urn:epc:id:sscc:9506000.0000000017", "https://id.example.com/00/095060000000000176"],
    ),
    (
        "sgln (location)",
        "location",
        True,
        "414/9506000134352",
        ["urn:epc:id:sgln:9506000.13435.0", "https://id.example.com/414/9506000134352"],
    ),
    (
        "sgln with extension",
        "location",
        True,
        "414/9506000134352/254/7",
        ["urn:epc:id:sgln:9506000.13435.7", "https://id.example.com/414/9506000134352/254/7"],
    ),
    (
        "grai (returnable asset)",
        "asset",
        False,
        "8003/09506000134352RC-7",
        ["urn:epc:id:grai:9506000.13435.RC-7", "https://id.example.com/8003/09506000134352RC-7"],
    ),
    ("giai (individual asset)", "asset", False, "8004/9506000A-1", ["urn:epc:id:giai:9506000.A-1"]),
    ("pgln (party)", "party", True, "417/9506000134352", ["urn:epc:id:pgln:9506000.13435"]),
    ("opaque", "opaque", False, "opaque:SKU-2024-000123", ["SKU-2024-000123", "opaque:SKU-2024-000123"]),
    (
        "opaque URI named in an event",
        "opaque",
        False,
        "opaque:https://example.com/asset/7",
        ["https://example.com/asset/7"],
    ),
]


def subject_vectors() -> dict[str, Any]:
    vectors = [
        {
            "form": form,
            "category": category,
            "open": is_open,
            "canonical": canonical,
            "inputs": inputs,
            "subjectKey": hx(keccak(canonical.encode("utf-8"))),
        }
        for form, category, is_open, canonical, inputs in SUBJECTS
    ]
    return {
        **header(
            "subjectKey = keccak256(utf8(canonical identifier)); every input spelling normalises to `canonical`; "
            "`open` is how TraceChain creates subjects of the category",
            "§5.1",
        ),
        "vectors": vectors,
    }


# ---------------------------------------------------------------- hash chain
def _genesis(subject_key: str, originator: str, metadata_hash: str) -> dict[str, Any]:
    encoded = encode(["bytes32", "address", "bytes32"], [b32(subject_key), originator, b32(metadata_hash)])
    return {
        "subjectKey": subject_key,
        "originator": originator,
        "metadataHash": metadata_hash,
        "encoded": hx(encoded),
        "head": hx(keccak(encoded)),
    }


_ENTRY_TYPES = ["bytes32", "uint8", "bytes32", "bytes32", "uint8", "address", "uint64"]


def _next(previous: str, kind: int, ref: str, doc: str, code: int, actor: str, timestamp: int) -> dict[str, Any]:
    encoded = encode(_ENTRY_TYPES, [b32(previous), kind, b32(ref), b32(doc), code, actor, timestamp])
    return {
        "previousHead": previous,
        "kind": kind,
        "ref": ref,
        "documentHash": doc,
        "code": code,
        "actor": actor,
        "timestamp": timestamp,
        "encoded": hx(encoded),
        "head": hx(keccak(encoded)),
    }


def address_ref(account: str) -> str:
    return "0x" + "00" * 12 + account[2:].lower()


def hash_chain_vectors(event_ids: dict[str, str]) -> dict[str, Any]:
    item = "01/09506000134352/21/SN-0001"
    key = hx(keccak(item.encode()))
    metadata = {"name": "Organic whole milk 1 L", "gtin": "09506000134352"}
    manufacturer, logistics, governance = DEV[1], DEV[2], "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    genesis = _genesis(key, manufacturer, document_hash(metadata))
    shipping = {"type": "ObjectEvent", "note": "the event document (any JSON) as stored and served"}
    declaration = {"type": "ObjectEvent", "errorDeclaration": {"reason": "incorrect_data"}}
    reason = {"reason": "custodian lost its key", "ticket": "GOV-7"}
    notice = {"type": "recall-notice/v1", "reason": "Listeria monocytogenes found in lot L-2511-G"}
    t = 1_795_000_000
    steps = [
        (
            "event: shipping (bizStep code 33)",
            1,
            event_ids["object-event"],
            document_hash(shipping),
            33,
            manufacturer,
            t,
        ),
        ("custody: to logistics", 3, address_ref(logistics), ZERO, 0, manufacturer, t + 60),
        (
            "error declaration of the shipping event (ref = its eventId)",
            2,
            event_ids["object-event"],
            document_hash(declaration),
            33,
            logistics,
            t + 120,
        ),
        (
            "forced custody: governance gives it back",
            4,
            address_ref(manufacturer),
            document_hash(reason),
            0,
            governance,
            t + 180,
        ),
        ("recall by the originator", 5, ZERO, document_hash(notice), 0, manufacturer, t + 240),
        (
            "event with an extension business step (code 255)",
            1,
            hx(hashlib.sha256(b"x").digest()),
            document_hash({"bizStep": "https://acme.example/steps/tasting"}),
            255,
            manufacturer,
            t + 300,
        ),
    ]
    chain = []
    head = genesis["head"]
    for name, kind, ref, doc, code, actor, timestamp in steps:
        entry = {"name": name, **_next(head, kind, ref, doc, code, actor, timestamp)}
        chain.append(entry)
        head = entry["head"]
    lot = "01/09506000134352/10/L-17"
    open_genesis = _genesis(hx(keccak(lot.encode())), DEV[5], ZERO)
    return {
        **header(
            "head_0 = keccak256(abi.encode(subjectKey, originator, metadataHash)); head_n = keccak256(abi.encode("
            "head_{n-1}, uint8 kind, ref, documentHash, uint8 code, actor, uint64 timestamp)); `encoded` is the "
            "abi.encode input of keccak256",
            "§5.3",
        ),
        "subjects": [
            {"identifier": item, "metadata": metadata, "genesis": genesis, "entries": chain, "finalHead": head},
            {
                "identifier": lot,
                "metadata": None,
                "genesis": open_genesis,
                "entries": [],
                "finalHead": open_genesis["head"],
            },
        ],
    }


# ---------------------------------------------------------------- Event Hash IDs
def _doc(events: list[dict[str, Any]], context: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT, *(context or [])],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-16T12:00:00.000Z",
        **extra,
        "epcisBody": {"eventList": events},
    }


ACME = {"acme": "https://acme-dairy.example/epcis/"}
_OBJECT_EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2026-11-16T08:30:00.000+01:00",
    "eventTimeZoneOffset": "+01:00",
    "epcList": ["urn:epc:id:sgtin:9506000.013435.SN-0001", "urn:epc:id:sgtin:9506000.013435.SN-0002"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:9506000.13435.0"},
    "bizLocation": {"id": "urn:epc:id:sgln:9506000.13435.0"},
    "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9506000134352:PO-42"}],
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:9506000.13435"}],
    "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:9506010.00001"}],
    "acme:temperatureC": 3.9,
}


def _digital_link(event: dict[str, Any]) -> dict[str, Any]:
    """The same event with Digital Link URIs, Web URI vocabulary and another time zone."""
    twin = copy.deepcopy(event)
    twin["epcList"] = [
        "https://id.acme-dairy.example/01/09506000134352/21/SN-0002",
        "https://id.acme-dairy.example/01/09506000134352/21/SN-0001",
    ]
    twin["eventTime"] = "2026-11-16T07:30:00Z"
    twin["bizStep"] = "https://ref.gs1.org/cbv/BizStep-shipping"
    twin["disposition"] = "https://ref.gs1.org/cbv/Disp-in_transit"
    return twin


def _event_cases() -> list[dict[str, Any]]:
    object_event = copy.deepcopy(_OBJECT_EVENT)
    quantity_event = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-16T06:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": [],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:9506000.013435.L-17", "quantity": 200, "uom": "KGM"}],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": "urn:epc:id:sgln:9506000.13435.7"},
        "ilmd": {"cbvmda:bestBeforeDate": "2026-12-01", "cbvmda:countryOfOrigin": "NL"},
    }
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2026-11-16T09:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "parentID": "urn:epc:id:sscc:9506000.0000000017",
        "childEPCs": ["urn:epc:id:sgtin:9506000.013435.SN-0001", "urn:epc:id:sgtin:9506000.013435.SN-0002"],
        "action": "ADD",
        "bizStep": "packing",
        "disposition": "in_progress",
        "readPoint": {"id": "urn:epc:id:sgln:9506000.13435.7"},
    }
    transformation = {
        "type": "TransformationEvent",
        "eventTime": "2026-11-16T05:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "inputQuantityList": [
            {"epcClass": "urn:epc:class:lgtin:9506100.000001.RAW-1", "quantity": 1000, "uom": "LTR"},
            {"epcClass": "urn:epc:class:lgtin:9506200.000001.RAW-2", "quantity": 500, "uom": "LTR"},
        ],
        "outputQuantityList": [{"epcClass": "urn:epc:class:lgtin:9506000.013435.L-17", "quantity": 200, "uom": "KGM"}],
        "transformationID": "urn:epc:id:gdti:9506000.13435.TR-1",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": "urn:epc:id:sgln:9506000.13435.7"},
    }
    transaction = {
        "type": "TransactionEvent",
        "eventTime": "2026-11-17T10:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9506030000428:PO-2026-0042"}],
        "epcList": ["urn:epc:id:sscc:9506000.0000000017"],
        "action": "ADD",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "readPoint": {"id": "urn:epc:id:sgln:9506030.00042.0"},
    }
    association = {
        "type": "AssociationEvent",
        "eventTime": "2026-11-16T09:30:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "parentID": "urn:epc:id:grai:9506000.13435.LOGGER-9",
        "childEPCs": ["urn:epc:id:sscc:9506000.0000000017"],
        "action": "ADD",
        "bizStep": "assembling",
        "readPoint": {"id": "urn:epc:id:sgln:9506000.13435.0"},
    }
    sensor = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-16T12:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["urn:epc:id:sscc:9506000.0000000017"],
        "action": "OBSERVE",
        "bizStep": "sensor_reporting",
        "readPoint": {"id": "urn:epc:id:sgln:9506020.00010.0"},
        "sensorElementList": [
            {
                "sensorMetadata": {"time": "2026-11-16T11:59:00.000+01:00", "deviceID": "urn:epc:id:giai:9506000.A-1"},
                "sensorReport": [{"type": "Temperature", "value": 3.4, "uom": "CEL"}],
            }
        ],
    }
    declaration = copy.deepcopy(_OBJECT_EVENT)
    declaration["eventID"] = "urn:uuid:5a7e0b3c-6f0e-4e58-9d0b-0d6f8e1c2a11"
    declaration["errorDeclaration"] = {
        "declarationTime": "2026-11-17T08:00:00.000+01:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": ["urn:uuid:2f6b1c40-1d7e-4f7a-8d52-7b1e4c9a0e33"],
    }
    ignored = copy.deepcopy(_OBJECT_EVENT)
    ignored["acme:capturedBy"] = "capture-service-7"
    return [
        {
            "name": "object-event",
            "eventType": "ObjectEvent",
            "document": _doc([object_event], [ACME]),
            "note": "epcList, business transaction, source, destination lists and an extension",
        },
        {
            "name": "object-event-digital-link",
            "eventType": "ObjectEvent",
            "document": _doc([_digital_link(object_event)], [ACME]),
            "note": "the same event with Digital Link URIs, Web URI vocabulary and UTC time: the same Event Hash ID",
        },
        {
            "name": "object-event-quantities-ilmd",
            "eventType": "ObjectEvent",
            "document": _doc([quantity_event]),
            "note": "a lot (quantityList) commissioned, with instance/lot master data",
        },
        {"name": "aggregation-event", "eventType": "AggregationEvent", "document": _doc([aggregation])},
        {"name": "transformation-event", "eventType": "TransformationEvent", "document": _doc([transformation])},
        {"name": "transaction-event", "eventType": "TransactionEvent", "document": _doc([transaction])},
        {"name": "association-event", "eventType": "AssociationEvent", "document": _doc([association])},
        {"name": "sensor-readings", "eventType": "ObjectEvent", "document": _doc([sensor])},
        {
            "name": "error-declaration",
            "eventType": "ObjectEvent",
            "document": _doc([declaration], [ACME]),
            "note": "eventID and errorDeclaration are not hashed: the declaration has the Event Hash ID of the event "
            "it declares erroneous",
        },
        {
            "name": "ignore-fields",
            "eventType": "ObjectEvent",
            "document": _doc(
                [ignored], [ACME, {"rx": IGNORE_FIELDS_NAMESPACE}], **{"rx:ignoreFields": ["acme:capturedBy"]}
            ),
            "note": "the document declares acme:capturedBy ignored: the Event Hash ID of object-event",
            "ignoreFields": ["acme:capturedBy"],
        },
    ]


def reference_hashes(document: dict[str, Any], ignore_fields: list[str]) -> tuple[list[str], list[str]]:
    """Event Hash IDs and pre-hash strings of `document`'s events from GS1's reference generator
    (1.9.3, which predates the ignoreFields convention: the declared fields are removed first)."""
    from epcis_event_hash_generator import hash_generator, json_to_py

    doc = copy.deepcopy(document)
    for event in doc["epcisBody"]["eventList"]:
        for name in ignore_fields:
            event.pop(name, None)
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            json_to_py._namespaces.clear()
            events = json_to_py.event_list_from_epcis_document_json(doc)
            prehashes = hash_generator.derive_prehashes_from_events(events)
    finally:
        logging.disable(logging.NOTSET)
    hashes = hash_generator.calculate_hashes_from_pre_hashes(prehashes)
    if len(hashes) != len(doc["epcisBody"]["eventList"]):
        raise AssertionError("the reference generator dropped an event")
    return hashes, prehashes


def event_hash_vectors() -> dict[str, Any]:
    from importlib.metadata import version

    vectors = []
    for case in _event_cases():
        hashes, prehashes = reference_hashes(case["document"], case.get("ignoreFields", []))
        case["events"] = [
            {"index": i, "eventHashId": h, "eventId": "0x" + h.split(";", 1)[1].split("?", 1)[0], "preHash": p}
            for i, (h, p) in enumerate(zip(hashes, prehashes, strict=True))
        ]
        vectors.append(case)
    by_name = {v["name"]: v["events"][0]["eventHashId"] for v in vectors}
    assert by_name["object-event"] == by_name["object-event-digital-link"] == by_name["error-declaration"]
    assert by_name["object-event"] == by_name["ignore-fields"]
    return {
        **header(
            "GS1 CBV 2.0 Event Hash IDs from GS1's reference generator epcis-event-hash-generator "
            f"{version('epcis-event-hash-generator')}; eventId (bytes32 on chain) is the SHA-256 digest in the ID",
            "§5.2",
        ),
        "vectors": vectors,
    }


# ---------------------------------------------------------------- notary
def kind32(name: str) -> bytes:
    return name.encode("ascii").ljust(32, b"\0")


def parties_hash(parties: list[str]) -> bytes:
    return keccak(b"".join(bytes(12) + bytes.fromhex(p[2:]) for p in parties))


def domain_separator(domain: dict[str, Any]) -> bytes:
    type_hash = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                type_hash,
                keccak(domain["name"].encode()),
                keccak(domain["version"].encode()),
                domain["chainId"],
                domain["verifyingContract"],
            ],
        )
    )


COSIGN_TYPE = "CoSign(bytes32 recordHash,bytes32 kind,address[] parties,uint256 deadline)"
BATCH_RECORD_TYPE = "BatchRecord(bytes32 recordHash,bytes32 kind,uint256 deadline)"


def notary_vectors() -> dict[str, Any]:
    order = {"type": "purchase_order", "number": "PO-2026-0042", "currency": "EUR"}
    invoice = {"type": "invoice", "number": "INV-2026-0042", "total": "2136.00"}
    record, invoice_hash = document_hash(order), document_hash(invoice)
    kinds = [{"kind": k, "bytes32": hx(kind32(k))} for k in ("delivery", "purchase_order", "invoice", "a", "x" * 32)]
    notary = DEV[5]
    singles = []
    for rh, kind in ((record, "purchase_order"), (invoice_hash, "invoice")):
        encoded = encode(["bytes32", "bytes32", "address"], [b32(rh), kind32(kind), notary])
        singles.append(
            {"recordHash": rh, "kind": kind, "notary": notary, "encoded": hx(encoded), "id": hx(keccak(encoded))}
        )
    cosigned = []
    for parties in ([DEV[3], DEV[1]], [DEV[1], DEV[3]], [DEV[1]]):
        ph = parties_hash(parties)
        encoded = encode(["bytes32", "bytes32", "bytes32"], [b32(record), kind32("purchase_order"), ph])
        cosigned.append(
            {
                "recordHash": record,
                "kind": "purchase_order",
                "parties": parties,
                "partiesHash": hx(ph),
                "encoded": hx(encoded),
                "id": hx(keccak(encoded)),
            }
        )
    root = hx(keccak(b"a batch root"))
    batch_encoded = encode(["bytes32", "address"], [b32(root), notary])
    batches = [{"root": root, "notary": notary, "encoded": hx(batch_encoded), "id": hx(keccak(batch_encoded))}]
    leaves = []
    for rh, kind in ((record, "purchase_order"), (invoice_hash, "invoice"), (ZERO[:-1] + "1", "delivery")):
        inner = encode(["bytes32", "bytes32"], [b32(rh), kind32(kind)])
        leaves.append({"recordHash": rh, "kind": kind, "encoded": hx(inner), "leaf": hx(keccak(keccak(inner)))})
    separator = domain_separator(NOTARY_DOMAIN)
    digests = []
    deadline = 1_795_003_600
    for parties in ([DEV[3], DEV[1]], [DEV[1], DEV[3]]):
        struct = keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "bytes32", "uint256"],
                [keccak(COSIGN_TYPE.encode()), b32(record), kind32("purchase_order"), parties_hash(parties), deadline],
            )
        )
        digests.append(
            {
                "type": "CoSign",
                "recordHash": record,
                "kind": "purchase_order",
                "parties": parties,
                "deadline": deadline,
                "structHash": hx(struct),
                "digest": hx(keccak(b"\x19\x01" + separator + struct)),
            }
        )
    struct = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256"],
            [keccak(BATCH_RECORD_TYPE.encode()), b32(invoice_hash), kind32("delivery"), deadline],
        )
    )
    digests.append(
        {
            "type": "BatchRecord",
            "recordHash": invoice_hash,
            "kind": "delivery",
            "deadline": deadline,
            "structHash": hx(struct),
            "digest": hx(keccak(b"\x19\x01" + separator + struct)),
        }
    )
    return {
        **header("record kinds, record and batch ids, Merkle leaves and EIP-712 digests of the Notary", "§7"),
        "records": {"purchase_order": order, "invoice": invoice},
        "kinds": kinds,
        "singleRecordIds": singles,
        "coSignedRecordIds": cosigned,
        "batchIds": batches,
        "leaves": leaves,
        "eip712": {
            "domain": NOTARY_DOMAIN,
            "domainTypeHash": hx(
                keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
            ),
            "domainSeparator": hx(separator),
            "coSignTypeHash": hx(keccak(COSIGN_TYPE.encode())),
            "batchRecordTypeHash": hx(keccak(BATCH_RECORD_TYPE.encode())),
            "digests": digests,
        },
    }


# ---------------------------------------------------------------- Merkle trees
MERKLE_SIZES = (1, 2, 3, 4, 5, 7, 8, 13)


def oz_tree(values: list[list[str]]) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "scripts/oz-merkle.js"],
        input=json.dumps({"op": "build", "values": values, "encoding": ["bytes32", "bytes32"]}),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _fold(leaf: bytes, proof: list[str]) -> bytes:
    node = leaf
    for sibling in map(b32, proof):
        node = keccak(min(node, sibling) + max(node, sibling))
    return node


def merkle_vectors() -> dict[str, Any]:
    kinds = ("delivery", "invoice", "purchase_order")
    trees = []
    for size in MERKLE_SIZES:
        records = [(document_hash({"type": "delivery", "note": f"DN-{i:05d}"}), kinds[i % 3]) for i in range(size)]
        values = [[rh, hx(kind32(kind))] for rh, kind in records]
        oz = oz_tree(values)
        leaves = []
        for i, (rh, kind) in enumerate(records):
            leaf = keccak(keccak(encode(["bytes32", "bytes32"], [b32(rh), kind32(kind)])))
            proof = oz["proofs"][i]
            assert hx(_fold(leaf, proof)) == oz["root"], "OpenZeppelin's proof does not fold to its root"
            leaves.append({"recordHash": rh, "kind": kind, "leaf": hx(leaf), "proof": proof})
        trees.append({"size": size, "root": oz["root"], "values": leaves, "tree": oz["dump"]["tree"]})
    return {
        **header(
            "StandardMerkleTree (@openzeppelin/merkle-tree) over [recordHash, kind] leaves (leaf encoding "
            "[bytes32, bytes32]); `values` in the order given, each with its proof; `tree` is OZ's array layout",
            "§7.3",
        ),
        "trees": trees,
    }


# ---------------------------------------------------------------- data rights
FAR_FUTURE = 4_102_444_800  # 2100-01-01: a not-before the contract keeps as given


def rights_vectors() -> dict[str, Any]:
    manifest = {"type": "dataset-manifest/v1", "title": "Store sales, dairy, October 2026", "rows": 48211}
    content = document_hash(manifest)
    datasets = []
    for registrant in (DEV[3], DEV[1]):
        encoded = encode(["bytes32", "address"], [b32(content), registrant])
        dataset_id = hx(keccak(encoded))
        datasets.append(
            {
                "manifest": manifest,
                "contentHash": content,
                "registrant": registrant,
                "encoded": hx(encoded),
                "datasetId": dataset_id,
                "tokenId": str(int(dataset_id, 16)),
            }
        )
    dataset_id = datasets[0]["datasetId"]
    terms = {"right": "processing", "purpose": "demand forecasting", "fee": {"amount": 1200, "currency": "EUR"}}
    terms_hash = document_hash(terms)
    certificates = []
    previous = ZERO
    windows = [(FAR_FUTURE, FAR_FUTURE + 90 * 86_400), (FAR_FUTURE + 100, FAR_FUTURE + 30 * 86_400)]
    for not_before, expires_at in windows:
        values = [b32(dataset_id), DEV[1], 1, not_before, expires_at, b32(terms_hash), b32(previous)]
        encoded = encode(["bytes32", "address", "uint8", "uint64", "uint64", "bytes32", "bytes32"], values)
        cid = hx(keccak(encoded))
        certificates.append(
            {
                "datasetId": dataset_id,
                "grantee": DEV[1],
                "right": 1,
                "notBefore": not_before,
                "expiresAt": expires_at,
                "termsHash": terms_hash,
                "previousId": previous,
                "encoded": hx(encoded),
                "certificateId": cid,
            }
        )
        previous = cid
    return {
        **header(
            "datasetId = keccak256(abi.encode(contentHash, registrant)), tokenId = uint256(datasetId); certificate "
            "ids chained through previousId (the second is granted after the first is revoked)",
            "§8",
        ),
        "terms": terms,
        "datasets": datasets,
        "certificates": certificates,
    }


# ---------------------------------------------------------------- procurement cases
CASES_DOMAIN = {
    "name": "TraceChainCases",
    "version": "1",
    "chainId": 31337,
    "verifyingContract": "0x0165878A594ca255338adfa4d48449f69242Eb8F",
}
CASE_STEP_TYPE = (
    "CaseStep(bytes32 caseId,uint32 index,uint8 kind,uint32 amends,bytes32 documentHash,bytes32 ref,"
    "address party,address[] signers,uint256 deadline)"
)
TEMPLATE = REPO / "src" / "tracechain" / "services" / "cases" / "templates" / "procurement-v1.json"
RULE_BITS = {"buyer": 0x01, "supplier": 0x02, "inspector": 0x04}
_STEP_TYPES = ["bytes32", "uint32", "uint8", "uint32", "bytes32", "bytes32", "address", "bytes32", "uint64"]
_STATE_TYPES = ["bytes32", "uint32", "address", "address", "bytes32"]
ZERO_ADDRESS = "0x" + "00" * 20


def template_rules(template: dict[str, Any]) -> tuple[bytes, list[str]]:
    """The rules word and kind names of a template document, from the §9 table alone."""
    word = 0
    for k, step in enumerate(template["steps"], start=1):
        rule = sum(RULE_BITS[r] for r in step["signers"])
        rule |= 0x08 if step.get("namesSupplier") else 0
        rule |= 0x10 if step.get("closes") else 0
        word |= rule << (8 * k)
    return word.to_bytes(32, "big"), [s["kind"] for s in template["steps"]]


def _case_state(head: bytes, steps: int, buyer: str, supplier: str, rules: bytes) -> dict[str, Any]:
    encoded = encode(_STATE_TYPES, [head, steps, buyer, supplier, rules])
    return {"head": hx(head), "steps": steps, "buyer": buyer, "supplier": supplier, "rules": hx(rules),
            "encoded": hx(encoded), "stateHash": hx(keccak(encoded))}  # fmt: skip


def case_vectors() -> dict[str, Any]:
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    template_hash = document_hash(template)
    rules, kinds = template_rules(template)
    code = {k: i for i, k in enumerate(kinds, start=1)}
    buyer, supplier, inspector, other_buyer = DEV[1], DEV[2], DEV[4], DEV[3]
    po = "urn:epcglobal:cbv:bt:4099999000004:PO-2026-0117"
    ids = []
    for biz, who in ((po, buyer), (po, other_buyer), ("urn:epcglobal:cbv:bt:4099999000004:PO-2026-0142", buyer)):
        key = keccak(biz.encode("utf-8"))
        encoded = encode(["bytes32", "address"], [key, who])
        ids.append({"bizTransaction": biz, "buyer": who, "bizTransactionKey": hx(key), "encoded": hx(encoded),
                    "caseId": hx(keccak(encoded))})  # fmt: skip
    case_id = b32(ids[0]["caseId"])
    metadata = {"type": "tracechain/case", "bizTransaction": po, "buyer": "Northgrid Energy Networks"}
    metadata_hash = document_hash(metadata)
    g_encoded = encode(
        ["bytes32", "address", "address", "bytes32", "bytes32"],
        [case_id, buyer, ZERO_ADDRESS, b32(template_hash), b32(metadata_hash)],
    )
    head = keccak(g_encoded)
    genesis = {"caseId": hx(case_id), "buyer": buyer, "supplier": ZERO_ADDRESS, "templateHash": template_hash,
               "metadataHash": metadata_hash, "encoded": hx(g_encoded), "head": hx(head)}  # fmt: skip
    approval = {"kind": "approval", "case": po, "number": "PO-2026-0117-APP", "date": "2026-06-01",
                "plan": "Grid reinforcement", "budget": {"amount": "2000000.00", "currency": "EUR"}}  # fmt: skip
    award = {"kind": "award", "case": po, "number": "PO-2026-0117-AWA", "date": "2026-06-16",
             "supplier": {"name": "Voltaris Transformer Works", "account": supplier}}  # fmt: skip
    contract = {"kind": "contract", "case": po, "number": "PO-2026-0117-CON", "date": "2026-06-21",
                "currency": "EUR", "lines": [{"line": 1, "gtin": "04099999000014", "quantity": 10, "unit": "EA",
                                               "unitPrice": "185000.00"}]}  # fmt: skip
    amended = {**contract, "number": "PO-2026-0117-CON-2",
               "lines": [{**contract["lines"][0], "quantity": 11}]}  # fmt: skip
    event_id = hx(keccak(b"an EPCIS event's Event Hash ID digest (sha-256 in the real thing)"))
    shipped = {"type": "ObjectEvent", "bizStep": "shipping", "note": "the event document the provenance chain holds"}
    t = 1_795_000_000
    # (title, kind, amends, document, ref, party, signers)
    course = [
        ("approval, signed by the buyer", "approval", 0, approval, ZERO, ZERO_ADDRESS, [buyer]),
        ("award, naming the supplier in party", "award", 0, award, ZERO, supplier, [buyer]),
        ("contract, co-signed by buyer and supplier", "contract", 0, contract, ZERO, ZERO_ADDRESS, [buyer, supplier]),
        ("a delivery that is an EPCIS event (ref = its eventId)", "delivery", 0, shipped, event_id, ZERO_ADDRESS,
         [supplier]),
        ("acceptance, signed by the buyer and an inspector", "acceptance", 0, {"kind": "acceptance", "case": po},
         ZERO, ZERO_ADDRESS, [buyer, inspector]),
        ("an amendment of step 3 (the contract)", "contract", 3, amended, ZERO, ZERO_ADDRESS, [buyer, supplier]),
    ]  # fmt: skip
    states = [_case_state(head, 0, buyer, ZERO_ADDRESS, rules)]
    current_supplier = ZERO_ADDRESS
    steps = []
    for n, (title, kind, amends, doc, ref, party, signers) in enumerate(course, start=1):
        k = code[kind]
        doc_hash = document_hash(doc)
        signers_hash = keccak(b"".join(bytes(12) + bytes.fromhex(a[2:]) for a in signers))
        timestamp = t + 12 * n
        encoded = encode(_STEP_TYPES, [head, n, k, amends, b32(doc_hash), b32(ref), party, signers_hash, timestamp])
        previous, head = head, keccak(encoded)
        if (int.from_bytes(rules, "big") >> (8 * k)) & 0x08:
            current_supplier = party
        states.append(_case_state(head, n, buyer, current_supplier, rules))
        steps.append({"title": title, "previousHead": hx(previous), "index": n, "kind": k, "kindName": kind,
                      "amends": amends, "document": doc, "documentHash": doc_hash, "ref": ref, "party": party,
                      "signers": signers, "signersHash": hx(signers_hash), "timestamp": timestamp,
                      "encoded": hx(encoded), "head": hx(head)})  # fmt: skip
    separator = domain_separator(CASES_DOMAIN)
    digests = []
    deadline = 1_795_003_600
    for s in steps[1:3]:
        struct = keccak(
            encode(
                ["bytes32", "bytes32", "uint32", "uint8", "uint32", "bytes32", "bytes32", "address", "bytes32",
                 "uint256"],
                [keccak(CASE_STEP_TYPE.encode()), case_id, s["index"], s["kind"], s["amends"], b32(s["documentHash"]),
                 b32(s["ref"]), s["party"], b32(s["signersHash"]), deadline],
            )
        )  # fmt: skip
        digests.append({"caseId": hx(case_id), "index": s["index"], "kind": s["kind"], "amends": s["amends"],
                        "documentHash": s["documentHash"], "ref": s["ref"], "party": s["party"],
                        "signers": s["signers"], "deadline": deadline, "structHash": hx(struct),
                        "digest": hx(keccak(b"\x19\x01" + separator + struct))})  # fmt: skip
    return {
        **header(
            "procurement cases: the built-in template's hash and rules word, case ids, head_0, head_n of a case's "
            "steps (each with its signersHash), the state hash after each step, and EIP-712 CaseStep digests",
            "§9",
        ),
        "template": {
            "path": "src/tracechain/services/cases/templates/procurement-v1.json",
            "templateHash": template_hash,
            "rules": hx(rules),
            "kinds": [
                {
                    "code": code[k],
                    "name": k,
                    "bytes32": hx(kind32(k)),
                    "rule": (int.from_bytes(rules, "big") >> (8 * code[k])) & 0xFF,
                }
                for k in kinds
            ],  # fmt: skip
        },
        "caseIds": ids,
        "metadata": metadata,
        "genesis": genesis,
        "steps": steps,
        "states": states,
        "eip712": {
            "domain": CASES_DOMAIN,
            "domainSeparator": hx(separator),
            "caseStepType": CASE_STEP_TYPE,
            "caseStepTypeHash": hx(keccak(CASE_STEP_TYPE.encode())),
            "digests": digests,
        },
    }


# ---------------------------------------------------------------- master data signatures
# verifyingContract: the deployment's ActorRegistry (here, the address of a first contract deployed by
# the dev chains' account 0).
MASTERDATA_DOMAIN = {
    "name": "TraceChain master data",
    "version": "1",
    "chainId": 31337,
    "verifyingContract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
}
MASTERDATA_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
MASTERDATA_TYPE = "MasterData(bytes32 documentHash,uint256 deadline)"


def masterdata_vectors() -> dict[str, Any]:
    document = {
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-16T08:00:00Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [{
            "type": "urn:epcglobal:epcis:vtype:EPCClass",
            "vocabularyElementList": [{"id": "urn:epc:idpat:sgtin:9506000.013435.*", "attributes": [
                {"id": "urn:epcglobal:cbv:mda#descriptionShort", "attribute": "Organic whole milk 1 L"},
                {"id": "urn:epcglobal:cbv:mda#brandName", "attribute": "Alpenhof"}]}],
        }]}},
        "epcisBody": {"eventList": []},
    }  # fmt: skip
    doc_hash = document_hash(document)
    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [keccak(MASTERDATA_DOMAIN_TYPE.encode()), keccak(MASTERDATA_DOMAIN["name"].encode()),
             keccak(MASTERDATA_DOMAIN["version"].encode()), MASTERDATA_DOMAIN["chainId"],
             MASTERDATA_DOMAIN["verifyingContract"]],
        )
    )  # fmt: skip
    digests = []
    for deadline in (1_795_003_600, 2**48):
        struct = keccak(encode(["bytes32", "bytes32", "uint256"], [keccak(MASTERDATA_TYPE.encode()), b32(doc_hash),
                                                                   deadline]))  # fmt: skip
        digests.append({"documentHash": doc_hash, "deadline": deadline, "structHash": hx(struct),
                        "digest": hx(keccak(b"\x19\x01" + separator + struct))})  # fmt: skip
    return {
        **header(
            "EIP-712 MasterData(bytes32 documentHash,uint256 deadline) digests of a master data document "
            "(domain bound to the deployment's ActorRegistry)",
            "§11",
        ),  # fmt: skip
        "document": document,
        "domain": MASTERDATA_DOMAIN,
        "domainType": MASTERDATA_DOMAIN_TYPE,
        "domainTypeHash": hx(keccak(MASTERDATA_DOMAIN_TYPE.encode())),
        "domainSeparator": hx(separator),
        "masterDataType": MASTERDATA_TYPE,
        "masterDataTypeHash": hx(keccak(MASTERDATA_TYPE.encode())),
        "digests": digests,
    }


# ---------------------------------------------------------------- files
def build() -> dict[str, dict[str, Any]]:
    """Every vector file, by name."""
    events = event_hash_vectors()
    event_ids = {v["name"]: v["events"][0]["eventId"] for v in events["vectors"]}
    files: dict[str, Callable[[], dict[str, Any]]] = {
        "canonical-json.json": canonical_vectors,
        "subject-keys.json": subject_vectors,
        "hash-chain.json": lambda: hash_chain_vectors(event_ids),
        "event-hash-ids.json": lambda: events,
        "notary.json": notary_vectors,
        "merkle.json": merkle_vectors,
        "rights.json": rights_vectors,
        "cases.json": case_vectors,
        "masterdata.json": masterdata_vectors,
    }
    return {name: make() for name, make in files.items()}


def render(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=2, ensure_ascii=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with docs/vectors/ instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, body in build().items():
        path = OUT / name
        text = render(body)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
            continue
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print(f"stale: {', '.join(stale)} (run scripts/protocol_vectors.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
