"""Query: where each budget stands in the period containing a day."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from valorize_core.model.budgets import BudgetStatus, budget_status, spending_by_period
from valorize_core.model.categories import CategoryTree
from valorize_core.model.errors import NotFound
from valorize_core.model.listing import TransactionFilter
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import in_currency

__all__ = ["BudgetStatusQuery", "GetBudgetStatus"]


@dataclass(frozen=True, slots=True)
class BudgetStatusQuery:
    """Budgets (one, or all when ``budget_id`` is ``None``) as of ``day``."""

    tenant_id: UUID
    day: date
    budget_id: UUID | None = None


class GetBudgetStatus:
    """Budgeted, carried in, spent, remaining and percent per budget."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: BudgetStatusQuery) -> list[BudgetStatus]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            budgets = await uow.budgets.list()
            if query.budget_id is not None:
                budgets = [b for b in budgets if b.id == query.budget_id]
                if not budgets:
                    raise NotFound("budget", query.budget_id)
            tree = CategoryTree(await uow.categories.list())
            out = []
            for budget in budgets:
                ids = tree.descendants(budget.category_id)
                txs = await uow.transactions.all(
                    TransactionFilter(category_ids=tuple(sorted(ids)), date_from=budget.starts_on, date_to=query.day)
                )
                txs, missing = await in_currency(uow, txs, budget.limit.currency)
                status = budget_status(budget, spending_by_period(budget, ids, txs), query.day)
                out.append(replace(status, missing_rates=tuple(missing)))
        return out
