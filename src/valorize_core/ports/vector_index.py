"""Port: the tenant's labeled examples, searchable by vector similarity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

__all__ = ["Neighbour", "VectorIndex"]


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A labeled example close to the query: its category, text and cosine similarity."""

    item_id: UUID
    category_id: UUID
    text: str
    similarity: float


class VectorIndex(Protocol):
    """Labeled examples of the unit of work's tenant (``uow.examples``).

    It lives inside the unit of work so that a correction and the example it teaches are
    committed together, and so that a lookup during a write uses the same connection.
    """

    @property
    def dimensions(self) -> int:
        """Length of every vector."""
        ...

    async def upsert(self, item_id: UUID, vector: Sequence[float], category_id: UUID, text: str) -> None:
        """Add or replace the example ``item_id``."""
        ...

    async def upsert_many(self, examples: Sequence[tuple[UUID, Sequence[float], UUID, str]]) -> None:
        """:meth:`upsert` of each ``(item_id, vector, category_id, text)``, each id at most once."""
        ...

    async def remove(self, item_id: UUID) -> None:
        """Forget an example (no error when absent)."""
        ...

    async def nearest(self, vector: Sequence[float], k: int) -> list[Neighbour]:
        """Up to ``k`` of the tenant's examples, most similar first; ``k`` when it has ``k``."""
        ...

    async def nearest_many(self, vectors: Sequence[Sequence[float]], k: int) -> list[list[Neighbour]]:
        """:meth:`nearest` of each vector, in one search where the storage allows. The unit
        keeps the answers until it writes an example, so a later :meth:`nearest` of one of
        these vectors with at most ``k`` neighbours asks the storage nothing."""
        ...
