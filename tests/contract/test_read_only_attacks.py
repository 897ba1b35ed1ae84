"""Adversarial tests of the read-only units (``uow.reading``) on PostgreSQL: each round trip runs
in its own implicit transaction with the tenant's settings in front, so every way a round trip
could go without them — prepared statements, gathered reads from several tasks, a failed round
trip, a cancelled one, a unit that opens a transaction — must still show one tenant's rows only,
and leave nothing (settings, read-only mode, an open transaction) to the pooled connection's
next user. The neighbour search, which needs ``SET LOCAL`` settings, must work in a reading unit."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.unit_of_work import PostgresUnitOfWork, PostgresUnitOfWorkFactory
from valorize_adapters.postgres.vector_index import VectorSettings
from valorize_core.model.accounts import Account, AccountKind
from valorize_core.model.categories import Category, CategoryKind
from valorize_core.model.money import Money
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.create_transaction import CreateTransaction, NewTransaction
from valorize_core.use_cases.actions.signup import Signup, SignupRequest
from valorize_core.use_cases.queries.suggest_categories import SuggestCategories, SuggestionQuery

_LEFT_BEHIND = (
    "SELECT current_setting('valorize.tenant_id', true) AS tenant, current_setting('valorize.scope', true) AS scope,"
    " current_setting('transaction_read_only') AS read_only, (SELECT count(*) FROM accounts) AS visible"
)


async def _tenant(backend: PostgresBackend, name: str, accounts: int = 1) -> uuid.UUID:
    signed = await Signup(backend.ports)(SignupRequest(name, f"{uuid.uuid4().hex}@example.com", "Ana"))
    tenant = signed.tenant.id
    zero = Money(0, "BRL")
    async with backend.ports.uow(tenant) as uow:
        for i in range(accounts):
            opened = date(2026, 1, 1)
            await uow.accounts.add(
                Account(
                    uuid.uuid4(), tenant, f"{name} {i}", AccountKind.CHECKING, zero, zero, opened, datetime.now(UTC)
                )
            )
        await uow.commit()
    return tenant


def _session(unit: Any) -> Any:
    assert isinstance(unit, PostgresUnitOfWork)
    return unit.session


async def _left_behind(backend: PostgresBackend) -> tuple[str, dict[str, Any]]:
    """What the next user of the (single) pooled connection finds: its transaction status and
    the settings and rows it sees without a tenant of its own."""
    async with backend.pool.connection() as conn:
        status = conn.info.transaction_status.name
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        row = await (await cur.execute(_LEFT_BEHIND)).fetchone()
        assert row is not None
        return status, row


def _clean(left: tuple[str, dict[str, Any]]) -> None:
    status, row = left
    assert status == "IDLE", left
    assert row["tenant"] in ("", None), left
    assert row["scope"] in ("", None), left
    assert row["read_only"] == "off", left
    assert row["visible"] == 0, left


async def _open(database_url: str) -> PostgresBackend:
    return await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=1)


def test_prepared_statements_alternating_tenants_see_only_their_own_rows(database_url: str) -> None:
    """Past psycopg's prepare threshold the accounts read and the settings run as prepared
    statements on the one connection; tenants taking turns must each see their own rows only
    (the plan must not carry the tenant it was first run for)."""

    async def scenario() -> list[tuple[uuid.UUID, set[uuid.UUID], int]]:
        backend = await _open(database_url)
        try:
            a, b = await _tenant(backend, "A", 2), await _tenant(backend, "B", 3)
            seen = []
            for turn in range(12):
                tenant = (a, b)[turn % 2]
                async with backend.ports.uow.reading(tenant) as uow:
                    accounts = await uow.accounts.list()
                    raw = await _session(uow).fetch("SELECT tenant_id FROM accounts")  # RLS alone
                seen.append((tenant, {x.tenant_id for x in accounts} | {r["tenant_id"] for r in raw}, len(raw)))
            async with backend.pool.connection() as conn:
                prepared = await (await conn.execute("SELECT count(*) FROM pg_prepared_statements")).fetchone()
            assert prepared is not None
            assert prepared[0] > 0  # the attack needs prepared statements
            _clean(await _left_behind(backend))
            return seen
        finally:
            await backend.close()

    for tenant, tenants, n in run(scenario()):
        assert tenants == {tenant}
        assert n in (2, 3)


def test_gathered_reads_from_several_tasks_carry_the_tenant(database_url: str) -> None:
    """Reads gathered from several tasks go in one pipeline, behind one copy of the settings:
    each must see the unit's tenant only (``tenants`` has no filter but row-level security)."""

    async def scenario() -> tuple[uuid.UUID, list[list[dict[str, Any]]], tuple[str, dict[str, Any]]]:
        backend = await _open(database_url)
        try:
            a, _ = await _tenant(backend, "A", 2), await _tenant(backend, "B", 2)
            async with backend.ports.uow.reading(a) as uow:
                session = _session(uow)
                reads = [session.fetch("SELECT tenant_id FROM accounts") for _ in range(4)]
                results = await asyncio.gather(*reads, session.fetch("SELECT id AS tenant_id FROM tenants"))
            return a, list(results), await _left_behind(backend)
        finally:
            await backend.close()

    tenant, results, left = run(scenario())
    for rows in results:
        assert rows, results
        assert {r["tenant_id"] for r in rows} == {tenant}
    _clean(left)


