"""EPCIS query parameters to a query spec: every supported parameter normalised (CBV values in any form,
identifiers and locations in URN or Digital Link form, patterns as class prefixes, times), unknown names
refused, standard ones this repository does not evaluate answered as not implemented."""

from __future__ import annotations

import pytest

from tracechain.epcis import parse_identifier
from tracechain.epcis.query import ErrorDeclarations, class_prefix, parse_event_query, split_values
from tracechain.errors import EpcisNotImplementedError, EpcisQueryParameterError

GTIN = "09506000134352"
SGTIN_URN = "urn:epc:id:sgtin:9506000.013435.S-1"
SGTIN_LINK = f"https://id.example.com/01/{GTIN}/21/S-1"
SGLN_URN = "urn:epc:id:sgln:9506000.13435.1"
SGLN_LINK = "https://id.gs1.org/414/9506000134352/254/1"


def q(**params: str | list[str]):  # noqa: ANN201 - EventQuery
    return parse_event_query({k: v if isinstance(v, list) else [v] for k, v in params.items()})


def test_values_are_pipe_delimited_or_repeated() -> None:
    assert split_values(["a|b", "c", "|"]) == ["a", "b", "c"]
    assert q(eventType=["ObjectEvent|AggregationEvent", "ObjectEvent"]).event_types == (
        "ObjectEvent",
        "AggregationEvent",
    )


def test_cbv_values_in_every_form_become_bare_terms() -> None:
    forms = "shipping|urn:epcglobal:cbv:bizstep:shipping|https://ref.gs1.org/cbv/BizStep-shipping|cbv:BizStep-shipping"
    assert q(EQ_bizStep=forms).biz_steps == ("shipping",)
    assert q(EQ_disposition="urn:epcglobal:cbv:disp:in_transit").dispositions == ("in_transit",)
    assert q(EQ_bizStep="https://acme.example/steps/blessing").biz_steps == ("https://acme.example/steps/blessing",)
    assert q(EQ_errorReason="urn:epcglobal:cbv:er:incorrect_data").error_reasons == ("incorrect_data",)
    with pytest.raises(EpcisQueryParameterError, match="EQ_bizStep"):
        q(EQ_bizStep="teleporting")


def test_locations_in_urn_and_digital_link_form_are_one_place() -> None:
    assert q(EQ_readPoint=SGLN_URN).read_points == q(EQ_readPoint=SGLN_LINK).read_points == ("414/9506000134352/254/1",)
    assert q(EQ_bizLocation=f"{SGLN_URN}|{SGLN_LINK}").biz_locations == ("414/9506000134352/254/1",)
    with pytest.raises(EpcisQueryParameterError, match="EQ_readPoint"):
        q(EQ_readPoint="urn:epc:id:sgln:9506000.13435")  # no extension: not an SGLN


def test_identifiers_match_by_canonical_form_and_patterns_by_prefix() -> None:
    (match,) = q(MATCH_epc=f"{SGTIN_URN}|{SGTIN_LINK}").matches
    assert (match.roles, match.canonicals, match.prefixes) == (("epc", "child"), (f"01/{GTIN}/21/S-1",), ())
    (pattern,) = q(MATCH_anyEPC="urn:epc:idpat:sgtin:9506000.013435.*").matches
    assert pattern.prefixes == (f"01/{GTIN}/",) and pattern.canonicals == (f"01/{GTIN}",)
    assert pattern.roles == ("parent", "epc", "child", "input", "output")
    (gtin_link,) = q(MATCH_epcClass=f"https://id.example.com/01/{GTIN}").matches
    assert gtin_link.prefixes == (f"01/{GTIN}/",) and gtin_link.roles == ("quantity", "child_quantity")
    (lot,) = q(MATCH_inputEPCClass="urn:epc:class:lgtin:9506000.013435.L-1").matches
    assert (lot.canonicals, lot.prefixes, lot.roles) == ((f"01/{GTIN}/10/L-1",), (), ("input_quantity",))
    roles = {m.parameter: m.roles for m in q(
        MATCH_parentID="urn:epc:id:sscc:9506000.0000000001", MATCH_inputEPC=SGTIN_URN, MATCH_outputEPC=SGTIN_URN,
        MATCH_outputEPCClass=SGTIN_URN, MATCH_anyEPCClass=SGTIN_URN,
    ).matches}  # fmt: skip
    assert roles == {
        "MATCH_parentID": ("parent",),
        "MATCH_inputEPC": ("input",),
        "MATCH_outputEPC": ("output",),
        "MATCH_outputEPCClass": ("output_quantity",),
        "MATCH_anyEPCClass": ("quantity", "child_quantity", "input_quantity", "output_quantity"),
    }
    assert q(MATCH_epc="https://example.com/asset/7").matches[0].canonicals == ("opaque:https://example.com/asset/7",)
    with pytest.raises(EpcisQueryParameterError, match="MATCH_epc"):
        q(MATCH_epc=f"https://id.example.com/01/{GTIN[:-1]}9/21/S-1")  # bad check digit


