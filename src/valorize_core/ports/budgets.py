"""Port: budgets and the thresholds already announced per period."""

from __future__ import annotations

from datetime import date
from typing import Protocol
from uuid import UUID

from valorize_core.model.budgets import Budget

__all__ = ["BudgetRepository"]


class BudgetRepository(Protocol):
    """Budgets of the unit of work's tenant."""

    async def get(self, budget_id: UUID) -> Budget | None:
        """The budget, or ``None``."""
        ...

    async def list(self) -> list[Budget]:
        """Every budget, ordered by creation."""
        ...

    async def add(self, budget: Budget) -> None:
        """Store a new budget."""
        ...

    async def update(self, budget: Budget) -> None:
        """Store a changed budget."""
        ...

    async def remove(self, budget_id: UUID) -> None:
        """Delete a budget and its announced thresholds."""
        ...

    async def announced_thresholds(self, budget_id: UUID, period_start: date) -> set[int]:
        """Thresholds already announced for the period."""
        ...

    async def announce_threshold(self, budget_id: UUID, period_start: date, threshold: int) -> bool:
        """Record an announcement; ``False`` if it had been recorded already."""
        ...