@pytest.mark.parametrize("unit", ["reading", "unit of work"])
def test_gathered_reads_in_two_waves_carry_the_tenant(database_url: str, unit: str) -> None:
    """Reads gathered from several tasks where some are issued while the first batch is on the
    wire (a task that awaited something else first): every read answers, with the tenant's rows
    (the later wave waits for the first, in a reading unit as in a unit of work)."""

    async def scenario() -> tuple[uuid.UUID, list[list[dict[str, Any]]] | BaseException]:
        backend = await _open(database_url)
        try:
            a, _ = await _tenant(backend, "A", 2), await _tenant(backend, "B", 2)
            try:
                opened = backend.ports.uow.reading(a) if unit == "reading" else backend.ports.uow(a)
                async with opened as uow:
                    session = _session(uow)

                    async def late() -> list[dict[str, Any]]:
                        await asyncio.sleep(0)
                        await asyncio.sleep(0)
                        rows: list[dict[str, Any]] = await session.fetch("SELECT tenant_id FROM accounts")
                        return rows

                    # The first wave is still on the wire (the server sleeps in it) when the late reads ask.
                    slow = "SELECT tenant_id FROM accounts CROSS JOIN pg_sleep(0.2)"
                    reads = [session.fetch(q) for q in [slow, *["SELECT tenant_id FROM accounts"] * 3]]
                    found: list[list[dict[str, Any]]] | BaseException = list(
                        await asyncio.wait_for(asyncio.gather(*reads, late(), late()), 5)
                    )
            except Exception as exc:
                found = exc
            return a, found
        finally:
            await backend.close()

    tenant, found = run(scenario())
    assert isinstance(found, list), found
    assert all({r["tenant_id"] for r in rows} == {tenant} for rows in found)


def test_a_read_after_a_failed_round_trip_still_carries_the_tenant(database_url: str) -> None:
    """A round trip that fails on the server (division by zero after the settings) ends its
    implicit transaction; the unit's next read must bring the settings again, the unit's tenant
    only (not the empty setting, not a left-over)."""

    async def scenario() -> tuple[uuid.UUID, list[dict[str, Any]], tuple[str, dict[str, Any]]]:
        backend = await _open(database_url)
        try:
            a, _ = await _tenant(backend, "A"), await _tenant(backend, "B")
            async with backend.ports.uow.reading(a) as uow:
                session = _session(uow)
                with pytest.raises(psycopg.errors.DivisionByZero):
                    await session.fetch_together(("SELECT tenant_id FROM accounts", ()), ("SELECT 1 / 0", ()))
                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                    await session.fetch("DELETE FROM accounts RETURNING id")
                after = await session.fetch("SELECT tenant_id FROM accounts")
            return a, after, await _left_behind(backend)
        finally:
            await backend.close()

    tenant, after, left = run(scenario())
    assert [r["tenant_id"] for r in after] == [tenant]
    _clean(left)


