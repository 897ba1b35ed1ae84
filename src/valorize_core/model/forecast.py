"""Cash-flow forecast: balances projected day by day from today's balances and what is scheduled.

Pure arithmetic in integer minor units. A day's projected balance is today's balance plus every
scheduled flow due on or before that day; an occurrence overdue but not yet posted counts on
the first day (it will be posted at the next run). The optional estimate adds each category's
average unscheduled spending, spread evenly over the days (integer division, so the estimate
through day ``k`` is ``floor(total * k / span)``, never a float) — kept apart from the
scheduled balance and labelled an estimate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from valorize_core.model.errors import ValidationError

__all__ = [
    "DEFAULT_ALERT_DAYS",
    "MAX_FORECAST_DAYS",
    "AccountForecast",
    "BalanceAlert",
    "CategoryEstimate",
    "Flow",
    "ForecastDay",
    "project",
]

MAX_FORECAST_DAYS = 366


@dataclass(frozen=True, slots=True)
class Flow:
    """Money expected to move in (positive) or out of an account on a day."""

    account_id: UUID
    on: date
    minor: int


@dataclass(frozen=True, slots=True)
class CategoryEstimate:
    """A category's unscheduled spending on an account over the last ``span_days`` days."""

    account_id: UUID
    category_id: UUID | None
    total_minor: int
    span_days: int


@dataclass(frozen=True, slots=True)
class ForecastDay:
    """One day's projected balance; ``estimated_minor`` also counts the estimate (or ``None``)."""

    on: date
    balance_minor: int
    estimated_minor: int | None = None


@dataclass(frozen=True, slots=True)
class AccountForecast:
    """An account's days, its lowest projected balance and the first day it is reached, and the
    first day below the threshold (zero unless given), if any."""

    account_id: UUID
    currency: str
    days: tuple[ForecastDay, ...]
    lowest_minor: int
    lowest_on: date
    below_on: date | None
    threshold_minor: int


def check_days(days: object) -> int:
    """A forecast length: 1 to :data:`MAX_FORECAST_DAYS` days."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_FORECAST_DAYS:
        raise ValidationError.for_field("days", f"must be a whole number of days from 1 to {MAX_FORECAST_DAYS}")
    return days


def project(
    today: date,
    days: int,
    balances: Mapping[UUID, tuple[int, str]],
    flows: Iterable[Flow],
    estimates: Iterable[CategoryEstimate] = (),
    *,
    with_estimate: bool = False,
    thresholds: Mapping[UUID, int] | None = None,
) -> list[AccountForecast]:
    """Each account's forecast from ``today`` through ``today + days`` (``balances``: account →
    (minor units now, currency code)), in the order of ``balances``."""
    days = check_days(days)
    end = today + timedelta(days=days)
    by_day: dict[UUID, dict[int, int]] = {a: {} for a in balances}
    for flow in flows:
        if flow.account_id not in by_day or flow.on > end:
            continue
        offset = max(0, (flow.on - today).days)
        by_day[flow.account_id][offset] = by_day[flow.account_id].get(offset, 0) + flow.minor
    spending: dict[UUID, list[CategoryEstimate]] = {a: [] for a in balances}
    for estimate in estimates:
        if estimate.account_id in spending and estimate.span_days > 0:
            spending[estimate.account_id].append(estimate)
    out = []
    for account_id, (start, code) in balances.items():
        threshold = (thresholds or {}).get(account_id, 0)
        running, series = start, []
        for k in range(days + 1):
            running += by_day[account_id].get(k, 0)
            estimated = None
            if with_estimate:
                estimated = running + sum(e.total_minor * k // e.span_days for e in spending[account_id])
            series.append(ForecastDay(today + timedelta(days=k), running, estimated))
        lowest = min(series, key=lambda d: (_value(d, with_estimate), d.on))
        below = next((d.on for d in series if _value(d, with_estimate) < threshold), None)
        out.append(
            AccountForecast(account_id, code, tuple(series), _value(lowest, with_estimate), lowest.on, below, threshold)
        )
    return out


def _value(day: ForecastDay, with_estimate: bool) -> int:
    if with_estimate and day.estimated_minor is not None:
        return day.estimated_minor
    return day.balance_minor


DEFAULT_ALERT_DAYS = 30


@dataclass(frozen=True, slots=True)
class BalanceAlert:
    """Warn when ``account_id`` is projected below ``threshold_minor`` within ``days`` days.
    Accounts without one are watched for a projected balance below zero over
    :data:`DEFAULT_ALERT_DAYS` days."""

    account_id: UUID
    threshold_minor: int
    days: int = DEFAULT_ALERT_DAYS

    def __post_init__(self) -> None:
        check_days(self.days)
        if isinstance(self.threshold_minor, bool) or not isinstance(self.threshold_minor, int):
            raise ValidationError.for_field("threshold", "must be an amount")
