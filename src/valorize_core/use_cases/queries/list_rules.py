"""Query: the tenant's rules in the order they run."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.rules import Rule
from valorize_core.use_cases.context import Ports

__all__ = ["ListRules", "RulesQuery"]


@dataclass(frozen=True, slots=True)
class RulesQuery:
    """Whose rules."""

    tenant_id: UUID


class ListRules:
    """Rules by position."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: RulesQuery) -> list[Rule]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.rules.list()
