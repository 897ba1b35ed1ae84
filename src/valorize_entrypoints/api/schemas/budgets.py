"""Budgets and where they stand."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from valorize_core.model.budgets import Budget, BudgetStatus
from valorize_entrypoints.api.schemas.common import CurrencyCode, Day, MoneyOut, PositiveAmount, money

__all__ = ["BudgetIn", "BudgetOut", "BudgetStatusOut", "budget", "budget_status"]


class BudgetIn(Struct, forbid_unknown_fields=True):
    category_id: UUID
    limit: PositiveAmount
    currency: CurrencyCode
    period: Literal["week", "month", "year"] = "month"
    rollover: Literal["reset", "carry_unspent", "carry_unspent_and_overspent"] = "reset"
    starts_on: Day | None = None
    thresholds: Annotated[list[Annotated[int, Meta(ge=1, le=1000)]], Meta(min_length=1, max_length=10)] = msgspec.field(
        default_factory=lambda: [80, 100]
    )


class BudgetOut(Struct):
    id: UUID
    category_id: UUID
    period: str
    limit: MoneyOut
    rollover: str
    starts_on: date
    thresholds: list[int]
    created_at: datetime


def budget(b: Budget) -> BudgetOut:
    return BudgetOut(
        b.id, b.category_id, b.period.value, money(b.limit), b.rollover.value, b.starts_on, list(b.thresholds),
        b.created_at,
    )  # fmt: skip


class BudgetStatusOut(Struct):
    budget_id: UUID
    period_start: date
    period_end: date
    budgeted: MoneyOut
    carried_in: MoneyOut
    spent: MoneyOut
    available: MoneyOut
    remaining: MoneyOut
    percent: str | None
    # spending in other currencies counts converted at its day's rate; these had none (left out)
    missing_rates: list[dict[str, Any]] = []


def budget_status(s: BudgetStatus) -> BudgetStatusOut:
    missing = [{"base": m.base, "quote": m.quote, "on": m.on.isoformat(), "amounts": m.amounts}
               for m in s.missing_rates]  # fmt: skip
    return BudgetStatusOut(
        s.budget_id, s.period_start, s.period_end, money(s.budgeted), money(s.carried_in), money(s.spent),
        money(s.available), money(s.remaining), None if s.percent is None else str(s.percent), missing,
    )  # fmt: skip
