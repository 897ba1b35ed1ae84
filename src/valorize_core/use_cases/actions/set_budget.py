"""Action: create or change a budget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.budgets import DEFAULT_THRESHOLDS, Budget, BudgetPeriod, Rollover
from valorize_core.model.categories import CategoryKind
from valorize_core.model.errors import Conflict, ValidationError
from valorize_core.model.events import BudgetSet
from valorize_core.model.money import Money, active_currency
from valorize_core.model.read_scopes import BUDGETS
from valorize_core.use_cases.actions._shared import check_date
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["BudgetInput", "SetBudget"]


@dataclass(frozen=True, slots=True)
class BudgetInput:
    """A budget for an expense category; ``budget_id`` set means change that budget."""

    tenant_id: UUID
    category_id: UUID
    limit: str
    currency: str
    period: BudgetPeriod | str = BudgetPeriod.MONTH
    rollover: Rollover | str = Rollover.RESET
    starts_on: date | None = None
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    budget_id: UUID | None = None


class SetBudget:
    """Creates or updates a budget; one budget per category and period length. Its event,
    ``budget.set``, asks for the budgets' evaluation for today (a threshold already crossed is
    announced at once)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: BudgetInput) -> Budget:
        """Store the budget and return it."""
        limit = Money.parse(command.limit, active_currency(command.currency))
        async with self._ports.uow(command.tenant_id) as uow:
            category = await require(uow.categories.get, command.category_id, "category")
            if category.kind is not CategoryKind.EXPENSE:
                raise ValidationError.for_field("category_id", "budgets are for expense categories")
            existing = await require(uow.budgets.get, command.budget_id, "budget") if command.budget_id else None
            budget = Budget(
                id=existing.id if existing else self._ports.ids.new_id(),
                tenant_id=command.tenant_id,
                category_id=category.id,
                period=command.period,  # type: ignore[arg-type]
                limit=limit,
                rollover=command.rollover,  # type: ignore[arg-type]
                starts_on=check_date(
                    command.starts_on or (existing.starts_on if existing else self._ports.clock.today()), "starts_on"
                ),
                created_at=existing.created_at if existing else self._ports.clock.now(),
                thresholds=command.thresholds,
            )
            for other in await uow.budgets.list():
                if other.id != budget.id and other.category_id == budget.category_id and other.period == budget.period:
                    raise Conflict(f"the category already has a {budget.period} budget")
            await (uow.budgets.update(budget) if existing else uow.budgets.add(budget))
            uow.retires(BUDGETS)  # only the budget status shows budgets
            today = self._ports.clock.today().isoformat()
            uow.record(
                self._ports.event(
                    BudgetSet, command.tenant_id, budget_id=str(budget.id), category_id=str(category.id), day=today
                )
            )
            await uow.commit()
        return budget
