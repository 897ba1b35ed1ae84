"""A query's read-only unit on PostgreSQL sends no ``BEGIN`` and no ``COMMIT``: each round trip
runs in the implicit transaction its pipeline's ``Sync`` ends, with the tenant's settings in
front (docs/postgres.md, "Read-only units"). Row-level security must still isolate tenants on
that path, the settings must not outlive the round trip on the pooled connection, and nothing
may be written through it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from valorize_adapters.memory import MemoryUnitOfWorkFactory
from valorize_adapters.memory.store import MemoryStore
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.unit_of_work import PostgresUnitOfWork
from valorize_core.model.accounts import Account, AccountKind
from valorize_core.model.money import Money
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.signup import Signup, SignupRequest


async def _tenant_with_account(backend: PostgresBackend, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    signed = await Signup(backend.ports)(SignupRequest(name, f"{uuid.uuid4().hex}@example.com", "Ana"))
    tenant = signed.tenant.id
    zero = Money(0, "BRL")
    account = Account(uuid.uuid4(), tenant, name, AccountKind.CHECKING, zero, zero, date(2026, 1, 1), datetime.now(UTC))
    async with backend.ports.uow(tenant) as uow:
        await uow.accounts.add(account)
        await uow.commit()
    return tenant, account.id


async def _prepared(conn: psycopg.AsyncConnection[Any]) -> list[str]:
    return [str(r[0]) for r in await (await conn.execute("SELECT statement FROM pg_prepared_statements")).fetchall()]


def _session_of(unit: Any) -> Any:
    assert isinstance(unit, PostgresUnitOfWork)
    return unit.session


def test_row_level_security_isolates_tenants_on_the_read_only_path(database_url: str) -> None:
    """Statements with no tenant filter of their own: only row-level security keeps tenant B's
    rows out, in the unit's first round trip and in a later one (each has its own transaction,
    so each must carry the setting)."""

    async def scenario() -> tuple[list[Any], list[Any], list[Any], tuple[Any, ...] | None]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=1)
        try:
            a, account_a = await _tenant_with_account(backend, "Casa A")
            b, _ = await _tenant_with_account(backend, "Casa B")
            async with backend.ports.uow.reading(a) as unit:
                session = _session_of(unit)
                first = await session.fetch("SELECT id, tenant_id FROM accounts")
                second = await session.fetch("SELECT id, tenant_id FROM accounts")
                tenants = await session.fetch("SELECT id FROM tenants")
            # The next use of the pooled connection (the pool holds one) sees no tenant at all.
            async with backend.pool.connection() as conn:
                leaked = await (
                    await conn.execute(
                        "SELECT current_setting('valorize.tenant_id', true), current_setting('transaction_read_only'),"
                        " (SELECT count(*) FROM accounts)"
                    )
                ).fetchone()
            assert b != a
            return first, second, [t["id"] for t in tenants] + [account_a, a], leaked
        finally:
            await backend.close()

    first, second, (only_tenant, account_a, a), leaked = run(scenario())
    assert [(r["id"], r["tenant_id"]) for r in first] == [(account_a, a)]
    assert second == first
    assert only_tenant == a
    assert leaked is not None
    assert leaked[0] in ("", None), leaked  # the tenant setting ended with the round trip's Sync
    assert leaked[1] == "off", leaked  # and so did the read-only mode
    assert leaked[2] == 0, leaked  # with no tenant set, row-level security shows nothing


def test_the_setting_does_not_leak_into_the_next_read_only_unit(database_url: str) -> None:
    """Two tenants' read-only units in turn on the one pooled connection: the second sees only
    its own rows, and a unit of a tenant with no rows sees none (not the previous tenant's)."""

    async def scenario() -> tuple[list[Any], list[Any], list[Any], uuid.UUID, uuid.UUID]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=1)
        try:
            a, _ = await _tenant_with_account(backend, "Casa A")
            b, _ = await _tenant_with_account(backend, "Casa B")
            async with backend.ports.uow.reading(a) as unit:
                seen_a = await _session_of(unit).fetch("SELECT tenant_id FROM accounts")
            async with backend.ports.uow.reading(b) as unit:
                seen_b = await _session_of(unit).fetch("SELECT tenant_id FROM accounts")
            async with backend.ports.uow.reading(uuid.uuid4()) as unit:
                seen_nobody = await _session_of(unit).fetch("SELECT tenant_id FROM accounts")
            return seen_a, seen_b, seen_nobody, a, b
        finally:
            await backend.close()

    seen_a, seen_b, seen_nobody, a, b = run(scenario())
    assert {r["tenant_id"] for r in seen_a} == {a}
    assert {r["tenant_id"] for r in seen_b} == {b}
    assert seen_nobody == []


def test_a_read_only_unit_sends_no_begin_and_no_commit_and_keeps_prepared_statements(database_url: str) -> None:
    async def scenario() -> tuple[str, list[str], bool]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=1)
        try:
            tenant, account = await _tenant_with_account(backend, "Casa")
            for _ in range(8):  # past psycopg's threshold (5 runs) for preparing a statement
                async with backend.ports.uow.reading(tenant) as uow:
                    assert [a.id for a in await uow.accounts.list()] == [account]
            async with backend.pool.connection() as conn:
                status = conn.info.transaction_status.name
                before = await _prepared(conn)
            async with backend.ports.uow.reading(tenant) as uow:
                await uow.accounts.list()
                in_unit = _session_of(uow).conn.info.transaction_status
            async with backend.pool.connection() as conn:
                after = await _prepared(conn)
            return status, [*before, "--", *after], in_unit == psycopg.pq.TransactionStatus.IDLE
        finally:
            await backend.close()

    status, statements, idle_between_reads = run(scenario())
    before, after = statements[: statements.index("--")], statements[statements.index("--") + 1 :]
    assert status == "IDLE"
    assert idle_between_reads  # no transaction left open after the round trip: no COMMIT owed
    assert any("FROM accounts WHERE tenant_id" in s for s in before), before
    assert any("'transaction_read_only'" in s for s in before), before
    assert set(after) >= set(before)


