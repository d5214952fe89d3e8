"""docs/PROTOCOL.md against the contracts' committed ABIs: every public function, event and error with
its exact signature (Appendix A, regenerated from the ABIs), every function and event a verifier
needs written out in the body, every topic0 it quotes correct, and one protocol version everywhere.
An ABI change that does not update the specification in the same commit fails here."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tracechain.chain.artifact import load_artifact
from tracechain.chain.deploy import MANIFEST_VERSION

REPO = Path(__file__).resolve().parents[1]
PROTOCOL = REPO / "docs" / "PROTOCOL.md"


def _abi_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("protocol_abi", REPO / "scripts" / "protocol_abi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["protocol_abi"] = module
    spec.loader.exec_module(module)
    return module


abi = _abi_script()
TEXT = PROTOCOL.read_text()
BODY = TEXT[: TEXT.index("## Appendix A")]

# What a verifier calls or reads, by contract: the body of the specification must write each out.
VERIFIER_NEEDS: dict[str, tuple[str, ...]] = {
    "ActorRegistry": ("isActor", "isActive", "standingOf", "getActor", "ActorRegistered", "ActorSuspended"),
    "ProvenanceRegistry": (
        "getSubject",
        "headOf",
        "recallReason",
        "subjectKeyOf",
        "genesisHead",
        "nextHead",
        "createSubjects",
        "recordEvents",
        "recordEvent",
        "transferCustody",
        "forceCustody",
        "recall",
        "SubjectCreated",
        "EntryAppended",
    ),
    "Notary": (
        "notarize",
        "notarizeCoSigned",
        "notarizeBatch",
        "getRecord",
        "getBatch",
        "verifyInclusion",
        "leafHash",
        "coSignDigest",
        "batchRecordDigest",
        "singleRecordId",
        "coSignedRecordId",
        "batchId",
        "RecordNotarized",
        "RecordCoSigned",
        "BatchAnchored",
    ),
    "DataRightsRegistry": (
        "registerDataset",
        "grantCertificate",
        "revokeCertificate",
        "recordUse",
        "getCertificate",
        "certificateStatus",
        "useCount",
        "latestCertificate",
        "holderOf",
        "datasetExists",
        "hasRight",
        "datasetIdOf",
        "ownerOf",
        "DatasetRegistered",
        "Transfer",
        "CertificateGranted",
        "CertificateRevoked",
        "DatasetUsed",
    ),
    "CaseRegistry": (
        "openCase",
        "appendStep",
        "registerTemplate",
        "stateHashOf",
        "templateRules",
        "caseIdOf",
        "genesisHead",
        "nextHead",
        "stateHash",
        "stepDigest",
        "CaseOpened",
        "StepAppended",
        "TemplateRegistered",
    ),
}


def test_appendix_a_is_regenerated_from_the_committed_abis() -> None:
    assert abi.updated(TEXT) == TEXT, "the ABIs changed: run python scripts/protocol_abi.py and update the spec"


@pytest.mark.parametrize("contract", abi.CONTRACTS)
def test_every_public_function_event_and_error_is_specified_with_its_exact_signature(contract: str) -> None:
    artifact = load_artifact(contract)
    items = [i for i in artifact.abi if i["type"] in ("function", "event", "error")]
    assert items
    missing = [abi.declaration(i) for i in items if f"`{abi.declaration(i)}` | `{abi.selector(i)}`" not in TEXT]
    assert not missing, f"docs/PROTOCOL.md does not specify: {missing}"


@pytest.mark.parametrize("contract", list(VERIFIER_NEEDS))
def test_the_body_writes_out_what_a_verifier_needs(contract: str) -> None:
    by_name = {i["name"]: i for i in load_artifact(contract).abi if i["type"] in ("function", "event")}
    for name in VERIFIER_NEEDS[contract]:
        assert name in by_name, f"{contract} has no {name}: update VERIFIER_NEEDS and the spec"
        declaration = abi.declaration(by_name[name])
        assert declaration in BODY, f"the body of docs/PROTOCOL.md does not write out `{declaration}`"


def test_every_topic0_and_selector_quoted_next_to_a_declaration_is_right() -> None:
    known = {
        abi.declaration(i): abi.selector(i)
        for name in abi.CONTRACTS
        for i in load_artifact(name).abi
        if i["type"] in ("function", "event", "error")
    }
    quoted = re.findall(r"`((?:function|event|error) [^`]+)`[^\n]*?`(0x[0-9a-f]{8}(?:[0-9a-f]{56})?)`", TEXT)
    assert len(quoted) > 100
    for declaration, value in quoted:
        assert declaration in known, f"not a declaration of the ABIs: {declaration}"
        assert known[declaration] == value, f"{declaration}: quoted {value}, the ABI gives {known[declaration]}"


def test_every_struct_a_verifier_decodes_is_laid_out_in_field_order() -> None:
    structs = {}
    for name in abi.CONTRACTS:
        structs.update(abi.structs_of(load_artifact(name).abi))
    for name in ("Subject", "Record", "Batch", "Certificate", "Actor", "NewSubject", "EventInput", "CaseState", "Step"):
        assert f"`{abi.struct_abi(structs[name])}`" in TEXT or abi.struct_abi(structs[name]) in BODY, name
        fields = [c["name"] for c in structs[name]]
        # the body's declaration lists the same fields in the same order
        match = re.search(rf"struct {name}\s*\{{(.*?)\}}", BODY, re.S)
        assert match, f"the body does not declare struct {name}"
        declared = re.findall(r"\b([a-zA-Z]+);", match.group(1))
        assert declared == fields, f"struct {name}: the body says {declared}, the ABI {fields}"


def test_one_protocol_version_everywhere() -> None:
    assert TEXT.startswith("# TraceChain protocol, version 2\n")
    assert MANIFEST_VERSION == 2
    notary = load_artifact("Notary")
    assert 'EIP712("TraceChainNotary", "2")' in (REPO / notary.source_path).read_text()
