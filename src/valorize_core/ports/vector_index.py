"""Port: labeled examples searchable by vector similarity."""

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
    """Per-tenant labeled examples; queries never see another tenant's examples."""

    async def upsert(
        self, tenant_id: UUID, item_id: UUID, vector: Sequence[float], category_id: UUID, text: str
    ) -> None:
        """Add or replace the example ``item_id``."""
        ...

    async def remove(self, tenant_id: UUID, item_id: UUID) -> None:
        """Forget an example."""
        ...

    async def nearest(self, tenant_id: UUID, vector: Sequence[float], k: int) -> list[Neighbour]:
        """Up to ``k`` examples of the tenant, most similar first."""
        ...
