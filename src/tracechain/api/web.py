"""The web page as served: the language chosen from Accept-Language, and the page's configuration
(where it reads the chain from) written into it."""

from __future__ import annotations

import json

from fastapi import Request

from tracechain.settings import Settings

LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"


def choose_language(accept_language: str | None) -> str:
    """The best of LANGUAGES for an Accept-Language header (q-values honoured; any zh is zh-CN)."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        language = {"zh": "zh-CN", "en": "en"}.get(primary)
        score = q - position * 1e-6  # earlier wins a tie
        if language and q > 0 and score > best_q:
            best, best_q = language, score
    return best


def page_html(template: str, request: Request, settings: Settings) -> str:
    """index.html with its language and configuration filled in."""
    language = choose_language(request.headers.get("accept-language"))
    config = {
        "language": language,
        "languages": list(LANGUAGES),
        "publicRpcUrl": settings.public_rpc_url,
        "rpcProxy": "/v1/rpc",
    }
    blob = json.dumps(config).replace("<", "\\u003c")
    return template.replace('<html lang="en">', f'<html lang="{language}">', 1).replace(
        '<script id="tc-config" type="application/json">{}</script>',
        f'<script id="tc-config" type="application/json">{blob}</script>',
        1,
    )
