"""`tracechain status` (alias `doctor`): where you are, each part told even when another fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer._click.globals import get_current_context

from tracechain import errors
from tracechain.cli.common import (
    DEFAULT_RPC,
    JsonOption,
    RpcOption,
    VerboseOption,
    command,
    print_json,
    probe,
    prog,
    settings_with,
)
from tracechain.cli.core import names_of


def _part(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one part of the report; its failure becomes the part's `error`, never the command's."""
    try:
        return {"ok": True, **run()}
    except errors.TraceChainError as exc:
        return {"ok": False, "error": exc.message, **({"hint": exc.hint} if exc.hint else {})}
    except Exception as exc:  # a part that cannot be read is reported, not fatal
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def status(rpc: RpcOption = None, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """Tell where you are: the node, the deployment, the index, the operator and the notary queue.

    Each part is shown even when another cannot be read. The command exits 0 when the node answers,
    6 when it does not, and 8 when no node is configured. Also available as `tracechain doctor`.

    Examples:
      tracechain status --rpc http://127.0.0.1:8545
      tracechain status --json
    """
    settings = settings_with(rpc)
    report: dict[str, Any] = {"dataDir": str(settings.data_dir), "rpc": settings.rpc_url}
    code = 0
    if not settings.rpc_url:
        report["chain"] = {
            "ok": False,
            "error": "no node configured: give --rpc URL or set TRACECHAIN_RPC_URL",
            "hint": f"start one with `{prog()} node`, then pass --rpc {DEFAULT_RPC}",
        }
        code = 8
    else:
        url = settings.rpc_url
        report["chain"] = _part(lambda: {"chainId": probe(url)})
        if not report["chain"]["ok"]:
            code = 6
        else:
            _fill(report, settings)
    if as_json:
        print_json(report)
    else:
        _print(report)
    if code:
        raise typer.Exit(code)


def _fill(report: dict[str, Any], settings: Any) -> None:
    """The parts that need the chain (web3) and, where there is a deployment, the store."""
    from tracechain.chain.connect import connect
    from tracechain.chain.deploy import check_deployment, find_manifest, load_manifest
    from tracechain.services.runtime import open_runtime

    chain = connect(settings)
    head = chain.w3.eth.get_block("latest")

    def chain_part() -> dict[str, Any]:
        from tracechain.types import iso_utc

        return {
            "chainId": chain.chain_id,
            "localDevChain": chain.is_dev,
            "blockNumber": int(head["number"]),
            "blockTime": iso_utc(int(head["timestamp"])),
        }

    report["chain"] = _part(chain_part)
    manifest = settings.manifest_path or find_manifest(settings.data_dir, chain)

    def deployment_part() -> dict[str, Any]:
        deployment = load_manifest(manifest)
        problems = check_deployment(chain, deployment)
        return {
            "manifest": str(manifest),
            "matchesChain": not problems,
            "problems": problems,
            "contracts": {n: c.address for n, c in deployment.contracts.items()},
        }

    report["deployment"] = _part(deployment_part)
    if not report["deployment"]["ok"]:
        report["deployment"]["hint"] = f"deploy with `{prog()} deploy --rpc {settings.rpc_url}`"
        report["operator"] = _part(lambda: _operator(settings, chain))
        return
    runtime_part = _part(lambda: {"runtime": open_runtime(settings, chain, deploy_missing=False, read_only=True)})
    if not runtime_part["ok"]:
        report["index"] = runtime_part
        report["operator"] = _part(lambda: _operator(settings, chain))
        return
    runtime = runtime_part["runtime"]
    names_of(get_current_context()).runtime = runtime

    def index_part() -> dict[str, Any]:
        from tracechain.store.indexer import STREAM

        done = runtime.store.checkpoint(STREAM)
        indexed = runtime.deployment.start_block - 1 if done is None else done
        return {"store": runtime.store.url, "indexedBlock": indexed, "lagBlocks": int(head["number"]) - indexed}

    def queue_part() -> dict[str, Any]:
        from tracechain.services.notary import NotaryService

        svc = NotaryService(runtime)
        sealed = [
            {"root": b.root, "records": b.record_count, "attempts": b.attempts, "lastError": b.last_error}
            for b in svc.sealed_batches()
        ]
        return {"queued": svc.pending_count(), "sealedBatches": sealed}

    report["index"] = _part(index_part)
    report["operator"] = _part(lambda: _operator(settings, chain))
    report["notaryQueue"] = _part(queue_part)


def _operator(settings: Any, chain: Any) -> dict[str, Any]:
    from tracechain.chain.connect import operator_account

    account = operator_account(settings, chain, required=False)
    try:
        address = account.address
    except errors.ConfigurationError as exc:
        note = "not configured: reads need no key; relayed writes need TRACECHAIN_PRIVATE_KEY"
        return {"address": None, "note": note, "hint": exc.hint}
    wei = int(chain.w3.eth.get_balance(address))
    configured = settings.private_key is not None and settings.private_key.get_secret_value().strip()
    source = "TRACECHAIN_PRIVATE_KEY" if configured else "dev account 0"
    return {"address": address, "source": source, "balanceWei": str(wei), "balanceEth": f"{wei / 10**18:.6f}"}


def _print(report: dict[str, Any]) -> None:
    def line(label: str, text: str) -> None:
        typer.echo(f"{label:<12} {text}")

    def failed(label: str, part: dict[str, Any]) -> bool:
        if part.get("ok"):
            return False
        line(label, f"unavailable: {part['error']}")
        if part.get("hint"):
            line("", f"hint: {part['hint']}")
        return True

    line("data dir", report["dataDir"])
    chain = report["chain"]
    if not failed("chain", chain):
        dev = ", local dev chain" if chain.get("localDevChain") else ""
        line("chain", f"{chain['chainId']} at {report['rpc']}{dev}")
        if "blockNumber" in chain:
            line("block", f"{chain['blockNumber']} ({chain['blockTime']})")
    if "deployment" in report:
        dep = report["deployment"]
        if not failed("deployment", dep):
            state = "matches the chain" if dep["matchesChain"] else "DOES NOT MATCH: " + "; ".join(dep["problems"])
            line("deployment", f"{dep['manifest']} ({state})")
            for name, address in dep["contracts"].items():
                line("", f"{name:22} {address}")
    if "index" in report:
        index = report["index"]
        if not failed("index", index):
            lag = "up to date" if index["lagBlocks"] <= 0 else f"{index['lagBlocks']} blocks behind"
            line("index", f"block {index['indexedBlock']} ({lag}); store {index['store']}")
    if "operator" in report:
        op = report["operator"]
        if not failed("operator", op):
            if op["address"] is None:
                line("operator", op["note"])
            else:
                line("operator", f"{op['address']} ({op['source']}), balance {op['balanceEth']} ETH")
    if "notaryQueue" in report:
        queue = report["notaryQueue"]
        if not failed("notary queue", queue):
            queued, sealed = queue["queued"], len(queue["sealedBatches"])
            line("notary queue", f"{_count(queued, 'record')} queued, {_count(sealed, 'sealed batch')}")
            for b in queue["sealedBatches"]:
                line("", f"sealed batch {b['root']}: {b['records']} records, {b['attempts']} attempts")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith("ch") else "s")


def register(app: typer.Typer) -> None:
    """Add `status` and its alias `doctor` to `app`."""
    command(app, "status")(status)
    command(app, "doctor", hidden=True)(status)
