"""Query: the tenant's categories."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.categories import Category
from valorize_core.use_cases.context import Ports

__all__ = ["CategoriesQuery", "ListCategories"]


@dataclass(frozen=True, slots=True)
class CategoriesQuery:
    """Whose categories."""

    tenant_id: UUID


class ListCategories:
    """Every category of the tenant, by name."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: CategoriesQuery) -> list[Category]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.categories.list()
