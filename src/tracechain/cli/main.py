"""The `tracechain` command: compile, node, deploy, status, serve, demo, and each feature's commands.

Start-up time matters (a developer runs these all day): this module and the command modules import
only Typer and the standard library; everything heavy is imported inside the command that uses it.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from tracechain.cli import actors, cases, notary, product, rights, status
from tracechain.cli.common import (
    DEFAULT_RPC,
    JsonOption,
    RpcOption,
    VerboseOption,
    command,
    emit,
    need_node,
    operator_address,
    print_json,
    prog,
    settings_with,
)
from tracechain.cli.core import TraceChainGroup
from tracechain.cli.exitcodes import NO, exit_code_table
from tracechain.errors import ConfigurationError, UnavailableError

EPILOG = "Exit codes:\n" + exit_code_table()


class RootGroup(TraceChainGroup):
    """`tracechain` itself: its commands listed by what they are for."""

    SECTIONS = [
        ("Run a chain:", ["node", "deploy", "status", "serve", "demo"]),
        ("Actors and product provenance:", ["actors", "product"]),
        ("Notarized records:", ["notarize", "notarizations", "receipt", "verify", "batch"]),
        ("Data rights:", ["rights"]),
        ("Procurement cases:", ["case"]),
        ("Contracts:", ["compile"]),
    ]


app = typer.Typer(
    cls=RootGroup,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="""TraceChain: product provenance, data-rights certificates and notarized records on an EVM chain.

    Proofs go on the chain and documents stay off it. Commands that write sign with --key or
    --dev-account; by default the operator (TRACECHAIN_PRIVATE_KEY, or dev account 0 on local
    chains) relays the signed request and pays the gas. Reads need no key.""",
    epilog=EPILOG,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tracechain {version('tracechain')}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_version, help="Print the version and exit.")
    ] = False,
) -> None:
    """TraceChain's command line."""


@command(app, "compile")
def compile(
    check: Annotated[bool, typer.Option("--check", help="Only check that the committed artifacts are fresh.")] = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Compile contracts/ with the pinned npm solc into the committed artifacts.

    With --check, nothing is written: the command exits 1 when an artifact is stale.

    Examples:
      tracechain compile
      tracechain compile --check
    """
    from tracechain.chain.compile import artifacts_are_fresh, compile_contracts

    if check:
        stale = artifacts_are_fresh()
        emit(
            as_json,
            {"fresh": not stale, "stale": stale},
            "stale artifacts: " + ", ".join(stale) if stale else "artifacts are fresh",
        )
        if stale:
            raise typer.Exit(NO)
        return
    built = [(a.contract_name, (len(a.deployed_bytecode) - 2) // 2) for a in compile_contracts()]
    emit(
        as_json,
        {"artifacts": [{"contract": n, "deployedBytes": size} for n, size in built]},
        *(f"{n}: {size} bytes deployed code" for n, size in built),
    )


@command(app, "node")
def node(
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on, on 127.0.0.1.")] = 8545,
    state: Annotated[
        Path, typer.Option("--state", metavar="FILE", help="State file: loaded at start, saved on exit.")
    ] = Path(".tracechain/anvil-state.json"),
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Run a local Anvil node (from node_modules) until Ctrl-C or SIGTERM, keeping its state.

    The node's state is saved to the state file when it stops and every few seconds, so the next
    `tracechain node` comes back at the same block. With --json, one JSON line says where it
    listens once it is ready.

    Examples:
      tracechain node
      tracechain node --port 8546 --state /tmp/anvil.json
    """
    from tracechain.chain.anvil import AnvilNode
    from tracechain.chain.connect import dev_accounts

    anvil = AnvilNode(port, state)
    # Handlers first: a SIGTERM while Anvil starts must still stop it (and save its state).
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        chain = anvil.start(stop=stop)
    except BaseException:
        anvil.stop()
        if stop.is_set():
            typer.echo("node stopped while starting, state saved")
            return
        raise
    block = chain.w3.eth.block_number
    if not as_json:  # the first line says it is ready: print it before deriving the dev keys
        typer.echo(f"Anvil listening on {anvil.url} (chain id {chain.chain_id}, block {block})")
    keys = [(a.address, "0x" + a.key.hex().removeprefix("0x")) for a in dev_accounts()]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "rpc": anvil.url,
                    "chainId": chain.chain_id,
                    "blockNumber": block,
                    "stateFile": str(state),
                    "devAccounts": [{"address": a, "key": k} for a, k in keys],
                }
            )
        )
    else:
        typer.echo(f"state file: {state}")
        typer.echo("dev accounts (well-known keys: never use them with real value):")
        for i, (address, key) in enumerate(keys):
            typer.echo(f"  [{i}] {address}  key {key}")
        typer.echo(f"next: {prog()} deploy --rpc {anvil.url}")
    try:
        while not stop.wait(0.5):
            if anvil.process is not None and anvil.process.poll() is not None:
                raise UnavailableError(f"anvil exited with code {anvil.process.returncode}")
    finally:
        anvil.stop()
        if not as_json:
            typer.echo("node stopped, state saved")


