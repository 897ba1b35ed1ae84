"""The local durable dispatcher on PostgreSQL: once per task, retries with backoff, dead letters."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.pool import open_pool
from valorize_adapters.postgres.task_queue import LocalDispatcher, PgTaskQueue
from valorize_core.ports.task_queue import RetryPolicy, Task
from valorize_core.testing.contracts import PortsContract
from valorize_core.testing.loop import run


@pytest.fixture
def pg_backend(own_database_url: str) -> Iterator[PostgresBackend]:
    """The dispatcher claims every tenant's due tasks: a database of the test's own."""
    backend = run(PostgresBackend.open(own_database_url, min_size=1, max_size=4))
    yield backend
    run(backend.close())


async def _take_left(queue: PgTaskQueue, tenant: uuid.UUID) -> list[dict[str, object]]:
    """The tenant's tasks still queued, removed as they are read (the queue is shared with other tests)."""
    return await queue._scoped(
        "DELETE FROM task_queue WHERE tenant_id = %s RETURNING id, attempts, locked_until", (tenant,)
    )


class TestLocalDispatcher(PortsContract):
    @pytest.mark.parametrize("mode", ["batch by batch", "pipelined"])
    def test_every_task_is_delivered_once_even_with_competing_dispatchers(
        self, pg_backend: PostgresBackend, mode: str
    ) -> None:
        tenant = self.new_tenant(pg_backend.ports)
        queue = PgTaskQueue(pg_backend.pool)
        seen: Counter[uuid.UUID] = Counter()

        async def deliver(task: Task, attempt: int) -> bool:
            seen[task.id] += 1
            await asyncio.sleep(0.001 * (task.id.int % 5))  # uneven: completions arrive out of order
            return True

        async def go() -> tuple[list[uuid.UUID], int, int]:
            ids = [uuid.uuid4() for _ in range(300)]
            for task_id in ids:
                await queue.enqueue(Task(task_id, "noop", tenant, {"n": 1}))
            await queue.enqueue(Task(ids[0], "noop", tenant, {"n": 1}))  # a duplicate enqueue
            a = LocalDispatcher(pg_backend.pool, queue, deliver, concurrency=4)
            b = LocalDispatcher(pg_backend.pool, queue, deliver, concurrency=4)
            handled = 0
            if mode == "pipelined":
                handled = sum(await asyncio.gather(a.drain(), b.drain()))
            else:
                while await queue.pending():
                    handled += sum(await asyncio.gather(a.run_once(), b.run_once()))
            return ids, handled, await queue.pending()

        ids, handled, left = run(go())
        mine = dict(seen.items())
        assert len(mine) >= len(ids)
        assert set(mine.values()) == {1}
        assert {i: seen[i] for i in ids} == dict.fromkeys(ids, 1)
        assert handled >= len(ids)
        assert left == 0

    def test_a_slow_delivery_keeps_its_lease_and_a_dead_dispatchers_task_comes_back(
        self, pg_backend: PostgresBackend
    ) -> None:
        tenant = self.new_tenant(pg_backend.ports)
        queue = PgTaskQueue(pg_backend.pool)
        seen: Counter[str] = Counter()
        hang, started = asyncio.Event(), asyncio.Event()

        async def slow(task: Task, attempt: int) -> bool:
            seen["slow"] += 1
            started.set()
            await asyncio.sleep(2.5)  # four leases long: renewed, never handed to another dispatcher
            return True

        async def dies(task: Task, attempt: int) -> bool:
            seen["dies"] += 1
            started.set()
            await hang.wait()  # its process is killed mid-delivery (below: the drain is cancelled)
            return True

        async def takes_over(task: Task, attempt: int) -> bool:
            seen[f"over {task.payload['n']}"] += 1
            return True

        async def go() -> float:
            await queue.enqueue(Task(uuid.uuid4(), "noop", tenant, {"n": 1}))
            first = asyncio.create_task(LocalDispatcher(pg_backend.pool, queue, slow, lease=0.6).drain())
            other = LocalDispatcher(pg_backend.pool, queue, takes_over, lease=0.6)
            await started.wait()
            started.clear()
            while not first.done():
                await other.run_once()
                await asyncio.sleep(0.1)
            await first
            await queue.enqueue(Task(uuid.uuid4(), "noop", tenant, {"n": 2}))
            dead = asyncio.create_task(LocalDispatcher(pg_backend.pool, queue, dies, lease=0.6).drain())
            await started.wait()
            dead.cancel()  # no more renewals
            died = asyncio.get_running_loop().time()
            with pytest.raises(asyncio.CancelledError):
                await dead
            while not seen["over 2"]:
                await other.run_once()
                await asyncio.sleep(0.05)
            return asyncio.get_running_loop().time() - died

        taken_over_after = run(go(), timeout=30)
        assert seen["slow"] == 1
        assert seen["over 1"] == 0  # never delivered twice while its first delivery was alive
        assert seen["over 2"] == 1
        assert taken_over_after < 2.0  # within about a lease (0.6 s) of the death
        assert LocalDispatcher(pg_backend.pool, queue, takes_over)._lease <= 15  # the default lease is short

    def test_a_stopped_drain_finishes_what_it_sent_and_gives_back_the_rest(self, pg_backend: PostgresBackend) -> None:
        tenant = self.new_tenant(pg_backend.ports)
        queue = PgTaskQueue(pg_backend.pool)
        sent: list[uuid.UUID] = []
        stop = asyncio.Event()

        async def deliver(task: Task, attempt: int) -> bool:
            sent.append(task.id)
            stop.set()  # the first deliveries ask the dispatcher to stop
            await asyncio.sleep(0.01)
            return True

        async def go() -> tuple[int, list[dict[str, object]]]:
            for _ in range(40):
                await queue.enqueue(Task(uuid.uuid4(), "noop", tenant, {}))
            handled = await LocalDispatcher(pg_backend.pool, queue, deliver, concurrency=4).drain(stop)
            return handled, await _take_left(queue, tenant)

        handled, left = run(go())
        assert handled == len(sent) == 4  # the ones in flight when stop came, and no more
        assert len(left) == 36
        assert not {r["id"] for r in left} & set(sent)
        assert {(r["attempts"], r["locked_until"]) for r in left} == {(0, None)}  # due again at once

    def test_failures_back_off_then_become_dead_letters_that_can_be_retried(self, pg_backend: PostgresBackend) -> None:
        tenant = self.new_tenant(pg_backend.ports)
        queue = PgTaskQueue(pg_backend.pool)
        attempts: list[int] = []
        healthy = False

        async def deliver(task: Task, attempt: int) -> bool:
            attempts.append(attempt)
            if healthy:
                return True
            raise ConnectionError("worker down")

        async def go() -> None:
            nonlocal healthy
            task = Task(uuid.uuid4(), "flaky", tenant, {})
            await queue.enqueue(task)
            retry = RetryPolicy(max_attempts=3, backoff=0.05)
            dispatcher = LocalDispatcher(pg_backend.pool, queue, deliver, retry=retry)
            for _ in range(60):
                await dispatcher.run_once()
                if any(d.task.id == task.id for d in await queue.dead_letters()):
                    break
                await asyncio.sleep(0.05)
            dead = [d for d in await queue.dead_letters() if d.task.id == task.id]
            assert len(dead) == 1
            assert dead[0].attempts == 3
            assert "worker down" in dead[0].reason
            assert await queue.retry_dead(task.id) == 1
            healthy = True
            await dispatcher.run_once()
            assert not [d for d in await queue.dead_letters() if d.task.id == task.id]

        run(go())
        assert attempts[:3] == [1, 2, 3]
        assert attempts[-1] == 1  # a retried dead letter starts its attempts afresh

    def test_a_cancelled_drain_keeps_the_tasks_it_was_delivering_leased(self, pg_backend: PostgresBackend) -> None:
        tenant = self.new_tenant(pg_backend.ports)
        queue = PgTaskQueue(pg_backend.pool)
        started = asyncio.Event()

        async def deliver(task: Task, attempt: int) -> bool:
            started.set()
            try:
                await asyncio.sleep(30)  # a worker that never answers in time
            except asyncio.CancelledError:
                await asyncio.sleep(0.2)  # closing its connection takes a moment
                raise
            return True

        async def go() -> tuple[bool, list[dict[str, object]], int]:
            for _ in range(20):
                await queue.enqueue(Task(uuid.uuid4(), "noop", tenant, {}))
            before = asyncio.all_tasks()
            draining = asyncio.create_task(LocalDispatcher(pg_backend.pool, queue, deliver, concurrency=4).drain())
            await started.wait()
            draining.cancel()
            cancelled = False
            try:
                await draining
            except asyncio.CancelledError:
                cancelled = True
            left = await _take_left(queue, tenant)
            stray = [t for t in asyncio.all_tasks() - before if t is not draining]
            return cancelled, left, len(stray)

        cancelled, left, stray = run(go())
        assert cancelled
        assert len(left) == 20  # nothing deleted: nothing was confirmed
        leased = [r for r in left if r["locked_until"] is not None]
        assert len(leased) == 4  # the deliveries in flight: they come back when their lease lapses
        assert {r["attempts"] for r in leased} == {1}
        assert {(r["attempts"], r["locked_until"]) for r in left if r not in leased} == {(0, None)}
        assert stray == 0  # no delivery left running behind the dispatcher


