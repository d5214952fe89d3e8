"""The demo's supply-chain chapter on a real chain: the wheel it scans answers RECALLED with the path
from farm A's milk lot, inherits the pallet's journey, and the recall's reach is served."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tracechain.demo import DemoContext
from tracechain.demo import supply_chain as chapter


def test_the_chapter_ends_with_a_recalled_wheel_and_its_path(api: TestClient, runtime, net) -> None:  # noqa: ANN001
    lines: list[str] = []
    ctx = DemoContext(runtime=runtime, out=lines.append)
    ctx.accounts.update({n: net.accounts[n] for n in ("manufacturer", "logistics", "retailer")})
    chapter.run(ctx)
    text = "\n".join(lines)
    scan = re.search(r"scan a wheel: http://testserver(/\S+)", text)
    assert scan is not None, text
    body = api.get(scan.group(1)).json()
    assert body["recalled"] and body["verification"]["verified"]
    via = body["recalled_via"]
    assert via["recalled"] == chapter.FARM_A and via["verified"] and "Listeria" in via["reason"]["reason"]
    inherited = body["lineage"]["inherited"]
    pallet_steps = [e["biz_step"] for e in inherited if e["container"] == chapter.PALLET]
    assert pallet_steps == ["shipping", "sensor_reporting", "receiving"]
    assert all(e["document_verified"] and e["container_verdict"] == "verified" for e in inherited)
    reach = api.get(f"/v1/recalls/{chapter.FARM_A}/affected?limit=100").json()
    assert {a["identifier"] for a in reach["items"]} == {*chapter.WHEELS, chapter.CHEESE_LOT}
    other = api.get(f"/v1/products/{chapter.FARM_B}").json()
    assert not other["recalled"]  # the other farm's milk is not recalled
