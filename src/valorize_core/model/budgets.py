"""Budgets: a limit per category and period, with rollover between periods.

Rollover policies (Firefly III calls them reset / rollover / adjusted):

* ``reset``: every period starts from its limit; nothing carries.
* ``carry_unspent``: what was left unspent is added to the next period; overspending is
  forgiven.
* ``carry_unspent_and_overspent``: the remainder carries whatever its sign, so overspending
  reduces the next period.

A period's status: ``available = budgeted + carried_in``, ``remaining = available - spent``,
``percent = spent / available``. ``spent`` is the net outflow of the category (and its
subcategories): refunds reduce it.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from valorize_core.model.conversion import MissingRate
from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.text import parse_choice
from valorize_core.model.transactions import Transaction

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Budget",
    "BudgetPeriod",
    "BudgetStatus",
    "Rollover",
    "budget_status",
    "budget_statuses",
    "crossed_thresholds",
    "next_period_start",
    "period_start",
    "spending_by_period",
]

DEFAULT_THRESHOLDS = (80, 100)
MAX_PERIODS = 1200  # 100 years of months: rollover history is computed, never unbounded


class BudgetPeriod(enum.StrEnum):
    """Length of a budget period. Weeks start on Monday."""

    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class Rollover(enum.StrEnum):
    """What happens to a period's remainder."""

    RESET = "reset"
    CARRY_UNSPENT = "carry_unspent"
    CARRY_UNSPENT_AND_OVERSPENT = "carry_unspent_and_overspent"


def period_start(period: BudgetPeriod, day: date) -> date:
    """First day of the period that contains ``day``."""
    if period is BudgetPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    if period is BudgetPeriod.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_period_start(period: BudgetPeriod, start: date) -> date:
    """First day of the period after the one starting on ``start``."""
    if period is BudgetPeriod.WEEK:
        return start + timedelta(days=7)
    if period is BudgetPeriod.MONTH:
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date(start.year + 1, 1, 1)


def period_end(period: BudgetPeriod, start: date) -> date:
    """Last day (inclusive) of the period starting on ``start``."""
    if period is BudgetPeriod.MONTH:
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return next_period_start(period, start) - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Budget:
    """A spending limit for a category (and its subcategories) per period."""

    id: UUID
    tenant_id: UUID
    category_id: UUID
    period: BudgetPeriod
    limit: Money
    rollover: Rollover
    starts_on: date
    created_at: datetime
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", parse_choice(BudgetPeriod, self.period, "period"))
        object.__setattr__(self, "rollover", parse_choice(Rollover, self.rollover, "rollover"))
        if not isinstance(self.limit, Money) or self.limit.minor <= 0:
            raise ValidationError.for_field("limit", "must be a positive amount")
        if not isinstance(self.starts_on, date) or isinstance(self.starts_on, datetime):
            raise ValidationError.for_field("starts_on", "must be a date")
        object.__setattr__(self, "starts_on", period_start(self.period, self.starts_on))
        thresholds = tuple(sorted(set(self.thresholds)))
        if (
            not thresholds
            or len(thresholds) > 10
            or any(isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= 1000 for t in thresholds)
        ):
            raise ValidationError.for_field("thresholds", "1 to 10 whole percentages between 1 and 1000")
        object.__setattr__(self, "thresholds", thresholds)

    def period_of(self, day: date) -> date:
        """Start of this budget's period that contains ``day``."""
        return period_start(self.period, day)


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """Where a budget stands in one period."""

    budget_id: UUID
    period_start: date
    period_end: date
    budgeted: Money
    carried_in: Money
    spent: Money
    missing_rates: tuple[MissingRate, ...] = ()  # spending in other currencies without a rate

    @property
    def available(self) -> Money:
        """Budgeted plus what carried in."""
        return self.budgeted + self.carried_in

    @property
    def remaining(self) -> Money:
        """What is left to spend (negative when overspent)."""
        return self.available - self.spent

    @property
    def percent(self) -> Decimal | None:
        """Spent as a percentage of available, to two places; ``None`` when nothing is available."""
        if self.available.minor <= 0:
            return None
        ratio = Decimal(self.spent.minor * 100) / Decimal(self.available.minor)
        return ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)

    def reached(self, threshold: int) -> bool:
        """True when spending reached ``threshold`` percent of what is available."""
        if self.available.minor <= 0:
            return self.spent.minor > 0
        return self.spent.minor * 100 >= threshold * self.available.minor


def spending_by_period(
    budget: Budget, category_ids: set[UUID], transactions: Iterable[Transaction]
) -> dict[date, Money]:
    """Net outflow per period start for the given categories, in the budget's currency.

    Splits in other currencies do not count here: convert the transactions into the budget's
    currency first (``use_cases.lookups.in_currency``), at the rate of each one's day.
    """
    out: dict[date, int] = {}
    for tx in transactions:
        for split in tx.splits:
            if split.category_id in category_ids and split.amount.currency == budget.limit.currency:
                start = budget.period_of(tx.booked_on)
                out[start] = out.get(start, 0) - split.amount.minor
    return {k: Money(v, budget.limit.currency) for k, v in out.items()}


def budget_statuses(budget: Budget, spent: Mapping[date, Money], until: date) -> list[BudgetStatus]:
    """Status of every period from the budget's start through the period containing ``until``."""
    zero = Money.zero(budget.limit.currency)
    last = budget.period_of(until)
    if last < budget.starts_on:
        return []
    out: list[BudgetStatus] = []
    carried = zero
    start = budget.starts_on
    while start <= last:
        if len(out) >= MAX_PERIODS:
            raise ValidationError.for_field("period", "too many periods between start and date")
        status = BudgetStatus(
            budget.id, start, period_end(budget.period, start), budget.limit, carried, spent.get(start, zero)
        )
        out.append(status)
        if budget.rollover is Rollover.RESET:
            carried = zero
        elif budget.rollover is Rollover.CARRY_UNSPENT:
            carried = status.remaining if status.remaining.minor > 0 else zero
        else:
            carried = status.remaining
        start = next_period_start(budget.period, start)
    return out


def budget_status(budget: Budget, spent: Mapping[date, Money], day: date) -> BudgetStatus:
    """Status of the period containing ``day`` (before the budget starts: a zero period)."""
    statuses = budget_statuses(budget, spent, day)
    if not statuses:
        zero = Money.zero(budget.limit.currency)
        start = budget.period_of(day)
        return BudgetStatus(budget.id, start, period_end(budget.period, start), zero, zero, zero)
    return statuses[-1]


def crossed_thresholds(status: BudgetStatus, thresholds: Iterable[int], already: Iterable[int]) -> list[int]:
    """Thresholds reached in this period that were not announced yet, lowest first."""
    done = set(already)
    return sorted(t for t in thresholds if t not in done and status.reached(t))