def test_the_dispatcher_outlives_a_database_it_cannot_reach(database_url: str) -> None:
    async def scenario() -> None:
        pool = await open_pool(database_url, max_size=1, wait=0.1)
        try:

            async def deliver(task: Task, attempt: int) -> bool:
                return True

            stop = asyncio.Event()
            dispatcher = LocalDispatcher(pool, PgTaskQueue(pool), deliver)
            async with pool.connection():  # the only connection is taken: every wait is Unavailable
                running = asyncio.create_task(dispatcher.run(stop, idle=0.05))
                await asyncio.sleep(0.5)
                assert not running.done()  # still trying, not crashed
            stop.set()
            await asyncio.wait_for(running, 5)
        finally:
            await pool.close()

    run(scenario())


def test_the_dispatcher_outlives_a_collision_in_its_own_statements(own_database_url: str) -> None:
    """A deadlock (40P01) or serialization failure in one of the dispatcher's statements is a
    ``Contention`` (``postgres/errors.py``), not an outage: it ended ``run`` — every task after
    it stayed queued while the worker answered ``/health`` (the soak's worker that stopped
    storing imports at ~300 s, perf/README.md). The dispatcher now logs it and goes on."""

    async def scenario() -> tuple[bool, int, list[uuid.UUID], list[uuid.UUID]]:
        backend = await PostgresBackend.open(own_database_url, min_size=1, max_size=4)
        seen: list[uuid.UUID] = []
        try:
            queue = PgTaskQueue(backend.pool)
            async with await psycopg.AsyncConnection.connect(own_database_url, autocommit=True) as conn:
                # The first delete of delivered tasks collides, as a real deadlock does (a sequence
                # is not rolled back with the failed statement: once only).
                await conn.execute("CREATE SEQUENCE collide_once")
                await conn.execute(
                    "CREATE FUNCTION collide_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    " IF nextval('collide_once') = 1 THEN"
                    " RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END IF;"
                    " RETURN OLD; END $$"
                )
                await conn.execute(
                    "CREATE TRIGGER collide_once BEFORE DELETE ON task_queue"
                    " FOR EACH ROW EXECUTE FUNCTION collide_once()"
                )
            tenant = uuid.uuid4()

            async def deliver(task: Task, attempt: int) -> bool:
                seen.append(task.id)
                return True

            dispatcher = LocalDispatcher(backend.pool, queue, deliver, lease=0.6)
            stop = asyncio.Event()
            running = asyncio.create_task(dispatcher.run(stop, idle=0.05))
            ids = [uuid.uuid4() for _ in range(3)]
            for task_id in ids:
                await queue.enqueue(Task(task_id, "noop", tenant, {}))
            for _ in range(100):  # the collided batch's leases lapse (0.6 s): delivered again, then deleted
                if not await queue.pending() or running.done():
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.2)
            later = uuid.uuid4()  # and work queued after the collision is delivered too
            await queue.enqueue(Task(later, "noop", tenant, {}))
            for _ in range(50):
                if later in seen or running.done():
                    break
                await asyncio.sleep(0.1)
            alive = not running.done()
            stop.set()
            await asyncio.gather(running, return_exceptions=True)
            return alive, await queue.pending(), [*ids, later], seen
        finally:
            await backend.close()

    alive, pending, ids, seen = run(scenario())
    assert alive  # still dispatching
    assert pending == 0
    assert set(ids) <= set(seen)  # the collided batch again (at least once), and the task queued after it