def test_a_read_cancelled_between_send_and_receive_leaves_nothing_behind(database_url: str) -> None:
    """A request's task cancelled while its round trip runs on the server (a client gone, a
    timeout): the connection goes back to the pool with no transaction open and no settings,
    and the next tenant's unit on it sees its own rows only."""

    async def scenario() -> tuple[uuid.UUID, list[dict[str, Any]], tuple[str, dict[str, Any]]]:
        backend = await _open(database_url)
        try:
            a, b = await _tenant(backend, "A"), await _tenant(backend, "B")

            async def slow_read() -> None:
                async with backend.ports.uow.reading(a) as uow:
                    await _session(uow).fetch("SELECT tenant_id, pg_sleep(0.5) FROM accounts")

            task = asyncio.ensure_future(slow_read())
            await asyncio.sleep(0.15)  # sent, the server is sleeping in it
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            left = await _left_behind(backend)
            async with backend.ports.uow.reading(b) as uow:
                seen_b = await _session(uow).fetch("SELECT tenant_id FROM accounts")
            return b, seen_b, left
        finally:
            await backend.close()

    b, seen_b, left = run(scenario())
    _clean(left)
    assert [r["tenant_id"] for r in seen_b] == [b]


def test_a_reading_unit_that_begins_leaves_nothing_open(database_url: str) -> None:
    """``begin()`` on a reading unit opens ``BEGIN READ ONLY`` with the settings; reads after it
    see the tenant, a failed statement in it does not leave the connection INERROR, and
    neither the transaction nor its settings outlive the unit."""

    async def scenario() -> tuple[uuid.UUID, list[Any], list[tuple[str, dict[str, Any]]]]:
        backend = await _open(database_url)
        try:
            a, _ = await _tenant(backend, "A"), await _tenant(backend, "B")
            seen: list[Any] = []
            async with backend.ports.uow.reading(a) as uow:
                await _session(uow).begin()
                seen.append(await _session(uow).fetch("SELECT tenant_id FROM accounts"))
            lefts = [await _left_behind(backend)]
            async with backend.ports.uow.reading(a) as uow:
                await _session(uow).begin()
                with pytest.raises(psycopg.errors.DivisionByZero):
                    await _session(uow).fetch("SELECT 1 / 0")
            lefts.append(await _left_behind(backend))
            async with backend.ports.uow.reading(a) as uow:
                seen.append(await _session(uow).fetch("SELECT tenant_id FROM accounts"))
                try:
                    async with _session(uow).planner_settings():
                        seen.append(await _session(uow).fetch("SELECT tenant_id FROM accounts"))
                        raise ZeroDivisionError  # left by an exception: the savepoint rolls back
                except ZeroDivisionError:
                    pass
            lefts.append(await _left_behind(backend))
            return a, seen, lefts
        finally:
            await backend.close()

    tenant, seen, lefts = run(scenario())
    assert all([r["tenant_id"] for r in rows] == [tenant] for rows in seen), seen
    for left in lefts:
        _clean(left)


