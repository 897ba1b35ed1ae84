"""The backlog SLIs: queue depth and oldest age, dead letters, outbox lag, read from PostgreSQL
and set on ``/metrics`` by the worker role's sampler."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from prometheus_client import REGISTRY

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.backlog import PgBacklog
from valorize_adapters.postgres.task_queue import PgTaskQueue
from valorize_core import SignupRequest
from valorize_core.ports.task_queue import Task
from valorize_entrypoints.backlog import sample_once
from valorize_entrypoints.roles import ROLE_JOBS, JobKind, Role


def test_the_sampler_reports_queue_depth_age_dead_letters_and_outbox_lag(database_url: str) -> None:
    async def go() -> tuple[float | None, ...]:
        backend = await PostgresBackend.open(database_url, run_migrations=False)
        tenant = (await backend.app.signup(SignupRequest("B", f"{uuid.uuid4().hex}@example.com", "B"))).tenant.id
        try:
            queue = PgTaskQueue(backend.pool)
            backlog = PgBacklog(backend.pool)
            before = await backlog.read()
            for _ in range(3):
                await queue.enqueue(Task(uuid.uuid4(), "evaluate_budgets", tenant, {}))
            await queue.dead_letter(Task(uuid.uuid4(), "x", tenant, {}), 3, "gone")
            with psycopg.connect(database_url, autocommit=True) as conn:  # an event the relay has not published
                conn.execute(
                    "INSERT INTO outbox (tenant_id, id, name, occurred_at, payload) VALUES (%s, %s, 'x', %s, '{}')",
                    (tenant, uuid.uuid4(), datetime.now(UTC) - timedelta(minutes=10)),
                )
            await sample_once(backlog)
            after = await backlog.read()
            assert after.queued_tasks == before.queued_tasks + 3
            assert after.dead_letters == before.dead_letters + 1
            assert after.unpublished_events == before.unpublished_events + 1
            gauges = [REGISTRY.get_sample_value(name) for name in (
                "valorize_task_queue_depth", "valorize_dead_letters", "valorize_outbox_unpublished",
                "valorize_outbox_lag_seconds", "valorize_task_queue_oldest_seconds")]  # fmt: skip
            return (*gauges, after.queued_tasks, after.dead_letters, after.unpublished_events)
        finally:
            await backend.close()
            with psycopg.connect(database_url, autocommit=True) as conn:  # leave the shared database as found
                for table in ("outbox", "task_queue", "dead_letters"):
                    conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (tenant,))

    depth, dead, unpublished, lag, oldest, queued, dead_now, unpublished_now = asyncio.run(go())
    assert (depth, dead, unpublished) == (queued, dead_now, unpublished_now)
    assert lag is not None
    assert lag >= 600  # the oldest unpublished event is at least 10 minutes old
    assert oldest is not None
    assert oldest >= 0
    assert JobKind.BACKLOG in ROLE_JOBS[Role.WORKER]