@command(app, "deploy")
def deploy(
    rpc: RpcOption = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Deploy a new set even if the manifest matches.")] = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Deploy the contracts to a node, or reuse the deployment its manifest records.

    The manifest (data dir, deployments/CHAIN_ID.json) tells every later command where the
    contracts are. The operator deploys and pays: TRACECHAIN_PRIVATE_KEY, or dev account 0 on a
    local dev chain. The embedded chain is refused: it lives only inside one command.

    Examples:
      tracechain deploy --rpc http://127.0.0.1:8545
      tracechain deploy --rpc http://127.0.0.1:8545 --fresh --json
    """
    settings = settings_with(rpc)
    if not settings.rpc_url:
        raise ConfigurationError(
            "deploy needs a node: the embedded chain lives only inside one command, so a manifest of it "
            "would point at nothing",
            hint=f"start one with `{prog()} node`, then run `{prog()} deploy --rpc {DEFAULT_RPC}`",
        )
    need_node(settings, "deploy")
    from tracechain.chain.connect import connect, operator_account
    from tracechain.chain.deploy import deploy as deploy_contracts
    from tracechain.chain.deploy import find_manifest

    chain = connect(settings)
    manifest = settings.manifest_path or find_manifest(settings.data_dir, chain)
    operator = operator_account(settings, chain)
    deployment = deploy_contracts(chain, operator, manifest, fresh=fresh)
    verb = "reused" if deployment.reused else "deployed"
    lines = [f"{verb} on {chain.label()} (chain {chain.chain_id}); manifest: {manifest}"]
    if not deployment.reused:
        lines.append(f"signed and paid by the operator {deployment.deployer}")
    lines += [f"  {name:22} {c.address}  block {c.block}" for name, c in deployment.contracts.items()]
    lines.append(f"next: {prog()} status --rpc {settings.rpc_url}")
    data = {
        "action": verb,
        "rpc": settings.rpc_url,
        "chainId": chain.chain_id,
        "manifest": str(manifest),
        "deployer": deployment.deployer,
        "contracts": {
            n: {"address": c.address, "block": c.block, "txHash": c.tx_hash} for n, c in deployment.contracts.items()
        },
    }
    emit(as_json, data, *lines)


@command(app, "serve")
def serve(
    rpc: RpcOption = None,
    host: Annotated[str | None, typer.Option("--host", metavar="HOST", help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option("--workers", metavar="N", min=1, max=64, help="Worker processes (more than 1 needs --rpc).")
    ] = 1,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Serve the HTTP API (docs at /docs) and the web page over the chain, until Ctrl-C.

    Without --rpc it serves a fresh embedded chain that lives as long as the server. Host and port
    default to TRACECHAIN_API_HOST and TRACECHAIN_API_PORT (127.0.0.1:8000). With several workers
    (a node is needed) one of them follows the chain into the index and all of them answer from it.

    Examples:
      tracechain serve --rpc http://127.0.0.1:8545
      tracechain serve --rpc http://127.0.0.1:8545 --port 8080 --workers 2
    """
    settings = settings_with(rpc).serving_at(host, port)  # printed URLs and QR codes follow the real port
    host, port = settings.api_host, settings.api_port
    if workers > 1 and not settings.rpc_url:
        raise ConfigurationError(
            "several workers need a shared chain", hint=f"start one with `{prog()} node` and pass --rpc"
        )
    _check_port_free(host, port)
    if settings.rpc_url:
        need_node(settings, "serve --rpc")
    import uvicorn

    from tracechain.api.app import create_app
    from tracechain.services.runtime import open_runtime

    runtime = open_runtime(settings, read_only=True)
    runtime.sync()
    url = f"http://{host}:{port}"
    operator = operator_address(runtime)
    pays = (
        f"the operator {operator} relays signed writes and pays their gas"
        if operator
        else "no operator: TRACECHAIN_PRIVATE_KEY is not set, so the API serves reads and refuses relayed writes"
    )
    emit(
        as_json,
        {"url": url, "docs": f"{url}/docs", "rpc": settings.rpc_url, "operator": operator},
        f"serving {runtime.chain.label()} on {url} (docs at {url}/docs); Ctrl-C to stop",
        pays,
    )
    if workers == 1:
        _run_server(uvicorn, create_app(runtime), host, port)
        return
    os.environ["TRACECHAIN_RPC_URL"] = str(settings.rpc_url)  # the workers read their settings from it
    os.environ.setdefault("TRACECHAIN_PUBLIC_BASE_URL", settings.public_base_url)  # ... and print the same URLs
    uvicorn.run(
        "tracechain.api.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        timeout_worker_healthcheck=120,  # a worker imports web3 and opens its runtime before it answers
    )


def _check_port_free(host: str, port: int) -> None:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UnavailableError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint="pick another port with --port"
            ) from None


