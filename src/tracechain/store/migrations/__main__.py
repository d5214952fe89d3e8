"""`python -m tracechain.store.migrations revision MESSAGE`: autogenerate the next revision against a
scratch SQLite database brought to head."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from tracechain.store.migrations import config


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        with engine.begin() as connection:
            cfg = config(connection)
            command.upgrade(cfg, "head")
            number = len(list((Path(__file__).parent / "versions").glob("[0-9]*.py"))) + 1
            command.revision(cfg, message=sys.argv[2], autogenerate=True, rev_id=f"{number:04d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
