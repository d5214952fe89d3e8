"""CBV 2.0 vocabularies: the same terms as the EPCIS 2.0 JSON-LD context, and the business-step codes."""

from __future__ import annotations

import importlib.resources
import json

import pytest

from tracechain.epcis.vocabulary import (
    BIZ_STEP_LIST,
    BIZ_STEPS,
    BIZ_TRANSACTION_TYPES,
    DISPOSITIONS,
    EXTENSION_BIZ_STEP,
    MEASUREMENT_TYPES,
    NO_BIZ_STEP,
    SENSOR_COMPONENTS,
    Vocabulary,
    bare_value,
    biz_step_code,
    biz_step_name,
)
from tracechain.errors import InvalidInputError


def context() -> dict:
    files = importlib.resources.files("epcis_event_hash_generator")
    name = "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"  # the 2.0.0 context
    return json.loads(files.joinpath(name).read_text())["@context"]


def test_vocabularies_match_the_epcis_2_context() -> None:
    ctx = context()
    assert set(ctx["bizStep"]["@context"]) == BIZ_STEPS and len(BIZ_STEP_LIST) == 41
    assert set(ctx["disposition"]["@context"]) == DISPOSITIONS
    assert set(ctx["bizTransactionList"]["@context"]["type"]["@context"]) == BIZ_TRANSACTION_TYPES
    report = ctx["sensorElementList"]["@context"]["sensorReport"]["@context"]
    assert set(report["type"]["@context"]) == MEASUREMENT_TYPES
    assert set(report["component"]["@context"]) == SENSOR_COMPONENTS


def test_step_codes_are_alphabetical_positions() -> None:
    assert BIZ_STEP_LIST == tuple(sorted(BIZ_STEP_LIST))
    assert [biz_step_code(s) for s in ("accepting", "shipping", "void_shipping")] == [1, 33, 41]
    assert biz_step_code(None) == NO_BIZ_STEP == 0 and biz_step_name(0) == "none"
    assert biz_step_code("https://acme.example/steps/milking") == EXTENSION_BIZ_STEP == 255
    assert biz_step_name(255) == "extension" and biz_step_name(42) == "invalid"
    for code, name in enumerate(BIZ_STEP_LIST, start=1):
        assert biz_step_name(code) == name
        for form in (name, f"urn:epcglobal:cbv:bizstep:{name}", f"https://ref.gs1.org/cbv/BizStep-{name}",
                     f"cbv:BizStep-{name}"):  # fmt: skip
            assert biz_step_code(form) == code


@pytest.mark.parametrize(
    ("vocabulary", "value", "bare"),
    [
        (Vocabulary.DISPOSITION, "urn:epcglobal:cbv:disp:in_transit", "in_transit"),
        (Vocabulary.BIZ_TRANSACTION_TYPE, "https://ref.gs1.org/cbv/BTT-po", "po"),
        (Vocabulary.MEASUREMENT_TYPE, "gs1:Temperature", "Temperature"),
        (Vocabulary.SOURCE_DESTINATION_TYPE, "urn:acme:sdt:warehouse", "urn:acme:sdt:warehouse"),
    ],
)
def test_bare_values(vocabulary: Vocabulary, value: str, bare: str) -> None:
    assert bare_value(vocabulary, value, "field") == bare


@pytest.mark.parametrize(
    "value", ["flying", "urn:epcglobal:cbv:bizstep:recalling", "https://ref.gs1.org/cbv/Disp-x", 7]
)
def test_non_cbv_values_in_cbv_namespaces_are_refused(value: object) -> None:
    with pytest.raises(InvalidInputError):
        bare_value(Vocabulary.BIZ_STEP, value, "bizStep")
