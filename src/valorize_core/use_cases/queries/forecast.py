"""Query: the cash-flow forecast — projected balances per account and in total, day by day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.forecast import (
    AccountForecast,
    BalanceAlert,
    CategoryEstimate,
    ForecastDay,
    check_days,
    project,
)
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Currency, Money
from valorize_core.model.transactions import TransactionSource
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.queries.list_schedules import scheduled_flows

__all__ = [
    "ESTIMATE_SPAN",
    "AlertsQuery",
    "Forecast",
    "ForecastQuery",
    "ForecastTotal",
    "GetForecast",
    "ListBalanceAlerts",
]

ESTIMATE_SPAN = 90  # days of history the estimate averages


@dataclass(frozen=True, slots=True)
class ForecastQuery:
    """``days`` ahead of today (1–366); ``estimate`` adds each category's average unscheduled
    spending; ``threshold`` (a decimal amount, read in each account's currency) flags the first
    day below it."""

    tenant_id: UUID
    days: int = 30
    estimate: bool = False
    threshold: str = "0"


@dataclass(frozen=True, slots=True)
class ForecastTotal:
    """The sum of the accounts in one currency, day by day (currencies are never mixed)."""

    currency: str
    days: tuple[ForecastDay, ...]
    lowest_minor: int
    lowest_on: date


@dataclass(frozen=True, slots=True)
class Forecast:
    """The forecast from ``today``; ``estimates`` are the averages the estimate used."""

    today: date
    days: int
    accounts: tuple[AccountForecast, ...]
    totals: tuple[ForecastTotal, ...]
    estimates: tuple[CategoryEstimate, ...] = ()


class GetForecast:
    """Projects the tenant's open accounts from their balances and active schedules."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: ForecastQuery) -> Forecast:
        """Run the query."""
        days = check_days(query.days)
        today = self._ports.clock.now().date()
        async with self._ports.uow.reading(query.tenant_id) as uow:
            accounts = [a for a in await uow.accounts.list() if not a.archived]
            schedules = await uow.schedules.list()
            history = (
                await uow.transactions.all(TransactionFilter(date_from=today - timedelta(days=ESTIMATE_SPAN),
                                                             date_to=today - timedelta(days=1)))
                if query.estimate else []
            )  # fmt: skip
        balances = {a.id: (a.balance.minor, a.currency.code) for a in accounts}
        flows = scheduled_flows(self._ports.recurrence, schedules, today + timedelta(days=days))
        estimates = _estimates(history)
        thresholds = {a.id: _amount(query.threshold, a.currency, "threshold") for a in accounts}
        forecasts = project(today, days, balances, flows, estimates, with_estimate=query.estimate,
                            thresholds=thresholds)  # fmt: skip
        return Forecast(today, days, tuple(forecasts), _totals(forecasts, query.estimate),
                        tuple(estimates) if query.estimate else ())  # fmt: skip


def _amount(text: str, cur: Currency, field: str) -> int:
    try:
        return Money.parse(text, cur).minor
    except ValidationError as exc:
        raise ValidationError.for_field(field, exc.errors[0].message if exc.errors else exc.message) from None


def _estimates(history: list) -> list[CategoryEstimate]:  # type: ignore[type-arg]
    """Average unscheduled outflows per account and category: what people spend that no
    schedule covers (recurring postings and transfers left out)."""
    totals: dict[tuple[UUID, UUID | None], int] = defaultdict(int)
    for tx in history:
        if tx.source is TransactionSource.RECURRING or tx.transfer_id is not None:
            continue
        for split in tx.splits:
            if split.amount.minor < 0:
                totals[(tx.account_id, split.category_id)] += split.amount.minor
    ordered = sorted(totals.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))
    return [CategoryEstimate(a, c, minor, ESTIMATE_SPAN) for (a, c), minor in ordered]


def _totals(forecasts: list[AccountForecast], estimate: bool) -> tuple[ForecastTotal, ...]:
    by_currency: dict[str, list[AccountForecast]] = defaultdict(list)
    for f in forecasts:
        by_currency[f.currency].append(f)
    out = []
    for code in sorted(by_currency):
        group = by_currency[code]
        series = []
        for i, first in enumerate(group[0].days):
            balance = sum(f.days[i].balance_minor for f in group)
            est = sum(f.days[i].estimated_minor or 0 for f in group) if estimate else None
            series.append(ForecastDay(first.on, balance, est))
        lowest = min(series, key=lambda d: ((d.estimated_minor if estimate else d.balance_minor), d.on))
        value = lowest.estimated_minor if estimate else lowest.balance_minor
        out.append(ForecastTotal(code, tuple(series), value or 0, lowest.on))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class AlertsQuery:
    """Whose alerts."""

    tenant_id: UUID


class ListBalanceAlerts:
    """The low-balance alerts set (accounts without one are watched for zero over 30 days)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: AlertsQuery) -> list[BalanceAlert]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.balance_alerts.list()
