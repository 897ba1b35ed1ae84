"""Reports, read at once or generated in the background."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from msgspec import Struct

from valorize_core.use_cases.queries.reports import Report

__all__ = ["ReportJobIn", "ReportOut", "report"]


class ReportJobIn(Struct, forbid_unknown_fields=True):
    kind: Literal["spend_by_category", "income_vs_expense", "cash_flow", "net_worth"]
    start: date
    end: date


class ReportOut(Struct):
    kind: str
    start: date
    end: date
    rows: list[dict[str, Any]]


def report(r: Report) -> ReportOut:
    return ReportOut(r.kind, r.start, r.end, r.rows())
