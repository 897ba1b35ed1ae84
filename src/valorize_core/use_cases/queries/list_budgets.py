"""Query: the tenant's budgets."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.budgets import Budget
from valorize_core.use_cases.context import Ports

__all__ = ["BudgetsQuery", "ListBudgets"]


@dataclass(frozen=True, slots=True)
class BudgetsQuery:
    """Whose budgets."""

    tenant_id: UUID


class ListBudgets:
    """Every budget of the tenant (where each stands:
    :class:`~valorize_core.use_cases.queries.budget_status.GetBudgetStatus`)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: BudgetsQuery) -> list[Budget]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.budgets.list()
