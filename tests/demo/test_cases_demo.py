"""The demo's procurement chapter on the embedded chain: three procurements of power transformers; the
clean one has no findings, the one invoiced beyond what was received and the one priced 35 % over the
trailing median are flagged, and every URL it prints answers."""

from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient

from tracechain.demo import DemoContext
from tracechain.demo import cases as chapter


def test_demo_chapter_flags_exactly_the_two_procurements_that_do_not_add_up(api: TestClient, runtime, net) -> None:  # noqa: ANN001
    lines: list[str] = []
    ctx = DemoContext(runtime=runtime, out=lines.append)
    ctx.accounts["governance"] = net.accounts["governance"]
    started = time.perf_counter()
    clean, short, pricey = chapter.run(ctx)
    print(f"chapter took {time.perf_counter() - started:.1f}s")
    text = "\n".join(lines)
    bodies = {o.number: api.get(f"/v1/cases/{o.case_id}").json() for o in (clean, short, pricey)}
    assert all(b["verification"]["verified"] for b in bodies.values()), text
    assert bodies[clean.number]["findings"] == [] and bodies[clean.number]["status"] == "closed", text
    codes = {n: {f["code"] for f in b["findings"]} for n, b in bodies.items()}
    assert "invoiced_not_received" in codes[short.number] and "price_outlier" not in codes[short.number]
    assert codes[pricey.number] == {"price_outlier"}, codes
    outlier = next(f for f in bodies[pricey.number]["findings"] if f["code"] == "price_outlier")
    assert outlier["values"]["deviation"] == "0.35" and outlier["values"]["history"] == "7"
    delivery = next(s for s in bodies[clean.number]["timeline"] if s["kind"] == "delivery")
    assert delivery["source"] == "epcis" and delivery["verified"]
    assert bodies[short.number]["reconciliation"]["lines"][0]["invoiced"] == "12"
    listed = api.get("/v1/cases", params={"limit": 50}).json()
    assert listed["total"] == 8 and all(c["verdict"] == "verified" and c["status"] == "closed" for c in listed["items"])
    assert {c["biz_transaction"] for c in listed["items"] if c["findings"]} == {short.po, pricey.po}
    for path in re.findall(r"http://testserver(/\S+)", text):
        assert api.get(path).status_code == 200, path
