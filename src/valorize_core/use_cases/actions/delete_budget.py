"""Action: delete a budget."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.read_scopes import BUDGETS
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["BudgetDeletion", "DeleteBudget"]


@dataclass(frozen=True, slots=True)
class BudgetDeletion:
    """Which budget to delete."""

    tenant_id: UUID
    budget_id: UUID


class DeleteBudget:
    """Deletes a budget and its announced thresholds."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: BudgetDeletion) -> None:
        """Delete it."""
        async with self._ports.uow(command.tenant_id) as uow:
            budget = await require(uow.budgets.get, command.budget_id, "budget")
            await uow.budgets.remove(budget.id)
            uow.retires(BUDGETS)  # only the budget status shows budgets
            await uow.commit()
