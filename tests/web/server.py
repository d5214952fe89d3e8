"""A TraceChain API serving the demo story on the embedded chain, in a thread: what the browser tests
(and a person previewing the page: `python -m tests.web.server`) look at."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from tracechain.api.app import create_app
from tracechain.chain.anvil import free_port
from tracechain.demo import DemoContext, run_demo
from tracechain.services.runtime import Runtime, open_runtime
from tracechain.settings import Settings

STARTUP_LIMIT_SECONDS = 60


@dataclass
class DemoServer:
    """The running server, its runtime and what the story left behind."""

    url: str
    runtime: Runtime
    context: DemoContext
    server: uvicorn.Server
    thread: threading.Thread
    lines: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_LIMIT_SECONDS)


def start_demo_server(
    data_dir: Path, out: Callable[[str], None] = lambda _: None, port: int | None = None
) -> DemoServer:
    """Run the whole demo story and serve the API on 127.0.0.1."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=data_dir, public_base_url=url, api_port=port)
    runtime = open_runtime(settings)
    lines: list[str] = []

    def tell(line: str) -> None:
        lines.append(line)
        out(line)

    ctx = run_demo(runtime, tell)
    runtime.sync()
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tracechain-web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server did not start on {url}")
        time.sleep(0.05)
    return DemoServer(url, runtime, ctx, server, thread, lines)


if __name__ == "__main__":
    import sys
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="tracechain-preview-"))
    running = start_demo_server(directory, print, int(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"serving the demo on {running.url}")
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()
