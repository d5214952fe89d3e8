"""The printable case report: one self-contained HTML page (no scripts, print stylesheet) with the
verdict, parties, timeline, reconciliation, price checks and findings with their evidence."""

from __future__ import annotations

from html import escape
from typing import Any

from tracechain.api.schemas.cases import CasePublic

STYLE = """
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2430;margin:2rem auto;max-width:980px;
padding:0 1rem}
h1{font-size:1.45rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ccd3dc;
padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0}th,td{border:1px solid #d5dbe3;padding:.25rem .4rem;
text-align:left;vertical-align:top}th{background:#f1f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:11px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.verified{color:#1b6e2f}.tampered,.high{color:#a3120f}.incomplete,.medium{color:#9a5b00}.low{color:#44515f}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;border:1px solid currentColor;font-weight:600}
.muted{color:#5d6877}.mismatch{background:#fdecea}
@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}h2{break-after:avoid}
tr{break-inside:avoid}.noprint{display:none}}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _short(value: str | None) -> str:
    return "" if not value else f"<code title='{_e(value)}'>{_e(value[:10])}…{_e(value[-6:])}</code>"


def render_report(case: CasePublic) -> str:
    """The report of `case` as one HTML document."""
    v = case.verification
    names = {p.address: p.name for p in case.parties}
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Case report {_e(case.biz_transaction)}</title><style>{STYLE}</style></head><body>",
        "<p class='noprint'><button onclick='print()'>Print</button> · <a href='/cases?id="
        f"{_e(case.case_id)}'>open in the case view</a></p>",
        f"<h1>Procurement case {_e(case.biz_transaction)}</h1>",
        f"<p class='muted'>case id {_short(case.case_id)} · opened {_e(case.opened_time)} · "
        f"{_e(case.status)} · template {_e(case.template.name if case.template else '?')} "
        f"{_e(case.template.version if case.template else '')}</p>",
        f"<p><span class='badge {_e(v.verdict)}'>{_e(v.verdict.upper())}</span> against CaseRegistry "
        f"{_short(v.contract)} on chain {v.chain_id} at block {v.block_number}: state "
        f"{_short(v.recomputed_state_hash)} recomputed from {v.step_count} steps, "
        f"{_short(v.stored_state_hash)} on-chain.</p>",
    ]
    if v.problems:
        parts.append("<ul>" + "".join(f"<li class='tampered'>{_e(p.code)}: {_e(p.message)}</li>" for p in v.problems)
                     + "</ul>")  # fmt: skip
    parts.append("<h2>Parties</h2><table><tr><th>role</th><th>name</th><th>account</th></tr>")
    parts += [f"<tr><td>{_e(p.role)}</td><td>{_e(p.name)}</td><td><code>{_e(p.address)}</code></td></tr>"
              for p in case.parties]  # fmt: skip
    parts.append("</table>")
    parts.append(f"<h2>Findings ({len(case.findings)})</h2>")
    if not case.findings:
        parts.append("<p class='verified'>No findings.</p>")
    else:
        parts.append("<table><tr><th>severity</th><th>finding</th><th>rests on (verified)</th></tr>")
        for f in case.findings:
            evidence = "<br>".join(
                f"{'' if e.case_id == case.case_id else _e(e.biz_transaction) + ' '}#{e.index} {_e(e.kind)} "
                f"{_short(e.document_hash)} {'✔' if e.verified else '✘ unverified'}"
                for e in f.evidence
            )
            parts.append(f"<tr><td class='{_e(f.severity)}'>{_e(f.severity)}</td><td><b>{_e(f.code)}</b><br>"
                         f"{_e(f.message)}</td><td>{evidence}</td></tr>")  # fmt: skip
        parts.append("</table>")
    r = case.reconciliation
    parts.append(f"<h2>Reconciliation</h2><p>budget {_e(r.budget)} {_e(r.currency)} · ordered {_e(r.ordered_amount)}"
                 f" · invoiced {_e(r.invoiced_amount)} · paid {_e(r.paid_amount)}</p>")  # fmt: skip
    heads = ("item", "unit", "ordered", "shipped", "received", "warehoused", "invoiced", "paid", "price", "status")
    parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>")
    for line in r.lines:
        cells = [line.ordered, line.shipped, line.received, line.warehoused, line.invoiced, line.paid]
        row_class = " class='mismatch'" if line.status == "mismatch" else ""
        parts.append(f"<tr{row_class}><td>{_e(line.gtin)}<br><span class='muted'>{_e(line.description)}</span></td>"
                     f"<td>{_e(line.unit)}</td>" + "".join(f"<td class='n'>{_e(c if c is not None else '–')}</td>"
                                                          for c in cells)
                     + f"<td class='n'>{_e(line.ordered_unit_price)}</td><td>{_e(line.status)}</td></tr>")  # fmt: skip
    parts.append("</table>")
    if case.price_checks:
        parts.append("<h2>Price watch</h2><table><tr><th>step</th><th>item</th><th>unit price</th><th>trailing median"
                     "</th><th>deviation</th><th>band</th><th>prices</th><th>status</th></tr>")  # fmt: skip
        for c in case.price_checks:
            deviation = f"{float(c.deviation) * 100:+.1f} %" if c.deviation is not None else "–"
            cells = [f"#{c.index}", _e(c.gtin), f"{_e(c.unit_price)} {_e(c.currency)}", _e(c.median or "–"), deviation,
                     f"±{float(c.band) * 100:.0f} %", str(c.history), _e(c.status)]  # fmt: skip
            parts.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
        parts.append("</table>")  # fmt: skip
    parts.append("<h2>Timeline</h2><table><tr><th>#</th><th>step</th><th>date</th><th>signed by</th>"
                 "<th>document</th><th>block / tx</th><th>verified</th></tr>")  # fmt: skip
    for s in case.timeline:
        signers = "<br>".join(f"{_e(x.role)}: {_e(x.name or names.get(x.address) or x.address)}" for x in s.signers)
        note = ""
        if s.amends:
            note += f"<br><span class='muted'>amends #{s.amends}</span>"
        if s.superseded_by:
            note += f"<br><span class='muted'>amended by #{s.superseded_by}</span>"
        source = "EPCIS event" if s.source == "epcis" else "document"
        status = (
            "<span class='verified'>✔</span>"
            if s.verified
            else ("<span class='tampered'>✘ " + _e(", ".join(p.code for p in s.problems)) + "</span>")
        )
        parts.append(f"<tr><td>{s.index}</td><td>{_e(s.title)}{note}</td><td>{_e(s.date or s.time[:10])}</td>"
                     f"<td>{signers}</td><td>{source} {_short(s.document_hash)}</td><td>{s.block_number}<br>"
                     f"{_short(s.tx_hash)}</td><td>{status}</td></tr>")  # fmt: skip
    parts.append("</table>")
    parts.append("<p class='muted'>Check it yourself: fold the steps' logs (docs/PROTOCOL.md, \"Procurement cases\") "
                 "and compare with <code>CaseRegistry.stateHashOf(caseId)</code> on any node; each document must hash "
                 "(RFC 8785, keccak-256) to its step's documentHash.</p></body></html>")  # fmt: skip
    return "".join(parts)
