"""Reads need no key anywhere: on a chain that is not a local dev chain (Anvil with another chain id),
every read command works without TRACECHAIN_PRIVATE_KEY, and writes say which account signs and
which pays — and what is missing when the operator's key is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import dev_accounts
from tracechain.cli.main import app
from tracechain.settings import get_settings

runner = CliRunner()
KEYS = ["0x" + a.key.hex().removeprefix("0x") for a in dev_accounts()]
ADDRESSES = [a.address for a in dev_accounts()]
PID = "01/09506000134352/21/SN-0042"
CHAIN_ID = 4242


class OtherChain(AnvilNode):
    """Anvil under a chain id that is not a local dev chain's: dev accounts are not offered."""

    def command(self) -> list[str]:
        return [*super().command(), "--chain-id", str(CHAIN_ID)]


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    get_settings.cache_clear()  # each command is a process of its own, reading its environment
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def ok(env: dict[str, str], *args: str) -> str:
    code, out = run(env, *args)
    assert code == 0, f"{args}: {out}"
    return out


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("keyless")
    with OtherChain(free_port()) as node:
        node.start()
        reader = {"TRACECHAIN_DATA_DIR": str(tmp), "TRACECHAIN_RPC_URL": node.url, "TRACECHAIN_PRIVATE_KEY": ""}
        operator = {**reader, "TRACECHAIN_PRIVATE_KEY": KEYS[0]}
        ok(operator, "deploy")
        ok(operator, "actors", "register", ADDRESSES[1], "--name", "Acme Dairy Co-op", "--role", "manufacturer",
           "--key", KEYS[0])  # fmt: skip
        ok(operator, "actors", "register", ADDRESSES[6], "--name", "Platform Notary", "--role", "notary",
           "--key", KEYS[0])  # fmt: skip
        ok(operator, "product", "register", PID, "--key", KEYS[1])
        ok(operator, "product", "event", PID, "--biz-step", "commissioning", "--key", KEYS[1])
        order = tmp / "po.json"
        order.write_text(json.dumps({"type": "purchase_order", "number": "PO-42"}))
        notarized = json.loads(ok(operator, "notarize", str(order), "--key", KEYS[6], "--out", str(tmp / "r.json"),
                                  "--json"))  # fmt: skip
        sales = tmp / "sales.json"
        sales.write_text(json.dumps({"dataset": "sales", "rows": 10}))
        dataset = json.loads(ok(operator, "rights", "register", str(sales), "--key", KEYS[1], "--json"))["dataset"]
        yield {"reader": reader, "operator": operator, "tmp": tmp, "record": notarized["recordHash"],
               "dataset": dataset, "order": order}  # fmt: skip


def test_every_read_works_without_a_key(chain: dict) -> None:
    env, tmp = chain["reader"], chain["tmp"]
    assert "Acme Dairy Co-op  [manufacturer]" in ok(env, "actors", "list")
    assert "Platform Notary" in ok(env, "actors", "show", ADDRESSES[6])
    assert "verification VERIFIED" in ok(env, "product", "trace", PID)
    assert f"dataset {chain['dataset']}" in ok(env, "rights", "show", chain["dataset"])
    assert ok(env, "rights", "check", chain["dataset"], ADDRESSES[1], "--right", "holding").startswith("yes:")
    assert json.loads(ok(env, "receipt", chain["record"]))["recordHash"] == chain["record"]
    assert ok(env, "verify", str(tmp / "r.json"), "--record", str(chain["order"])).startswith("OK: record")
    status = ok(env, "status")
    assert f"chain        {CHAIN_ID} at" in status and "local dev chain" not in status
    assert "operator     not configured: reads need no key" in status
    assert json.loads(ok(env, "status", "--json"))["operator"]["address"] is None


def test_a_relayed_write_without_the_operator_key_says_what_is_missing(chain: dict) -> None:
    code, out = run(chain["reader"], "product", "event", PID, "--biz-step", "packing", "--key", KEYS[1])
    assert code == 8, out
    assert f"chain {CHAIN_ID} is not a local dev chain and TRACECHAIN_PRIVATE_KEY is not set" in out
    assert "writes need the operator's key" in out


def test_a_direct_write_needs_only_the_signer_and_says_who_paid(chain: dict) -> None:
    out = ok(chain["reader"], "product", "event", PID, "--biz-step", "packing", "--key", KEYS[1], "--direct")
    assert f"signed and paid by Acme Dairy Co-op ({ADDRESSES[1]})" in out


def test_a_relayed_write_says_who_signed_and_who_paid(chain: dict) -> None:
    body = json.loads(ok(chain["operator"], "product", "event", PID, "--biz-step", "inspecting", "--key", KEYS[1],
                         "--json"))  # fmt: skip
    assert (body["signedBy"], body["paidBy"]) == (ADDRESSES[1], ADDRESSES[0])
    assert re.fullmatch(r"0x[0-9a-f]{64}", body["txHash"])


def test_dev_accounts_are_refused_on_a_chain_that_is_not_a_dev_chain(chain: dict) -> None:
    code, out = run(chain["operator"], "product", "event", PID, "--biz-step", "packing", "--dev-account", "1")
    assert code == 2 and "--dev-account works only on local dev chains" in out, out


def test_reading_needs_the_deployment_s_manifest_and_says_so(chain: dict, tmp_path: Path) -> None:
    code, out = run({**chain["reader"], "TRACECHAIN_DATA_DIR": str(tmp_path)}, "product", "trace", PID)
    assert code == 8 and f"no TraceChain deployment is recorded for chain {CHAIN_ID}" in out, out
