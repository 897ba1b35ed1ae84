"""Exact k-nearest search over one tenant's labeled examples, inside the unit of work.

Vectors are kept unit-length and sparse (``(index, value)`` pairs of the non-zero entries).
A unit of work builds an inverted index (dimension → examples with a non-zero there) on its
first search and drops it when it writes an example, so a batch of searches (an import) only
touches the examples that share a dimension with each query: the same exact cosine
similarity, an order of magnitude faster than scanning every example.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from uuid import UUID

from valorize_adapters.memory.store import TenantData
from valorize_core.model.errors import ValidationError
from valorize_core.ports.vector_index import Neighbour

__all__ = ["MemoryExamples"]


class MemoryExamples:
    """Brute-force cosine similarity: exact, and the reference the pgvector index is held to."""

    def __init__(self, data: TenantData, dimensions: int) -> None:
        self._data = data
        self._dimensions = dimensions
        self._postings: dict[int, list[tuple[UUID, float]]] | None = None

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def _sparse_unit(self, vector: Sequence[float]) -> tuple[tuple[int, float], ...]:
        """The vector scaled to unit length, as its non-zero ``(index, value)`` pairs."""
        if len(vector) != self._dimensions:
            raise ValidationError.for_field("vector", f"must have {self._dimensions} dimensions")
        values = [float(v) for v in vector]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return tuple((i, v / norm) for i, v in enumerate(values) if v)

    async def upsert(self, item_id: UUID, vector: Sequence[float], category_id: UUID, text: str) -> None:
        self._data.examples[item_id] = (self._sparse_unit(vector), category_id, text)
        self._postings = None

    async def remove(self, item_id: UUID) -> None:
        self._data.examples.pop(item_id, None)
        self._postings = None

    def _index(self) -> dict[int, list[tuple[UUID, float]]]:
        if self._postings is None:
            postings: dict[int, list[tuple[UUID, float]]] = {}
            for item_id, (pairs, _, _) in self._data.examples.items():
                for i, v in pairs:
                    postings.setdefault(i, []).append((item_id, v))
            self._postings = postings
        return self._postings

    async def nearest(self, vector: Sequence[float], k: int) -> list[Neighbour]:
        k = max(0, k)
        index = self._index()
        scores: dict[UUID, float] = {}
        for i, q in self._sparse_unit(vector):
            for item_id, v in index.get(i, ()):
                scores[item_id] = scores.get(item_id, 0.0) + q * v
        best = heapq.nsmallest(k, scores.items(), key=lambda s: (-s[1], s[0]))
        if len(best) < k:  # fewer examples share a dimension: the rest are orthogonal (similarity 0)
            rest = sorted(item_id for item_id in self._data.examples if item_id not in scores)
            best.extend((item_id, 0.0) for item_id in rest[: k - len(best)])
            best.sort(key=lambda s: (-s[1], s[0]))
        examples = self._data.examples
        return [
            Neighbour(item_id, examples[item_id][1], examples[item_id][2], similarity) for item_id, similarity in best
        ]
