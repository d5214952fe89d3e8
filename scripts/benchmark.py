#!/usr/bin/env python
"""TraceChain's speed and gas, measured: every figure of issue 10 beside the figure the issue
reported and its target, as a table, then the whole report as JSON.

    .venv/bin/python scripts/benchmark.py [--quick] [--sections gas,ingest,...] [--json out.json]

Sections (scripts/benchmarks/*.py): gas (every write on the embedded chain, cross-checked on Anvil,
and EAS on the same Anvil), ingest (a 10,000-event EPCIS document through the CLI's service call and
POST /v1/epcis/capture, embedded and Anvil), indexer, reads (p50 against the index's size), load
(`tracechain serve --workers 2` over Anvil, wrk at 32 connections), notary (10,000 records queued and
anchored, from Python and through POST /v1/notarizations:bulk), cases, cli (start-up).

Anvil comes from node_modules (`make install`); the load section needs wrk (`apt-get install wrk`);
EAS's artifacts come from node_modules (@ethereum-attestation-service/eas-contracts, a dev
dependency) or $TRACECHAIN_BENCH_EAS_DIR. Speeds are wall time on this machine: the load average is
recorded with each section. Not a test: nothing here asserts, it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/: the `benchmarks` package

from tracechain.chain.anvil import AnvilNode, free_port  # noqa: E402
from tracechain.chain.connect import Chain, embedded_chain  # noqa: E402

TX_GAS_CAP = 16_777_216  # EIP-7825's per-transaction gas cap, enforced by current Anvil


@dataclass
class Context:
    quick: bool
    stack: ExitStack
    _anvil: Chain | None = None

    def anvil(self) -> Chain:
        """One Anvil node for the whole run (each section deploys afresh on it)."""
        if self._anvil is None:
            self._anvil = self.stack.enter_context(AnvilNode(free_port())).start()
        return self._anvil


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------- sections
def section_gas(ctx: Context) -> dict[str, Any]:
    from benchmarks import gas

    embedded = gas.contracts(embedded_chain())
    anvil = gas.contracts(ctx.anvil())
    peers = gas.eas(ctx.anvil(), rounds=3 if ctx.quick else 10)
    return {
        "embedded": embedded,
        "anvil_check": gas.compare(embedded, anvil),
        "eas_on_anvil": peers if peers is not None else "not measured: EAS's artifacts not found",
    }


def section_ingest(ctx: Context) -> dict[str, Any]:
    from benchmarks import provenance

    count = 2_000 if ctx.quick else 10_000
    out: dict[str, Any] = {"events": count}
    out["service (CLI product import-epcis), embedded"] = provenance.import_service(embedded_chain(), count)
    out["service (CLI product import-epcis), anvil"] = provenance.import_service(ctx.anvil(), count)
    out["POST /v1/epcis/capture, embedded"] = provenance.import_api(embedded_chain(), count)
    out["POST /v1/epcis/capture, anvil"] = provenance.import_api(ctx.anvil(), count)
    return out


def section_indexer(ctx: Context) -> dict[str, Any]:
    from benchmarks import provenance

    count = 2_000 if ctx.quick else 10_000
    return {
        "anvil": provenance.index_rate(ctx.anvil(), count),
        "embedded": provenance.index_rate(embedded_chain(), count),
    }


def section_reads(ctx: Context) -> dict[str, Any]:
    from benchmarks import provenance

    large = 100_000 if ctx.quick else 1_000_000
    return {"embedded": provenance.reads_scaling(embedded_chain(), 50 if ctx.quick else 200, large)}


def section_load(ctx: Context) -> dict[str, Any]:
    from benchmarks import load

    if ctx.quick:
        return load.load(workers=2, seconds=5, long_events=2_000, runs=1)
    return load.load(workers=2, seconds=15, long_events=10_000, runs=3)


def section_notary(ctx: Context) -> dict[str, Any]:
    from benchmarks import notary

    count = 2_000 if ctx.quick else 10_000
    out: dict[str, Any] = {"records": count}
    out["enqueue_many + flush, anvil"] = notary.python_path(ctx.anvil(), count)
    out["POST /v1/notarizations:bulk + flush, anvil"] = notary.api_path(ctx.anvil(), count)
    if not ctx.quick:
        out["enqueue_many + flush, embedded"] = notary.python_path(embedded_chain(), count)
        out["POST /v1/notarizations:bulk + flush, embedded"] = notary.api_path(embedded_chain(), count)
    return out


def section_cases(ctx: Context) -> dict[str, Any]:
    from benchmarks import cases

    return cases.cases_report(50 if ctx.quick else 200)


def section_cli(ctx: Context) -> dict[str, Any]:
    from benchmarks import cli

    return cli.cli_startup(5 if ctx.quick else 11)


SECTIONS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "gas": section_gas,
    "ingest": section_ingest,
    "indexer": section_indexer,
    "reads": section_reads,
    "load": section_load,
    "notary": section_notary,
    "cases": section_cases,
    "cli": section_cli,
}


# ---------------------------------------------------------------- the table
@dataclass
class Row:
    section: str
    name: str
    old: str  # as reported by the issue ("" where it reports none)
    new: float | None
    target: float | None
    unit: str
    better: str = "lower"  # or "higher"; "" for a figure without target
    new_text: str = ""

    def verdict(self) -> str:
        if self.new is None:
            return "not measured"
        if self.target is None or not self.better:
            return ""
        ok = self.new <= self.target if self.better == "lower" else self.new >= self.target
        if ok:
            return "met"
        gap = abs(self.new - self.target)
        return f"missed by {_num(gap)} {self.unit} ({gap / self.target:.0%})"

    def as_json(self) -> dict[str, Any]:
        target = None if self.target is None else ("<= " if self.better == "lower" else ">= ") + _num(self.target)
        return {"section": self.section, "figure": self.name, "old_reported_by_issue": self.old or None,
                "new": self.new, "unit": self.unit, "target": target, "verdict": self.verdict()}  # fmt: skip


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.2f}"


def _get(tree: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def rows(report: dict[str, Any]) -> list[Row]:
    """Every figure of the issue, where its section ran."""
    s = report.get("sections", {})
    out: list[Row] = []

    def add(section: str, name: str, old: str, value: Any, target: float | None, unit: str, better: str = "lower"):
        if section in s:
            out.append(Row(section, name, old, None if value is None else float(value), target, unit, better))

    g = _get(s, "gas", "embedded")
    add("gas", "notarize one hash", "77,259", _get(g, "notary", "notarize (single)", "gas"), 45_000, "gas")
    add("gas", "2-party co-signed record", "119,514", _get(g, "notary", "notarizeCoSigned (2 parties)", "gas"),
        80_000, "gas")  # fmt: skip
    add("gas", "provenance event, single", "46,068-49,829",
        _get(g, "provenance", "recordEvent (single event, custodian)", "gas"), 40_000, "gas")  # fmt: skip
    add(
        "gas",
        "per event, batch of 100 events on 100 products",
        "16,955",
        _get(g, "provenance", "recordEvents (batch of 100 events on 100 subjects)", "per_item_gas"),
        10_000,
        "gas",
    )
    add("gas", "Merkle batch, per record at 10,000", "10",
        _get(g, "notary", "notarizeBatch (10,000 records)", "per_item_gas"), 10, "gas")  # fmt: skip
    add("gas", "gas identical on Anvil (writes differing > 100 gas)", "",
        len(_get(s, "gas", "anvil_check", "differences_over_100_gas") or {}), 0, "writes")  # fmt: skip
    eas = _get(s, "gas", "eas_on_anvil")
    if isinstance(eas, dict):
        add("gas", "peer: EAS timestamp", "45,869", _get(eas, "timestamp", "gas"), None, "gas", "")
        add("gas", "peer: EAS multiTimestamp, per record", "24,778", _get(eas, "multiTimestamp (100)", "per_item_gas"),
            None, "gas", "")  # fmt: skip
        add("gas", "peer: EAS attest", "180,132", _get(eas, "attest", "gas"), None, "gas", "")
        add(
            "gas",
            "peer: EAS multiAttest (100 a tx)",
            "360-420",
            _get(eas, "multiAttest (100 a transaction), records/s", "records_per_second"),
            None,
            "rec/s",
            "",
        )
        add("gas", "bare recordEvents loop (100 a tx)", "270", _get(
            eas, "TraceChain recordEvents loop (100 new subjects a transaction), events/s", "records_per_second"),
            None, "ev/s", "")  # fmt: skip
    i = s.get("ingest", {})
    n = _get(i, "events") or 0
    for chain, old, target in (("embedded", "14-18 (1,000 events)", 1_000), ("anvil", "21-26 (1,000 events)", 3_000)):
        add("ingest", f"import {n:,}-event EPCIS doc, CLI service path, {chain}", old, _get(
            i, f"service (CLI product import-epcis), {chain}", "creating subjects", "events_per_second"),
            target, "ev/s", "higher")  # fmt: skip
        add("ingest", f"  same, on subjects that exist, {chain}", "", _get(
            i, f"service (CLI product import-epcis), {chain}", "existing subjects", "events_per_second"),
            target, "ev/s", "higher")  # fmt: skip
        add(
            "ingest",
            f"import {n:,}-event doc, POST /v1/epcis/capture, {chain}",
            old,
            _get(i, f"POST /v1/epcis/capture, {chain}", "events_per_second"),
            target,
            "ev/s",
            "higher",
        )
    largest = [
        _get(i, f"service (CLI product import-epcis), {c}", k, "max_transaction_gas")
        for c in ("embedded", "anvil") for k in ("creating subjects", "existing subjects")
    ]  # fmt: skip
    add("ingest", f"largest transaction of a {n:,}-event import", "16,910,979 (refused)",
        max((x for x in largest if x is not None), default=None), TX_GAS_CAP - 1, "gas")  # fmt: skip
    add("indexer", "indexing (fresh store follows Anvil)", "~385", _get(s, "indexer", "anvil", "events_per_second"),
        5_000, "ev/s", "higher")  # fmt: skip
    add("indexer", "indexing (fresh store, embedded)", "", _get(s, "indexer", "embedded", "events_per_second"),
        5_000, "ev/s", "higher")  # fmt: skip
    r = _get(s, "reads", "embedded") or {}
    big = [k for k in r if k.endswith("indexed entries") and not k.startswith("1,000 ")]
    add("reads", "GET product (10 events) p50, 1,000 indexed", "23", _get(r, "1,000 indexed entries", "p50_ms"),
        None, "ms", "")  # fmt: skip
    if big:
        add("reads", f"  p50 at {big[0]}", "69 (at 100k)", _get(r, big[0], "p50_ms"), None, "ms", "")
        add(
            "reads",
            f"  p50 ratio {big[0].split()[0]} / 1,000",
            "~3 (23 -> 69 ms, 1k -> 100k)",
            _get(r, "p50 ratio"),
            1.5,
            "x",
        )
    ld = s.get("load", {})
    short = _get(ld, "10 events")
    add("load", "GET product (10 events), 32 clients, req/s", "~35 (1 worker)", _get(short, "requests_per_second"),
        1_000, "req/s", "higher")  # fmt: skip
    add("load", "  p50", "", _get(short, "p50_ms"), None, "ms", "")
    add("load", "  p99", "2,100", _get(short, "p99_ms"), 20, "ms")
    long_key = next((k for k in ld if k.endswith("newest page of 50")), None)
    if long_key:
        add("load", f"GET product ({long_key}) req/s", "", _get(ld, long_key, "requests_per_second"), None, "req/s", "")
        add("load", "  p50", "11,000 (502 events, unpaged)", _get(ld, long_key, "p50_ms"), None, "ms", "")
        add("load", "  p99", "", _get(ld, long_key, "p99_ms"), 20, "ms")
    nt = s.get("notary", {})
    for chain in [c for c in ("anvil", "embedded") if f"enqueue_many + flush, {c}" in nt]:
        add("notary", f"enqueue_many + flush of {_get(nt, 'records') or 0:,}, {chain}", "3,846 (2.6 s)",
            _get(nt, f"enqueue_many + flush, {chain}", "records_per_second"), 5_000, "rec/s", "higher")  # fmt: skip
        add(
            "notary",
            f"POST /v1/notarizations:bulk + flush, {chain}",
            "4.4 (batch POST)",
            _get(nt, f"POST /v1/notarizations:bulk + flush, {chain}", "records_per_second"),
            5_000,
            "rec/s",
            "higher",
        )
    c = s.get("cli", {})
    add("cli", "tracechain --help", "5,000-10,000", _get(c, "--help", "median_ms"), 1_000, "ms")
    add("cli", "product event --help", "", _get(c, "product event --help", "median_ms"), 1_000, "ms")
    add("cli", "status: first RPC call", "~5,000", _get(c, "status", "first_rpc_call_median_ms"), None, "ms", "")
    add("cli", "status: whole command", "", _get(c, "status", "total_median_ms"), None, "ms", "")
    add("cli", "actors show: first RPC call", "~5,000", _get(c, "actors show", "first_rpc_call_median_ms"),
        None, "ms", "")  # fmt: skip
    add(
        "cases",
        "GET /v1/cases/{id} (20 steps) p50, embedded",
        "",
        _get(s, "cases", "read_latency", "embedded", "GET /v1/cases/{id}", "p50_ms"),
        None,
        "ms",
        "",
    )
    add(
        "cases",
        "GET /v1/cases/{id} (20 steps) p50, anvil",
        "",
        _get(s, "cases", "read_latency", "anvil", "GET /v1/cases/{id}", "p50_ms"),
        None,
        "ms",
        "",
    )
    return [row for row in out if row.section in s]


def table(figures: list[Row]) -> str:
    head = ("section", "figure", "old (reported by the issue)", "new (measured now)", "target", "verdict")
    lines = [head]
    for row in figures:
        target = "" if row.target is None else ("<= " if row.better == "lower" else ">= ") + _num(row.target)
        new = "-" if row.new is None else f"{_num(row.new)} {row.unit}"
        lines.append((row.section, row.name, row.old, new, target, row.verdict()))
    widths = [max(len(line[k]) for line in lines) for k in range(len(head))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, fewer samples: a few minutes")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of: {','.join(SECTIONS)}")
    parser.add_argument("--json", type=Path, help="write the JSON report here (else it is printed after the table)")
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the store of every section's runtimes: SQLite files, or databases of a throwaway PostgreSQL "
        "cluster from Debian's binaries (the load section's servers keep SQLite)",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    report: dict[str, Any] = {
        "command": " ".join(["scripts/benchmark.py", *(argv if argv is not None else sys.argv[1:])]),
        "commit": commit.stdout.strip() or None,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "quick": args.quick,
        "store": args.store,
        "load_average_at_start": _load(),
        "sections": {},
        "section_meta": {},
    }
    started = time.perf_counter()
    with ExitStack() as stack:
        ctx = Context(args.quick, stack)
        if args.store == "postgresql":
            from benchmarks import common

            from tracechain.store.pg_cluster import ThrowawayCluster

            common.fresh_store = stack.enter_context(ThrowawayCluster()).new_database
        for name in chosen:
            print(f"[benchmark] {name} ... (load {_load()})", file=sys.stderr, flush=True)
            begin, load_before = time.perf_counter(), _load()
            try:
                report["sections"][name] = SECTIONS[name](ctx)
            except Exception as exc:  # a failed section is reported, the others still run
                report["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            report["section_meta"][name] = {
                "seconds": round(time.perf_counter() - begin, 1),
                "load_average_before": load_before,
                "load_average_after": _load(),
            }
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    figures = rows(report)
    report["figures"] = [row.as_json() for row in figures]
    print(table(figures))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nJSON written to {args.json}")
    else:
        print()
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
