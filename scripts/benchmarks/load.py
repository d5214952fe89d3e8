"""Reads under load: `tracechain serve --workers N` over Anvil, hit by wrk at 32 connections.

The set-up deploys on a fresh Anvil, writes the deployment where `serve` finds it, records a product
with 10 events and one with 10,000 (one EPCIS document), then starts `serve` and waits until its
index has caught up. wrk (`apt-get install wrk`) reports requests/s and the latency distribution of
GET /v1/products/{id} (the 10,000-event product: its newest page of 50)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import build_cast
from benchmarks.provenance import GTIN, SITE, START, _document
from tracechain.chain.anvil import AnvilNode, free_port
from tracechain.epcis import make_object_event

SHORT = f"01/{GTIN}/21/LOAD-10"
LONG = f"01/{GTIN}/21/LOAD-10000"


def _history(pid: str, count: int) -> dict[str, Any]:
    return _document([
        make_object_event(product_ids=[pid], event_time=START + timedelta(seconds=i), biz_step="storing",
                          read_point=SITE, digital_link_base="https://id.example.com") for i in range(count)
    ])  # fmt: skip


def _get(url: str, timeout: float = 60) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
        return getattr(exc, "code", 0), b""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit], 2)


def wrk(url: str, connections: int, seconds: int) -> dict[str, Any]:
    """requests/s, p50, p99 (ms) and non-2xx answers of wrk on `url`."""
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, timeout=seconds + 120, check=True,
    )  # fmt: skip
    out = done.stdout
    percentile = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        "p50_ms": _ms(percentile["50"]),
        "p99_ms": _ms(percentile["99"]),
        "requests": int(re.search(r"(\d+) requests in", out)[1]),  # type: ignore[index]
        "non_2xx": int(errors[1]) if errors else 0,
        "socket_errors": socket_errors[1].strip() if socket_errors else None,
        "connections": connections,
        "seconds": seconds,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def _median(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over wrk runs (one run's luck is no figure)."""
    import statistics

    keys = ("requests_per_second", "p50_ms", "p99_ms")
    return {k: round(statistics.median(sample[k] for sample in samples), 2) for k in keys}


def _serve(data: Path, rpc: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACECHAIN_")}
    env["TRACECHAIN_DATA_DIR"] = str(data)
    command = [sys.executable, "-m", "tracechain.cli", "serve", "--rpc", rpc, "--port", str(port)]
    log = open(data / "serve.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [*command, "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def load(
    workers: int = 2, connections: int = 32, seconds: int = 15, long_events: int = 10_000, runs: int = 3
) -> dict[str, Any]:
    """wrk on a 10-event product and on the newest page of a `long_events`-event product, `runs`
    times each: the medians of the runs, and every run."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (Debian: apt-get install wrk)"}
    from tracechain.services.provenance import ProvenanceService
    from tracechain.services.runtime import open_runtime
    from tracechain.settings import Settings

    out: dict[str, Any] = {"workers": workers}
    with tempfile.TemporaryDirectory(prefix="tracechain-load-") as tmp, AnvilNode(free_port()) as node:
        chain = node.start()
        data = Path(tmp)
        cast = build_cast(chain)
        cast.deployment.write(data / "deployments" / f"{chain.chain_id}.json")
        runtime = open_runtime(Settings(rpc_url=node.url, data_dir=data), deploy_missing=False)
        service = ProvenanceService(runtime, runtime.transactor)
        m = cast.accounts["manufacturer"]
        service.register_many(m, [(SHORT, None), (LONG, None)])
        service.import_epcis(m, _history(SHORT, 10))
        start = time.perf_counter()
        service.import_epcis(m, _history(LONG, long_events))
        out["set-up: import of the long product's events, seconds"] = round(time.perf_counter() - start, 1)
        runtime.store.engine.dispose()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = _serve(data, node.url, port, workers)
        try:
            deadline = time.monotonic() + 600
            targets = {"10 events": f"{base}/v1/products/{SHORT}", f"{long_events:,} events, newest page of 50":
                       f"{base}/v1/products/{LONG}?limit=50"}  # fmt: skip
            while time.monotonic() < deadline:  # ready: both answer (the index caught up)
                if all(_get(url, 120)[0] == 200 for url in targets.values()):
                    break
                if proc.poll() is not None:
                    raise RuntimeError((data / "serve.log").read_text()[-2000:])
                time.sleep(1)
            else:
                raise RuntimeError("serve did not answer within 600 s")
            for label, url in targets.items():
                status, body = _get(url)
                for _ in range(50):  # warm every worker
                    _get(url)
                samples = [wrk(url, connections, seconds) for _ in range(runs)]
                out[label] = {"status": status, "body_bytes": len(body), **_median(samples), "runs": samples}
        finally:
            _stop(proc)
    return out
