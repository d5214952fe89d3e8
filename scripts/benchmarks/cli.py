"""The command line's start-up: `tracechain --help` and a sub-command's help, and read commands
against Anvil until their first JSON-RPC request reaches the node (medians of fresh processes)."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.chain.connect import dev_accounts


# ---------------------------------------------------------------- CLI start-up
def _tracechain_command() -> list[str]:
    """How to run the `tracechain` this interpreter has: its console script, else `python -m`."""
    script = Path(sys.executable).parent / "tracechain"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tracechain.cli"]


class _RecordingProxy:
    """A JSON-RPC pass-through to `upstream` that notes when the first request of a run arrives, so
    a command's time to its first RPC call is measured where the node sees it."""

    def __init__(self, upstream: str) -> None:
        import threading
        import urllib.request
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        proxy = self
        self.first: float | None = None
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                with proxy._lock:
                    if proxy.first is None:
                        proxy.first = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as answer:
                    data = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _run_cli(
    args: list[str], env: dict[str, str], proxy: _RecordingProxy | None = None
) -> tuple[float, float | None, float]:
    """Seconds until `tracechain args` ends, until its first JSON-RPC request reached the proxy, and
    of CPU it used (user + system: what a busy machine's wall time hides)."""
    import resource
    import subprocess

    if proxy is not None:
        proxy.first = None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*_tracechain_command(), *args], env=env, capture_output=True, text=True, timeout=300)
    end = time.perf_counter()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"tracechain {' '.join(args)} exited {done.returncode}: {done.stderr}")
    first = None if proxy is None or proxy.first is None else proxy.first - start
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return end - start, first, cpu


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def cli_startup(runs: int) -> dict[str, Any]:
    """Wall time of `tracechain --help` and of a sub-command's help, and of read commands against
    Anvil: until the first JSON-RPC request reaches the node, and until the command ends (medians of
    `runs` fresh processes each). Issue 10's target: help under 1 s."""
    env = {**os.environ}
    for name in [k for k in env if k.startswith("TRACECHAIN_")]:
        del env[name]
    report: dict[str, Any] = {
        "command": " ".join(_tracechain_command()),
        "runs": runs,
        "load_average": os.getloadavg()[0],
        "targets_ms": {"help": 1000},
    }
    for label, args in (("--help", ["--help"]), ("product event --help", ["product", "event", "--help"])):
        _run_cli(args, env)  # warm the file cache once
        timings = [_run_cli(args, env) for _ in range(runs)]
        report[label] = {
            "median_ms": _median_ms([t[0] for t in timings]),
            "cpu_median_ms": _median_ms([t[2] for t in timings]),
        }
    with tempfile.TemporaryDirectory() as data, AnvilNode(free_port()) as node:
        node.start()
        proxy = _RecordingProxy(node.url)
        try:
            env = {**env, "TRACECHAIN_DATA_DIR": data, "TRACECHAIN_RPC_URL": proxy.url}
            _run_cli(["deploy"], env)
            governor = dev_accounts(1)[0].address
            reads = {
                "status": ["status"],
                "actors show": ["actors", "show", governor],
                "actors list (index sync)": ["actors", "list"],
            }
            for label, args in reads.items():
                _run_cli(args, env, proxy)
                timings = [_run_cli(args, env, proxy) for _ in range(runs)]
                report[label] = {
                    "first_rpc_call_median_ms": _median_ms([t[1] for t in timings if t[1] is not None]),
                    "total_median_ms": _median_ms([t[0] for t in timings]),
                    "cpu_median_ms": _median_ms([t[2] for t in timings]),
                }
        finally:
            proxy.close()
    return report
