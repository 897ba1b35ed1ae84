"""Categories."""

from __future__ import annotations

from uuid import UUID

from msgspec import UNSET, Struct, UnsetType

from valorize_core.model.categories import Category
from valorize_entrypoints.api.schemas.common import CategoryKindName, ShortName

__all__ = ["CategoryIn", "CategoryOut", "CategoryPatch", "category"]


class CategoryIn(Struct, forbid_unknown_fields=True):
    name: ShortName
    kind: CategoryKindName
    parent_id: UUID | None = None


class CategoryPatch(Struct, forbid_unknown_fields=True):
    name: ShortName | UnsetType = UNSET
    kind: CategoryKindName | UnsetType = UNSET
    parent_id: UUID | UnsetType | None = UNSET


class CategoryOut(Struct):
    id: UUID
    name: str
    kind: str
    parent_id: UUID | None


def category(c: Category) -> CategoryOut:
    return CategoryOut(c.id, c.name, c.kind.value, c.parent_id)
