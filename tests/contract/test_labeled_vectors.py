"""The neighbour index on PostgreSQL: distinct vectors in the HNSW graph, the exact search's plan."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import replace
from typing import Any

import psycopg
from pg_support import tenant_rows
from pgvector import Vector

from valorize_adapters.embedders.hashing import HashingEmbedder
from valorize_adapters.postgres import PostgresBackend, PostgresUnitOfWorkFactory, VectorSettings
from valorize_adapters.postgres.session import Session
from valorize_adapters.postgres.vector_index import _EXACT, _EXACT_MANY, _EXACT_ORDER
from valorize_core.testing.contracts import PortsContract
from valorize_core.testing.loop import run


def _unit(i: int) -> list[float]:
    return [1.0 if d == i else 0.0 for d in range(256)]


class TestDistinctVectors(PortsContract):
    def test_a_vector_the_tenant_has_indexed_adds_no_graph_entry(self, pg_backend: PostgresBackend) -> None:
        ports = pg_backend.ports
        t, other = self.new_tenant(ports), self.new_tenant(ports)
        category = self.new_id()
        for round_ in range(2):  # the same three vectors, ten rows each, in two units
            batch = [(self.new_id(), _unit(i % 3), category, f"payee {i}") for i in range(15)]
            self.write(ports, t, lambda uow, batch=batch: uow.examples.upsert_many(batch))
            self.write(ports, t, lambda uow, round_=round_: uow.examples.upsert(self.new_id(), _unit(9), category, "x"))
        self.write(ports, other, lambda uow: uow.examples.upsert(self.new_id(), _unit(0), category, "theirs"))

        def vectors(tenant: uuid.UUID) -> int:
            rows = run(tenant_rows(pg_backend, tenant, "SELECT count(*) AS n FROM labeled_vectors", ()))
            return int(rows[0]["n"])

        assert (vectors(t), vectors(other)) == (4, 1)

    def test_the_approximate_search_ranks_rows_as_the_exact_one(self, pg_backend: PostgresBackend) -> None:
        """Rows sharing a vector come back one by one, in item order, as the exact search has them."""
        ports = pg_backend.ports
        forced = replace(pg_backend.ports.uow.vectors, exact_limit=0)  # type: ignore[attr-defined]
        hnsw = replace(ports, uow=PostgresUnitOfWorkFactory(pg_backend.pool, forced))
        t = self.new_tenant(ports)
        category = self.new_id()
        rows = [(self.new_id(), _unit(i % 2), category, f"payee {i}") for i in range(9)]
        self.write(hnsw, t, lambda uow: uow.examples.upsert_many(rows))  # past its limit: into the graph
        query = [0.9 if d == 0 else (0.1 if d == 1 else 0.0) for d in range(256)]
        exact = self.read(ports, t, lambda uow: uow.examples.nearest(query, 6))
        approximate = self.read(hnsw, t, lambda uow: uow.examples.nearest(query, 6))
        assert [n.item_id for n in approximate] == [n.item_id for n in exact]
        assert [n.item_id for n in exact[:5]] == sorted(item for item, vector, _, _ in rows if vector[0] == 1.0)

    def test_units_adding_the_same_new_vectors_in_opposite_orders_both_commit(
        self, pg_backend: PostgresBackend
    ) -> None:
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        category = self.new_id()
        vectors = [_unit(i) for i in range(20, 60)]

        async def add(order: list[list[float]]) -> None:
            async with ports.uow(t) as uow:
                await uow.examples.upsert_many([(self.new_id(), v, category, "same") for v in order])
                await uow.session.begin()  # type: ignore[attr-defined]  # the inserts are on the server
                await asyncio.sleep(0.05)  # the other unit inserts its rows meanwhile
                await uow.commit()

        async def hold() -> None:
            async with ports.uow(t) as uow:
                await uow.examples.nearest(vectors[0], 1)
                await asyncio.sleep(0.2)

        async def both() -> None:
            await asyncio.gather(hold(), hold())  # two open connections: the units below start together
            await asyncio.gather(add(vectors), add(vectors[::-1]))

        run(both())
        rows = run(tenant_rows(pg_backend, t, "SELECT count(*) AS n FROM labeled_vectors", ()))
        examples = run(tenant_rows(pg_backend, t, "SELECT count(*) AS n FROM labeled_examples", ()))
        assert (rows[0]["n"], examples[0]["n"]) == (40, 80)


def _flags(backend: PostgresBackend, tenant: uuid.UUID) -> list[bool]:
    rows = run(tenant_rows(backend, tenant, "SELECT indexed FROM labeled_vectors ORDER BY digest", ()))
    return [bool(r["indexed"]) for r in rows]


class TestGraphPastTheExactLimit(PortsContract):
    """Only tenants past ``exact_limit`` have their vectors in the HNSW graph (migration 0032)."""

    def _limited(self, backend: PostgresBackend, limit: int) -> Any:
        settings = replace(backend.ports.uow.vectors, exact_limit=limit)  # type: ignore[attr-defined]
        return replace(backend.ports, uow=PostgresUnitOfWorkFactory(backend.pool, settings))

    def test_the_write_crossing_the_limit_puts_every_vector_in_the_graph(self, pg_backend: PostgresBackend) -> None:
        """Then the index finds exactly the neighbours the exact search finds (k below the
        tenant's size: a vector left out of the graph would not be made up for by the fallback)."""
        small = self._limited(pg_backend, 5)
        t, other = self.new_tenant(pg_backend.ports), self.new_tenant(pg_backend.ports)
        category = self.new_id()
        rng = random.Random(3)
        vectors = [[rng.uniform(-1, 1) for _ in range(256)] for _ in range(12)]
        first = [(self.new_id(), v, category, f"payee {i}") for i, v in enumerate(vectors[:5])]
        self.write(small, t, lambda uow: uow.examples.upsert_many(first))
        self.write(small, other, lambda uow: uow.examples.upsert_many(first[:3]))
        assert _flags(pg_backend, t) == [False] * 5  # at the limit: searched exactly, no graph insert

        # The crossing write and a search after it in its unit: the search takes the graph, which
        # has every row of the tenant already (the flags are in the crossing write's transaction).
        second = [(self.new_id(), v, category, f"payee {i}") for i, v in enumerate(vectors[5:8], 5)]

        async def cross(uow: Any) -> list[uuid.UUID]:
            await uow.examples.upsert_many(second)
            return [n.item_id for n in await uow.examples.nearest(vectors[0], 8)]

        in_unit = self.write(small, t, cross)
        assert _flags(pg_backend, t) == [True] * 8
        assert sorted(in_unit) == sorted(item for item, _, _, _ in first + second)
        assert _flags(pg_backend, other) == [False] * 3
        self.write(small, t, lambda uow: uow.examples.upsert(self.new_id(), vectors[8], category, "after"))
        assert _flags(pg_backend, t) == [True] * 9  # a crossed tenant's new vector goes in at once

        exact = self._limited(pg_backend, 1000)
        for query in vectors[:9]:
            near = [q + 0.3 * rng.uniform(-1, 1) for q in query]
            by_index = self.read(small, t, lambda uow, near=near: uow.examples.nearest(near, 4))
            by_rows = self.read(exact, t, lambda uow, near=near: uow.examples.nearest(near, 4))
            assert [n.item_id for n in by_index] == [n.item_id for n in by_rows]
            assert [round(n.similarity, 6) for n in by_index] == [round(n.similarity, 6) for n in by_rows]

    def test_a_tenant_with_a_vector_outside_the_graph_is_searched_exactly(self, pg_backend: PostgresBackend) -> None:
        """Two units crossing together can leave a vector out (each counts without the other's
        rows): its tenant is searched exactly until its next write puts the vector in."""
        small = self._limited(pg_backend, 2)
        t = self.new_tenant(pg_backend.ports)
        category = self.new_id()
        rows = [(self.new_id(), _unit(i), category, f"payee {i}") for i in range(6)]
        self.write(small, t, lambda uow: uow.examples.upsert_many(rows))
        missing = Vector(_unit(0))

        async def leave_out() -> None:  # as the race would: the nearest vector outside the graph
            async with pg_backend.pool.connection() as conn:
                session = Session(conn, t)
                await session.execute(
                    "UPDATE labeled_vectors SET indexed = false WHERE digest = sha256(vector_send(%s::vector))",
                    (missing,),
                )
                await session.commit()

        run(leave_out())
        query = [0.9 if d == 0 else (0.1 if d < 6 else 0.0) for d in range(256)]
        found = self.read(small, t, lambda uow: uow.examples.nearest(query, 3))
        assert found[0].item_id == rows[0][0]
        self.write(small, t, lambda uow: uow.examples.upsert(self.new_id(), _unit(7), category, "next"))
        assert _flags(pg_backend, t) == [True] * 7

    def test_with_iterative_scans_a_tenant_outside_the_graph_is_searched_exactly(
        self, pg_backend: PostgresBackend
    ) -> None:
        """pgvector 0.8+ (taken as detected here) no longer sends every tenant to the graph: a
        small tenant, whose vectors are not in it, is ranked exactly."""
        settings = replace(pg_backend.ports.uow.vectors, iterative_scan=True)  # type: ignore[attr-defined]
        iterative = replace(pg_backend.ports, uow=PostgresUnitOfWorkFactory(pg_backend.pool, settings))
        t = self.new_tenant(pg_backend.ports)
        rows = [(self.new_id(), _unit(i), self.new_id(), f"payee {i}") for i in range(4)]
        self.write(iterative, t, lambda uow: uow.examples.upsert_many(rows))
        assert _flags(pg_backend, t) == [False] * 4
        found = self.read(iterative, t, lambda uow: uow.examples.nearest(_unit(2), 2))
        assert found[0].text == "payee 2"
        assert len(found) == 2

    def test_the_approximate_search_reads_only_the_graphs_vectors(self, pg_backend: PostgresBackend) -> None:
        """Its statement carries the partial index's predicate (else the planner could not use it)."""
        small = self._limited(pg_backend, 1)
        t = self.new_tenant(pg_backend.ports)
        rows = [(self.new_id(), _unit(i), self.new_id(), f"payee {i}") for i in range(3)]
        self.write(small, t, lambda uow: uow.examples.upsert_many(rows))
        indexes = run(
            tenant_rows(pg_backend, t, "SELECT indexdef FROM pg_indexes WHERE indexname = 'labeled_vectors_hnsw_256'")
        )
        assert indexes[0]["indexdef"].endswith("WHERE ((dims = 256) AND indexed)")
        assert [n.text for n in self.read(small, t, lambda uow: uow.examples.nearest(_unit(1), 1))] == ["payee 1"]


class TestOtherDimensions(PortsContract):
    def test_a_backend_with_a_smaller_embedder_opens_and_searches_its_graph(self, database_url: str) -> None:
        """Its HNSW index is created by the schema's owner, not by the pool's ``valorize_app``."""

        backend = run(PostgresBackend.open(database_url, embedder=HashingEmbedder(64), max_size=2))
        try:
            t = self.new_tenant(backend.ports)
            forced = PostgresUnitOfWorkFactory(backend.pool, VectorSettings(64, exact_limit=0))

            async def go() -> list[str]:
                async with forced(t) as uow:
                    rows = [(self.new_id(), [1.0 if d == i else 0.0 for d in range(64)], self.new_id(), f"p{i}")
                            for i in range(3)]  # fmt: skip
                    await uow.examples.upsert_many(rows)
                    await uow.commit()
                async with forced(t) as uow:
                    return [n.text for n in await uow.examples.nearest([1.0, 0.5] + [0.0] * 62, 2)]

            found = run(go())
        finally:
            run(backend.close())
        assert found == ["p0", "p1"]


class TestExactSearchPlan(PortsContract):
    def test_the_exact_search_ranks_rows_as_it_reads_them(self, pg_backend: PostgresBackend) -> None:
        """No materialized copy of the tenant's rows (it cost ~15x for one query) and no HNSW
        index (approximate) in the plan."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        self.write(ports, t, lambda uow: uow.examples.upsert(self.new_id(), _unit(0), self.new_id(), "x"))

        async def plan() -> Any:
            async with ports.uow(t) as uow:
                params = {"d": 256, "t": t, "k": 5, "q": Vector(_unit(1))}
                return await uow.session.fetch("EXPLAIN (FORMAT JSON) " + _EXACT + _EXACT_ORDER, params)  # type: ignore[attr-defined]

        text = json.dumps(run(plan()))
        assert "CTE Scan" not in text
        assert "hnsw" not in text

    def test_the_batch_search_parses_each_query_vector_once(self, pg_backend: PostgresBackend) -> None:
        """Not once per row compared: the per-row expression takes the parsed vector."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        self.write(ports, t, lambda uow: uow.examples.upsert(self.new_id(), _unit(0), self.new_id(), "x"))

        async def plan() -> Any:
            async with ports.uow(t) as uow:
                params = {"d": 256, "t": t, "k": 5, "qs": [Vector(_unit(i)).to_text() for i in range(3)]}
                return await uow.session.fetch("EXPLAIN (VERBOSE, FORMAT JSON) " + _EXACT_MANY, params)  # type: ignore[attr-defined]

        text = json.dumps(run(plan()))
        assert "(vectors.embedding <=> queries.v)" in text
        assert "queries.v)::vector" not in text

    def test_the_batch_search_reads_rows_by_digest_without_statistics(
        self, pg_backend: PostgresBackend, database_url: str
    ) -> None:
        """Before labeled_examples' first ANALYZE (a tenant's first lessons, then an import or a
        page of suggestions at once) the rows of each near vector are still found through the
        digest in the index, not by reading all the tenant's rows and filtering them."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        rows = [(self.new_id(), _unit(i % 40), self.new_id(), f"p{i}") for i in range(400)]
        self.write(ports, t, lambda uow: uow.examples.upsert_many(rows))
        params = {"d": 256, "t": t, "k": 24, "qs": [Vector(_unit(i)).to_text() for i in range(50)]}
        with psycopg.connect(database_url) as conn:
            # As on a table never analyzed: no column statistics, an unknown row count.
            conn.execute("DELETE FROM pg_statistic WHERE starelid = 'labeled_examples'::regclass")
            conn.execute("UPDATE pg_class SET reltuples = -1 WHERE oid = 'labeled_examples'::regclass")
            conn.execute("SET LOCAL ROLE valorize_app")
            conn.execute("SELECT set_config('valorize.tenant_id', %s, true)", (str(t),))
            sql = psycopg.ClientCursor(conn).mogrify(_EXACT_MANY, params)
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql))  # type: ignore[operator]
            conn.rollback()
        assert "Join Filter" not in plan, plan
        assert "digest = vectors.digest" in plan or "digest = near.digest" in plan, plan

    def test_the_batch_search_answers_as_each_search_alone(self, pg_backend: PostgresBackend) -> None:
        """The batch ranks the tenant's distinct vectors, then their rows: the same neighbours, in
        the same order, as the search of one vector over the rows — with many rows per vector (more
        than k), vectors at equal distances (sharing no feature with the query: all at 1) and a removed row."""
        ports = pg_backend.ports
        t = self.new_tenant(ports)
        rng = random.Random(5)
        categories = [self.new_id() for _ in range(3)]
        vectors = [_unit(i) for i in range(6)] + [[0.0] * 100 + [rng.random() for _ in range(156)] for _ in range(6)]
        rows = [(self.new_id(), rng.choice(vectors), rng.choice(categories), f"p{i}") for i in range(90)]
        rows += [(self.new_id(), vectors[0], categories[0], f"same {i}") for i in range(12)]
        self.write(ports, t, lambda uow: uow.examples.upsert_many(rows))
        self.write(ports, t, lambda uow: uow.examples.remove(rows[-1][0]))
        queries = [*vectors, _unit(7), _unit(255), [1.0 if d in (0, 1) else 0.0 for d in range(256)]]
        for k in (1, 5, 24):
            batch = self.read(ports, t, lambda uow, k=k: uow.examples.nearest_many(queries, k))
            alone = [self.read(ports, t, lambda uow, q=q, k=k: uow.examples.nearest(q, k)) for q in queries]
            assert batch == alone
            assert all(len(found) == k for found in batch)
