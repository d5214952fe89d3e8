"""The reference verifier (docs/verifier/tcverify.py), written from docs/PROTOCOL.md alone, against
the demo story on the embedded chain served through the API's read-only /v1/rpc: it agrees with the
service on every verdict (traces, lineage, receipts, certificates, right checks, procurement cases)
and rejects a tampered copy of each."""

from __future__ import annotations

import ast
import copy
import importlib.util
import json
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn
from sqlalchemy import update

from tests.protocol_schemas import errors, validate
from tracechain.api.app import create_app
from tracechain.chain.anvil import free_port
from tracechain.demo import DemoContext
from tracechain.demo import cases as cases_chapter
from tracechain.demo import notary as notary_chapter
from tracechain.demo import provenance as provenance_chapter
from tracechain.demo import rights as rights_chapter
from tracechain.demo import supply_chain as supply_chain_chapter
from tracechain.services.runtime import Runtime
from tracechain.settings import Settings
from tracechain.store.db import Document, Store

REPO = Path(__file__).resolve().parents[1]
VERIFIER = REPO / "docs" / "verifier" / "tcverify.py"
ALLOWED_IMPORTS = {"web3", "eth_abi", "rfc8785"}


def load_verifier() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tcverify", VERIFIER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tcverify"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


tcv = load_verifier()


@dataclass
class Demo:
    """The demo story on the embedded chain, served over HTTP, and what each chapter printed."""

    runtime: Runtime
    url: str
    manifest: Path
    lines: list[str]
    failed: dict[str, str] = field(default_factory=dict)  # chapter -> why it could not run
    accounts: dict[str, Any] = field(default_factory=dict)

    def get(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=60) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    @property
    def node(self) -> Any:
        return tcv.Node(f"{self.url}/v1/rpc")

    @property
    def deployment(self) -> Any:
        return tcv.bind(self.node, json.loads(self.manifest.read_text()))

    def require(self, chapter: str) -> None:
        """Go on only if `chapter` ran; a chapter still waiting for another engineer's protocol v2 work
        (PENDING) is an expected failure, any other failure a real one."""
        if chapter not in self.failed:
            return
        if PENDING[chapter]():
            pytest.xfail(f"the demo's {chapter} chapter waits for protocol v2 services: {self.failed[chapter]}")
        pytest.fail(f"the demo's {chapter} chapter failed: {self.failed[chapter]}")


def _notary_v1() -> bool:
    from tracechain.services import receipts

    return receipts.RECEIPT_VERSION < 2  # the notary engineer's NotaryService and receipts v2


def _rights_v1() -> bool:
    from tracechain.chain import rights

    return not hasattr(rights, "dataset_id_of")  # the rights engineer's content-hash registration


PENDING: dict[str, Callable[[], bool]] = {
    "provenance": lambda: False,
    "supply_chain": lambda: False,
    "notary": _notary_v1,
    "rights": _rights_v1,
    "cases": lambda: False,
}


