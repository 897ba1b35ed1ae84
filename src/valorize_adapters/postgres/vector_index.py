"""Labeled examples in pgvector, searched per tenant with an HNSW cosine index.

pgvector applies a ``WHERE tenant_id = …`` filter *after* the HNSW scan, so a plain filtered
query can return fewer than k rows when other tenants' vectors crowd the candidate list.
The index here never does:

* pgvector ≥ 0.8 has iterative scans: the query sets ``hnsw.iterative_scan`` and the index
  keeps searching until k rows pass the filter.
* Older versions (pgserver ships 0.6.2): a tenant with at most ``exact_limit`` examples is
  searched exactly — the tenant's rows are fetched through the btree index and ranked, which
  for thousands of rows is faster than any approximate search. A larger tenant uses the HNSW
  index with ``hnsw.ef_search`` raised in proportion to the tenant's share of all rows, and
  falls back to the exact search if that still returns fewer than k.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from pgvector import Vector
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.session import Session
from valorize_core.errors import ValidationError
from valorize_core.ports.vector_index import Neighbour

__all__ = ["PgVectorIndex"]

Pool = AsyncConnectionPool[psycopg.AsyncConnection[Any]]


class PgVectorIndex:
    """The ``VectorIndex`` port on pgvector."""

    def __init__(self, pool: Pool, dimensions: int, *, exact_limit: int = 20_000) -> None:
        self._pool = pool
        self.dimensions = dimensions
        self._exact_limit = exact_limit
        self._iterative: bool | None = None

    async def ensure_index(self) -> None:
        """Create the HNSW expression index for this dimension if it is missing."""
        name = f"labeled_examples_hnsw_{self.dimensions}"
        async with self._pool.connection() as conn:
            await conn.execute(
                psycopg.sql.SQL(
                    "CREATE INDEX IF NOT EXISTS {} ON labeled_examples USING hnsw "
                    "((embedding::vector({})) vector_cosine_ops) WHERE dims = {}"
                ).format(
                    psycopg.sql.Identifier(name),
                    psycopg.sql.Literal(self.dimensions),
                    psycopg.sql.Literal(self.dimensions),
                )
            )
            await conn.commit()

    def _vector(self, vector: Sequence[float]) -> Vector:
        if len(vector) != self.dimensions:
            raise ValidationError.for_field("vector", f"must have {self.dimensions} dimensions")
        return Vector([float(v) for v in vector])

    async def upsert(
        self, tenant_id: UUID, item_id: UUID, vector: Sequence[float], category_id: UUID, text: str
    ) -> None:
        async with self._pool.connection() as conn:
            s = Session(conn, tenant_id)
            await s.execute(
                "INSERT INTO labeled_examples (tenant_id, item_id, category_id, text, dims, embedding)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, item_id) DO UPDATE SET"
                " category_id = EXCLUDED.category_id, text = EXCLUDED.text, dims = EXCLUDED.dims,"
                " embedding = EXCLUDED.embedding",
                (tenant_id, item_id, category_id, text, self.dimensions, self._vector(vector)),
            )
            await s.commit()

    async def remove(self, tenant_id: UUID, item_id: UUID) -> None:
        async with self._pool.connection() as conn:
            s = Session(conn, tenant_id)
            await s.execute("DELETE FROM labeled_examples WHERE tenant_id = %s AND item_id = %s", (tenant_id, item_id))
            await s.commit()

    async def nearest(self, tenant_id: UUID, vector: Sequence[float], k: int) -> list[Neighbour]:
        if k <= 0:
            return []
        query = self._vector(vector)
        async with self._pool.connection() as conn:
            s = Session(conn, tenant_id)
            try:
                if self._iterative is None:
                    version = await s.fetch_one("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
                    parts = tuple(int(p) for p in str(version["extversion"] if version else "0").split(".")[:2])
                    self._iterative = parts >= (0, 8)
                if self._iterative:
                    await s.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                    return await self._indexed(s, tenant_id, query, k)
                count = await s.fetch_one(
                    "SELECT count(*) AS n FROM labeled_examples WHERE tenant_id = %s AND dims = %s",
                    (tenant_id, self.dimensions),
                )
                mine = int(count["n"]) if count else 0
                if mine <= self._exact_limit:
                    return await self._exact(s, tenant_id, query, k)
                total = await s.fetch_one(
                    "SELECT reltuples::bigint AS n FROM pg_class WHERE relname = 'labeled_examples'"
                )
                share = mine / max(int(total["n"]) if total else mine, mine, 1)
                ef = min(1000, max(40, int(k / share * 2)))
                await s.execute(psycopg.sql.SQL("SET LOCAL hnsw.ef_search = {}").format(psycopg.sql.Literal(ef)))  # type: ignore[arg-type]
                found = await self._indexed(s, tenant_id, query, k)
                return found if len(found) >= min(k, mine) else await self._exact(s, tenant_id, query, k)
            finally:
                await s.rollback()

    async def _indexed(self, s: Session, tenant_id: UUID, query: Vector, k: int) -> list[Neighbour]:
        # With row-level security the planner misjudges the tenant's row count and prefers
        # "btree scan + sort"; without sorts it takes the HNSW index, which is the point here.
        await s.execute("SET LOCAL enable_sort = off")
        # The expression and predicate must match the partial HNSW index literally.
        statement = psycopg.sql.SQL(
            "SELECT item_id, category_id, text, 1 - (embedding::vector({d}) <=> %(q)s::vector({d})) AS similarity"
            " FROM labeled_examples WHERE tenant_id = %(t)s AND dims = {d}"
            " ORDER BY embedding::vector({d}) <=> %(q)s::vector({d}) LIMIT %(k)s"
        ).format(d=psycopg.sql.Literal(self.dimensions))
        rs = await s.fetch(statement, {"q": query, "t": tenant_id, "k": k})  # type: ignore[arg-type]
        return [Neighbour(r["item_id"], r["category_id"], r["text"], float(r["similarity"])) for r in rs]

    async def _exact(self, s: Session, tenant_id: UUID, query: Vector, k: int) -> list[Neighbour]:
        # MATERIALIZED keeps the planner from answering with the approximate HNSW index.
        rs = await s.fetch(
            "WITH mine AS MATERIALIZED (SELECT item_id, category_id, text, embedding FROM labeled_examples"
            " WHERE tenant_id = %(t)s AND dims = %(d)s)"
            " SELECT item_id, category_id, text, 1 - (embedding <=> %(q)s) AS similarity FROM mine"
            " ORDER BY embedding <=> %(q)s, item_id LIMIT %(k)s",
            {"d": self.dimensions, "q": query, "t": tenant_id, "k": k},
        )
        return [Neighbour(r["item_id"], r["category_id"], r["text"], float(r["similarity"])) for r in rs]
