"""The demo's master data: the dairy's products (by GTIN) and the places along their way (by SGLN),
in English and Chinese, each published as EPCIS 2.0 master data signed by the actor who knows it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracechain.services.masterdata import MasterDataService

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from tracechain.demo import DemoContext

EPC_CLASS = "urn:epcglobal:epcis:vtype:EPCClass"
BUSINESS_LOCATION = "urn:epcglobal:epcis:vtype:BusinessLocation"
TTL = 3600


def text(en: str, zh: str) -> list[dict[str, str]]:
    """A JSON-LD language-tagged value in English and Chinese."""
    return [{"@value": en, "@language": "en"}, {"@value": zh, "@language": "zh-CN"}]


def _element(element_id: str, **attributes: Any) -> dict[str, Any]:
    """A vocabulary element; a text in several languages is one attribute a language, as the EPCIS
    2.0 JSON schema wants (an attribute is a number, a string or an object)."""
    pairs = [
        {"id": key, "attribute": one}
        for key, value in attributes.items()
        for one in (value if isinstance(value, list) else [value])
    ]
    return {"id": element_id, "attributes": pairs}


def product(gtin: str, *, name: list[dict[str, str]], net: str, image: str, allergens: list[dict[str, str]],
            storage: list[dict[str, str]], low: float, high: float, extra: dict[str, Any] | None = None
            ) -> dict[str, Any]:  # fmt: skip
    """An EPCClass element for a GTIN (as an SGTIN pattern, GS1 company prefix 9506000)."""
    urn = f"urn:epc:idpat:sgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.*"
    return _element(
        urn,
        **{
            "cbvmda:descriptionShort": name,
            "gs1:brand": "Acme Dairy",
            "cbvmda:netContentDescription": net,
            "gs1:image": image,
            "cbvmda:manufacturerOfTradeItemPartyName": "Acme Dairy Co-op",
            "cbvmda:countryOfOrigin": "SE",
            "gs1:allergenStatement": allergens,
            "gs1:consumerStorageInstructions": storage,
            "gs1:minimumTemperature": low,
            "gs1:maximumTemperature": high,
            **(extra or {}),
        },
    )


def location(sgln: str, *, name: list[dict[str, str]], street: str, city: str, postal: str, lat: float, lon: float,
             kind: str) -> dict[str, Any]:  # fmt: skip
    """A BusinessLocation element for an SGLN."""
    return _element(
        sgln,
        **{
            "cbvmda:name": name,
            "cbvmda:streetAddressOne": street,
            "cbvmda:city": city,
            "cbvmda:postalCode": postal,
            "cbvmda:countryCode": "SE",
            "cbvmda:latitude": lat,
            "cbvmda:longitude": lon,
            "cbvmda:sst": kind,
        },
    )


def master_document(vocabularies: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """An EPCISMasterDataDocument-like EPCIS document carrying `vocabularies` in its header."""
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-15T12:00:00.000+01:00",
        "epcisHeader": {
            "epcisMasterData": {
                "vocabularyList": [
                    {"type": vtype, "vocabularyElementList": elements} for vtype, elements in vocabularies
                ]
            }
        },
        "epcisBody": {"eventList": []},
    }


def publish(ctx: DemoContext, signer: LocalAccount, document: dict[str, Any]) -> int:
    """Sign and publish `document` as `signer`; returns how many elements it recorded."""
    service = MasterDataService(ctx.runtime)
    deadline = service.chain_time() + TTL
    signature = service.sign(signer, document, deadline)
    return len(service.publish(document, signer.address, deadline, signature).records)
