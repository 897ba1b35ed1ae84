"""Query: the reports over a date range, native per currency and, when asked, converted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.categories import CategoryTree
from valorize_core.model.conversion import Converter, MissingRate
from valorize_core.model.errors import ValidationError
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Currency, Money, currency
from valorize_core.model.rates import MAX_RATE_AGE_DAYS, PIVOT, Rate, RateBook
from valorize_core.model.reports import (
    CashFlowRow,
    IncomeExpenseRow,
    NetWorthPoint,
    SpendRow,
    TagSpendRow,
    cash_flow,
    income_vs_expense,
    net_worth_over_time,
    spend_by_category,
    spend_by_tag,
)
from valorize_core.model.transactions import Transaction
from valorize_core.use_cases.context import Ports

__all__ = ["REPORT_KINDS", "ConvertedReport", "Report", "ReportQuery", "RunReport", "check_report_query"]

REPORT_KINDS = ("spend_by_category", "income_vs_expense", "cash_flow", "net_worth", "spend_by_tag")


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """A report from ``start`` to ``end`` inclusive (at most ten years); with ``currency`` — or
    the tenant's reporting currency when it has one — also converted into it (see
    :mod:`valorize_core.model.conversion`)."""

    tenant_id: UUID
    kind: str
    start: date
    end: date
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows of one report, native (one row per currency) or converted (one currency)."""

    spend: list[SpendRow] = field(default_factory=list)
    income_expense: list[IncomeExpenseRow] = field(default_factory=list)
    cash_flow: list[CashFlowRow] = field(default_factory=list)
    net_worth: list[NetWorthPoint] = field(default_factory=list)
    spend_by_tag: list[TagSpendRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ConvertedReport:
    """The report in one ``currency``: its rows, the stored rates they used and those missing."""

    currency: Currency
    rows: Rows
    rates: list[Rate]
    missing: list[MissingRate]


@dataclass(frozen=True, slots=True)
class Report:
    """The rows of one report; which list is filled depends on ``kind``. ``categories`` and
    ``accounts`` name the ids the rows hold (categories by their path, ``Food > Groceries``)."""

    kind: str
    start: date
    end: date
    spend: list[SpendRow]
    income_expense: list[IncomeExpenseRow]
    cash_flow: list[CashFlowRow]
    net_worth: list[NetWorthPoint]
    spend_by_tag: list[TagSpendRow] = field(default_factory=list)
    converted: ConvertedReport | None = None
    categories: dict[UUID, str] = field(default_factory=dict)
    accounts: dict[UUID, str] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """The rows as JSON-safe dicts (dates ISO, money ``{"amount": "12.50", "currency": "BRL"}``)."""
        native = Rows(self.spend, self.income_expense, self.cash_flow, self.net_worth, self.spend_by_tag)
        return self._rows(native)

    def converted_rows(self) -> list[dict[str, Any]] | None:
        """The converted rows, in the same shape, or ``None`` when no currency was asked."""
        return None if self.converted is None else self._rows(self.converted.rows)

    def _rows(self, rows: Rows) -> list[dict[str, Any]]:
        def money(m: Money) -> dict[str, str]:
            return {"amount": m.to_decimal_string(), "currency": m.currency.code}

        def category(c: UUID | None) -> dict[str, Any]:
            name = "Uncategorized" if c is None else self.categories.get(c)
            return {"category_id": None if c is None else str(c), "category_name": name}

        if self.kind == "spend_by_category":
            return [{"month": x.month.isoformat(), **category(x.category_id), "spent": money(x.spent)}
                    for x in rows.spend]  # fmt: skip
        if self.kind == "spend_by_tag":
            return [{"month": x.month.isoformat(), "tag": x.tag, "spent": money(x.spent)} for x in rows.spend_by_tag]
        if self.kind == "income_vs_expense":
            return [{"month": x.month.isoformat(), "income": money(x.income), "expense": money(x.expense),
                     "net": money(x.net)} for x in rows.income_expense]  # fmt: skip
        if self.kind == "cash_flow":
            return [{"month": x.month.isoformat(), "inflow": money(x.inflow), "outflow": money(x.outflow),
                     "net": money(x.net)} for x in rows.cash_flow]  # fmt: skip
        return [{"as_of": x.as_of.isoformat(), "net_worth": money(x.net_worth),
                 "accounts": [{"account_id": str(a), "account_name": self.accounts.get(a), "balance": money(b)}
                              for a, b in x.accounts]} for x in rows.net_worth]  # fmt: skip

    def rates(self) -> list[dict[str, Any]]:
        """The stored rates the converted rows used, JSON-safe."""
        used = self.converted.rates if self.converted else []
        return [{"base": r.base.code, "quote": r.quote.code, "on": r.on.isoformat(), "rate": format(r.value, "f"),
                 "source": r.source, "scope": "global" if r.shared else "tenant"} for r in used]  # fmt: skip

    def missing_rates(self) -> list[dict[str, Any]]:
        """The rates the conversion lacked, JSON-safe."""
        missing = self.converted.missing if self.converted else []
        return [{"base": m.base, "quote": m.quote, "on": m.on.isoformat(), "amounts": m.amounts} for m in missing]


def check_report_query(query: ReportQuery) -> None:
    """Raise ``ValidationError`` unless the query names a report and a sane range."""
    if query.kind not in REPORT_KINDS:
        raise ValidationError.for_field("kind", f"must be one of {', '.join(REPORT_KINDS)}")
    if query.start > query.end:
        raise ValidationError.for_field("start", "must not be after end")
    if (query.end - query.start).days > 3660:
        raise ValidationError.for_field("end", "reports cover at most ten years")
    if query.currency is not None:
        currency(query.currency)


def _rows(kind: str, accounts: list[Account], txs: list[Transaction], tree: CategoryTree, q: ReportQuery) -> Rows:
    in_range = [t for t in txs if t.booked_on >= q.start]
    if kind == "spend_by_category":
        return Rows(spend=spend_by_category(in_range, tree))
    if kind == "spend_by_tag":
        return Rows(spend_by_tag=spend_by_tag(in_range, tree))
    if kind == "income_vs_expense":
        return Rows(income_expense=income_vs_expense(in_range, tree))
    if kind == "cash_flow":
        return Rows(cash_flow=cash_flow(in_range))
    return Rows(net_worth=net_worth_over_time(accounts, txs, q.start, q.end))


def _converted_net_worth(points: list[NetWorthPoint], converter: Converter) -> list[NetWorthPoint]:
    """Each month end's account balances, converted at that day's rate and added up (a
    currency's total when the point lists no account)."""
    totals: dict[date, int] = {}
    accounts: dict[date, list[tuple[UUID, Money]]] = {}
    for point in points:
        parts = point.accounts or ((None, point.net_worth),)
        for account_id, balance in parts:
            converted = converter.money(balance, point.as_of)
            if converted is None:
                continue
            totals[point.as_of] = totals.get(point.as_of, 0) + converted.minor
            if account_id is not None:
                accounts.setdefault(point.as_of, []).append((account_id, converted))
        totals.setdefault(point.as_of, 0)
    return [NetWorthPoint(day, Money(total, converter.target), tuple(accounts.get(day, ())))
            for day, total in sorted(totals.items())]  # fmt: skip


class RunReport:
    """Builds a report from the tenant's data."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: ReportQuery) -> Report:
        """Run the query."""
        check_report_query(query)
        target = None if query.currency is None else currency(query.currency)
        async with self._ports.uow.reading(query.tenant_id) as uow:
            target = target or await uow.rates.reporting_currency()
            tree = CategoryTree(await uow.categories.list())
            accounts = await uow.accounts.list() if query.kind == "net_worth" else []
            flt = TransactionFilter(date_from=None if query.kind == "net_worth" else query.start, date_to=query.end)
            txs = await uow.transactions.all(flt)
            rates: list[Rate] = []
            if target is not None:
                codes = {a.currency.code for a in accounts} | {t.amount.currency.code for t in txs}
                codes |= {target.code, PIVOT}
                rates = await uow.rates.between(query.start - timedelta(days=MAX_RATE_AGE_DAYS), query.end, codes)
        native = _rows(query.kind, accounts, txs, tree, query)
        converted = None
        if target is not None:
            converter = Converter(RateBook(rates), target)
            if query.kind == "net_worth":
                rows = Rows(net_worth=_converted_net_worth(native.net_worth, converter))
            else:
                # transfers are in none of these reports: they need no rate
                in_range = converter.transactions(t for t in txs if t.booked_on >= query.start and not t.is_transfer)
                rows = _rows(query.kind, accounts, in_range, tree, query)
            converted = ConvertedReport(target, rows, converter.used, converter.missing)
        return Report(
            query.kind,
            query.start,
            query.end,
            spend=native.spend,
            income_expense=native.income_expense,
            cash_flow=native.cash_flow,
            net_worth=native.net_worth,
            spend_by_tag=native.spend_by_tag,
            converted=converted,
            categories={c.id: tree.path(c.id) for c in tree},
            accounts={a.id: a.name for a in accounts},
        )
