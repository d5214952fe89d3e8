"""`tracechain case` end to end on an Anvil node: register the template, open a case, append steps signed
here (--sign) or with signatures collected by `case sign`, refuse a step without its party's key, show
the audited case, verify it from the chain's logs (and fail, exit 7, on an altered document) and list."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import CAST, _build
from tests.services.cases.kit import doc, line, po
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.cli.main import app

runner = CliRunner()
GOV, SELLER, BUYER = "0", str(CAST["manufacturer"][0]), str(CAST["retailer"][0])
ORDER = po("PO-CLI-1")


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("case-cli")
    anvil = AnvilNode(free_port(), tmp / "state.json")
    chain = anvil.start()
    try:
        net = _build(chain)
        net.deployment.write(tmp / "data" / "deployments" / f"{chain.chain_id}.json")
        yield {"url": anvil.url, "env": {"TRACECHAIN_DATA_DIR": str(tmp / "data")}, "tmp": tmp, "net": net}
    finally:
        anvil.stop()


def write(folder: Path, name: str, body: dict[str, Any]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(body))
    return str(path)


def test_a_case_through_the_command_line(node: dict[str, Any]) -> None:
    env, url, docs = node["env"], node["url"], node["tmp"] / "docs"
    code, out = run(env, "case", "template", "--rpc", url, "--dev-account", GOV)
    assert code == 0 and "registered" in out and "3:contract[buyer+supplier]" in out, out
    meta = write(node["tmp"], "case", {"po": ORDER, "title": "2 x 40 MVA transformers"})
    code, out = run(env, "case", "open", ORDER, "--metadata", meta, "--rpc", url, "--dev-account", BUYER)
    assert code == 0, out
    case_id = re.search(r"opened case (0x[0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]

    approval = write(docs, "1-approval", doc("approval", ORDER, "2026-05-01", plan="Substation 12",
                                             budget={"amount": "500000.00", "currency": "EUR"}))  # fmt: skip
    code, out = run(env, "case", "step", case_id, "approval", "--file", approval, "--sign", f"dev:{BUYER}",
                    "--rpc", url)  # fmt: skip
    assert code == 0 and "step 1 (approval)" in out, out
    seller = node["net"].accounts["manufacturer"].address
    award = write(docs, "2-award", doc("award", ORDER, "2026-05-03", supplier={"name": "M", "account": seller}))
    code, out = run(env, "case", "step", case_id, "award", "--file", award, "--supplier", seller, "--sign",
                    f"dev:{BUYER}", "--rpc", url)  # fmt: skip
    assert code == 0, out

    contract = write(docs, "3-contract", doc("contract", ORDER, "2026-05-05", [line(2, "185000.00")], currency="EUR"))
    deadline = str(int(node["net"].chain.w3.eth.get_block("latest")["timestamp"]) + 3600)
    passes = []
    for party in (BUYER, SELLER):
        code, out = run(env, "case", "sign", case_id, "contract", "--file", contract, "--deadline", deadline,
                        "--rpc", url, "--dev-account", party, "--json")  # fmt: skip
        assert code == 0, out
        passes.append(json.loads(out)["pass"].split(" ", 1)[1])
    code, out = run(env, "case", "step", case_id, "contract", "--file", contract, "--deadline", deadline,
                    "--signature", passes[0], "--signature", passes[1], "--rpc", url)  # fmt: skip
    assert code == 0 and "step 3 (contract)" in out, out

    invoice = write(node["tmp"], "invoice", doc("invoice", ORDER, "2026-06-01", [line(2, "185000.00")], currency="EUR"))
    code, out = run(env, "case", "step", case_id, "invoice", "--file", invoice, "--sign", f"dev:{BUYER}", "--rpc", url)
    assert code == 4 and "no key at hand" in out, out  # the buyer cannot sign the supplier's invoice

    code, out = run(env, "case", "show", case_id, "--rpc", url)
    assert code == 0 and "VERIFIED" in out and "#3  contract" in out and "buyer Retailer, supplier Manufacturer" in out
    code, out = run(env, "case", "show", case_id, "--json", "--rpc", url)
    assert code == 0 and json.loads(out)["verification"]["verdict"] == "verified"

    code, out = run(env, "case", "verify", case_id, "--documents", str(docs), "--rpc", url)
    assert code == 0 and out.startswith("OK: case") and "3 documents match" in out, out
    Path(contract).write_text(json.dumps({**json.loads(Path(contract).read_text()), "terms": "changed later"}))
    code, out = run(env, "case", "verify", case_id, "--documents", str(docs), "--rpc", url)
    assert code == 7 and "step(s) [3]" in out, out

    code, out = run(env, "case", "list", "--rpc", url)
    assert code == 0 and out.startswith("1 case(s)") and ORDER in out, out
    code, out = run(env, "case", "list", "--finding", "nonsense", "--rpc", url)
    assert code == 2, out
