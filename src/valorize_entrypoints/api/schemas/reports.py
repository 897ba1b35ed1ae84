"""Reports, read at once or generated in the background."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from msgspec import Struct

from valorize_core.use_cases.queries.reports import Report

__all__ = ["ReportJobIn", "ReportKind", "ReportOut", "report"]


ReportKind = Literal["spend_by_category", "income_vs_expense", "cash_flow", "net_worth", "spend_by_tag"]


class ReportJobIn(Struct, forbid_unknown_fields=True):
    kind: ReportKind
    start: date
    end: date


class ReportOut(Struct):
    """``rows``: native amounts, one row per currency. With ``?currency=``: ``converted_rows`` (the
    same rows in that currency), the stored ``rates`` they used and the ``missing_rates``."""

    kind: str
    start: date
    end: date
    rows: list[dict[str, Any]]
    currency: str | None = None
    converted_rows: list[dict[str, Any]] | None = None
    rates: list[dict[str, Any]] | None = None
    missing_rates: list[dict[str, Any]] | None = None
    complete: bool | None = None  # False: some amounts had no rate (named in missing_rates) and are left out


def report(r: Report) -> ReportOut:
    if r.converted is None:
        return ReportOut(r.kind, r.start, r.end, r.rows())
    missing = r.missing_rates()
    return ReportOut(r.kind, r.start, r.end, r.rows(), r.converted.currency.code, r.converted_rows(), r.rates(),
                     missing, not missing)  # fmt: skip
