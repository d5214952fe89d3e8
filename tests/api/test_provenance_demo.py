"""The demo's provenance chapter runs on a real chain and every consumer URL it prints answers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tracechain.demo import DemoContext
from tracechain.demo import provenance as chapter


def test_demo_chapter_prints_consumer_urls_that_answer(api: TestClient, runtime, net) -> None:  # noqa: ANN001
    lines: list[str] = []
    ctx = DemoContext(runtime=runtime, out=lines.append)
    names = ("manufacturer", "inspector", "logistics", "retailer")
    ctx.accounts.update({n: net.accounts[n] for n in names}, supplier=net.accounts["manufacturer2"])
    chapter.run(ctx)
    text = "\n".join(lines)
    urls = re.findall(r"http://testserver(/\S+)", text)
    assert len(urls) == 7
    bodies = [api.get(url) for url in urls]
    assert all(b.status_code == 200 for b in bodies), [b.text for b in bodies]
    traces = [b.json() for b in bodies]
    assert all(t["verification"]["verified"] for t in traces)
    assert [t["product_id"] for t in traces if t["recalled"]] == ["01/09506000134369/21/GOU-0042"]
    events = [[e for e in reversed(t["entries"]) if e["kind"] == "event"] for t in traces]
    assert [len(e) for e in events] == [8, 7, 4, 3, 3, 3, 2]
    sold = traces[0]
    assert events[0][-1]["biz_step"] == "retail_selling" and sold["custodian_name"] == "Retailer"
    assert "imported in 1 transaction(s)" in text
