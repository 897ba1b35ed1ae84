"""Port: the tenant's ordered categorization rules."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from valorize_core.model.rules import Rule

__all__ = ["RuleRepository"]


class RuleRepository(Protocol):
    """Rules of the unit of work's tenant."""

    async def hold_order(self) -> None:
        """Hold the tenant's rule order until the unit of work ends: a concurrent unit that
        adds, moves or deletes a rule waits here, so positions stay ``0 … n-1``, one rule each.
        Taken first, before any other lock, by every action that changes the order."""
        ...

    async def get(self, rule_id: UUID, *, for_update: bool = False) -> Rule | None:
        """The rule, or ``None``; ``for_update`` holds it until the unit of work ends (an edit
        reads the rule it writes back)."""
        ...

    async def list(self) -> list[Rule]:
        """Every rule, ordered by position then id."""
        ...

    async def add(self, rule: Rule) -> None:
        """Store a new rule."""
        ...

    async def update(self, rule: Rule) -> None:
        """Store a changed rule."""
        ...

    async def remove(self, rule_id: UUID) -> None:
        """Delete a rule."""
        ...
