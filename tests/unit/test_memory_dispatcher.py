"""The in-memory queue's dispatcher (``valorize dev --memory``): retries, dead letters, due times."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from valorize_adapters.memory import InMemoryTaskQueue
from valorize_adapters.memory.dispatcher import InMemoryDispatcher
from valorize_core.ports.task_queue import RetryPolicy, Task


def _task(name: str, not_before: datetime | None = None) -> Task:
    return Task(uuid.uuid4(), name, uuid.uuid4(), {}, not_before=not_before)


def test_failures_are_retried_then_dead_lettered_and_later_tasks_wait_their_time() -> None:
    queue = InMemoryTaskQueue()
    attempts: Counter[str] = Counter()
    done: dict[str, float] = {}

    async def deliver(task: Task, attempt: int) -> bool:
        attempts[task.name] += 1
        assert attempt == attempts[task.name]
        if task.name == "broken":
            raise RuntimeError("always")
        if task.name == "flaky" and attempt < 3:
            return False
        done[task.name] = asyncio.get_running_loop().time()
        return True

    async def go() -> float:
        started = asyncio.get_running_loop().time()
        for task in (_task("flaky"), _task("broken"), _task("later", datetime.now(UTC) + timedelta(seconds=0.3))):
            await queue.enqueue(task)
        stop = asyncio.Event()
        retry = RetryPolicy(max_attempts=4, backoff=0.01, max_backoff=0.02)
        running = asyncio.create_task(InMemoryDispatcher(queue, deliver, retry=retry).run(stop, idle=0.01))
        while len(done) < 2 or not queue.dead:  # noqa: ASYNC110 - polling the queue
            await asyncio.sleep(0.01)
        stop.set()
        await running
        return started

    started = asyncio.run(go())
    assert attempts == {"flaky": 3, "broken": 4, "later": 1}
    assert done["later"] - started >= 0.25  # not before its time
    [(task, tries, reason)] = queue.dead.values()
    assert (task.name, tries, reason) == ("broken", 4, "RuntimeError: always")