def _run_server(uvicorn: Any, asgi: Any, host: str, port: int) -> None:
    try:
        uvicorn.run(asgi, host=host, port=port, log_level="warning")
    except SystemExit as exc:  # uvicorn exits when it cannot bind (a race with another process)
        raise UnavailableError(f"the server on {host}:{port} could not start (uvicorn exit {exc.code})") from None


@command(app, "demo")
def demo(
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API afterwards, or run the story and exit.")
    ] = True,
    port: Annotated[int | None, typer.Option("--port", metavar="PORT", help="API port when serving.")] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Tell the TraceChain story on the embedded chain, then serve its API.

    Actors register, a product is traced from farm to shelf, records are notarized singly, co-signed
    and by the hundred, and data-rights certificates are granted, used and revoked. With --json
    the story goes to stderr and a summary (deployment, actors, API) to stdout.

    Examples:
      tracechain demo
      tracechain demo --no-serve
      tracechain demo --port 8080
    """
    from tracechain.settings import get_settings

    settings = get_settings().serving_at(port=port)  # printed URLs and QR codes follow the port
    if serve:
        _check_port_free(settings.api_host, settings.api_port)
    from tracechain.demo import run_demo
    from tracechain.services.runtime import open_runtime

    runtime = open_runtime(settings.model_copy(update={"rpc_url": None}))

    def out(line: str) -> None:
        typer.echo(line, err=as_json)

    ctx = run_demo(runtime, out, command=prog(), serving=serve)
    url = settings.public_base_url if serve else None
    if as_json:
        print_json(
            {
                "chainId": runtime.chain.chain_id,
                "contracts": {n: c.address for n, c in runtime.deployment.contracts.items()},
                "actors": {role: a.address for role, a in ctx.accounts.items()},
                "api": url,
                "rpc": f"{url}/v1/rpc" if url else None,
            }
        )
    if not serve:
        out(f"\nThe embedded chain ends with this command, and the URLs above with it: `{prog()} demo` serves them.")
        return
    import uvicorn

    from tracechain.api.app import create_app

    out(f"\nServing the API on {url} (docs at /docs); Ctrl-C to stop.")
    _run_server(uvicorn, create_app(runtime), settings.api_host, settings.api_port)


for feature in (status, actors, product, notary, rights, cases):
    feature.register(app)


def main() -> None:
    """Console entry point."""
    app()
