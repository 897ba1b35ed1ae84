"""Query: the four reports over a date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from valorize_core.model.categories import CategoryTree
from valorize_core.model.errors import ValidationError
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Money
from valorize_core.model.reports import (
    CashFlowRow,
    IncomeExpenseRow,
    NetWorthPoint,
    SpendRow,
    cash_flow,
    income_vs_expense,
    net_worth_over_time,
    spend_by_category,
)
from valorize_core.use_cases.context import Ports

__all__ = ["REPORT_KINDS", "Report", "ReportQuery", "RunReport", "check_report_query"]

REPORT_KINDS = ("spend_by_category", "income_vs_expense", "cash_flow", "net_worth")


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """A report from ``start`` to ``end`` inclusive (at most ten years)."""

    tenant_id: UUID
    kind: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Report:
    """The rows of one report; which list is filled depends on ``kind``."""

    kind: str
    start: date
    end: date
    spend: list[SpendRow]
    income_expense: list[IncomeExpenseRow]
    cash_flow: list[CashFlowRow]
    net_worth: list[NetWorthPoint]

    def rows(self) -> list[dict[str, Any]]:
        """The rows as JSON-safe dicts (dates ISO, money ``{"amount": "12.50", "currency": "BRL"}``)."""

        def money(m: Money) -> dict[str, str]:
            return {"amount": m.to_decimal_string(), "currency": m.currency.code}

        if self.kind == "spend_by_category":
            return [{"month": x.month.isoformat(), "category_id": None if x.category_id is None else str(x.category_id),
                     "spent": money(x.spent)} for x in self.spend]  # fmt: skip
        if self.kind == "income_vs_expense":
            return [{"month": x.month.isoformat(), "income": money(x.income), "expense": money(x.expense),
                     "net": money(x.net)} for x in self.income_expense]  # fmt: skip
        if self.kind == "cash_flow":
            return [{"month": x.month.isoformat(), "inflow": money(x.inflow), "outflow": money(x.outflow),
                     "net": money(x.net)} for x in self.cash_flow]  # fmt: skip
        return [{"as_of": x.as_of.isoformat(), "net_worth": money(x.net_worth)} for x in self.net_worth]


def check_report_query(query: ReportQuery) -> None:
    """Raise ``ValidationError`` unless the query names a report and a sane range."""
    if query.kind not in REPORT_KINDS:
        raise ValidationError.for_field("kind", f"must be one of {', '.join(REPORT_KINDS)}")
    if query.start > query.end:
        raise ValidationError.for_field("start", "must not be after end")
    if (query.end - query.start).days > 3660:
        raise ValidationError.for_field("end", "reports cover at most ten years")


class RunReport:
    """Builds a report from the tenant's data."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: ReportQuery) -> Report:
        """Run the query."""
        check_report_query(query)
        async with self._ports.uow(query.tenant_id) as uow:
            tree = CategoryTree(await uow.categories.list())
            accounts = await uow.accounts.list() if query.kind == "net_worth" else []
            flt = TransactionFilter(date_from=None if query.kind == "net_worth" else query.start, date_to=query.end)
            txs = await uow.transactions.all(flt)
        in_range = [t for t in txs if t.booked_on >= query.start]
        return Report(
            query.kind,
            query.start,
            query.end,
            spend=spend_by_category(in_range, tree) if query.kind == "spend_by_category" else [],
            income_expense=income_vs_expense(in_range, tree) if query.kind == "income_vs_expense" else [],
            cash_flow=cash_flow(in_range) if query.kind == "cash_flow" else [],
            net_worth=net_worth_over_time(accounts, txs, query.start, query.end) if query.kind == "net_worth" else [],
        )
