"""Exact k-nearest search over one tenant's labeled examples, inside the unit of work."""

from __future__ import annotations

import math
from collections.abc import Sequence
from uuid import UUID

from valorize_adapters.memory.store import TenantData
from valorize_core.errors import ValidationError
from valorize_core.ports.vector_index import Neighbour

__all__ = ["MemoryExamples"]


class MemoryExamples:
    """Brute-force cosine similarity: exact, and the reference the pgvector index is held to."""

    def __init__(self, data: TenantData, dimensions: int) -> None:
        self._data = data
        self._dimensions = dimensions

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def _check(self, vector: Sequence[float]) -> tuple[float, ...]:
        if len(vector) != self._dimensions:
            raise ValidationError.for_field("vector", f"must have {self._dimensions} dimensions")
        return tuple(float(v) for v in vector)

    async def upsert(self, item_id: UUID, vector: Sequence[float], category_id: UUID, text: str) -> None:
        self._data.examples[item_id] = (self._check(vector), category_id, text)

    async def remove(self, item_id: UUID) -> None:
        self._data.examples.pop(item_id, None)

    async def nearest(self, vector: Sequence[float], k: int) -> list[Neighbour]:
        query = self._check(vector)
        qn = math.sqrt(sum(v * v for v in query)) or 1.0
        scored = []
        for item_id, (vec, category_id, text) in self._data.examples.items():
            norm = math.sqrt(sum(v * v for v in vec)) or 1.0
            similarity = sum(a * b for a, b in zip(query, vec, strict=True)) / (qn * norm)
            scored.append(Neighbour(item_id, category_id, text, similarity))
        scored.sort(key=lambda n: (-n.similarity, n.item_id))
        return scored[: max(0, k)]
