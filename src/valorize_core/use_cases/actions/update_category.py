"""Action: rename or move a category."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from valorize_core.model.categories import Category, CategoryKind, CategoryTree, category_kind
from valorize_core.model.read_scopes import CATEGORIES, moved_category_scopes
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["CategoryChanges", "UpdateCategory"]

KEEP = "keep"


@dataclass(frozen=True, slots=True)
class CategoryChanges:
    """Fields to change; ``parent_id`` is ``"keep"`` to leave it, ``None`` to make a root."""

    tenant_id: UUID
    category_id: UUID
    name: str | None = None
    kind: CategoryKind | str | None = None
    parent_id: UUID | str | None = KEEP


class UpdateCategory:
    """Renames, re-kinds or moves a category without breaking the tree."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: CategoryChanges) -> Category:
        """Apply the changes and return the category."""
        async with self._ports.uow(command.tenant_id) as uow:
            # The whole tree, held: two moves each valid alone (A under B, B under A) must not
            # both commit, and the category is read as it stands once held.
            tree = await uow.categories.list(for_update=True)
            category = await require(uow.categories.get, command.category_id, "category")
            parent = category.parent_id if command.parent_id == KEEP else command.parent_id
            changed = Category(
                category.id,
                category.tenant_id,
                category.name if command.name is None else command.name,
                category.kind if command.kind is None else category_kind(command.kind),
                parent if not isinstance(parent, str) else category.parent_id,
            )
            before = CategoryTree(tree)
            before.check(changed)
            await uow.categories.update(replace(changed))
            # A rename or a new kind changes only the tree (reports show category paths and
            # count by kind); a move also the lists of the old and the new ancestors (the tree is
            # held exclusively above: no transaction write declares from it meanwhile).
            moved = changed.parent_id != category.parent_id
            uow.retires(CATEGORIES, *(moved_category_scopes(before, category.id, changed.parent_id) if moved else ()))
            await uow.commit()
        return changed
