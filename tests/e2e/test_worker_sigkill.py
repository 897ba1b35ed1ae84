"""SIGKILL the worker while it drains 5,000 tasks, restart it: every effect exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.task_queue import LocalDispatcher, PgTaskQueue
from valorize_core import SignupRequest
from valorize_core.ports.task_queue import RetryPolicy
from valorize_core.testing.loop import run
from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import countable_effects, countable_task, start_worker_process
from valorize_entrypoints.worker import HttpDelivery

pytestmark = pytest.mark.slow
TASKS = 5000


def test_sigkill_during_a_drain_loses_and_doubles_nothing(own_database_url: str) -> None:
    port = free_port()
    worker = start_worker_process(port, own_database_url, "s3cret")

    async def go() -> tuple[int, int, int]:
        backend = await PostgresBackend.open(own_database_url, run_migrations=False)
        try:
            tenant = (await backend.app.signup(SignupRequest("K", f"{uuid.uuid4().hex}@example.com", "K"))).tenant.id
            queue = PgTaskQueue(backend.pool)
            for _ in range(TASKS):
                await queue.enqueue(countable_task(tenant))

            async def reports() -> tuple[int, int]:
                return await countable_effects(backend.pool, tenant)

            delivery = HttpDelivery(f"http://127.0.0.1:{port}", "s3cret", timeout=10)
            dispatcher = LocalDispatcher(
                backend.pool, queue, delivery, concurrency=8, retry=RetryPolicy(backoff=0.1, max_backoff=1.0)
            )
            stop = asyncio.Event()
            draining = asyncio.create_task(dispatcher.run(stop, idle=0.05))
            while (await reports())[0] < TASKS // 3:  # noqa: ASYNC110 - polling the database
                await asyncio.sleep(0.05)
            worker.kill()  # mid-drain, requests in flight
            killed_at = (await reports())[0]
            await asyncio.sleep(0.5)
            worker.start()  # again, on the same port
            deadline = time.monotonic() + 240
            while await queue.pending():
                assert time.monotonic() < deadline, "the queue did not drain after the restart"
                await asyncio.sleep(0.2)
            stop.set()
            await draining
            await delivery.close()
            events, distinct = await reports()
            return killed_at, events, distinct
        finally:
            await backend.close()

    try:
        killed_at, events, distinct = run(go(), timeout=300)
    finally:
        worker.kill()
    assert 0 < killed_at < TASKS  # the kill really happened mid-drain
    assert distinct == TASKS  # nothing lost
    assert events == TASKS  # nothing done twice
