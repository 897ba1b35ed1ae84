"""Exact k-nearest search over one tenant's labeled examples, inside the unit of work.

Vectors are kept unit-length and sparse (``(index, value)`` pairs of the non-zero entries).
Searches use an inverted index (dimension → examples with a non-zero there), so a search only
touches the examples that share a dimension with the query: the same exact cosine similarity,
an order of magnitude faster than scanning every example. The index is built on the first
search of a state of the examples and kept in the store under that state's version: every
unit of work reading the same state (one suggestion query after another) reuses it; a write
changes the version, so the next search builds it again.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import OrderedDict
from collections.abc import Sequence
from uuid import UUID

from valorize_adapters.memory.store import TenantData
from valorize_core.model.errors import ValidationError
from valorize_core.ports.vector_index import Neighbour

__all__ = ["MemoryExamples"]

# Versions of the examples' states, unique within the process (a rolled-back state's never returns).
_versions = itertools.count(1)

# How many searches' results an index remembers: a statement repeats its payees, and texts
# that normalize alike embed alike.
_REMEMBERED = 4096


class _Index:
    """One state of a tenant's examples, searchable: examples numbered in id order (so a tie in
    similarity is broken by the number as it would be by the id), each dimension's postings as
    parallel lists of numbers and values, and the results of recent searches."""

    def __init__(self, examples: dict[UUID, tuple[tuple[tuple[int, float], ...], UUID, str]]) -> None:
        self.ids = sorted(examples)
        postings: dict[int, tuple[list[int], list[float]]] = {}
        for row, item_id in enumerate(self.ids):
            for i, v in examples[item_id][0]:
                rows, values = postings.setdefault(i, ([], []))
                rows.append(row)
                values.append(v)
        self.postings = postings
        self.results: OrderedDict[tuple[tuple[int, float], ...], list[tuple[int, float]]] = OrderedDict()
        # the neighbours of recent queries as asked (the vector as given, and k): a statement's
        # rows ask the same payee's vector again and again, and the answer is this state's
        self.answers: OrderedDict[tuple[tuple[float, ...], int], list[Neighbour]] = OrderedDict()

    def remember(self, key: tuple[tuple[float, ...], int], found: list[Neighbour]) -> None:
        """Keep the neighbours a query found (the most recent :data:`_REMEMBERED`)."""
        self.answers[key] = found
        if len(self.answers) > _REMEMBERED:
            self.answers.popitem(last=False)

    def search(self, query: tuple[tuple[int, float], ...], k: int) -> list[tuple[int, float]]:
        """The ``k`` most similar examples' numbers and similarities, best first."""
        key = (*query, (-1, float(k)))
        found = self.results.get(key)
        if found is not None:
            self.results.move_to_end(key)
            return found
        scores: dict[int, float] = {}
        get = scores.get
        for i, q in query:
            rows, values = self.postings.get(i, ((), ()))
            for row, v in zip(rows, values, strict=True):
                scores[row] = get(row, 0.0) + q * v
        best = heapq.nsmallest(k, scores.items(), key=lambda s: (-s[1], s[0]))
        if len(best) < k:  # fewer examples share a dimension: the rest are orthogonal (similarity 0)
            rest = (row for row in range(len(self.ids)) if row not in scores)
            best.extend((row, 0.0) for row in itertools.islice(rest, k - len(best)))
            best.sort(key=lambda s: (-s[1], s[0]))
        self.results[key] = best
        if len(self.results) > _REMEMBERED:
            self.results.popitem(last=False)
        return best


class MemoryExamples:
    """Brute-force cosine similarity: exact, and the reference the pgvector index is held to."""

    def __init__(
        self, data: TenantData, dimensions: int, shared: dict[UUID, tuple[int, object]], tenant_id: UUID
    ) -> None:
        self._data = data
        self._dimensions = dimensions
        self._shared = shared
        self._tenant_id = tenant_id

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
        self._data.examples_version = next(_versions)

    async def upsert_many(self, examples: Sequence[tuple[UUID, Sequence[float], UUID, str]]) -> None:
        for item_id, vector, category_id, text in examples:
            await self.upsert(item_id, vector, category_id, text)

    async def remove(self, item_id: UUID) -> None:
        if self._data.examples.pop(item_id, None) is not None:
            self._data.examples_version = next(_versions)

    def _index(self) -> _Index:
        version = self._data.examples_version
        cached = self._shared.get(self._tenant_id)
        if cached is not None and cached[0] == version and isinstance(cached[1], _Index):
            return cached[1]
        index = _Index(self._data.examples)
        self._shared[self._tenant_id] = (version, index)
        return index

    async def nearest_many(self, vectors: Sequence[Sequence[float]], k: int) -> list[list[Neighbour]]:
        return [await self.nearest(vector, k) for vector in vectors]

    async def nearest(self, vector: Sequence[float], k: int) -> list[Neighbour]:
        index = self._index()
        key = (tuple(vector), k)
        found = index.answers.get(key)
        if found is not None:  # asked before in this state (only a valid vector's answer is kept)
            return list(found)
        examples = self._data.examples
        found = []
        for row, similarity in index.search(self._sparse_unit(vector), max(0, k)):
            item_id = index.ids[row]
            _, category_id, text = examples[item_id]
            found.append(Neighbour(item_id, category_id, text, similarity))
        index.remember(key, found)
        return list(found)