def _serve(runtime: Runtime) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def demo(embedded_net, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:  # noqa: ANN001
    """Run every chapter of the demo once for this module (the chain reverts afterwards)."""
    net = embedded_net
    snapshot = net.chain.snapshot()
    tmp = tmp_path_factory.mktemp("demo")
    store = Store(f"sqlite:///{tmp / 'store.db'}")
    store.bind_chain(net.chain.chain_id, net.deployment.anchor_hash)
    runtime = Runtime(
        # The verifier's reads go through /v1/rpc; on a loaded machine the embedded chain can take
        # longer than the proxy's default budget per request, which is not what these tests are about.
        settings=Settings(data_dir=tmp, public_base_url="http://placeholder", proxy_timeout_seconds=60),
        chain=net.chain,
        deployment=net.deployment,
        store=store,
        operator=net.accounts["relayer"],
    )
    server, thread, url = _serve(runtime)
    runtime.settings = runtime.settings.model_copy(update={"public_base_url": url})
    manifest = tmp / "deployment.json"
    manifest.write_text(json.dumps(net.deployment.to_json()))
    lines: list[str] = []
    accounts = {**net.accounts, "supplier": net.accounts["manufacturer2"]}
    world = Demo(runtime, url, manifest, lines, accounts=accounts)
    ctx = DemoContext(runtime=runtime, out=lines.append, accounts=accounts)
    chapters = (
        ("provenance", provenance_chapter),
        ("supply_chain", supply_chain_chapter),
        ("notary", notary_chapter),
        ("rights", rights_chapter),
    )
    for name, chapter in chapters:
        try:
            chapter.run(ctx)
        except Exception as exc:  # a chapter another engineer is still moving to protocol v2
            world.failed[name] = f"{type(exc).__name__}: {exc}"[:300]
    runtime.sync()
    try:
        yield world
    finally:
        server.should_exit = True
        thread.join(10)
        net.chain.revert(snapshot)


# ---------------------------------------------------------------- written from the spec alone
def test_the_verifier_imports_only_web3_eth_abi_rfc8785_and_the_standard_library() -> None:
    tree = ast.parse(VERIFIER.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    assert roots - sys.stdlib_module_names - {"__future__"} <= ALLOWED_IMPORTS, roots


def test_the_manifest_binds_only_to_its_own_chain(demo: Demo) -> None:
    manifest = json.loads(demo.manifest.read_text())
    assert demo.deployment.chain_id == manifest["chainId"]
    for forged in (
        {**manifest, "chainId": manifest["chainId"] + 1},
        {**manifest, "anchorBlock": {**manifest["anchorBlock"], "hash": "0x" + "ab" * 32}},
        {**manifest, "version": 1},
    ):
        with pytest.raises(tcv.Unusable):
            tcv.bind(demo.node, forged)


# ---------------------------------------------------------------- traces
def _consumer_ids(demo: Demo) -> list[str]:
    ids = []
    for line in demo.lines:
        if line.strip().startswith(demo.url) and "events," in line:
            path = line.split()[0][len(demo.url) :]
            ids.append(urllib.parse.unquote(path.removeprefix("/v1/products/").lstrip("/")))
    return ids


def _pages(demo: Demo, identifier: str, limit: int) -> list[dict[str, Any]]:
    base = f"/v1/products/{urllib.parse.quote(identifier, safe='/:')}?limit={limit}"
    status, page = demo.get(base)
    assert status == 200, page
    pages = [page]
    while pages[-1]["next_cursor"] is not None:
        status, page = demo.get(f"{base}&before={pages[-1]['next_cursor']}")
        assert status == 200, page
        pages.append(page)
    return pages


def test_every_demo_trace_verifies_as_the_service_says(demo: Demo) -> None:
    demo.require("provenance")
    ids = _consumer_ids(demo)
    assert len(ids) == 7, demo.lines
    deployment = demo.deployment
    for identifier in ids:
        pages = tcv.fetch_trace(demo.url, identifier)
        service = pages[0]["verification"]["verdict"]
        verdict = tcv.verify_trace(demo.node, deployment, pages)
        assert (verdict.verdict, service) == ("verified", "verified"), verdict.summary()
        # the same trace read three entries at a time
        small = tcv.verify_trace(demo.node, deployment, _pages(demo, identifier, 3))
        assert small.ok and small.facts["entries"] == verdict.facts["entries"], small.summary()
    recalled = [i for i in ids if tcv.fetch_trace(demo.url, i)[0]["recalled"]]
    assert recalled == ["01/09506000134369/21/GOU-0042"]


def _tampered(pages: list[dict[str, Any]], change: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    copied = copy.deepcopy(pages)
    change(copied[0])
    return copied


def test_tampered_copies_of_a_trace_are_rejected(demo: Demo) -> None:
    demo.require("provenance")
    gouda = "01/09506000134369/21/GOU-0042"  # custody, a recall and events
    pages = tcv.fetch_trace(demo.url, gouda)
    deployment = demo.deployment
    kinds = [e["kind"] for e in pages[0]["entries"]]
    assert {"event", "custody", "recall"} <= set(kinds)

    def event(page: dict[str, Any]) -> dict[str, Any]:
        return next(e for e in page["entries"] if e["kind"] == "event")

    def set_in(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
        def change(page: dict[str, Any]) -> None:
            target: Any = page
            for step in path[:-1]:
                target = target[step] if not callable(step) else step(target)
            target[path[-1]] = value

        return change

    def drop_newest(page: dict[str, Any]) -> None:
        page["entries"] = page["entries"][1:]

    def drop_middle(page: dict[str, Any]) -> None:
        del page["entries"][2]

    def altered_document(page: dict[str, Any]) -> None:
        event(page)["document"]["disposition"] = "sellable_accessible"

    cases: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
        "an event document altered": (altered_document, "tampered"),
        "an entry's time altered": (set_in([event, "timestamp"], 1), "tampered"),
        "an entry's actor altered": (set_in([event, "actor"], demo.runtime.operator.address), "tampered"),
        "an entry's step code altered": (set_in([event, "biz_step_code"], 21), "tampered"),
        "the newest entry hidden": (drop_newest, "incomplete"),
        "an entry in the middle hidden": (drop_middle, "incomplete"),
        "a document withheld": (set_in([event, "document"], None), "incomplete"),
        "the metadata altered": (set_in(["metadata", "name"], "Young gouda 500 g"), "tampered"),
        "the recall notice altered": (set_in(["recall", "reason", "reason"], "best before date passed"), "tampered"),
        "the custodian misreported": (set_in(["custodian"], demo.runtime.operator.address), "tampered"),
        "the status misreported": (set_in(["status"], "active"), "tampered"),
    }
    for name, (change, expected) in cases.items():
        verdict = tcv.verify_trace(demo.node, deployment, _tampered(pages, change))
        assert verdict.verdict == expected, f"{name}: {verdict.summary()}"


def test_a_document_altered_in_the_store_is_tampered_for_both(demo: Demo) -> None:
    demo.require("provenance")
    milk = "01/09506000134352/21/MLK-2611-0001"
    pages = tcv.fetch_trace(demo.url, milk)
    entry = next(e for e in pages[0]["entries"] if e["kind"] == "event")
    store = demo.runtime.store
    with store.session() as s:
        original = s.get(Document, entry["document_hash"]).body
    forged = json.loads(original)
    forged["disposition"] = "damaged"
    with store.session() as s:
        s.execute(update(Document).where(Document.hash == entry["document_hash"]).values(body=json.dumps(forged)))
    try:
        # The service's answer now (the HTTP endpoint answers from memory until the next block).
        served = _served_now(demo, milk)
        assert served["verification"]["verdict"] == "tampered"
        validate(served, "product-trace")
        assert tcv.verify_trace(demo.node, demo.deployment, [served]).verdict == "tampered"
    finally:
        with store.session() as s:
            s.execute(update(Document).where(Document.hash == entry["document_hash"]).values(body=original))
    assert _served_now(demo, milk)["verification"]["verdict"] == "verified"


def _served_now(demo: Demo, identifier: str) -> dict[str, Any]:
    from tracechain.api.schemas.products import ProductPublic
    from tracechain.services.provenance import TraceReader

    trace = TraceReader(demo.runtime).trace(identifier, limit=500)
    body: dict[str, Any] = ProductPublic.of(trace, demo.url).model_dump(mode="json")
    return body


# ---------------------------------------------------------------- receipts
def _receipts(demo: Demo) -> dict[str, tuple[dict[str, Any], Any]]:
    """The demo's receipts (co-signed order, single invoice, batched delivery note) with their records."""
    found = {}
    records = demo.runtime.settings.data_dir / "demo" / "records"
    for name in ("purchase-order", "invoice", "delivery-DN-2026-00417"):
        record = json.loads((records / f"{name}.json").read_text())
        status, receipt = demo.get(f"/v1/notarizations/{tcv.document_hash(record)}/receipt")
        assert status == 200, receipt
        found[name] = (receipt, record)
    return found


def _service_accepts(demo: Demo, receipt: dict[str, Any], record: Any = None) -> bool:
    """The service's verdict: what `tracechain verify` and POST /v1/verify decide, pinned to the Notary."""
    from tracechain.errors import InvalidReceiptError
    from tracechain.services.receipts import NotaryReceipt, verify_receipt

    try:
        parsed = NotaryReceipt.from_json(receipt)
    except InvalidReceiptError:
        return False
    notary = demo.runtime.deployment.address("Notary")
    return verify_receipt(demo.runtime.chain, parsed, record, notary=notary).ok


def test_every_demo_receipt_verifies_as_the_service_says(demo: Demo) -> None:
    demo.require("notary")
    receipts = _receipts(demo)
    assert {r["method"] for r, _ in receipts.values()} == {"single", "cosigned", "batched"}
    for name, (receipt, record) in receipts.items():
        verdict = tcv.verify_receipt(demo.node, demo.deployment, receipt, record)
        assert verdict.ok and _service_accepts(demo, receipt, record), f"{name}: {verdict.summary()}"


def test_tampered_copies_of_a_receipt_are_rejected(demo: Demo) -> None:
    demo.require("notary")
    receipts = _receipts(demo)
    other = "0x" + "ab" * 32

    def forge(name: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        receipt = copy.deepcopy(receipts[name][0])
        change(receipt)
        return receipt

    def setter(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda r: r.__setitem__(key, value)

    forged = {
        "a proof element": forge("delivery-DN-2026-00417", lambda r: r["merkle"]["proof"].__setitem__(0, other)),
        "the record hash": forge("invoice", setter("recordHash", other)),
        "the id": forge("invoice", setter("id", other)),
        "the block": forge("invoice", lambda r: r.__setitem__("blockNumber", r["blockNumber"] + 1)),
        "the time": forge("invoice", setter("time", "2001-01-01T00:00:00Z")),
        "the parties' order": forge("purchase-order", lambda r: r["parties"].reverse()),
        "the kind": forge("purchase-order", setter("kind", "invoice")),
        "the notary": forge("invoice", setter("notary", demo.runtime.operator.address)),
        "the record count": forge("delivery-DN-2026-00417", lambda r: r["merkle"].__setitem__("recordCount", 7)),
    }
    for name, receipt in forged.items():
        verdict = tcv.verify_receipt(demo.node, demo.deployment, receipt, None)
        assert not verdict.ok, f"{name}: {verdict.summary()}"
        assert not _service_accepts(demo, receipt), name
    receipt, record = receipts["invoice"]
    altered = {**record, "total": "1.00"}
    assert not tcv.verify_receipt(demo.node, demo.deployment, receipt, altered).ok
    assert not _service_accepts(demo, receipt, altered)


# ---------------------------------------------------------------- certificates and right checks
def _certificate_ids(demo: Demo) -> list[str]:
    lines = demo.lines
    return [lines[i + 1].strip() for i, line in enumerate(lines) if "certificate to" in line and "days)" in line]


def test_every_demo_certificate_and_right_check_verifies_as_the_service_says(demo: Demo) -> None:
    demo.require("rights")
    ids = _certificate_ids(demo)
    assert len(ids) == 2, demo.lines
    statuses = []
    for cid in ids:
        status, answer = demo.get(f"/v1/certificates/{cid}")
        assert status == 200, answer
        verdict = tcv.verify_certificate(demo.node, demo.deployment, cid, answer)
        assert verdict.ok, verdict.summary()
        assert verdict.facts["status"] == answer["status"]
        statuses.append(answer["status"])
    assert statuses == ["valid", "revoked"]
    status, processing = demo.get(f"/v1/certificates/{ids[0]}")
    dataset = processing["dataset_id"]
    accounts = {a["name"]: a["address"] for a in demo.get("/v1/actors")[1]["items"]}
    for account, right, expected in (
        (processing["grantee"], "processing", True),
        (processing["grantee"], "operation", False),
        (accounts["Logistics"], "operation", False),
        (accounts["Retailer"], "holding", True),
    ):
        status, answer = demo.get(f"/v1/datasets/{dataset}/rights?account={account}&right={right}")
        assert status == 200, answer
        verdict = tcv.verify_right_check(demo.node, demo.deployment, answer)
        assert verdict.ok and answer["has_right"] is expected, verdict.summary()
    unknown = "0x" + "cd" * 32
    status, answer = demo.get(f"/v1/datasets/{unknown}/rights?account={processing['grantee']}&right=processing")
    if status == 404:
        pytest.xfail("GET /v1/datasets/{unknown}/rights answers 404 until the rights engineer's alignment lands")
    assert answer["has_right"] is False and answer["dataset_registered"] is False
    assert tcv.verify_right_check(demo.node, demo.deployment, answer).ok


def test_tampered_copies_of_a_certificate_are_rejected(demo: Demo) -> None:
    demo.require("rights")
    cid = _certificate_ids(demo)[0]
    _, answer = demo.get(f"/v1/certificates/{cid}")
    for key, value in (
        ("status", "revoked"),
        ("use_count", 0),
        ("expires_at", answer["expires_at"] + 86_400),
        ("grantee", demo.runtime.operator.address),
        ("right", "operation"),
    ):
        verdict = tcv.verify_certificate(demo.node, demo.deployment, cid, {**answer, key: value})
        assert not verdict.ok, f"{key}: {verdict.summary()}"
    terms = {**answer["terms"], "fee": {"amount": 1, "currency": "EUR"}}
    assert not tcv.verify_certificate(demo.node, demo.deployment, cid, answer, terms).ok
    assert not tcv.verify_certificate(demo.node, demo.deployment, "0x" + "ef" * 32).ok
    dataset = answer["dataset_id"]
    _, check = demo.get(f"/v1/datasets/{dataset}/rights?account={answer['grantee']}&right=processing")
    assert not tcv.verify_right_check(demo.node, demo.deployment, {**check, "has_right": False}).ok


# ---------------------------------------------------------------- what a verifier reads, against docs/schemas/
def test_every_served_answer_of_the_demo_matches_its_schema(demo: Demo) -> None:
    validate(json.loads(demo.manifest.read_text()), "deployment-manifest")
    validate(demo.get("/v1/deployment")[1], "deployment-answer")
    demo.require("provenance")
    for identifier in _consumer_ids(demo):
        for page in _pages(demo, identifier, 3):
            validate(page, "product-trace")
    demo.require("notary")
    for receipt, _ in _receipts(demo).values():
        validate(receipt, "notary-receipt")
        if receipt["merkle"]:
            with demo.runtime.store.session() as s:
                manifest = json.loads(s.get(Document, receipt["merkle"]["metadataHash"]).body)
            validate(manifest, "notary-batch-manifest")
    demo.require("rights")
    for cid in _certificate_ids(demo):
        status, certificate = demo.get(f"/v1/certificates/{cid}")
        validate(certificate, "certificate")
        validate(demo.get(f"/v1/certificates/{cid}/uses")[1], "certificate-uses")
        status, dataset = demo.get(f"/v1/datasets/{certificate['dataset_id']}")
        validate(dataset, "dataset")
        check = f"/v1/datasets/{certificate['dataset_id']}/rights?account={certificate['grantee']}&right=processing"
        validate(demo.get(check)[1], "right-check")


# ---------------------------------------------------------------- the command line, standalone
def test_the_command_line_runs_without_tracechain_importable(demo: Demo) -> None:
    demo.require("provenance")
    milk = "01/09506000134352/21/MLK-2611-0001"
    guard = (
        "import runpy, sys; sys.modules['tracechain'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    base = [sys.executable, "-c", guard, str(VERIFIER), "--rpc", f"{demo.url}/v1/rpc", "--manifest", str(demo.manifest)]
    done = subprocess.run([*base, "trace", "--api", demo.url, milk], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.startswith("VERIFIED trace of " + milk), done.stdout + done.stderr
    pages = tcv.fetch_trace(demo.url, milk)
    pages[0]["entries"][0]["timestamp"] += 1
    forged = Path(demo.manifest.parent / "forged-trace.json")
    forged.write_text(json.dumps(pages[0]))
    done = subprocess.run([*base, "trace", str(forged)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stdout.startswith("TAMPERED"), done.stdout + done.stderr
    wrong = Path(demo.manifest.parent / "wrong-manifest.json")
    wrong.write_text(json.dumps({**json.loads(demo.manifest.read_text()), "chainId": 1}))
    done = subprocess.run([*base[:-1], str(wrong), "trace", str(forged)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "UNUSABLE" in done.stdout, done.stdout + done.stderr


# ---------------------------------------------------------------- lineage and recall paths (§6)
def test_every_subject_of_the_demo_supply_chain_verifies_with_its_lineage(demo: Demo) -> None:
    demo.require("supply_chain")
    sc = supply_chain_chapter
    deployment = demo.deployment
    recalled_via = {}
    deep = (sc.FARM_A, sc.WHEELS[0], sc.CASES[0], sc.PALLET)  # each also checks every subject it links to
    for identifier in (sc.FARM_A, sc.FARM_B, sc.CHEESE_LOT, *sc.WHEELS, *sc.CASES, sc.PALLET):
        pages = tcv.fetch_trace(demo.url, identifier)
        page = pages[0]
        if identifier in deep:
            verdict = tcv.verify_lineage_deep(demo.node, deployment, demo.url, identifier)
        else:
            verdict = tcv.verify_trace(demo.node, deployment, pages)
        assert verdict.ok and page["verification"]["verdict"] == "verified", verdict.summary()
        validate(page, "product-trace")
        recalled_via[identifier] = (page["recalled_via"] or {}).get("recalled")
    assert recalled_via[sc.WHEELS[0]] == sc.FARM_A and recalled_via[sc.FARM_B] is None
    wheel = tcv.fetch_trace(demo.url, sc.WHEELS[0])[0]
    assert {e["container"] for e in wheel["lineage"]["inherited"]} >= {sc.PALLET}


def test_tampered_copies_of_a_lineage_are_rejected(demo: Demo) -> None:
    demo.require("supply_chain")
    sc = supply_chain_chapter
    deployment = demo.deployment
    wheel = tcv.fetch_trace(demo.url, sc.WHEELS[0])[0]
    case = next(p for p in (tcv.fetch_trace(demo.url, c)[0] for c in sc.CASES) if p["lineage"]["inherited"])
    assert tcv.verify_lineage(demo.node, deployment, wheel).ok and tcv.verify_lineage(demo.node, deployment, case).ok
    other = sc.WHEELS[-1]
    other_key = tcv.hx(tcv.keccak(other.encode()))

    def forged(page: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        copied = copy.deepcopy(page)
        change(copied)
        return copied

    container_event = wheel["lineage"]["containers"][0]["event_hash_id"]
    cases = {
        "an input's event swapped": forged(
            wheel, lambda p: p["lineage"]["inputs"][0].__setitem__("event_hash_id", container_event)
        ),
        "an input's document hash altered": forged(
            wheel, lambda p: p["lineage"]["inputs"][0].__setitem__("document_hash", "0x" + "ab" * 32)
        ),
        "a container named that never held it": forged(
            wheel, lambda p: p["lineage"]["containers"][0].update(identifier=other, subject_key=other_key)
        ),
        "the recall path's source not recalled": forged(
            wheel, lambda p: p["recalled_via"].update(recalled=other, recalled_key=other_key)
        ),
        "the recall notice altered": forged(wheel, lambda p: p["recalled_via"]["reason"].update(reason="none")),
        "an inherited document altered": forged(
            case, lambda p: p["lineage"]["inherited"][0]["document"].__setitem__("bizStep", "receiving")
        ),
    }
    for name, page in cases.items():
        assert not tcv.verify_lineage(demo.node, deployment, page).ok, name


# ---------------------------------------------------------------- procurement cases (§9)
@pytest.fixture(scope="module")
def cases_demo(demo: Demo) -> Demo:
    """The demo's procurement chapter on top of the story, run once the other chapters' tests are done
    (its hundred blocks would slow every log query of the lineage tests)."""
    ctx = DemoContext(runtime=demo.runtime, out=demo.lines.append, accounts=dict(demo.accounts))
    try:
        cases_chapter.run(ctx)
    except Exception as exc:  # reported by require("cases")
        demo.failed["cases"] = f"{type(exc).__name__}: {exc}"[:300]
    demo.runtime.sync()
    return demo


def _cases(demo: Demo) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every case of the demo (five earlier orders and the chapter's three) as served, with its template."""
    status, listed = demo.get("/v1/cases?limit=50")
    assert status == 200, listed
    found = []
    for item in listed["items"]:
        status, answer = demo.get(f"/v1/cases/{item['case_id']}")
        assert status == 200, answer
        status, template = demo.get(f"/v1/procurement/templates/{answer['template']['hash']}")
        assert status == 200, template
        found.append((answer, template))
    return found


def _case(demo: Demo, number: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return next((a, t) for a, t in _cases(demo) if a["biz_transaction"].endswith(f":{number}"))


def test_every_demo_case_verifies_as_the_service_says(cases_demo: Demo) -> None:
    demo = cases_demo
    demo.require("cases")
    cases = _cases(demo)
    assert len(cases) == 8
    node = demo.node
    deployment = tcv.bind(node, json.loads(demo.manifest.read_text()))
    assert "CaseRegistry" in deployment.addresses
    codes = {}
    for answer, template in cases:
        verdict = tcv.verify_case(node, deployment, answer, template)
        service = answer["verification"]["verdict"]
        assert (verdict.verdict, service) == ("verified", "verified"), verdict.summary()
        assert verdict.facts["status"] == answer["status"] == "closed"
        assert verdict.facts["steps"] == len(answer["timeline"]) == answer["verification"]["step_count"]
        # every step's signatures were recovered from its transaction, none taken on trust
        assert sum("signature" in c and "is 0x" in c for c in verdict.checks) >= len(answer["timeline"])
        codes[answer["biz_transaction"].rsplit(":", 1)[1]] = {f["code"] for f in answer["findings"]}
        # without the template the verifier checks everything but the reconciliation
        assert tcv.verify_case(node, deployment, answer).ok
    assert "invoiced_not_received" in codes["PO-2026-0142"] and codes["PO-2026-0117"] == set()
    clean, _ = _case(demo, "PO-2026-0117")
    assert {s["source"] for s in clean["timeline"]} == {"document", "epcis"}


def test_tampered_copies_of_a_case_are_rejected(cases_demo: Demo) -> None:
    demo = cases_demo
    demo.require("cases")
    clean, template = _case(demo, "PO-2026-0117")  # EPCIS deliveries and warehousing
    short, _ = _case(demo, "PO-2026-0142")  # 12 invoiced, 10 received
    node = demo.node  # one node: it asks the chain each question once
    deployment = tcv.bind(node, json.loads(demo.manifest.read_text()))
    intruder = demo.runtime.operator.address

    def step(answer: dict[str, Any], kind: str) -> dict[str, Any]:
        return next(s for s in answer["timeline"] if s["kind"] == kind)

    def forged(answer: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        copied = copy.deepcopy(answer)
        change(copied)
        return copied

    def drop(kind: str) -> Callable[[dict[str, Any]], None]:
        return lambda a: a["timeline"].remove(step(a, kind))

    def remove_finding(code: str) -> Callable[[dict[str, Any]], None]:
        return lambda a: a.__setitem__("findings", [f for f in a["findings"] if f["code"] != code])

    cases: dict[str, tuple[dict[str, Any], str]] = {
        "a step document altered": (
            forged(short, lambda a: step(a, "invoice")["document"]["lines"][0].__setitem__("quantity", 10)),
            "tampered",
        ),
        "an EPCIS step's event altered": (
            forged(clean, lambda a: step(a, "delivery")["document"].__setitem__("bizStep", "receiving")),
            "tampered",
        ),
        "a step withheld": (forged(short, drop("acceptance")), "incomplete"),
        "the newest step withheld": (forged(clean, drop("settlement")), "incomplete"),
        "a step's document withheld": (
            forged(short, lambda a: step(a, "contract").__setitem__("document", None)),
            "incomplete",
        ),
        "a forged signer": (
            forged(short, lambda a: step(a, "contract")["signers"][1].__setitem__("address", intruder)),
            "tampered",
        ),
        "the signers' order": (forged(short, lambda a: step(a, "settlement")["signers"].reverse()), "tampered"),
        "a forged party on the award": (
            forged(short, lambda a: step(a, "award").__setitem__("party", intruder)),
            "tampered",
        ),
        "a forged supplier among the parties": (
            forged(short, lambda a: a["parties"][1].__setitem__("address", intruder)),
            "tampered",
        ),
        "a step's time": (forged(short, lambda a: step(a, "invoice").__setitem__("timestamp", 1)), "tampered"),
        "a step's head": (
            forged(short, lambda a: step(a, "invoice").__setitem__("head", "0x" + "ab" * 32)),
            "tampered",
        ),
        "an amendment invented": (forged(short, lambda a: step(a, "invoice").__setitem__("amends", 3)), "tampered"),
        "the opening document": (
            forged(short, lambda a: a["metadata"].__setitem__("title", "12 x something else")),
            "tampered",
        ),
        "the status": (forged(short, lambda a: a.__setitem__("status", "open")), "tampered"),
        "the received quantity": (
            forged(short, lambda a: a["reconciliation"]["lines"][0].__setitem__("received", "12")),
            "tampered",
        ),
        "the finding that 12 were invoiced, 10 received, hidden": (
            forged(short, remove_finding("invoiced_not_received")),
            "tampered",
        ),
        "a finding on the clean case invented": (
            forged(
                clean, lambda a: a["findings"].append({**copy.deepcopy(short["findings"][0]), "code": "short_received"})
            ),  # fmt: skip
            "tampered",
        ),
    }
    assert any(f["code"] == "invoiced_not_received" for f in short["findings"])
    for name, (answer, expected) in cases.items():
        verdict = tcv.verify_case(node, deployment, answer, template)
        assert verdict.verdict == expected, f"{name}: {verdict.summary()}"
    # a template that is not the case's, and a case the chain does not hold
    other = {**template, "version": "9"}
    assert not tcv.verify_case(node, deployment, short, other).ok
    unknown = forged(short, lambda a: a.__setitem__("case_id", "0x" + "cd" * 32))
    assert tcv.verify_case(node, deployment, unknown, template).verdict == "tampered"


def test_a_forged_signature_is_not_a_signer_s() -> None:
    """ecrecover of the CaseStep digest (§9): a signature by another key recovers another account."""
    from eth_account import Account

    signer, other = Account.from_key(tcv.keccak(b"signer")), Account.from_key(tcv.keccak(b"other"))
    separator = tcv.eip712_domain_separator("TraceChainCases", "1", 31337, "0x" + "11" * 20)
    struct = tcv.case_step_struct_hash(b"\1" * 32, 3, 3, 0, b"\2" * 32, bytes(32), "0x" + "00" * 20,
                                       [signer.address], 10**10)  # fmt: skip
    digest = tcv.keccak(b"\x19\x01" + separator + struct)
    node = tcv.Node(tcv.Web3())
    good = bytes(signer.unsafe_sign_hash(digest).signature)
    assert tcv.recover_typed(node, separator, struct, good) == signer.address
    assert tcv.recover_typed(node, separator, struct, bytes(other.unsafe_sign_hash(digest).signature)) != signer.address
    assert tcv.recover_typed(node, separator, struct, b"\0" * 65) is None


def test_the_case_answers_of_the_demo_match_their_schema(cases_demo: Demo) -> None:
    demo = cases_demo
    demo.require("cases")
    cases = _cases(demo)
    for answer, _ in cases:
        validate(answer, "case")
    answer = cases[0][0]
    step = answer["timeline"][0]
    for broken in (
        {k: v for k, v in answer.items() if k != "verification"},
        {**answer, "case_id": answer["case_id"].upper()},
        {**answer, "status": "settled"},
        {**answer, "timeline": [{**step, "kind_code": 0}]},
        {**answer, "timeline": [{**step, "signers": []}]},
        {**answer, "findings": [{"code": "suspicious", "category": "price", "severity": "high", "message": "",
                                 "gtin": None, "values": {}, "evidence": [], "evidence_verified": True}]},
    ):  # fmt: skip
        assert errors(broken, "case"), sorted(set(answer) ^ set(broken))


def test_the_command_line_verifies_a_case(cases_demo: Demo) -> None:
    demo = cases_demo
    demo.require("cases")
    short, _ = _case(demo, "PO-2026-0142")
    base = [sys.executable, str(VERIFIER), "--rpc", f"{demo.url}/v1/rpc", "--manifest", str(demo.manifest)]
    done = subprocess.run([*base, "case", "--api", demo.url, short["case_id"]], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("VERIFIED case "), done.stdout + done.stderr
    forged = demo.manifest.parent / "forged-case.json"
    short["timeline"][0]["document"]["plan"] = "something else"
    forged.write_text(json.dumps(short))
    done = subprocess.run([*base, "case", str(forged)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and done.stdout.startswith("TAMPERED"), done.stdout + done.stderr
