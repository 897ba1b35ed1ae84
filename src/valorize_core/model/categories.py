"""Categories: a per-tenant tree of expense and income categories."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.text import clean_name, parse_choice

__all__ = ["MAX_CATEGORY_DEPTH", "Category", "CategoryKind", "CategoryTree"]

MAX_CATEGORY_DEPTH = 5


class CategoryKind(enum.StrEnum):
    """Whether a category collects spending or income."""

    EXPENSE = "expense"
    INCOME = "income"


def category_kind(value: object) -> CategoryKind:
    """Parse a category kind."""
    return parse_choice(CategoryKind, value, "kind")


@dataclass(frozen=True, slots=True)
class Category:
    """A category; ``parent_id`` makes it a child in the tenant's tree."""

    id: UUID
    tenant_id: UUID
    name: str
    kind: CategoryKind
    parent_id: UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name, "name", 100))
        object.__setattr__(self, "kind", category_kind(self.kind))
        if self.parent_id == self.id:
            raise ValidationError.for_field("parent_id", "a category cannot be its own parent")


class CategoryTree:
    """The tenant's categories as a tree, with the rules that keep it one."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self._by_id = {c.id: c for c in categories}
        self._children: dict[UUID | None, list[Category]] = {}
        for c in self._by_id.values():
            self._children.setdefault(c.parent_id, []).append(c)

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._by_id

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_id.values())

    def get(self, category_id: UUID) -> Category | None:
        """The category with this id, if any."""
        return self._by_id.get(category_id)

    def children(self, category_id: UUID | None) -> list[Category]:
        """Direct children (``None``: the roots)."""
        return list(self._children.get(category_id, []))

    def ancestors(self, category_id: UUID) -> list[Category]:
        """Parent, grandparent, ... up to the root."""
        out: list[Category] = []
        current = self._by_id.get(category_id)
        seen: set[UUID] = set()
        while current is not None and current.parent_id is not None and current.id not in seen:
            seen.add(current.id)
            current = self._by_id.get(current.parent_id)
            if current is not None:
                out.append(current)
        return out

    def descendants(self, category_id: UUID) -> set[UUID]:
        """Ids of the category and everything under it."""
        out = {category_id}
        stack = [category_id]
        while stack:
            for child in self._children.get(stack.pop(), []):
                if child.id not in out:
                    out.add(child.id)
                    stack.append(child.id)
        return out

    def path(self, category_id: UUID) -> str:
        """``Food > Groceries`` style path of names."""
        node = self._by_id.get(category_id)
        if node is None:
            return ""
        names = [a.name for a in reversed(self.ancestors(category_id))] + [node.name]
        return " > ".join(names)

    def check(self, candidate: Category) -> None:
        """Raise unless ``candidate`` (new or edited) keeps this a valid tree.

        The parent must exist and be of the same kind, no cycle may form, depth stays within
        ``MAX_CATEGORY_DEPTH`` and sibling names are unique (case-insensitively).
        """
        if candidate.parent_id is not None:
            parent = self._by_id.get(candidate.parent_id)
            if parent is None:
                raise ValidationError.for_field("parent_id", "parent category does not exist")
            if parent.kind != candidate.kind:
                raise ValidationError.for_field("parent_id", "parent must be of the same kind")
            if candidate.parent_id in self.descendants(candidate.id):
                raise ValidationError.for_field("parent_id", "would make a cycle")
            depth = 1 + len(self.ancestors(candidate.parent_id)) + 1
            subtree = self._height(candidate.id) if candidate.id in self._by_id else 0
            if depth + subtree > MAX_CATEGORY_DEPTH:
                raise ValidationError.for_field("parent_id", f"categories nest at most {MAX_CATEGORY_DEPTH} levels")
        for sibling in self._children.get(candidate.parent_id, []):
            if sibling.id != candidate.id and sibling.name.casefold() == candidate.name.casefold():
                raise ValidationError.for_field("name", f"a sibling is already named {sibling.name!r}")
        if candidate.id in self._by_id:
            existing = self._by_id[candidate.id]
            if existing.kind != candidate.kind and self._children.get(candidate.id):
                raise ValidationError.for_field("kind", "cannot change the kind of a category with children")

    def _height(self, category_id: UUID) -> int:
        children = self._children.get(category_id, [])
        return 0 if not children else 1 + max(self._height(c.id) for c in children)