def test_no_tenant_setting_shows_no_tenant_row_on_any_row_secured_table(database_url: str) -> None:
    """The empty setting (what a round trip without the settings would run with) is "no rows",
    never an error and never every tenant's rows, on every table under row-level security
    (shared exchange rates, ``tenant_id IS NULL``, excepted: every tenant reads those)."""

    async def scenario() -> dict[str, int]:
        backend = await _open(database_url)
        try:
            await _tenant(backend, "A")
            async with backend.pool.connection() as conn:
                tables = [
                    str(r[0])
                    for r in await (
                        await conn.execute(
                            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                            " WHERE c.relrowsecurity AND n.nspname = current_schema() ORDER BY 1"
                        )
                    ).fetchall()
                ]
                counts: dict[str, int] = {}
                for table in tables:
                    column = "id" if table == "tenants" else "tenant_id"
                    query = psycopg.sql.SQL("SELECT count(*) FROM {} WHERE {} IS NOT NULL").format(
                        psycopg.sql.Identifier(table), psycopg.sql.Identifier(column)
                    )
                    row = await (await conn.execute(query)).fetchone()
                    assert row is not None
                    counts[table] = int(row[0])
            return counts
        finally:
            await backend.close()

    counts = run(scenario())
    assert {"accounts", "transactions", "tenants", "users", "memberships"} <= set(counts)
    assert {t: n for t, n in counts.items() if n} == {}


def test_a_reading_unit_searches_the_neighbours_of_a_large_tenant(database_url: str) -> None:
    """A tenant with more examples than the exact search takes (``exact_limit``; with pgvector
    0.8+ every tenant) is searched through the HNSW index with ``SET LOCAL`` settings inside
    :meth:`Session.planner_settings`. A query's reading unit (category suggestions) must find the
    same neighbours as a unit of work does, not fail."""

    async def scenario() -> tuple[list[Any], list[Any] | BaseException]:
        backend = await _open(database_url)
        try:
            tenant = await _tenant(backend, "A")
            rng = random.Random(7)
            vectors = [[rng.uniform(-1, 1) for _ in range(256)] for _ in range(6)]
            factory = PostgresUnitOfWorkFactory(backend.pool, VectorSettings(exact_limit=2))
            async with factory(tenant) as uow:
                category = uuid.uuid4()
                await uow.categories.add(Category(category, tenant, "Food", CategoryKind.EXPENSE))
                await uow.examples.upsert_many(
                    [(uuid.uuid4(), v, category, f"line {i}") for i, v in enumerate(vectors)]
                )
                await uow.commit()
            async with factory(tenant) as uow:
                in_unit = [n.item_id for n in await uow.examples.nearest(vectors[0], 3)]
            try:
                async with factory.reading(tenant) as reading:
                    in_reading: list[Any] | BaseException = [
                        n.item_id for n in await reading.examples.nearest(vectors[0], 3)
                    ]
            except Exception as exc:
                in_reading = exc
            _clean(await _left_behind(backend))
            return in_unit, in_reading
        finally:
            await backend.close()

    in_unit, in_reading = run(scenario())
    assert len(in_unit) == 3
    assert in_reading == in_unit


def test_category_suggestions_for_a_large_tenant(database_url: str) -> None:
    """The user's view of the neighbour search in a reading unit: ``GET
    /api/transactions/{id}/suggestions`` (:class:`SuggestCategories`) for a tenant past the exact
    search's limit answers the neighbours' category, as the same search in a unit of work does."""

    async def scenario() -> tuple[uuid.UUID, list[Any] | BaseException]:
        backend = await _open(database_url)
        try:
            tenant = await _tenant(backend, "A")
            category = uuid.uuid4()
            texts = [f"Padaria Central {i}" for i in range(4)]
            embedder = backend.ports.embedder
            assert embedder is not None
            vectors = backend.ports.uow.vectors  # type: ignore[attr-defined]
            vectors.exact_limit = 1  # the tenant goes past it (its vectors into the graph): the HNSW search
            async with backend.ports.uow(tenant) as uow:
                account = (await uow.accounts.list())[0].id
                await uow.categories.add(Category(category, tenant, "Food", CategoryKind.EXPENSE))
                await uow.examples.upsert_many(
                    [(uuid.uuid4(), v, category, t) for t, v in zip(texts, embedder.embed(texts), strict=True)]
                )
                await uow.commit()
            tx = await CreateTransaction(backend.ports)(
                NewTransaction(tenant, account, date(2026, 2, 1), "Padaria Central", "-12.00")
            )
            try:  # the HNSW search, with its SET LOCALs
                found: list[Any] | BaseException = [
                    s.category_id for s in await SuggestCategories(backend.ports)(SuggestionQuery(tenant, tx.id))
                ]
            except Exception as exc:
                found = exc
            finally:
                vectors.exact_limit = VectorSettings().exact_limit
            return category, found
        finally:
            await backend.close()

    category, found = run(scenario())
    assert isinstance(found, list), found
    assert category in found


