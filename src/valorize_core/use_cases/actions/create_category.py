"""Action: add a category to the tenant's tree."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.categories import Category, CategoryKind, CategoryTree, category_kind
from valorize_core.use_cases.context import Ports

__all__ = ["CreateCategory", "NewCategory"]


@dataclass(frozen=True, slots=True)
class NewCategory:
    """A category to add, optionally under ``parent_id`` (same kind)."""

    tenant_id: UUID
    name: str
    kind: CategoryKind | str
    parent_id: UUID | None = None


class CreateCategory:
    """Adds a category, keeping the tree valid."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewCategory) -> Category:
        """Create the category."""
        category = Category(
            self._ports.ids.new_id(), command.tenant_id, command.name, category_kind(command.kind), command.parent_id
        )
        async with self._ports.uow(command.tenant_id) as uow:
            CategoryTree(await uow.categories.list(for_update=True)).check(category)
            await uow.categories.add(category)
            # A new category has no transactions: no cached read shows it yet (reports name the
            # categories of their rows only; a list filtered by its id was empty and stays so).
            uow.retires()
            await uow.commit()
        return category
