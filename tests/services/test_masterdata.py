"""Master data: identifiers, EPCIS vocabularies normalised, signed publication by actors, lookups."""

from __future__ import annotations

import pytest

from tracechain import errors
from tracechain.demo import masterdata as md
from tracechain.services.masterdata import (
    MasterDataService,
    elements_of,
    location_key,
    normalise_attributes,
    product_key,
)

MILK = "09506000134352"
SHOP = "urn:epc:id:sgln:9506030.00042.0"


def _products(name_en: str = "Organic whole milk 1 L") -> dict:
    return md.master_document([(md.EPC_CLASS, [
        md.product(MILK, name=md.text(name_en, "有机全脂牛奶 1 升"), net="1 L", image="/static/demo/milk.svg",
                   allergens=md.text("Contains milk", "含乳制品"), storage=md.text("Cold", "冷藏"), low=2, high=6),
    ])])  # fmt: skip


def test_product_keys_from_every_form() -> None:
    for raw in (
        MILK,
        "9506000134352",
        "urn:epc:idpat:sgtin:9506000.013435.*",
        "urn:epc:id:sgtin:9506000.013435.SN1",
        "urn:epc:class:lgtin:9506000.013435.L1",
        "01/09506000134352/21/MLK-1",
        "https://id.example.com/01/09506000134352/21/MLK-1",
    ):
        assert product_key(raw) == MILK, raw
    assert product_key("09506000134353") is None  # bad check digit
    assert product_key("opaque:crate") is None


def test_location_keys_from_every_form() -> None:
    assert location_key(SHOP) == "414/9506030000429"
    assert location_key("urn:epc:id:sgln:9506000.13435.7") == "414/9506000134352"[:4] + "9506000134352/254/7"
    assert location_key("9506030000429") == "414/9506030000429"
    assert location_key("https://id.example.com/414/9506030000429/254/7") == "414/9506030000429/254/7"
    assert location_key("urn:epc:id:sgln:9506030.00042") is None
    assert location_key(MILK) is None


def test_attributes_are_normalised_with_languages() -> None:
    attributes = normalise_attributes("product", [
        {"id": "urn:epcglobal:cbv:mda#descriptionShort", "attribute": {"@value": "Milk", "@language": "en"}},
        {"id": "cbvmda:descriptionShort", "attribute": {"@value": "牛奶", "@language": "zh-CN"}},
        {"id": "gs1:brand", "attribute": "Acme"},
        {"id": "https://example.com/ns#shelfLifeDays", "attribute": 10},
    ])  # fmt: skip
    assert attributes == {"name": {"en": "Milk", "zh-CN": "牛奶"}, "brand": "Acme", "shelfLifeDays": 10}
    with pytest.raises(errors.InvalidInputError, match="needs an id"):
        normalise_attributes("product", [{"attribute": "x"}])


def test_elements_of_documents_and_lists() -> None:
    doc = _products()
    [element] = elements_of(doc)
    assert (element.kind, element.key) == ("product", MILK)
    assert elements_of({"vocabularyList": doc["epcisHeader"]["epcisMasterData"]["vocabularyList"]}) == [element]
    with pytest.raises(errors.InvalidInputError):
        elements_of({"hello": "world"})


def test_signed_master_data_is_recorded_and_preferred_by_provider(runtime, net) -> None:  # noqa: ANN001
    service = MasterDataService(runtime)
    m, other = net.accounts["manufacturer"], net.accounts["retailer"]
    deadline = service.chain_time() + 600
    doc = _products()
    published = service.publish(doc, m.address, deadline, service.sign(m, doc, deadline))
    assert published.new_statements == 1 and published.records[0].signed
    again = service.publish(doc, m.address, deadline, service.sign(m, doc, deadline))
    assert again.new_statements == 0  # the same statement twice is one

    rival = _products("Cheap milk")
    service.publish(rival, other.address, deadline, service.sign(other, rival, deadline))
    newest = service.get("product", "01/09506000134352/21/X")
    assert newest.attributes["name"]["en"] == "Cheap milk" and newest.revisions == 2
    preferred = service.lookup(["01/09506000134352/21/X"], prefer=[m.address])["01/09506000134352/21/X"]
    assert preferred is not None and preferred.attributes["name"]["zh-CN"] == "有机全脂牛奶 1 升"
    assert preferred.provider == m.address and preferred.verified


def test_bad_signatures_and_strangers_are_refused(runtime, net) -> None:  # noqa: ANN001
    service = MasterDataService(runtime)
    m, outsider = net.accounts["manufacturer"], net.accounts["outsider"]
    doc = _products()
    deadline = service.chain_time() + 600
    with pytest.raises(errors.MasterDataSignatureError, match="not"):
        service.publish(doc, m.address, deadline, service.sign(outsider, doc, deadline))
    with pytest.raises(errors.MasterDataSignatureError, match="expired"):
        service.publish(doc, m.address, 1, service.sign(m, doc, 1))
    with pytest.raises(errors.ActorRegistryUnknownActor):
        service.publish(doc, outsider.address, deadline, service.sign(outsider, doc, deadline))
    with pytest.raises(errors.MasterDataNotFoundError):
        service.get("product", MILK)
