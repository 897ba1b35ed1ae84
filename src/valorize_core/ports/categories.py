"""Port: the tenant's category tree."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from valorize_core.model.categories import Category

__all__ = ["CategoryRepository"]


class CategoryRepository(Protocol):
    """Categories of the unit of work's tenant."""

    async def get(self, category_id: UUID) -> Category | None:
        """The category, or ``None``."""
        ...

    async def list(self, *, for_update: bool = False, for_share: bool = False) -> list[Category]:
        """Every category, ordered by name then id; ``for_update`` holds every category of the
        tenant until the unit of work ends, so that a change checked against the whole tree
        (a move, a new child, a deletion) is checked against the tree it will commit into.

        ``for_share`` holds the tree against such changes until the unit ends (other
        ``for_share`` holders go on): a write that declares what it changes from the tree (a
        category's ancestors) declares from the tree it commits into — a change made before it
        is read, one made after it waits for the unit's commit. A write takes it with its first
        read of the tree, before any other lock, so that it and a change cannot deadlock."""
        ...

    async def add(self, category: Category) -> None:
        """Store a new category."""
        ...

    async def update(self, category: Category) -> None:
        """Store a changed category."""
        ...

    async def remove(self, category_id: UUID) -> None:
        """Delete a category (the caller has moved its references)."""
        ...
