"""The `tracechain` command: compile, node, deploy, serve, demo, and each feature's commands."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from tracechain import errors
from tracechain.cli import actors, cases, common, notary, product, rights
from tracechain.cli.common import RpcOption, TraceChainGroup

app = typer.Typer(
    cls=TraceChainGroup,
    no_args_is_help=True,
    help="TraceChain: product provenance, data-rights certificates and notarized records on an EVM chain.",
)


@app.command()
def compile(
    check: Annotated[bool, typer.Option(help="Only check that the committed artifacts are fresh.")] = False,
) -> None:
    """Compile contracts/ with the pinned npm solc into src/tracechain/chain/artifacts/."""
    from tracechain.chain.compile import artifacts_are_fresh, compile_contracts

    if check:
        stale = artifacts_are_fresh()
        if stale:
            typer.echo("stale artifacts: " + ", ".join(stale), err=True)
            raise typer.Exit(1)
        typer.echo("artifacts are fresh")
        return
    for artifact in compile_contracts():
        size = (len(artifact.deployed_bytecode) - 2) // 2
        typer.echo(f"{artifact.contract_name}: {size} bytes deployed code")


@app.command()
def node(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8545,
    state: Annotated[Path, typer.Option(help="State file: loaded at start, saved on exit.")] = Path(
        ".tracechain/anvil-state.json"
    ),
) -> None:
    """Run a local Anvil node (from node_modules) until Ctrl-C or SIGTERM, keeping its state."""
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
    typer.echo(f"Anvil listening on {anvil.url} (chain id {chain.chain_id}, block {chain.w3.eth.block_number})")
    typer.echo(f"state file: {state}")
    typer.echo("dev accounts (well-known keys: never use them with real value):")
    for i, account in enumerate(dev_accounts()):
        typer.echo(f"  [{i}] {account.address}  key 0x{account.key.hex().removeprefix('0x')}")
    typer.echo(f"next: tracechain deploy --rpc {anvil.url}")
    try:
        while not stop.wait(0.5):
            if anvil.process is not None and anvil.process.poll() is not None:
                raise typer.Exit(1)
    finally:
        anvil.stop()
        typer.echo("node stopped, state saved")


@app.command()
def deploy(
    rpc: RpcOption = None,
    fresh: Annotated[bool, typer.Option(help="Deploy a new set even if the manifest matches.")] = False,
) -> None:
    """Deploy the contracts (or reuse the manifest's deployment) and print the manifest."""
    from tracechain.chain.connect import connect, operator_account
    from tracechain.chain.deploy import default_manifest_path
    from tracechain.chain.deploy import deploy as deploy_contracts

    settings = common.settings_with(rpc)
    chain = connect(settings)
    manifest = settings.manifest_path or default_manifest_path(settings.data_dir, chain)
    deployment = deploy_contracts(chain, operator_account(settings, chain), manifest, fresh=fresh)
    verb = "reused" if deployment.reused else "deployed"
    typer.echo(f"{verb} on {chain.label()} (chain {chain.chain_id}); manifest: {manifest}")
    for name, contract in deployment.contracts.items():
        typer.echo(f"  {name:22} {contract.address}  block {contract.block}")


@app.command()
def serve(
    rpc: RpcOption = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (more than 1 needs --rpc).")] = 1,
) -> None:
    """Serve the HTTP API (and web page) over the chain; embedded chain unless --rpc. With several
    workers, one of them follows the chain into the index and all of them answer from it."""
    import os

    import uvicorn

    from tracechain.api.app import create_app
    from tracechain.services.runtime import open_runtime

    settings = common.settings_with(rpc)
    if workers > 1 and not settings.rpc_url:
        raise errors.InvalidInputError(
            "several workers need a shared chain", hint="pass --rpc URL (start one with `tracechain node`)"
        )
    runtime = open_runtime(settings)
    runtime.sync()
    listen_host, listen_port = host or settings.api_host, port or settings.api_port
    if workers == 1:
        uvicorn.run(create_app(runtime), host=listen_host, port=listen_port)
        return
    os.environ["TRACECHAIN_RPC_URL"] = str(settings.rpc_url)  # the workers read their settings from it
    uvicorn.run(
        "tracechain.api.app:app_from_environment", factory=True, workers=workers, host=listen_host, port=listen_port
    )


@app.command()
def demo(
    serve: Annotated[bool, typer.Option(help="Serve the API afterwards (--no-serve: run the story and exit).")] = True,
    port: Annotated[int | None, typer.Option(help="API port when serving.")] = None,
) -> None:
    """Tell the TraceChain story on the embedded chain, then serve its API."""
    import uvicorn

    from tracechain.api.app import create_app
    from tracechain.demo import run_demo
    from tracechain.services.runtime import open_runtime

    settings = common.get_settings()
    if port is not None:
        settings = settings.model_copy(
            update={"api_port": port, "public_base_url": f"http://{settings.api_host}:{port}"}
        )
    runtime = open_runtime(settings.model_copy(update={"rpc_url": None}))
    run_demo(runtime, typer.echo)
    if serve:
        typer.echo(f"\nServing the API on {settings.public_base_url} (docs at /docs); Ctrl-C to stop.")
        uvicorn.run(create_app(runtime), host=settings.api_host, port=settings.api_port, log_level="warning")


for feature in (actors, product, notary, rights, cases):
    feature.register(app)


def main() -> None:
    """Console entry point."""
    app()
