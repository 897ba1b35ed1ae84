"""Action: delete a category; its transactions become uncategorized."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.categories import CategoryTree
from valorize_core.model.errors import Conflict
from valorize_core.model.read_scopes import CATEGORIES, category_scope, transaction_scopes
from valorize_core.use_cases.actions._shared import record_updated
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["CategoryDeletion", "DeleteCategory"]


@dataclass(frozen=True, slots=True)
class CategoryDeletion:
    """Which category to delete."""

    tenant_id: UUID
    category_id: UUID


class DeleteCategory:
    """Deletes a leaf category not used by budgets or rules; its splits lose the category."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: CategoryDeletion) -> int:
        """Delete it and return how many transactions became uncategorized."""
        async with self._ports.uow(command.tenant_id) as uow:
            tree = await uow.categories.list(for_update=True)
            category = await require(uow.categories.get, command.category_id, "category")
            if any(c.parent_id == category.id for c in tree):
                raise Conflict("the category has subcategories; move or delete them first")
            if any(b.category_id == category.id for b in await uow.budgets.list()):
                raise Conflict("a budget uses the category; delete the budget first")
            users = [r.name for r in await uow.rules.list() if category.id in r.category_ids()]
            if users:
                raise Conflict(f"rules assign the category: {', '.join(users[:5])}")
            touched = await uow.transactions.clear_category(category.id)
            cleared = []
            for tx_id in touched:
                tx = await require(uow.transactions.get, tx_id, "transaction")
                record_updated(uow, self._ports, tx, ("splits",))
                cleared.append(tx)
            await uow.categories.remove(category.id)
            # The tree, and the cleared transactions before (in the category and its ancestors'
            # lists) and after (uncategorized); the tree is held exclusively above.
            held = CategoryTree(tree)
            before = {category_scope(category.id), *(category_scope(c.id) for c in held.ancestors(category.id))}
            uow.retires(CATEGORIES, *before, *(transaction_scopes(cleared, held) if cleared else ()))
            await uow.commit()
        return len(touched)
