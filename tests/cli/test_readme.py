"""The README, run as it is written: every ```sh block marked `<!-- readme-test: anvil -->`, in order,
in one bash session, on a fresh copy of examples/ — the block marked `background` (the node) runs
beside them, as in a second terminal. So the README can never drift from the code: change a
command and its README line, and this test tells you whether a newcomer can still paste it.

The only thing the test provides is what `make install` would: a `.venv/bin/activate` that puts
this checkout's `tracechain` on PATH."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tracechain.chain.anvil import free_port
from tracechain.cli.exitcodes import EXIT_CODES, exit_code_table

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(
    r"<!-- readme-test: (?P<session>[\w-]+)(?P<background> background)? -->\n```sh\n(?P<code>.*?)```", re.S
)
READY_WITHIN = 120  # seconds a background block may take to print its first line (a hang guard, not a timing)


@dataclass(frozen=True)
class Block:
    code: str
    background: bool


def blocks(session: str, text: str | None = None) -> list[Block]:
    """The README's code blocks of `session`, in order."""
    text = README.read_text() if text is None else text
    return [Block(m["code"], bool(m["background"])) for m in BLOCK.finditer(text) if m["session"] == session]


def _fresh_clone(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A directory like a fresh clone after `make install`, and a clean environment (no TRACECHAIN_*)."""
    work = tmp_path / "clone"
    shutil.copytree(ROOT / "examples", work / "examples")
    bin_dir = work / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "activate").write_text(
        f'export PATH="{Path(sys.executable).parent}:$PATH"\nexport PYTHONPATH="{ROOT / "src"}"\n'
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PORT": str(free_port()),
    }
    return work, env


def _start(block: Block, work: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        ["bash", "-c", block.code],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    if not selector.select(READY_WITHIN):
        _stop(proc)
        raise AssertionError(f"background block printed nothing within {READY_WITHIN}s:\n{block.code}")
    first = proc.stdout.readline()
    assert first and proc.poll() is None, f"background block failed:\n{block.code}\n{first}{proc.stdout.read()}"
    return proc


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out or ""


def test_the_readme_anvil_session_runs_as_written(tmp_path: Path) -> None:
    assert shutil.which("jq"), "the README's session uses jq (Debian: apt install jq)"
    session = blocks("anvil")
    assert any(b.background for b in session) and sum(not b.background for b in session) >= 3
    work, env = _fresh_clone(tmp_path)
    background = [_start(b, work, env) for b in session if b.background]
    try:
        script = "set -e -o pipefail\nset -x\n" + "\n".join(b.code for b in session if not b.background)
        done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    finally:
        logs = [_stop(p) for p in background]
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{output}\n--- node ---\n{''.join(logs)}"
    # The story happened, not just "no command failed":
    assert "verification VERIFIED" in done.stdout, output
    assert done.stdout.count("OK: record") == 2, output
    assert "refused with exit code 4" in done.stdout, output
    assert "\nyes: Acme Dairy Co-op" in done.stdout, output
    assert "node stopped, state saved" in "".join(logs)


def test_blocks_are_found_in_order_and_background_is_marked() -> None:
    text = (
        "<!-- readme-test: s background -->\n```sh\nnode\n```\n"
        "<!-- readme-test: s -->\n```sh\na\n```\n<!-- readme-test: other -->\n```sh\nz\n```\n"
        "<!-- readme-test: s -->\n```sh\nb\n```\n```sh\nunmarked\n```\n"
    )
    assert blocks("s", text) == [Block("node\n", True), Block("a\n", False), Block("b\n", False)]


def test_the_readme_exit_code_table_is_the_code_s() -> None:
    text = README.read_text()
    table = text[text.index("<!-- exit-codes") :].split("\n\n", 1)[0]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", table, re.M)
    assert [(int(code), meaning) for code, meaning in rows] == [(e.code, e.meaning) for e in EXIT_CODES]
    assert len(exit_code_table().splitlines()) == len(EXIT_CODES)


def test_the_readme_says_in_one_line_how_to_run_tracechain_by_name() -> None:
    text = README.read_text()
    assert "`source .venv/bin/activate` puts `tracechain` on your PATH" in text
    makefile = (ROOT / "Makefile").read_text()
    assert "source .venv/bin/activate" in makefile  # `make install` says it too
    assert 'tracechain = "tracechain.cli.main:main"' in (ROOT / "pyproject.toml").read_text()


def test_no_readme_command_line_has_a_placeholder() -> None:
    """Placeholders a newcomer would have to guess (`0xCf7E…`, DATASET, <node>) never appear in the session."""
    code = "\n".join(b.code for b in blocks("anvil"))
    assert "…" not in code and "<" not in code.replace("<<", "")
    assert not re.search(r"(?<![$\w])(DATASET|CERT|ADDRESS|HASH)(?![\w=])", code), code
