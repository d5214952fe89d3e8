"""Templates and step documents without a chain: the built-in template's hash and rules (as
docs/PROTOCOL.md states them), its schemas against good and bad documents, invalid templates, and the
facts read from documents and EPCIS events."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from tests.services.cases.kit import GTIN, doc, line, po
from tracechain import errors
from tracechain.chain.cases import StepRule, rule_of
from tracechain.services.cases import default_template, parse_template
from tracechain.services.cases.documents import check_document, check_epcis_event, facts_of_document, facts_of_epcis

ORDER = po("PO-T1")


def test_the_built_in_template_is_the_one_the_protocol_documents() -> None:
    t = default_template()
    assert t.hash == "0xefd24606b2ae7f00a4d1f574cbc27c1b33681eb7712103f2c941ef54dbc02788"
    assert "0x" + t.rules.hex()[-22:] == "0x0013020105020403090100"
    assert t.kind_names == ("approval", "award", "contract", "production_inspection", "delivery", "acceptance",
                            "warehousing", "invoice", "settlement")  # fmt: skip
    assert rule_of(t.rules, 3) == StepRule.BUYER | StepRule.SUPPLIER
    assert rule_of(t.rules, 6) == StepRule.BUYER | StepRule.INSPECTOR
    assert rule_of(t.rules, 9) == StepRule.BUYER | StepRule.SUPPLIER | StepRule.CLOSES
    assert t.step("award").names_supplier and t.kinds_measuring("received") == ("acceptance",)


def test_schemas_accept_good_documents_and_name_what_is_wrong() -> None:
    t = default_template()
    contract = doc("contract", ORDER, "2026-03-01", [line(10, "185000.00")], currency="EUR")
    assert check_document(t, t.step("contract"), contract, ORDER) == []
    no_price = doc("contract", ORDER, "2026-03-01", [line(10)], currency="EUR")
    assert any("unitPrice" in p for p in check_document(t, t.step("contract"), no_price, ORDER))
    bad_date = {**contract, "date": "1 March"}
    assert any(p.startswith("date:") for p in check_document(t, t.step("contract"), bad_date, ORDER))
    assert any("not this case's order" in p for p in check_document(t, t.step("contract"), contract, po("X")))
    assert any(
        "wrong check digit" in p
        for p in check_document(
            t, t.step("delivery"), doc("delivery", ORDER, "2026-03-01", [line(1, gtin=GTIN[:-1] + "7")]), ORDER
        )
    )
    assert any("kind is" in p for p in check_document(t, t.step("invoice"), contract, ORDER))
    usd = doc("contract", ORDER, "2026-03-01", [line(10, "185000.00", currency="USD")], currency="EUR")
    assert any("not the document's currency" in p for p in check_document(t, t.step("contract"), usd, ORDER))


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["steps"][2].__setitem__("signers", ["supplier", "buyer"]),  # not in signing order
        lambda d: d["steps"][2].__setitem__("signers", ["auditor"]),
        lambda d: d["steps"][1].__setitem__("after", ["tender"]),
        lambda d: d["steps"].append(dict(d["steps"][0])),  # a kind twice
        lambda d: d["steps"][0].__setitem__("measure", "liked"),
        lambda d: d["schemas"].__setitem__("contract", {"type": "nonsense"}),
        lambda d: d.__setitem__("type", "other"),
    ],
)
def test_invalid_templates_are_refused(change) -> None:  # noqa: ANN001
    body = copy.deepcopy(default_template().document)
    change(body)
    with pytest.raises(errors.CaseTemplateError):
        parse_template(body)


def test_facts_of_documents_and_epcis_events() -> None:
    body = doc("approval", ORDER, "2026-03-01", [line(3, "9.50")], plan="p", approvalLimit="1000",
               budget={"amount": "5000", "currency": "EUR"}, due={"contract": "2026-04-01"})  # fmt: skip
    facts = facts_of_document("approval", body)
    assert facts.budget == Decimal(5000) and facts.approval_limit == Decimal(1000) and facts.currency == "EUR"
    assert facts.total == Decimal("28.50") and str(facts.due["contract"]) == "2026-04-01"
    event = {
        "type": "ObjectEvent", "eventTime": "2026-04-28T08:00:00.000Z", "action": "OBSERVE", "bizStep": "shipping",
        "epcList": [f"https://id.example.com/01/{GTIN}/21/S{i}" for i in range(3)],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.000001.L1", "quantity": 2, "uom": "EA"}],
        "bizTransactionList": [{"type": "po", "bizTransaction": ORDER}],
    }  # fmt: skip
    facts = facts_of_epcis("delivery", event)
    assert facts.quantities() == {GTIN: 5} and str(facts.date) == "2026-04-28"
    t = default_template()
    assert check_epcis_event(t.step("delivery"), event, ORDER) == []
    assert check_epcis_event(t.step("invoice"), event, ORDER)  # invoices are documents, never events
    assert any("does not name the order" in p for p in check_epcis_event(t.step("delivery"), event, po("Y")))
    assert any("bizStep" in p for p in check_epcis_event(t.step("warehousing"), event, ORDER))
