"""Runs an Anvil node from node_modules: a real JSON-RPC chain whose state survives restarts."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from tracechain.chain.compile import project_root
from tracechain.chain.connect import Chain, rpc_chain
from tracechain.errors import ChainUnavailableError, NodeStartError


def anvil_binary(root: Path | None = None) -> Path:
    """Path of the Anvil binary the npm package installs.

    Raises:
        NodeStartError: it is not installed.
    """
    path = (root or project_root()) / "node_modules" / ".bin" / "anvil"
    if path.exists():
        return path
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise NodeStartError("anvil is not installed", hint="run `make install` (npm @foundry-rs/anvil-linux-amd64)")


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AnvilNode:
    """One Anvil process on 127.0.0.1:`port`; with `state_path` it loads that state at start and
    writes it back when stopped with SIGTERM and every `state_interval` seconds, so a `kill -9` loses
    at most the last interval's blocks (which the index and the notary queue then notice and redo)."""

    def __init__(
        self, port: int = 8545, state_path: Path | None = None, *, state_interval: int = 1, log_path: Path | None = None
    ) -> None:
        self.port = port
        self.state_path = state_path
        self.state_interval = state_interval
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(self.port)]
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--state", str(self.state_path), "--state-interval", str(self.state_interval)]
        return cmd

    def start(self, timeout: float = 20.0, stop: threading.Event | None = None) -> Chain:
        """Start the node and wait until it answers.

        Raises:
            NodeStartError: the port is taken, the node exits or does not answer in time, or `stop`
                was set meanwhile (the node is stopped again, its state saved).
        """
        if _port_open(self.port):
            raise NodeStartError(f"port {self.port} on 127.0.0.1 is already in use", hint="pick another --port")
        out = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
            if self.process.poll() is not None:
                raise NodeStartError(f"anvil exited with code {self.process.returncode} while starting")
            try:
                return rpc_chain(self.url, timeout=2)
            except ChainUnavailableError:
                time.sleep(0.1)
        self.stop()
        if stop is not None and stop.is_set():
            raise NodeStartError("stopped while starting")
        raise NodeStartError(f"anvil did not answer on {self.url} within {timeout:.0f}s")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the node with SIGTERM (it saves its state), killing it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0