@pytest.mark.parametrize("abort", ["error", "cancel"])
def test_a_statement_prepared_in_an_aborted_round_trip_still_runs(database_url: str, abort: str) -> None:
    """A read reaching psycopg's prepare threshold in a round trip that an earlier statement
    aborts — a server error, or a cancelled task (psycopg cancels the running statement) — has
    its ``Parse`` skipped with the rest of the segment: the connection's later runs of that read
    must still run (not ask for a prepared statement the server never made), for the tenant."""

    async def scenario() -> tuple[list[list[dict[str, Any]]], tuple[str, dict[str, Any]]]:
        backend = await _open(database_url)
        try:
            a, b = await _tenant(backend, "A"), await _tenant(backend, "B")
            query = "SELECT tenant_id, %s::int AS run FROM accounts"
            seen: list[list[dict[str, Any]]] = []
            for run_ in range(12):
                tenant = (a, b)[run_ % 2]
                async with backend.ports.uow.reading(tenant) as uow:
                    session = _session(uow)
                    if run_ in (4, 5, 6):  # around the threshold: the read behind a statement that fails
                        if abort == "error":
                            with pytest.raises(psycopg.errors.DivisionByZero):
                                await session.fetch_together(("SELECT 1 / 0", ()), (query, (run_,)))
                        else:
                            with pytest.raises(TimeoutError):
                                await asyncio.wait_for(
                                    session.fetch_together(("SELECT pg_sleep(0.5)", ()), (query, (run_,))), 0.15
                                )
                    else:
                        rows = await session.fetch(query, (run_,))
                        assert {r["tenant_id"] for r in rows} == {tenant}
                        seen.append(rows)
            return seen, await _left_behind(backend)
        finally:
            await backend.close()

    seen, left = run(scenario())
    assert len(seen) == 9
    assert all(len(rows) == 1 for rows in seen)
    _clean(left)


def test_a_read_after_a_client_side_failure_mid_batch_carries_the_tenant(database_url: str) -> None:
    """A statement psycopg cannot send (a parameter it cannot adapt) fails while the batch is
    being queued, after the settings and an earlier read: what was queued still goes (with its
    ``Sync``) or not at all, the connection is usable, and the next read sees the tenant only."""

    async def scenario() -> tuple[uuid.UUID, list[list[dict[str, Any]]], tuple[str, dict[str, Any]]]:
        backend = await _open(database_url)
        try:
            a, _ = await _tenant(backend, "A"), await _tenant(backend, "B")
            seen: list[list[dict[str, Any]]] = []
            for _ in range(8):  # past the prepare threshold of the read queued before the failure
                async with backend.ports.uow.reading(a) as uow:
                    session = _session(uow)
                    with pytest.raises(psycopg.ProgrammingError):
                        await session.fetch_together(
                            ("SELECT tenant_id FROM accounts", ()), ("SELECT %s AS x", (object(),))
                        )
                    seen.append(await session.fetch("SELECT tenant_id FROM accounts"))
            return a, seen, await _left_behind(backend)
        finally:
            await backend.close()

    tenant, seen, left = run(scenario())
    assert all([r["tenant_id"] for r in rows] == [tenant] for rows in seen), seen
    _clean(left)
