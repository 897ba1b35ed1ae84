"""The in-memory queue's dispatcher: what delivers tasks when everything lives in one process
(``valorize dev --memory``), with the local dispatcher's retries and dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable

from valorize_adapters.memory.tasks import InMemoryTaskQueue
from valorize_core.ports.task_queue import RETRY, RetryPolicy, Task

__all__ = ["InMemoryDispatcher"]

Deliver = Callable[[Task, int], Awaitable[bool]]  # True: done; False or raising: try again later


class InMemoryDispatcher:
    """Takes tasks off an :class:`InMemoryTaskQueue` and delivers them until stopped.

    Due tasks go out in order, ``concurrency`` at once. A failed delivery is retried as ``retry``
    says, then becomes a dead letter with the reason. Tasks not yet due (``not_before``) wait here.
    """

    def __init__(
        self,
        queue: InMemoryTaskQueue,
        deliver: Deliver,
        *,
        concurrency: int = 4,
        retry: RetryPolicy = RETRY,
    ) -> None:
        self._queue = queue
        self._deliver = deliver
        self._concurrency = concurrency
        self._retry = retry
        self._waiting: list[tuple[float, int, Task, int]] = []  # (due, order, task, attempt) heap
        self._order = itertools.count()

    def _wait(self, task: Task, attempt: int, due: float) -> None:
        heapq.heappush(self._waiting, (due, next(self._order), task, attempt))

    async def _one(self, task: Task, attempt: int) -> None:
        try:
            done, error = await self._deliver(task, attempt), "the worker asked for a retry"
        except Exception as exc:  # a failed delivery is retried, whatever it was
            done, error = False, f"{type(exc).__name__}: {exc}"
        if done:
            return
        if self._retry.gives_up(attempt):
            await self._queue.dead_letter(task, attempt, error)
        else:
            self._wait(task, attempt + 1, time.time() + self._retry.delay(attempt))

    async def run(self, stop: asyncio.Event, idle: float = 0.05) -> None:
        """Deliver until ``stop`` is set; deliveries in flight then finish."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                while (task := self._queue.take()) is not None:
                    self._wait(task, 1, task.not_before.timestamp() if task.not_before else 0.0)
                now = time.time()
                while self._waiting and self._waiting[0][0] <= now and len(in_flight) < self._concurrency:
                    _, _, task, attempt = heapq.heappop(self._waiting)
                    in_flight.add(asyncio.create_task(self._one(task, attempt)))
                if in_flight:
                    finished, in_flight = await asyncio.wait(
                        in_flight, timeout=idle, return_when=asyncio.FIRST_COMPLETED
                    )
                    for job in finished:
                        job.result()  # _one settles every delivery; anything else is a bug to surface
                else:
                    with contextlib.suppress(TimeoutError):  # idle: wait for work or a stop
                        await asyncio.wait_for(stop.wait(), idle)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
