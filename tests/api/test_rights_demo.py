"""The demo's data-rights chapter runs on a real chain and every URL it prints answers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tracechain.demo import DemoContext
from tracechain.demo import rights as chapter


def test_demo_chapter_prints_urls_that_answer(api: TestClient, runtime, net) -> None:
    lines: list[str] = []
    ctx = DemoContext(runtime=runtime, out=lines.append)
    ctx.accounts.update({n: net.accounts[n] for n in ("retailer", "manufacturer", "logistics")})
    chapter.run(ctx)
    text = "\n".join(lines)
    assert "may operate products on the dataset now: no" in text
    # every page URL (the JSON-RPC endpoint in the printed `rights show --rpc` command takes POSTs: the
    # command itself is pasted against the demo in tests/cli/test_demo_commands.py)
    urls = re.findall(r"http://testserver(/v1/(?!rpc\b)\S+)", text)
    assert len(urls) == 5
    bodies = [api.get(url) for url in urls]
    assert all(b.status_code == 200 for b in bodies), [b.text for b in bodies]
    dataset, processing, uses, operation, check = (b.json() for b in bodies)
    assert [c["status"] for c in dataset["certificates"]] == ["valid", "revoked"]
    assert processing["status"] == "valid" and processing["terms"]["right"] == "processing"
    assert uses["complete"] and len(uses["uses"]) == 1
    assert operation["status"] == "revoked" and operation["revocation"]["reason_hash"]
    assert check["has_right"] and check["basis"] == "certificate"