def test_class_prefixes() -> None:
    assert class_prefix(parse_identifier("urn:epc:idpat:grai:9506000.13435.*")) == "8003/09506000134352"
    assert class_prefix(parse_identifier("8003/09506000134352A7")) is None  # a serialised GRAI is an instance
    assert class_prefix(parse_identifier(f"01/{GTIN}/21/S-1")) is None
    assert class_prefix(parse_identifier("opaque:SKU-1")) is None


def test_times_actions_and_event_ids() -> None:
    spec = q(GE_eventTime="2026-03-01T10:00:00.000+01:00", LT_eventTime="2026-03-01T09:00:01Z",
             GE_recordTime="2026-03-01T09:00:00.000 01:00", LT_recordTime="2026-03-02T00:00:00Z")  # fmt: skip
    assert (spec.ge_event_time_ms, spec.lt_event_time_ms) == (1772355600000, 1772355601000)
    assert spec.ge_record_time_ms == 1772352000000  # a '+' decoded as a space is taken as '+'
    with pytest.raises(EpcisQueryParameterError, match="GE_eventTime"):
        q(GE_eventTime="yesterday")
    assert q(EQ_action="ADD|DELETE").actions == ("ADD", "DELETE")
    with pytest.raises(EpcisQueryParameterError, match="EQ_action"):
        q(EQ_action="MOVE")
    digest = "ab" * 32
    spec = q(EQ_eventID=f"ni:///sha-256;{digest}?ver=CBV2.0|urn:uuid:6f5e9c1a-2b0a-4c7e-9a51-2f1d0c3e4b5a")
    assert spec.event_digests == ("0x" + digest,)
    assert spec.declared_ids[1] == "urn:uuid:6f5e9c1a-2b0a-4c7e-9a51-2f1d0c3e4b5a"


def test_error_declarations_are_left_out_unless_asked() -> None:
    assert q().error_declarations == ErrorDeclarations.EXCLUDE
    assert q(EXISTS_errorDeclaration="true").error_declarations == ErrorDeclarations.ONLY
    assert q(EXISTS_errorDeclaration="false").error_declarations == ErrorDeclarations.ANY
    assert q(EQ_errorReason="did_not_occur").error_declarations == ErrorDeclarations.ONLY
    with pytest.raises(EpcisQueryParameterError):
        q(EXISTS_errorDeclaration="maybe")


def test_ordering_and_limits() -> None:
    assert (q(orderBy="eventTime").order_by, q(orderBy="eventTime").descending) == ("eventTime", True)
    assert not q(orderBy="recordTime", orderDirection="ASC").descending
    assert q(orderBy="eventTime", eventCountLimit="2").event_count_limit == 2
    contradictions: list[dict[str, str]] = [
        {"eventCountLimit": "2"},  # the first 2 in which order?
        {"orderDirection": "ASC"},
        {"orderBy": "eventTime", "orderDirection": "UP"},
        {"maxEventCount": "0"},
        {"orderBy": "eventTime", "eventCountLimit": "1", "maxEventCount": "1"},
    ]
    for bad in contradictions:
        with pytest.raises(EpcisQueryParameterError):
            q(**bad)
    with pytest.raises(EpcisNotImplementedError):
        q(orderBy="acme:weight")


def test_unknown_names_are_refused_and_unsupported_ones_not_ignored() -> None:
    with pytest.raises(EpcisQueryParameterError, match="not an EPCIS query parameter"):
        q(bizStep="shipping")
    for name in ("EQ_quantity", "WD_bizLocation", "EQ_INNER_ILMD_acme:lot", "EQ_ILMD_acme:lot", "GE_CEL"):
        with pytest.raises(EpcisNotImplementedError, match=name):
            q(**{name: "1"})
    with pytest.raises(EpcisQueryParameterError, match="at least one value"):
        q(EQ_bizStep="|")
