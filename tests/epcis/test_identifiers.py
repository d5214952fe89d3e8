"""Identifier parsing and normalisation: GS1 keys as EPC URNs and Digital Link URIs, opaque IDs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracechain.epcis.identifiers import (
    GS1_CSET82,
    ProductId,
    gtin_check_digit,
    is_valid_gtin,
    parse_product_id,
)
from tracechain.errors import InvalidInputError
from tracechain.hashing import keccak_text

GTIN = "09506000134352"  # GS1's example GTIN


# ---------------------------------------------------------------- GTIN check digits
@pytest.mark.parametrize("gtin", [GTIN, "9506000134352", "4006381333931", "96385074", "036000291452", "80614141123458"])
def test_valid_gtins(gtin: str) -> None:
    assert is_valid_gtin(gtin)
    assert gtin_check_digit(gtin[:-1]) == int(gtin[-1])


@pytest.mark.parametrize(
    "gtin",
    [
        "09506000134353",
        "4006381333932",
        "96385075",
        "123",
        "123456789012345",
        "4OO6381333931",
        "",
        "٤٠٠٦٣٨١٣٣٣٩٣١",
    ],  # Arabic-Indic digits are str.isdigit() but not GTIN digits
)
def test_invalid_gtins(gtin: str) -> None:
    assert not is_valid_gtin(gtin)


def test_check_digit_rejects_non_digits() -> None:
    with pytest.raises(InvalidInputError):
        gtin_check_digit("12a4")


def test_bad_check_digit_names_expected_digit() -> None:
    with pytest.raises(InvalidInputError, match="expected 2"):
        parse_product_id("https://id.example.com/01/09506000134353/21/ABC123")


# ---------------------------------------------------------------- GS1 Digital Link
def test_digital_link_with_host_and_query() -> None:
    pid = parse_product_id("https://id.example.com/01/09506000134352/21/ABC123?linkType=all&x=1#frag")
    assert pid == ProductId(canonical=f"01/{GTIN}/21/ABC123", kind="gs1", gtin=GTIN, serial="ABC123")
    assert pid.digital_link_path == f"/01/{GTIN}/21/ABC123"
    assert pid.key == keccak_text(f"01/{GTIN}/21/ABC123")
    assert str(pid) == pid.canonical


@pytest.mark.parametrize(
    "raw",
    [
        "https://id.example.com/01/09506000134352/21/ABC123",
        "http://other.example.org:8080/01/09506000134352/21/ABC123/",
        "HTTPS://ID.EXAMPLE.COM/01/09506000134352/21/ABC123",
        "https://example.com/some/prefix/01/09506000134352/21/ABC123",
        "https://example.com/01/9506000134352/21/ABC123",
        "https://example.com/01/09506000134352/22/V1/10/LOT-7/21/ABC123",
        "https://example.com/gtin/09506000134352/lot/L1/ser/ABC123",
        "/01/09506000134352/21/ABC123",
        "/01/9506000134352/21/ABC123?x=y",
        "01/09506000134352/21/ABC123",
        "urn:epc:id:sgtin:9506000.013435.ABC123",
        "  urn:epc:id:sgtin:9506000.013435.ABC123\n",
    ],
)
def test_equivalent_gs1_forms_share_one_canonical(raw: str) -> None:
    assert parse_product_id(raw).canonical == f"01/{GTIN}/21/ABC123"


@pytest.mark.parametrize(
    ("gtin", "gtin14"),
    [("4006381333931", "04006381333931"), ("036000291452", "00036000291452"), ("96385074", "00000096385074")],
)
def test_short_gtins_are_padded_to_14(gtin: str, gtin14: str) -> None:
    pid = parse_product_id(f"https://id.example.com/01/{gtin}/21/S1")
    assert pid.gtin == gtin14
    assert pid.canonical == f"01/{gtin14}/21/S1"


def test_serial_percent_decoding() -> None:
    pid = parse_product_id("https://x.example/01/80614141123458/21/A%2fB%25C")
    assert pid.serial == "A/B%C"
    assert pid.canonical == "01/80614141123458/21/A%2FB%25C"
    assert parse_product_id("urn:epc:id:sgtin:0614141.812345.A%2FB%25C") == pid


# ---------------------------------------------------------------- EPC URNs (epcpy)
def test_sgtin_urn_matches_digital_link() -> None:
    urn = parse_product_id("urn:epc:id:sgtin:0614141.812345.6789")
    link = parse_product_id("https://id.example.com/01/80614141123458/21/6789")
    assert urn == link
    assert urn.key == link.key
    assert urn.gtin == "80614141123458" and urn.serial == "6789"
    assert urn.epc_urn == "urn:epc:id:sgtin:0614141.812345.6789"
    assert link.epc_urn is None  # the company prefix length is not in a GTIN


def test_uppercase_urn_prefix() -> None:
    assert parse_product_id("URN:EPC:ID:SGTIN:0614141.812345.6789").canonical == "01/80614141123458/21/6789"


@pytest.mark.parametrize(
    "raw",
    [
        "urn:epc:id:sgtin:0614141.812345",  # no serial
        "urn:epc:id:sgtin:0614141.81234.6789",  # 12 digits, not 13
        "urn:epc:id:sgtin:0614141.812345.ABCDEFGHIJKLMNOPQRSTU",  # 21-character serial
        "urn:epc:id:sgtin:0614141.812345.a#b",
        "urn:epc:id:sscc:0614141.123456789",  # 16 digits, not 17
        "urn:epc:class:lgtin:4012345.01234.998877",  # 12 digits, not 13
        "urn:epc:id:bic:CSQU3054383",  # not a GS1 scheme (only an EPCIS event may name it, as opaque)
        "urn:epc:whatever",
    ],
)
def test_bad_epc_urns(raw: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_product_id(raw)


# serial strings of GS1 character set 82
serials = st.text(alphabet=sorted(GS1_CSET82), min_size=1, max_size=20)


@given(serials, st.integers(min_value=6, max_value=12))
def test_serial_round_trips_through_all_forms(serial: str, prefix_length: int) -> None:
    pid = parse_product_id(f"https://id.example.com/01/80614141123458/21/{quote(serial, safe='')}")
    assert pid.serial == serial
    assert parse_product_id(pid.canonical) == pid
    assert parse_product_id(pid.digital_link_path or "") == pid
    via_urn = ProductId(pid.canonical, "gs1", pid.gtin, pid.serial, company_prefix_length=prefix_length)
    assert via_urn.epc_urn is not None and via_urn.epc_urn.startswith("urn:epc:id:sgtin:")
    # Every URN round-trips now: TraceChain decodes EPC URN escapes itself (epcpy 0.1.8 mis-decoded
    # '%2FB' as chr(0x2FB) and refused such URNs; this test used to expect that refusal).
    assert parse_product_id(via_urn.epc_urn) == pid


def test_urn_serial_starting_with_escaped_slash() -> None:
    # Was an expected failure (xfail) under epcpy; the package's own URN parser decodes it.
    assert parse_product_id("urn:epc:id:sgtin:0614141.812345.%2FB").serial == "/B"


# ---------------------------------------------------------------- opaque IDs
@pytest.mark.parametrize("raw", ["SKU-2024-000123", "lot.7:a/b_c", "A", "x" * 128, "urn:uuid:1234-abcd", "01"])
def test_opaque_ids(raw: str) -> None:
    pid = parse_product_id(raw)
    assert pid == ProductId(canonical=f"opaque:{raw}", kind="opaque", gtin=None, serial=None)
    assert pid.digital_link_path is None and pid.epc_urn is None
    assert parse_product_id(pid.canonical) == pid
    assert pid.key == keccak_text(f"opaque:{raw}")


def test_opaque_ids_are_case_sensitive() -> None:
    assert parse_product_id("sku-1") != parse_product_id("SKU-1")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "SKU 1",
        "SKU\t1",
        "x" * 129,
        "-leading-dash",
        "SKU#1",
        "größe",
        "SKU/01/2024",  # looks like a Digital Link path
        "/not/a/link",
        "https://example.com/products/123",  # a URL without AI 01
        "https://example.com/01/09506000134352/21/",  # empty serial
        "https://example.com/01/09506000134352/21/A/99/B",  # unknown AI
        "https://example.com/01/09506000134352/21/A/10/B",  # lot after serial
        "https://example.com/01/0950600013435/21/A",  # bad check digit (GTIN-13)
        "https://example.com/01/095060001343/21/A",  # 12 digits, bad check digit
        "https://example.com/01/ABCDEFGHIJKLMN/21/A",
        "https://example.com/01/09506000134352/21/%C3%A9",  # é is not in CSET 82
        "https:///01/09506000134352/21/A",  # no host
        "ftp://example.com/01/09506000134352/21/A",
        "opaque:",
        "opaque:https://x.example",
        "opaque:urn:epc:id:sgtin:0614141.812345.6789",
    ],
)
def test_invalid_ids(raw: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_product_id(raw)


@pytest.mark.parametrize("raw", [None, 123, b"SKU-1"])
def test_non_string_ids(raw: Any) -> None:
    with pytest.raises(InvalidInputError):
        parse_product_id(raw)
