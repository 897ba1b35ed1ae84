"""Retention on PostgreSQL: what is past its horizon goes, in batches; what is still owed
(unpublished events, pending jobs, recent ids) stays; one process prunes at a time; the
worker role runs it; ``valorize prune`` runs a round now."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.types.json import Jsonb

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.retention import LOCK_KEY, Horizons, PgRetention
from valorize_core import SignupRequest
from valorize_entrypoints.cli import main
from valorize_entrypoints.container import Container, serving
from valorize_entrypoints.roles import ROLE_JOBS, JobKind, Role, jobs_for
from valorize_entrypoints.settings import Settings

HOURS = timedelta(hours=1)
HORIZONS = Horizons(published_events=24 * HOURS, processed_tasks=48 * HOURS, finished_jobs=24 * HOURS,
                    dead_letters=24 * HOURS)  # fmt: skip


def _fill(url: str, tenant: uuid.UUID) -> dict[str, dict[str, Any]]:
    """Rows on both sides of each horizon (as the schema owner, who may write any tenant's rows);
    returns the keys that must survive and those that must go, per table."""
    keep: dict[str, list[Any]] = {t: [] for t in ("outbox", "processed_tasks", "idempotency_keys", "jobs", "dead")}
    gone: dict[str, list[Any]] = {t: [] for t in keep}
    with psycopg.connect(url, autocommit=True) as conn:

        def event(published: str | None, occurred: str, into: list[Any]) -> None:
            i = uuid.uuid4()
            conn.execute(
                "INSERT INTO outbox (tenant_id, id, name, occurred_at, payload, published_at)"
                f" VALUES (%s, %s, 'x', now() - interval '{occurred}', '{{}}', {published})",
                (tenant, i),
            )
            into.append(i)

        for _ in range(5):
            event("now() - interval '30 hours'", "31 hours", gone["outbox"])
        event("now() - interval '1 hour'", "2 hours", keep["outbox"])
        event("NULL", "100 hours", keep["outbox"])  # never published: the sweeper still owes it
        for age, into in (("49 hours", gone), ("47 hours", keep)):
            i = uuid.uuid4()
            conn.execute(f"INSERT INTO processed_tasks VALUES (%s, %s, 'x', now() - interval '{age}')", (tenant, i))
            into["processed_tasks"].append(i)
        for expiry, into in (("now() - interval '1 minute'", gone), ("now() + interval '1 hour'", keep)):
            key = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, created_at, expires_at)"
                f" VALUES (%s, %s, 'h', 'completed', now() - interval '1 day', {expiry})",
                (tenant, key),
            )
            into["idempotency_keys"].append(key)
        for status, completed, into in (("completed", "now() - interval '25 hours'", gone),
                                        ("failed", "now() - interval '26 hours'", gone),
                                        ("completed", "now() - interval '1 hour'", keep),
                                        ("pending", "NULL", keep)):  # fmt: skip
            i = uuid.uuid4()
            conn.execute(
                "INSERT INTO jobs (tenant_id, id, kind, status, created_at, completed_at)"
                f" VALUES (%s, %s, 'apply_rules', %s, now() - interval '30 days', {completed})",
                (tenant, i, status),
            )
            into["jobs"].append(i)
        for age, into in (("25 hours", gone), ("1 hour", keep)):
            i = uuid.uuid4()
            conn.execute(
                "INSERT INTO dead_letters (id, tenant_id, name, payload, attempts, reason, created_at, died_at)"
                f" VALUES (%s, %s, 'x', %s, 3, 'r', now() - interval '{age}', now() - interval '{age}')",
                (i, tenant, Jsonb({})),
            )
            into["dead"].append(i)
    return {"keep": keep, "gone": gone}


def _present(url: str, tenant: uuid.UUID) -> dict[str, set[Any]]:
    with psycopg.connect(url, autocommit=True) as conn:

        def ids(query: str) -> set[Any]:
            return {r[0] for r in conn.execute(query, (tenant,)).fetchall()}

        return {
            "outbox": ids("SELECT id FROM outbox WHERE tenant_id = %s"),
            "processed_tasks": ids("SELECT task_id FROM processed_tasks WHERE tenant_id = %s"),
            "idempotency_keys": ids("SELECT key FROM idempotency_keys WHERE tenant_id = %s"),
            "jobs": ids("SELECT id FROM jobs WHERE tenant_id = %s"),
            "dead": ids("SELECT id FROM dead_letters WHERE tenant_id = %s"),
        }


async def _tenant(backend: PostgresBackend) -> uuid.UUID:
    signup = await backend.app.signup(SignupRequest("R", f"{uuid.uuid4().hex}@example.com", "R"))
    return signup.tenant.id


def test_prune_deletes_what_is_past_its_horizon_and_keeps_what_is_owed(database_url: str) -> None:
    async def go() -> tuple[uuid.UUID, dict[str, dict[str, Any]], dict[str, int] | None, dict[str, int] | None]:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            tenant = await _tenant(backend)
            rows = await asyncio.to_thread(_fill, database_url, tenant)
            retention = PgRetention(backend.pool, batch=2)  # several batches for the outbox's 5 rows
            first = await retention.prune(HORIZONS)
            again = await retention.prune(HORIZONS)
            return tenant, rows, first, again
        finally:
            await backend.close()

    tenant, rows, first, again = asyncio.run(go())
    present = _present(database_url, tenant)
    with psycopg.connect(database_url, autocommit=True) as conn:  # no fake event left for other tests' relays
        conn.execute("DELETE FROM outbox WHERE tenant_id = %s AND published_at IS NULL", (tenant,))
    for table, kept in rows["keep"].items():
        assert set(kept) <= present[table], table
        assert not set(rows["gone"][table]) & present[table], table
    assert first is not None
    assert first["outbox"] >= 5  # other tests' published rows may be old enough too
    assert again == dict.fromkeys(first, 0)  # nothing left past the horizons


def test_one_process_prunes_at_a_time(database_url: str) -> None:
    async def go() -> dict[str, int] | None:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as other:
                await other.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
                return await PgRetention(backend.pool).prune(HORIZONS)
        finally:
            await backend.close()

    assert asyncio.run(go()) is None


def test_the_retention_scope_may_delete_but_never_write(database_url: str) -> None:
    async def go() -> None:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        try:
            async with backend.pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT set_config('valorize.scope', 'retention', true)")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    await conn.execute(
                        "INSERT INTO processed_tasks VALUES (%s, %s, 'x', now())", (uuid.uuid4(), uuid.uuid4())
                    )
        finally:
            await backend.close()

    asyncio.run(go())


def test_the_worker_role_runs_retention_and_valorize_prune_runs_a_round(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert JobKind.RETENTION in ROLE_JOBS[Role.WORKER]
    assert JobKind.RETENTION not in ROLE_JOBS[Role.API]
    settings = Settings(backend="postgres", database_url=database_url, run_migrations=False, log_json=False)
    container = Container()
    container.settings.override(settings)
    container.role.override(Role.WORKER)
    app = SimpleNamespace(state=SimpleNamespace())

    async def kinds() -> tuple[set[JobKind], set[JobKind]]:
        async with serving(container)(app):
            runtime = app.state.runtime
            on = {j.kind for j in jobs_for(Role.WORKER, settings, runtime=runtime)}
            off = {j.kind for j in jobs_for(Role.WORKER, replace(settings, retention_interval=0), runtime=runtime)}
            return on, off

    on, off = asyncio.run(kinds())
    assert JobKind.RETENTION in on
    assert JobKind.RETENTION not in off

    result = CliRunner().invoke(main, ["prune"], env={"VALORIZE_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("pruned outbox=")
    assert "dead_letters=" in result.output


def test_task_ids_must_outlive_the_redelivery_window() -> None:
    with pytest.raises(ValueError, match="VALORIZE_RETAIN_TASK_IDS_HOURS must be at least 48"):
        Settings.from_env({"VALORIZE_RETAIN_TASK_IDS_HOURS": "24"})
