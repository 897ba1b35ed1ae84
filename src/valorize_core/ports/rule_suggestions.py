"""Port: rule suggestions."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol
from uuid import UUID

from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus

__all__ = ["RuleSuggestionRepository"]


class RuleSuggestionRepository(Protocol):
    """Rule suggestions of the unit of work's tenant."""

    async def get(self, suggestion_id: UUID, *, for_update: bool = False) -> RuleSuggestion | None:
        """The suggestion, or ``None``; ``for_update`` holds it until the unit of work ends (a
        decision reads the status it changes)."""
        ...

    async def find(self, payee_key: str, category_id: UUID) -> RuleSuggestion | None:
        """The suggestion for this payee and category, whatever its status."""
        ...

    async def find_many(self, payee_keys: Collection[str]) -> list[RuleSuggestion]:
        """The suggestions of these payees, whatever their category and status (in no order); a
        later :meth:`find` of one of them may answer from this read."""
        ...

    async def add(self, suggestion: RuleSuggestion) -> None:
        """Store a new suggestion (``Conflict`` for a second one of the same payee and category)."""
        ...

    async def update(self, suggestion: RuleSuggestion) -> None:
        """Store its decision (``NotFound`` if absent)."""
        ...

    async def list(self, status: SuggestionStatus | None = None) -> list[RuleSuggestion]:
        """Suggestions, newest first (ties by id), optionally of one status."""
        ...
