"""Procurement cases: templates, step documents, writes (open, co-signed steps), and reads for auditors
(verified timelines, reconciliation, price and purchase-frequency watches, findings)."""

from tracechain.services.cases.audit import AuditPolicy, AuditSettings
from tracechain.services.cases.model import (
    CasePage,
    CaseSummary,
    CaseVerification,
    CaseView,
    Evidence,
    Finding,
    FindingCode,
    PriceCheck,
    Reconciliation,
    Severity,
    TimelineStep,
    Verdict,
)
from tracechain.services.cases.read import CaseReader
from tracechain.services.cases.templates import CaseTemplate, StepKind, default_template, parse_template
from tracechain.services.cases.write import CaseOpening, CaseService, PreparedStep, StepWrite

__all__ = [
    "AuditPolicy",
    "AuditSettings",
    "CaseOpening",
    "CasePage",
    "CaseReader",
    "CaseService",
    "CaseSummary",
    "CaseTemplate",
    "CaseVerification",
    "CaseView",
    "Evidence",
    "Finding",
    "FindingCode",
    "PreparedStep",
    "PriceCheck",
    "Reconciliation",
    "Severity",
    "StepKind",
    "StepWrite",
    "TimelineStep",
    "Verdict",
    "default_template",
    "parse_template",
]
