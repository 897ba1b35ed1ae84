"""Labeled examples in pgvector, searched per tenant with an HNSW cosine index.

pgvector applies a ``WHERE tenant_id = …`` filter *after* the HNSW scan, so a plain filtered
query can return fewer than k rows when other tenants' vectors crowd the candidate list.
This repository never does:

* pgvector ≥ 0.8 has iterative scans: the query sets ``hnsw.iterative_scan`` and the index
  keeps searching until k rows pass the filter.
* Older versions (pgserver ships 0.6.2): a tenant with at most ``exact_limit`` examples is
  searched exactly — its rows come through the btree index and are ranked, which for
  thousands of rows is faster than any approximate search. A larger tenant uses the HNSW
  index with ``hnsw.ef_search`` raised in proportion to the tenant's share of all rows, and
  falls back to the exact search if that still returns fewer than k.

Only the vectors of tenants past ``exact_limit`` are in the HNSW graph (``labeled_vectors.indexed``,
migration 0032): the write that takes a tenant past it flags all its vectors, in its own
transaction, and a crossed tenant's new vectors go in flagged. A smaller tenant's learned rows
pay no graph insert. The graph is searched only when none of the tenant's vectors is outside it
(two units crossing together can leave one out until the tenant's next write flags it): until
then the tenant is searched exactly, whatever the pgvector version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from pgvector import Vector

from valorize_adapters.postgres.session import Session
from valorize_core.model.errors import ValidationError
from valorize_core.ports.vector_index import Neighbour

__all__ = ["PgExamples", "VectorSettings", "ensure_vector_index"]


@dataclass
class VectorSettings:
    """Shared by every unit of work of a pool: the dimension and the search strategy."""

    dimensions: int = 256
    exact_limit: int = 20_000
    iterative_scan: bool | None = None  # detected on first use


async def ensure_vector_index(conninfo: str, dimensions: int) -> None:
    """Create the HNSW expression index for a dimension if it is missing (256 ships with the schema).

    On a connection of its own, as the role ``conninfo`` logs in as (the schema's owner, as for
    migrations): the pool's connections act as ``valorize_app``, which may not create indexes.
    """
    name = f"labeled_vectors_hnsw_{dimensions}"
    statement = psycopg.sql.SQL(
        "CREATE INDEX IF NOT EXISTS {} ON labeled_vectors USING hnsw "
        "((embedding::vector({})) vector_cosine_ops) WHERE dims = {} AND indexed"
    ).format(psycopg.sql.Identifier(name), psycopg.sql.Literal(dimensions), psycopg.sql.Literal(dimensions))
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(statement)


class PgExamples:
    """The ``VectorIndex`` port on pgvector, bound to a unit of work's session."""

    def __init__(self, session: Session, settings: VectorSettings) -> None:
        self._s = session
        self._settings = settings
        # Until the transaction ends or an example is written: the answers given, by query
        # vector (with how many neighbours were asked), and the tenant's number of examples.
        self._kept: dict[tuple[float, ...], tuple[int, list[Neighbour]]] = {}
        self._count: int | None = None
        self._outside = False  # whether some of the tenant's vectors are outside the graph (with _count)

    def forget(self) -> None:
        self._kept = {}
        self._count = None

    @property
    def dimensions(self) -> int:
        return self._settings.dimensions

    @property
    def _t(self) -> UUID:
        assert self._s.tenant_id is not None
        return self._s.tenant_id

    def _vector(self, vector: Sequence[float]) -> Vector:
        if len(vector) != self.dimensions:
            raise ValidationError.for_field("vector", f"must have {self.dimensions} dimensions")
        return Vector([float(v) for v in vector])

    async def upsert(self, item_id: UUID, vector: Sequence[float], category_id: UUID, text: str) -> None:
        await self.upsert_many([(item_id, vector, category_id, text)])

    async def upsert_many(self, examples: Sequence[tuple[UUID, Sequence[float], UUID, str]]) -> None:
        rows = [(self._t, item_id, category_id, text, self.dimensions, self._vector(vector))
                for item_id, vector, category_id, text in examples]  # fmt: skip
        if not rows:
            return
        # Nobody reads their results: they go with the unit's next statement or commit. The rows
        # first, then the vectors the tenant does not have yet, in digest order so that two units
        # adding the same new vectors wait, never deadlock: into the HNSW graph (``indexed``) if the
        # tenant is past the exact search's limit already. Last, if this write takes it past the
        # limit, all its vectors enter the graph (after the rows are in: they are counted).
        self._s.defer(
            "INSERT INTO labeled_examples (tenant_id, item_id, category_id, text, dims, embedding)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, item_id) DO UPDATE SET"
            " category_id = EXCLUDED.category_id, text = EXCLUDED.text, dims = EXCLUDED.dims,"
            " embedding = EXCLUDED.embedding",
            rows,
        )
        self._s.defer(
            "INSERT INTO labeled_vectors (tenant_id, dims, embedding, indexed)"
            " SELECT %(t)s, %(d)s, v.v::vector, crossed.yes"
            " FROM (SELECT DISTINCT v FROM unnest(%(vs)s::text[]) AS v) v, (SELECT EXISTS (SELECT 1"
            " FROM labeled_vectors WHERE tenant_id = %(t)s AND dims = %(d)s AND indexed) AS yes) crossed"
            " ORDER BY sha256(vector_send(v.v::vector)) ON CONFLICT DO NOTHING",
            [{"t": self._t, "d": self.dimensions, "vs": [row[-1].to_text() for row in rows]}],
        )
        self._s.defer(_CROSSING, [{**self._over(), "limit": self._settings.exact_limit}])
        self.forget()

    async def remove(self, item_id: UUID) -> None:
        self._s.defer("DELETE FROM labeled_examples WHERE tenant_id = %s AND item_id = %s", [(self._t, item_id)])
        self.forget()

    async def _iterative_scans(self) -> bool:
        """Whether pgvector has iterative index scans (0.8+), asked once per process."""
        if self._settings.iterative_scan is None:
            row = await self._s.fetch_one("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            version = tuple(int(p) for p in str(row["extversion"] if row else "0.0").split(".")[:2])
            self._settings.iterative_scan = version >= (0, 8)
        return self._settings.iterative_scan

    async def _exact_search(self) -> tuple[bool, int]:
        """Whether this tenant is searched exactly (some of its vectors outside the graph, or
        pgvector without iterative scans and few examples), and how many examples it has
        (counted up to one past the limit)."""
        iterative = await self._iterative_scans()
        if self._count is None:  # with iterative scans the size does not matter: not counted (0)
            self._sized(await self._s.fetch_one(_OUTSIDE_ONLY if iterative else _SIZE, self._over()))
        assert self._count is not None
        return self._outside or (not iterative and self._count <= self._settings.exact_limit), self._count

    def _sized(self, row: dict[str, Any] | None) -> None:
        self._count = int(row["n"]) if row else 0
        self._outside = bool(row["outside"]) if row else False

    def _over(self) -> dict[str, Any]:
        return {"t": self._t, "d": self.dimensions, "over": self._settings.exact_limit + 1}

    def _known(self, vector: Sequence[float], k: int) -> list[Neighbour] | None:
        kept = self._kept.get(tuple(vector))
        return kept[1][:k] if kept is not None and kept[0] >= k else None

    async def nearest(self, vector: Sequence[float], k: int) -> list[Neighbour]:
        if len(vector) != self.dimensions:
            self._vector(vector)  # raises
        if k <= 0:
            return []
        known = self._known(vector, k)
        if known is not None:
            return known  # asked before in the unit: no conversion either (a batch asks row after row)
        found = await self._search(self._vector(vector), k)
        self._kept[tuple(vector)] = (k, found)
        return found

    async def nearest_many(self, vectors: Sequence[Sequence[float]], k: int) -> list[list[Neighbour]]:
        queries = [self._vector(v) for v in vectors]
        if k <= 0:
            return [[] for _ in vectors]
        wanted = {tuple(v): q for v, q in zip(vectors, queries, strict=True) if self._known(v, k) is None}
        exact, _ = await self._exact_search()
        if exact and wanted:
            for key, found in zip(wanted, await self._exact_many(list(wanted.values()), k), strict=True):
                self._kept[key] = (k, found)
        return [await self.nearest(v, k) for v in vectors]

    async def _search(self, query: Vector, k: int) -> list[Neighbour]:
        if not await self._iterative_scans() and self._count is None:
            # The tenant's size, whether some of its vectors are outside the graph and, when it is
            # small enough, the exact search: one statement, which counts at most one row past the
            # limit and searches only below it.
            counted = await self._s.fetch(
                _COUNTED_EXACT, {**self._over(), "q": query, "k": k, "limit": self._settings.exact_limit}
            )
            self._sized(counted[0] if counted else None)
            assert self._count is not None
            if self._count <= self._settings.exact_limit:  # no settings to change: no savepoint either
                return _neighbours([r for r in counted if r["item_id"] is not None])
        exact_search, _ = await self._exact_search()
        if exact_search:
            return await self._exact(query, k)
        mine = 0
        if not self._settings.iterative_scan:
            count = await self._s.fetch_one(  # a large tenant: its share of all rows sizes the search
                "SELECT count(*) AS n FROM labeled_examples WHERE tenant_id = %s AND dims = %s",
                (self._t, self.dimensions),
            )
            mine = int(count["n"]) if count else 0
        # The search settings (SET LOCAL below) must not leak into the unit's other queries.
        async with self._s.planner_settings():
            if self._settings.iterative_scan:
                await self._s.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                return await self._indexed(query, k)
            total = await self._s.fetch_one(
                "SELECT reltuples::bigint AS n FROM pg_class WHERE relname = 'labeled_examples'"
            )
            share = mine / max(int(total["n"]) if total else mine, mine, 1)
            ef = min(1000, max(40, int(k / share * 2)))
            await self._s.execute(psycopg.sql.SQL("SET LOCAL hnsw.ef_search = {}").format(psycopg.sql.Literal(ef)))
            found = await self._indexed(query, k)
        return found if len(found) >= min(k, mine) else await self._exact(query, k)

    async def _indexed(self, query: Vector, k: int) -> list[Neighbour]:
        # With row-level security the planner misjudges the tenant's row count and prefers
        # "btree scan + sort"; without sorts it takes the HNSW index, which is the point here
        # (the few rows of the final ORDER BY are still sorted: there is no other way).
        await self._s.execute("SET LOCAL enable_sort = off")
        # The approximate search runs over the tenant's distinct vectors; each brings the rows
        # labeled with it, ranked as the exact search ranks them. The expression and predicate
        # must match the partial HNSW index literally; every vector of the tenant is in it (else
        # the exact search would have run).
        statement = psycopg.sql.SQL(
            "SELECT e.item_id, e.category_id, e.text, 1 - v.distance AS similarity FROM"
            " (SELECT digest, embedding::vector({d}) <=> %(q)s::vector({d}) AS distance FROM labeled_vectors"
            " WHERE tenant_id = %(t)s AND dims = {d} AND indexed ORDER BY embedding::vector({d}) <=> %(q)s::vector({d})"
            " LIMIT %(k)s) v JOIN labeled_examples e ON e.tenant_id = %(t)s AND e.dims = {d} AND e.digest = v.digest"
            " ORDER BY v.distance, e.item_id LIMIT %(k)s"
        ).format(d=psycopg.sql.Literal(self.dimensions))
        rs = await self._s.fetch(statement, {"q": query, "t": self._t, "k": k})
        return _neighbours(rs)

    async def _exact_many(self, queries: Sequence[Vector], k: int) -> list[list[Neighbour]]:
        """:meth:`_exact` of many queries in one statement (each ranked as :meth:`_exact` ranks)."""
        rs = await self._s.fetch(
            _EXACT_MANY, {"d": self.dimensions, "t": self._t, "k": k, "qs": [q.to_text() for q in queries]}
        )
        found: list[list[Neighbour]] = [[] for _ in queries]
        for r in rs:
            found[r["n"] - 1].append(Neighbour(r["item_id"], r["category_id"], r["text"], float(r["similarity"])))
        return found

    async def _exact(self, query: Vector, k: int) -> list[Neighbour]:
        rs = await self._s.fetch(_EXACT + _EXACT_ORDER, {"d": self.dimensions, "q": query, "t": self._t, "k": k})
        return _neighbours(rs)


# The exact ranking of the tenant's examples. Its ORDER BY is ``embedding <=> q`` on the bare
# column, which no HNSW index (built on ``embedding::vector(n)``) matches, so the planner cannot
# answer it approximately; and the rows are ranked as they are read, without a materialized CTE
# (which copied every row into a tuplestore first: ~15x slower for one query, EXPLAIN ANALYZE).
_EXACT = (
    "SELECT item_id, category_id, text, 1 - distance AS similarity FROM (SELECT item_id, category_id, text,"
    " embedding <=> %(q)s AS distance FROM labeled_examples WHERE tenant_id = %(t)s AND dims = %(d)s) mine"
)
_EXACT_ORDER = " ORDER BY distance, item_id LIMIT %(k)s"
# :data:`_EXACT` for many query vectors (``%(qs)s``, as text) in one statement. The array is cast
# as a whole, so each query vector is parsed once: cast in the LATERAL (``queries.v::vector``), it
# was parsed again for every row it was compared with (17x slower for 200 queries, EXPLAIN ANALYZE).
# Each query ranks the tenant's *distinct* vectors (read once per statement, from its rows: a
# person labels the same payee month after month, so there are fewer vectors than rows — 1,123 of
# 2,500 in bench_user_path), then takes the rows of the nearest ones. ``WITH TIES`` keeps every
# vector as near as the k-th (equal distances are common: vectors sharing no feature are all at
# 1), and the rows are ranked by (distance, item) as :data:`_EXACT` ranks them, so the answer is
# the same; the sort above the join is incremental, so only the nearest groups' rows are fetched
# (200 queries over those 2,500 rows: 662 → 291 ms, EXPLAIN ANALYZE). The rows of each near vector
# are a LATERAL subquery kept apart (``OFFSET 0``: not flattened into a join), so its digest is a
# condition of the index scan whatever the statistics: as a join before the table's first ANALYZE
# (right after a tenant's first lessons) the planner scanned the tenant's every row for each near
# vector and filtered them by digest (91 queries over 2,500 rows: 498 ms, 40 ms once analyzed).
_EXACT_MANY = (
    "WITH vectors AS MATERIALIZED (SELECT DISTINCT ON (digest) digest, embedding FROM labeled_examples"
    " WHERE tenant_id = %(t)s AND dims = %(d)s ORDER BY digest)"
    " SELECT queries.n, m.item_id, m.category_id, m.text, 1 - m.distance AS similarity"
    " FROM unnest(%(qs)s::text[]::vector[]) WITH ORDINALITY AS queries(v, n)"
    " CROSS JOIN LATERAL (SELECT e.item_id, e.category_id, e.text, near.distance FROM"
    " (SELECT digest, embedding <=> queries.v AS distance FROM vectors ORDER BY distance"
    " FETCH FIRST %(k)s ROWS WITH TIES) near"
    " CROSS JOIN LATERAL (SELECT item_id, category_id, text FROM labeled_examples WHERE tenant_id = %(t)s"
    " AND dims = %(d)s AND digest = near.digest OFFSET 0) e"
    + _EXACT_ORDER
    + ") m ORDER BY queries.n, m.distance, m.item_id"
)
_BOUNDED_COUNT = "(SELECT 1 FROM labeled_examples WHERE tenant_id = %(t)s AND dims = %(d)s LIMIT %(over)s) AS bounded"
_OUTSIDE = "EXISTS (SELECT 1 FROM labeled_vectors WHERE tenant_id = %(t)s AND dims = %(d)s AND NOT indexed)"
# The tenant's size (up to one past the limit) and whether any of its vectors is outside the graph.
_SIZE = "SELECT (SELECT count(*) FROM " + _BOUNDED_COUNT + ") AS n, " + _OUTSIDE + " AS outside"
_OUTSIDE_ONLY = "SELECT 0 AS n, " + _OUTSIDE + " AS outside"
# A tenant past the limit with vectors outside the graph: they all enter it. Counted only when some
# are outside (a crossed tenant's writes skip the count: CASE evaluates its sub-selects lazily).
_CROSSING = (
    "UPDATE labeled_vectors SET indexed = true WHERE tenant_id = %(t)s AND dims = %(d)s AND NOT indexed AND CASE WHEN "
    + _OUTSIDE
    + " THEN (SELECT count(*) FROM "
    + _BOUNDED_COUNT
    + ") > %(limit)s ELSE false END"
)

# The tenant's size (at most one row past the limit), whether any of its vectors is outside the
# graph and, below the limit, :data:`_EXACT`'s
# ranking: a row per neighbour, each with the count, or one row of the count alone (a LEFT
# JOIN). The search's condition names only the count, so it runs once, before the scan (a
# one-time filter): past the limit nothing is scanned.
_COUNTED_EXACT = (
    "SELECT c.n, c.outside, m.item_id, m.category_id, m.text, 1 - m.distance AS similarity"
    " FROM (SELECT count(*) AS n, " + _OUTSIDE + " AS outside FROM " + _BOUNDED_COUNT + ") c"
    " LEFT JOIN LATERAL (SELECT item_id, category_id, text, embedding <=> %(q)s AS distance"
    " FROM labeled_examples WHERE tenant_id = %(t)s AND dims = %(d)s AND c.n <= %(limit)s" + _EXACT_ORDER + ") m"
    " ON true ORDER BY m.distance, m.item_id"
)


def _neighbours(rs: list[dict[str, Any]]) -> list[Neighbour]:
    return [Neighbour(r["item_id"], r["category_id"], r["text"], float(r["similarity"])) for r in rs]
