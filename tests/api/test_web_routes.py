"""The web page's routes: language from Accept-Language, configuration, local docs assets."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tracechain.api.web import choose_language


def test_language_is_chosen_from_accept_language() -> None:
    assert choose_language(None) == "en"
    assert choose_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert choose_language("zh-TW") == "zh-CN"
    assert choose_language("fr-FR,en;q=0.5,zh;q=0.4") == "en"
    assert choose_language("en;q=0.3, zh;q=0.7") == "zh-CN"
    assert choose_language("de, fr") == "en"


def test_the_page_carries_its_language_and_configuration(api: TestClient) -> None:
    page = api.get("/", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert page.headers["vary"] == "Accept-Language"
    config = json.loads(re.search(r'<script id="tc-config" type="application/json">(.*?)</script>', page.text).group(1))
    assert config == {"language": "zh-CN", "languages": ["en", "zh-CN"], "publicRpcUrl": None, "rpcProxy": "/v1/rpc"}
    for asset in ("/static/app.js", "/static/verify.js", "/static/i18n.js", "/static/demo/milk.svg"):
        assert api.get(asset).status_code == 200, asset


def test_docs_use_local_assets_only(api: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        body = api.get(path).text
        assert "/static/vendor/" in body and "cdn" not in body.lower() and "fonts.googleapis" not in body, path


def test_every_openapi_reference_points_into_its_components(api: TestClient) -> None:
    """ReDoc, Swagger UI and code generators resolve `$ref` against the whole document: a pointer
    to a model's own `#/$defs` (pydantic's default) leaves /redoc blank."""
    document = api.get("/openapi.json").json()
    components = document["components"]["schemas"]
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    assert len(refs) > 50
    outside = [ref for ref in refs if not ref.startswith("#/components/schemas/")]
    assert outside == []
    assert {ref.removeprefix("#/components/schemas/") for ref in refs} <= set(components)
