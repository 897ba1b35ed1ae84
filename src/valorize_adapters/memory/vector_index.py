"""Exact k-nearest search over labeled examples, per tenant."""

from __future__ import annotations

import math
from collections.abc import Sequence
from uuid import UUID

from valorize_core.errors import ValidationError
from valorize_core.ports.vector_index import Neighbour

__all__ = ["InMemoryVectorIndex"]


class InMemoryVectorIndex:
    """Brute-force cosine similarity: exact, and the reference the pgvector index is held to."""

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions
        self._items: dict[UUID, dict[UUID, tuple[tuple[float, ...], UUID, str]]] = {}

    def _check(self, vector: Sequence[float]) -> tuple[float, ...]:
        if len(vector) != self.dimensions:
            raise ValidationError.for_field("vector", f"must have {self.dimensions} dimensions")
        return tuple(float(v) for v in vector)

    async def upsert(
        self, tenant_id: UUID, item_id: UUID, vector: Sequence[float], category_id: UUID, text: str
    ) -> None:
        self._items.setdefault(tenant_id, {})[item_id] = (self._check(vector), category_id, text)

    async def remove(self, tenant_id: UUID, item_id: UUID) -> None:
        self._items.get(tenant_id, {}).pop(item_id, None)

    async def nearest(self, tenant_id: UUID, vector: Sequence[float], k: int) -> list[Neighbour]:
        query = self._check(vector)
        qn = math.sqrt(sum(v * v for v in query)) or 1.0
        scored = []
        for item_id, (vec, category_id, text) in self._items.get(tenant_id, {}).items():
            norm = math.sqrt(sum(v * v for v in vec)) or 1.0
            similarity = sum(a * b for a, b in zip(query, vec, strict=True)) / (qn * norm)
            scored.append(Neighbour(item_id, category_id, text, similarity))
        scored.sort(key=lambda n: (-n.similarity, n.item_id))
        return scored[: max(0, k)]
