"""A throwaway PostgreSQL cluster from the machine's own binaries (Debian's `postgresql` package), for
the test suite and the benchmark: initdb in a temporary directory, a server on a Unix socket and a free
port, one database, stopped and removed at the end. PostgreSQL refuses to run as root, so as root the
cluster runs as the `postgres` system account the package creates."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from tracechain.errors import ConfigurationError

DATABASE = "tracechain"


def pg_binaries() -> Path:
    """The directory holding initdb and pg_ctl.

    Raises:
        ConfigurationError: PostgreSQL's server binaries are not installed.
    """
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ConfigurationError(
        "PostgreSQL's server is not installed", hint="`make install` installs Debian's postgresql package"
    )


class ThrowawayCluster:
    """One PostgreSQL server for the lifetime of this object (use as a context manager)."""

    def __init__(self) -> None:
        self.bin = pg_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="tracechain-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's database (psycopg 3, over the Unix socket)."""
        return f"postgresql+psycopg://{self._user}@/{DATABASE}?host={self.socket_dir}&port={self.port}"

    @property
    def _user(self) -> str:
        return "postgres" if self._as_postgres else "tracechain"

    def start(self) -> ThrowawayCluster:
        """initdb, start the server, create the database.

        Raises:
            ConfigurationError: a step failed (its output is in the message).
        """
        self.socket_dir.mkdir(parents=True)
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self._user, "-E", "UTF8",
                   "--no-sync"])  # fmt: skip
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' -c fsync=off -c max_connections=200"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                   "-w", "start"])  # fmt: skip
        self._run([str(self.bin / "createdb"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", self._user,
                   DATABASE])  # fmt: skip
        return self

    def new_database(self) -> str:
        """Create another empty database in the cluster; returns its SQLAlchemy URL."""
        import uuid

        name = f"t_{uuid.uuid4().hex[:16]}"
        self._run([str(self.bin / "createdb"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", self._user,
                   name])  # fmt: skip
        return f"postgresql+psycopg://{self._user}@/{name}?host={self.socket_dir}&port={self.port}"

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if self.data.exists():
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, command: list[str], *, check: bool = True) -> None:
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if check and done.returncode != 0:
            raise ConfigurationError(f"{' '.join(command[:3])} failed: {done.stderr.strip() or done.stdout.strip()}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
