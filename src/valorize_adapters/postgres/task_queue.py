"""The local durable task queue on PostgreSQL, for embedded runs (production uses Cloud Tasks).

Tasks are rows. The dispatcher claims due rows with ``FOR UPDATE SKIP LOCKED`` under a lease,
so several dispatchers never take the same task and a crashed one's tasks come back when the
lease ends; delivers them (HTTP to the worker, as Cloud Tasks does); deletes them on success;
on failure retries with exponential backoff and, after ``max_attempts``, moves them to
``dead_letters`` with the reason. Enqueuing the same task id twice is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.session import Session
from valorize_core.model.errors import Unavailable
from valorize_core.ports.task_queue import RETRY, RetryPolicy, Task

__all__ = ["DeadLetter", "Delivered", "LocalDispatcher", "PgTaskQueue"]

log = logging.getLogger("valorize.dispatcher")

Pool = AsyncConnectionPool[psycopg.AsyncConnection[Any]]
Delivered = bool  # True: done (delete it); False: try again later
Deliver = Callable[[Task, int], Awaitable[Delivered]]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A task that will not be retried on its own, and why."""

    task: Task
    attempts: int
    reason: str
    died_at: datetime


def _task(row: dict[str, Any]) -> Task:
    payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
    return Task(row["id"], row["name"], row["tenant_id"], payload, correlation_id=row.get("correlation_id"))


class PgTaskQueue:
    """The ``TaskQueue`` port, plus the dead-letter operations of ``valorize tasks``."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def enqueue(self, task: Task) -> None:
        async with self._pool.connection() as conn:
            s = Session(conn, task.tenant_id)
            await s.execute(
                "INSERT INTO task_queue (id, tenant_id, name, payload, not_before, created_at, correlation_id)"
                " VALUES (%s, %s, %s, %s, coalesce(%s, now()), now(), %s) ON CONFLICT (id) DO NOTHING",
                (task.id, task.tenant_id, task.name, Jsonb(task.payload), task.not_before, task.correlation_id),
            )
            await s.commit()

    async def _scoped(self, query: Any, params: Any = ()) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn:
            s = Session(conn, None, scope="dispatcher")
            rows = await s.fetch(query, params)
            await s.commit()
            return rows

    async def pending(self) -> int:
        """Tasks waiting or being delivered."""
        rows = await self._scoped("SELECT count(*) AS n FROM task_queue")
        return int(rows[0]["n"])

    async def dead_letter(self, task: Task, attempts: int, reason: str) -> None:
        """Record a task that failed for good (the worker calls this for permanent failures)."""
        await self._scoped(
            "INSERT INTO dead_letters (id, tenant_id, name, payload, attempts, reason, created_at, died_at,"
            " correlation_id) VALUES (%s, %s, %s, %s, %s, %s, now(), now(), %s) ON CONFLICT (id) DO UPDATE SET"
            " attempts = EXCLUDED.attempts, reason = EXCLUDED.reason, died_at = EXCLUDED.died_at",
            (task.id, task.tenant_id, task.name, Jsonb(task.payload), attempts, reason[:2000], task.correlation_id),
        )

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters."""
        rows = await self._scoped("SELECT * FROM dead_letters ORDER BY died_at DESC, id LIMIT %s", (limit,))
        return [DeadLetter(_task(r), r["attempts"], r["reason"], r["died_at"]) for r in rows]

    async def retry_dead(self, task_id: UUID | None = None) -> int:
        """Put dead letters (one, or all) back on the queue; returns how many."""
        rows = await self._scoped(
            "WITH moved AS (DELETE FROM dead_letters WHERE %s::uuid IS NULL OR id = %s RETURNING *)"
            " INSERT INTO task_queue (id, tenant_id, name, payload, not_before, created_at, correlation_id)"
            " SELECT id, tenant_id, name, payload, now(), now(), correlation_id FROM moved"
            " ON CONFLICT (id) DO NOTHING RETURNING id",
            (task_id, task_id),
        )
        return len(rows)

    async def purge_dead(self) -> int:
        """Delete every dead letter; returns how many."""
        return len(await self._scoped("DELETE FROM dead_letters RETURNING id"))