def test_nothing_is_written_through_a_read_only_unit(database_url: str) -> None:
    async def scenario() -> list[Any]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=1)
        try:
            tenant, _ = await _tenant_with_account(backend, "Casa")
            zero = Money(0, "BRL")
            opened = date(2026, 1, 1)
            other = Account(uuid.uuid4(), tenant, "Other", AccountKind.CHECKING, zero, zero, opened, datetime.now(UTC))
            async with backend.ports.uow.reading(tenant) as uow:
                with pytest.raises(RuntimeError, match="read-only"):
                    await uow.accounts.add(other)  # refused before anything is sent
                with pytest.raises(RuntimeError, match="read-only"):
                    await uow.commit()  # type: ignore[attr-defined]
                # A write sent as a read reaches the server, which refuses it (read-only mode).
                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                    await _session_of(uow).fetch("UPDATE accounts SET name = 'Sneaky' RETURNING id")
                # and the unit reads on after the refused statement
                still = await uow.accounts.list()
            assert [a.name for a in still] == ["Casa"]
            async with backend.ports.uow.reading(tenant) as uow:
                return await uow.accounts.list()
        finally:
            await backend.close()

    assert [a.name for a in run(scenario())] == ["Casa"]


def test_a_read_only_unit_may_open_a_transaction_for_planner_settings(database_url: str) -> None:
    """The neighbour search's ``SET LOCAL`` needs a transaction: the read-only unit opens a
    ``BEGIN READ ONLY`` transaction for it and ends it without a ``ROLLBACK``."""

    async def scenario() -> tuple[list[Any], str]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=1)
        try:
            tenant, account = await _tenant_with_account(backend, "Casa")
            async with backend.ports.uow.reading(tenant) as uow:
                session = _session_of(uow)
                async with session.planner_settings():
                    await session.fetch("SELECT set_config('enable_seqscan', 'off', true)")
                    found = await session.fetch("SELECT id FROM accounts")
            async with backend.pool.connection() as conn:
                row = await (await conn.execute("SELECT current_setting('enable_seqscan')")).fetchone()
            assert row is not None
            return [r["id"] for r in found] + [account], str(row[0])
        finally:
            await backend.close()

    (found, account), seqscan = run(scenario())
    assert found == account
    assert seqscan == "on"


def test_planner_settings_let_a_read_only_unit_set_local_and_nothing_else(database_url: str) -> None:
    """Inside ``planner_settings`` a read-only unit runs ``SET LOCAL`` (as the HNSW search does,
    plain and composed) and still refuses a write before sending it; the block's transaction ends
    with ``COMMIT`` (the connection's prepared statements kept, the settings gone) and the unit's
    next read runs in its own implicit transaction again."""

    async def scenario() -> dict[str, Any]:
        backend = await PostgresBackend.open(database_url, run_migrations=False, min_size=1, max_size=1)
        try:
            tenant, account = await _tenant_with_account(backend, "Casa")
            for _ in range(8):  # past psycopg's threshold: the accounts read is prepared
                async with backend.ports.uow.reading(tenant) as uow:
                    await uow.accounts.list()
            async with backend.pool.connection() as conn:
                before = await _prepared(conn)
            async with backend.ports.uow.reading(tenant) as uow:
                session = _session_of(uow)
                async with session.planner_settings():
                    await session.execute("SET LOCAL enable_seqscan = off")
                    await session.execute(psycopg.sql.SQL("SET LOCAL work_mem = {}").format(psycopg.sql.Literal("5MB")))
                    with pytest.raises(RuntimeError, match="read-only"):
                        await session.execute("DELETE FROM accounts")
                    with pytest.raises(RuntimeError, match="read-only"):
                        await session.execute("SET enable_seqscan = off")  # a session-wide setting
                    inside = await session.fetch(
                        "SELECT current_setting('enable_seqscan') AS seqscan, current_setting('work_mem') AS mem,"
                        " current_setting('transaction_read_only') AS ro, (SELECT count(*) FROM accounts) AS n"
                    )
                after_block = session.conn.info.transaction_status.name
                listed = [a.id for a in await uow.accounts.list()]
                after_read = session.conn.info.transaction_status.name
            async with backend.pool.connection() as conn:
                after = await _prepared(conn)
                left = await (await conn.execute("SELECT current_setting('enable_seqscan')")).fetchone()
            return {
                "inside": inside[0],
                "status": (after_block, after_read),
                "listed": listed == [account],
                "kept": set(after) >= set(before) and any("FROM accounts WHERE tenant_id" in x for x in before),
                "left": left[0] if left else None,
            }
        finally:
            await backend.close()

    found = run(scenario())
    assert found["inside"] == {"seqscan": "off", "mem": "5MB", "ro": "on", "n": 1}
    assert found["status"] == ("IDLE", "IDLE")
    assert found["listed"]
    assert found["kept"]
    assert found["left"] == "on"


def test_a_memory_read_only_unit_refuses_to_commit() -> None:
    async def scenario() -> None:
        factory = MemoryUnitOfWorkFactory(MemoryStore())
        async with factory.reading(uuid.uuid4()) as uow:
            assert await uow.accounts.list() == []
            with pytest.raises(RuntimeError, match="read-only"):
                await uow.commit()  # type: ignore[attr-defined]

    run(scenario())
