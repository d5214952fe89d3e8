"""Messages in domain words: contract errors name products, actors, roles and dates (raw values behind
--verbose); suggestions by edit distance; `verify` says what a file is when it is not a receipt;
printed commands use the name the program was run by."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from tracechain import errors
from tracechain.chain.artifact import all_artifacts
from tracechain.cli import core
from tracechain.cli.main import app
from tracechain.cli.messages import HINTS, TEMPLATES, Names, describe, did_you_mean, edit_distance, raw
from tracechain.epcis import BIZ_STEPS
from tracechain.models import Actor
from tracechain.types import Role

runner = CliRunner()
ACME, HARBOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
PID = "01/09506000134352/21/SN-0001"


def _abi_errors() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for artifact in all_artifacts():
        for item in artifact.abi:
            if item.get("type") == "error":
                found[item["name"]] = [i["name"] for i in item["inputs"]]
    return found


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_template_and_hint_names_a_contract_error_and_only_its_arguments() -> None:
    abi = _abi_errors()
    for table in (TEMPLATES, HINTS):
        for name, text in table.items():
            assert name in abi, f"{name} is no contract error (renamed?)"
            assert _fields(text) <= set(abi[name]), f"{name}: {sorted(_fields(text))} vs ABI {abi[name]}"


def _names(*subjects: str) -> Names:
    actors = {ACME: "Acme Dairy Co-op", HARBOR: "Harbor Logistics"}

    def get_actor(address: str) -> Actor | None:
        name = actors.get(address)
        return Actor(address, name, "0x" + "00" * 32, 1, 0, ()) if name else None

    return Names(runtime=SimpleNamespace(actors=SimpleNamespace(get_actor=get_actor)), subjects=list(subjects))


def test_a_custodian_error_names_the_product_and_the_actors() -> None:
    from tracechain.epcis.identifiers import parse_product_id

    key = "0x" + parse_product_id(PID).key.hex()
    exc = errors.ProvenanceRegistryNotCustodian({"subjectKey": key, "account": ACME, "custodian": HARBOR})
    message, hint = describe(exc, _names(f"https://id.gs1.org/{PID}"))
    assert message == f"Acme Dairy Co-op ({ACME}) is not the custodian of {PID}; Harbor Logistics ({HARBOR}) is"
    assert hint and "tracechain product transfer" in hint
    assert raw(exc) == f"ProvenanceRegistryNotCustodian(subjectKey={key}, account={ACME}, custodian={HARBOR})"
    unknown, _ = describe(exc, _names())
    assert f"the product with key {key}" in unknown


def test_roles_rights_and_times_are_words() -> None:
    role = "0x" + Role.MANUFACTURER.id.hex()
    missing = errors.ActorRegistryMissingRole({"account": HARBOR, "role": role})
    message, hint = describe(missing, _names(), prog=".venv/bin/tracechain")
    assert message == f"Harbor Logistics ({HARBOR}) does not hold the manufacturer role this needs"
    assert hint == f"see its roles with `.venv/bin/tracechain actors show {HARBOR}`"
    cert = "0x" + "ab" * 32
    expired = errors.DataRightsRegistryCertificateExpired({"certificateId": cert, "expiresAt": 1_767_225_600})
    assert describe(expired)[0] == f"certificate {cert} expired on 2026-01-01 00:00:00 UTC"
    wrong = errors.DataRightsRegistryWrongRight({"certificateId": cert, "granted": 1, "used": 2})
    assert describe(wrong)[0] == f"certificate {cert} grants the processing right, not the operation right"


def test_an_error_without_a_template_is_told_by_its_docstring_in_domain_words() -> None:
    exc = errors.ERC2771UntrustfulTarget({"target": ACME, "forwarder": HARBOR})
    message, _ = describe(exc, _names())
    assert message == (
        f"The target contract does not trust this forwarder (target Acme Dairy Co-op ({ACME}), "
        f"forwarder Harbor Logistics ({HARBOR}))"
    )
    assert describe(errors.NotaryEmptyKind())[0] == "A record kind must not be empty"


def test_domain_errors_keep_their_message_and_hint() -> None:
    assert describe(errors.InvalidInputError("bad", hint="do this")) == ("bad", "do this")


def test_suggestions_by_edit_distance() -> None:
    assert edit_distance("shiping", "shipping") == 1 and edit_distance("recieving", "receiving") == 1
    assert did_you_mean("shiping", BIZ_STEPS)[0] == "shipping"
    assert did_you_mean("comissioning", BIZ_STEPS) == ["commissioning"]
    assert did_you_mean("procesing", ["holding", "processing", "operation"]) == ["processing"]
    assert did_you_mean("teleporting", BIZ_STEPS) == []
    assert did_you_mean("ship", BIZ_STEPS) == ["shipping"]


def test_a_wrong_value_suggests_the_nearest_or_lists_them() -> None:
    close = runner.invoke(app, ["product", "event", PID, "--biz-step", "shiping", "--disposition", "in_transit"])
    assert close.exit_code == 2 and close.output == (
        "error: business step 'shiping' is unknown\nhint: did you mean 'shipping'?\n"
    ), close.output
    far = runner.invoke(app, ["actors", "grant", ACME, "wizard"])
    assert far.exit_code == 2 and "one of: auditor, governance, inspector" in far.output, far.output
    disposition = runner.invoke(app, ["product", "event", PID, "--biz-step", "shipping", "--disposition", "in_transt"])
    assert "did you mean 'in_transit'?" in disposition.output


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"type": "purchase_order", "number": "PO-1"}, 'is a record (a JSON document of type "purchase_order")'),
        ({"type": "EPCISDocument", "epcisBody": {}}, "is an EPCIS document"),
        ({"format": "something-else", "version": 1}, 'is a "something-else" document'),
        ({"number": "PO-1"}, "is a JSON object without a receipt's fields"),
        ([1, 2], "holds a JSON array"),
    ],
    ids=["record", "epcis", "other-format", "object", "array"],
)
def test_verify_says_what_a_file_is_when_it_is_not_a_receipt(tmp_path: Path, body: object, says: str) -> None:
    path = tmp_path / "po.json"
    path.write_text(json.dumps(body))
    result = runner.invoke(app, ["verify", str(path), "--rpc", "http://127.0.0.1:9"])
    assert result.exit_code == 2, result.output
    assert says in result.output and "not a" in result.output, result.output
    assert "verify expects the receipt file `tracechain notarize` writes" in result.output
    assert "format None" not in result.output


def test_unreadable_files_are_invalid_input(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["notarize", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and f"no such file: {tmp_path / 'nope.json'}" in missing.output
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    bad = runner.invoke(app, ["notarize", str(broken)])
    assert bad.exit_code == 2 and "is not valid JSON" in bad.output


def test_printed_commands_use_the_name_the_program_was_run_by(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = tmp_path / ".venv" / "bin" / "tracechain"
    script.parent.mkdir(parents=True)
    script.write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(core.sys, "argv", [str(script)])
    monkeypatch.setattr(core.shutil, "which", lambda name: None)
    assert core.prog() == ".venv/bin/tracechain"
    monkeypatch.setattr(core.shutil, "which", lambda name: str(script))
    assert core.prog() == "tracechain"
    monkeypatch.setattr(core.sys, "argv", ["-c"])
    assert core.prog() == "tracechain"


def test_no_message_template_ends_a_sentence_twice() -> None:
    for text in (*TEMPLATES.values(), *HINTS.values()):
        assert not re.search(r"\.\s*$", text), text  # the CLI adds no period; one would read ".."
