"""Query: the rules Valorize proposes from the tenant's corrections."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus
from valorize_core.use_cases.context import Ports

__all__ = ["ListRuleSuggestions", "RuleSuggestionsQuery"]


@dataclass(frozen=True, slots=True)
class RuleSuggestionsQuery:
    """Whose suggestions; only those in ``status`` when given."""

    tenant_id: UUID
    status: SuggestionStatus | None = None


class ListRuleSuggestions:
    """Rule suggestions, pending, accepted or dismissed."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: RuleSuggestionsQuery) -> list[RuleSuggestion]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.rule_suggestions.list(query.status)