class LocalDispatcher:
    """Claims due tasks and delivers them until stopped.

    Args:
        deliver: sends one task (with its attempt number); ``True`` when it is done.
        concurrency: deliveries in flight at once.
        retry: when a failed delivery is tried again, and when it becomes a dead letter.
        lease: seconds a claimed task stays invisible to other dispatchers. While this dispatcher
            holds a task (queued here, in flight, or delivered and not yet deleted) it renews the
            lease every third of it, so a slow delivery is never handed to a second dispatcher;
            a dispatcher that dies (its process killed) stops renewing, and its tasks are due
            again within one lease — not after a fixed long one.
    """

    def __init__(
        self,
        pool: Pool,
        queue: PgTaskQueue,
        deliver: Deliver,
        *,
        concurrency: int = 8,
        retry: RetryPolicy = RETRY,
        lease: float = 15.0,
    ) -> None:
        self._pool = pool
        self._queue = queue
        self._deliver = deliver
        self._concurrency = concurrency
        self._retry = retry
        self._lease = lease
        self._batch = concurrency * 4  # tasks claimed at once
        self._held: set[UUID] = set()  # claimed here and not yet settled or deleted: leases to renew

    async def _claim(self, limit: int) -> list[tuple[Task, int]]:
        rows = await self._queue._scoped(
            "UPDATE task_queue SET attempts = attempts + 1, locked_until = now() + %s"
            " WHERE id IN (SELECT id FROM task_queue WHERE not_before <= now()"
            " AND (locked_until IS NULL OR locked_until < now()) ORDER BY not_before, id LIMIT %s"
            " FOR UPDATE SKIP LOCKED) RETURNING *",
            (timedelta(seconds=self._lease), limit),
        )
        claimed = [(_task(r), int(r["attempts"])) for r in rows]
        self._held.update(task.id for task, _ in claimed)
        return claimed

    @contextlib.asynccontextmanager
    async def _renewing(self) -> AsyncIterator[None]:
        """Renew the leases of the tasks held here, every third of a lease, while the block runs."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self._lease / 3)
                if self._held:
                    try:
                        await self._queue._scoped(
                            "UPDATE task_queue SET locked_until = now() + %s"
                            " WHERE id = ANY(%s) AND locked_until IS NOT NULL",  # not one settled meanwhile
                            (timedelta(seconds=self._lease), list(self._held)),
                        )
                    except (Unavailable, psycopg.OperationalError, OSError):
                        pass  # the database is down: the next renewal tries again
                    except Exception:  # a collision (Contention) or a bug: one renewal lost, not the renewer
                        log.exception("lease renewal failed; trying again")

        renewer = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _settle(self, task: Task, attempt: int, done: bool, error: str) -> None:
        if done:
            return  # deleted with the rest of its batch (run_once)
        if self._retry.gives_up(attempt):
            await self._queue.dead_letter(task, attempt, error or "gave up after retries")
            await self._queue._scoped("DELETE FROM task_queue WHERE id = %s", (task.id,))
        else:
            delay = self._retry.delay(attempt)
            await self._queue._scoped(
                "UPDATE task_queue SET not_before = %s, locked_until = NULL, last_error = %s WHERE id = %s",
                (datetime.now(UTC) + timedelta(seconds=delay), error[:2000], task.id),
            )

    async def _one(self, task: Task, attempt: int) -> bool:
        try:
            done, error = await self._deliver(task, attempt), ""
        except Exception as exc:  # a failed delivery is retried, whatever it was
            done, error = False, f"{type(exc).__name__}: {exc}"
        if not done:  # its retry is settled now: no renewal may lock it again
            self._held.discard(task.id)
        await self._settle(task, attempt, done, error or ("" if done else "the worker asked for a retry"))
        return done

    async def run_once(self) -> int:
        """Claim one batch of due tasks and deliver it; returns its size.

        Delivered tasks are deleted together, in one statement, when the batch is through: if
        the dispatcher dies first, their leases lapse and they are delivered again, which the
        worker answers as duplicates — at-least-once delivery, one effect.
        """
        claimed = await self._claim(self._batch)
        sem = asyncio.Semaphore(self._concurrency)

        async def bounded(task: Task, attempt: int) -> UUID | None:
            async with sem:
                return task.id if await self._one(task, attempt) else None

        try:
            async with self._renewing():
                delivered = [i for i in await asyncio.gather(*(bounded(t, a) for t, a in claimed)) if i is not None]
                await self._forget(delivered)
        finally:
            self._held.difference_update(task.id for task, _ in claimed)
        return len(claimed)

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Deliver until nothing is due (or ``stop`` is set); returns how many tasks were handled.

        Unlike :meth:`run_once`, deliveries never wait for a batch to finish: ``concurrency`` of
        them stay in flight while the next batch is claimed, and delivered tasks are deleted in
        groups as they complete — a batch's slowest task used to leave the worker idle. On
        ``stop``, no new delivery starts; those in flight finish, and claimed tasks that were
        not sent get their lease and attempt back, due at once for the next dispatcher.
        """
        async with self._renewing():
            return await self._drain(stop)

    async def _drain(self, stop: asyncio.Event | None) -> int:
        """The body of :meth:`drain`."""
        backlog: deque[tuple[Task, int]] = deque()
        in_flight: set[asyncio.Task[tuple[UUID, bool]]] = set()
        delivered: list[UUID] = []
        mine: set[UUID] = set()  # claimed by this drain: none is held (renewed) once it returns
        handled, more_due = 0, True
        try:
            while True:
                stopping = stop is not None and stop.is_set()
                if more_due and not stopping and len(backlog) < self._concurrency:
                    claimed = await self._claim(self._batch)
                    mine.update(task.id for task, _ in claimed)
                    more_due = len(claimed) == self._batch
                    backlog.extend(claimed)
                while backlog and not stopping and len(in_flight) < self._concurrency:
                    in_flight.add(asyncio.create_task(self._sent(*backlog.popleft())))
                if not in_flight:
                    return handled
                finished, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for job in finished:
                    task_id, done = job.result()
                    handled += 1
                    if done:
                        delivered.append(task_id)
                if len(delivered) >= self._batch:
                    await self._forget(delivered)
                    delivered = []
        finally:
            if in_flight:  # only when leaving by an exception: they come back after their lease
                for job in in_flight:
                    job.cancel()
                await asyncio.gather(*in_flight, return_exceptions=True)
            await self._forget(delivered)
            await self._release([task.id for task, _ in backlog])
            self._held.difference_update(mine)  # abandoned in flight (an exception): their lease lapses

    async def _sent(self, task: Task, attempt: int) -> tuple[UUID, bool]:
        return task.id, await self._one(task, attempt)

    async def _forget(self, delivered: list[UUID]) -> None:
        """Delete delivered tasks, in one statement."""
        if delivered:
            await self._queue._scoped("DELETE FROM task_queue WHERE id = ANY(%s)", (delivered,))
            self._held.difference_update(delivered)

    async def _release(self, unsent: list[UUID]) -> None:
        """Give claimed tasks that were never sent their lease and their attempt back."""
        if unsent:
            self._held.difference_update(unsent)
            await self._queue._scoped(
                "UPDATE task_queue SET attempts = attempts - 1, locked_until = NULL WHERE id = ANY(%s)", (unsent,)
            )

    async def run(self, stop: asyncio.Event, idle: float = 0.2) -> None:
        """Deliver until ``stop`` is set, sleeping ``idle`` seconds when nothing is due (and
        longer after failed rounds in a row, up to 5 s: a persistent fault logs a line per wait,
        not five a second)."""
        failed = 0
        while not stop.is_set():
            pause = idle
            try:
                handled = await self.drain(stop)
                failed = 0
            except (Unavailable, psycopg.OperationalError, OSError):
                handled = 0  # the database is down or restarting (the pool says so): try again shortly
            except Exception:
                # Anything else — a deadlock or serialization failure among the queue's statements
                # (a ``Contention``), a bug — costs this round, never the dispatcher: it ended
                # ``run`` while the process stayed healthy, and nothing was delivered again. The
                # round's delivered tasks come back when their lease lapses (duplicates, answered
                # as such); its unsent ones were released.
                log.exception("a dispatch round failed; dispatching goes on")
                handled, failed = 0, failed + 1
                pause = min(idle * 2**failed, 5.0)
            if not handled:
                with contextlib.suppress(TimeoutError):  # idle: wait for work or a stop
                    await asyncio.wait_for(stop.wait(), pause)
