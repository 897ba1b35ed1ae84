"""Action: check budgets for a day and announce newly crossed thresholds once per period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.budgets import BudgetStatus, budget_status, crossed_thresholds, spending_by_period
from valorize_core.model.categories import CategoryTree
from valorize_core.model.events import BudgetThresholdCrossed
from valorize_core.model.listing import TransactionFilter
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import in_currency

__all__ = ["BudgetEvaluation", "EvaluateBudgets"]


@dataclass(frozen=True, slots=True)
class BudgetEvaluation:
    """Evaluate the tenant's budgets in the periods containing ``day``."""

    tenant_id: UUID
    day: date


class EvaluateBudgets:
    """Emits :class:`BudgetThresholdCrossed` for each threshold reached and not yet announced."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: BudgetEvaluation) -> list[tuple[BudgetStatus, int]]:
        """Announce new crossings; return ``(status, threshold)`` for each one announced."""
        announced: list[tuple[BudgetStatus, int]] = []
        async with self._ports.uow(command.tenant_id) as uow:
            budgets = await uow.budgets.list()
            if not budgets:
                return []
            tree = CategoryTree(await uow.categories.list())
            for budget in budgets:
                if budget.starts_on > command.day:
                    continue  # a day before the budget began (a backdated write): no period to check
                ids = tree.descendants(budget.category_id)
                txs = await uow.transactions.all(
                    TransactionFilter(category_ids=tuple(ids), date_from=budget.starts_on, date_to=command.day)
                )
                txs, _ = await in_currency(uow, txs, budget.limit.currency)  # a missing rate counts nothing
                status = budget_status(budget, spending_by_period(budget, ids, txs), command.day)
                done = await uow.budgets.announced_thresholds(budget.id, status.period_start)
                for threshold in crossed_thresholds(status, budget.thresholds, done):
                    if await uow.budgets.announce_threshold(budget.id, status.period_start, threshold):
                        announced.append((status, threshold))
                        uow.record(
                            self._ports.event(
                                BudgetThresholdCrossed,
                                uow.tenant_id,
                                budget_id=str(budget.id),
                                category_id=str(budget.category_id),
                                period_start=status.period_start.isoformat(),
                                threshold=threshold,
                                spent_minor=status.spent.minor,
                                available_minor=status.available.minor,
                                currency=budget.limit.currency.code,
                            )
                        )
            uow.retires()  # announcements only: the budget status does not show them
            await uow.commit()
        return announced
