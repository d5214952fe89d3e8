"""The demo, served, as a newcomer meets it: every command it prints works when pasted into another
shell — against its read-only endpoint (`--rpc …/v1/rpc`), without any key — and so do the other
read commands there."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracechain.chain.anvil import free_port
from tracechain.cli.main import app
from tracechain.settings import get_settings

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 600  # seconds for the story (a hang guard on a busy machine, not a timing)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {**os.environ, "TRACECHAIN_DATA_DIR": str(tmp / "data"), "PYTHONPATH": str(ROOT / "src")}
    env.pop("TRACECHAIN_RPC_URL", None)
    story = (tmp / "story.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracechain.cli", "demo", "--port", str(port), "--json"],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=story,
        text=True,
    )
    try:
        summary = _read_json(proc)
        _wait_until_serving(summary["api"], proc)
        yield {"summary": summary, "story": (tmp / "story.txt").read_text(), "data": tmp / "data", "cwd": tmp}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        story.close()


def _read_json(proc: subprocess.Popen[str]) -> dict:
    assert proc.stdout is not None
    lines: list[str] = []
    timer = threading.Timer(READY_WITHIN, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                return json.loads("".join(lines))
    finally:
        timer.cancel()
    raise AssertionError(f"the demo ended without its summary (exit {proc.wait()}):\n{''.join(lines)}")


def _wait_until_serving(api: str, proc: subprocess.Popen[str]) -> None:
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{api}/v1/deployment", timeout=5):
                return
        except OSError:
            assert proc.poll() is None, "the demo stopped before serving"
            threading.Event().wait(0.2)
    raise AssertionError("the demo's API never answered")


def _paste(command: str, cwd: Path, data: Path) -> tuple[int, str]:
    """Run a printed `tracechain ...` command line as a shell would, in the demo's directory, without a key."""
    words = shlex.split(command)
    assert words[0] == "tracechain", command
    get_settings.cache_clear()
    env = {"TRACECHAIN_DATA_DIR": str(data), "TRACECHAIN_RPC_URL": None, "TRACECHAIN_PRIVATE_KEY": None}
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(app, words[1:], env=env)
    finally:
        os.chdir(previous)
    return result.exit_code, result.output


def test_every_command_the_demo_prints_works_when_pasted(demo: dict) -> None:
    story: str = demo["story"]
    assert "indexed up to block" in story
    printed = re.findall(r"(?:check it|or): (tracechain .+)$", story, re.M)
    assert len(printed) >= 3, story  # two receipts to verify, one certificate to show
    assert "<" not in "".join(printed) and "…" not in "".join(printed)
    for command in printed:
        code, out = _paste(command, demo["cwd"], demo["data"])
        assert code == 0, f"{command}\n{out}"


def test_reads_work_against_the_demo_s_read_only_endpoint(demo: dict) -> None:
    rpc = demo["summary"]["rpc"]
    assert rpc.endswith("/v1/rpc")
    milk = re.search(r"/(01/\d{14}/21/MLK-[\w-]+)\s", demo["story"])
    assert milk, demo["story"]
    for command, expected in (
        (f"tracechain product trace {milk.group(1)} --rpc {rpc}", "verification VERIFIED"),
        (f"tracechain actors list --rpc {rpc}", "Acme Dairy Co-op"),
        (f"tracechain status --rpc {rpc}", "operator     not configured: reads need no key"),
    ):
        code, out = _paste(command, demo["cwd"], demo["data"])
        assert code == 0 and expected in out, f"{command}\n{out}"
