"""How the dispatchers hand a task to the worker: over HTTP with Cloud Tasks' headers, or in
this very process (``valorize dev --memory``, where nothing else could receive it)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Protocol

import aiohttp

from valorize_core.ports.task_queue import Task
from valorize_core.runtime.tasks import TaskOutcome, TaskRunner
from valorize_core.use_cases.correlation import correlated
from valorize_entrypoints.tracing import SpanKind, inject_context, span

__all__ = ["SECRET_HEADER", "DeadLetters", "HttpDelivery", "InProcessDelivery", "task_fields"]

log = logging.getLogger("valorize.worker")

SECRET_HEADER = "x-valorize-worker-secret"  # the local dispatcher's (and the emulator's) proof of trust


def task_fields(task: Task, attempt: int) -> dict[str, Any]:
    """What the log line of a task run says about the task (the worker route adds the HTTP side)."""
    return {"request_id": task.correlation_id, "task_id": str(task.id), "task": task.name,
            "tenant_id": str(task.tenant_id), "attempt": attempt}  # fmt: skip


class DeadLetters(Protocol):
    """Where a task that failed for good is kept, with the reason."""

    async def dead_letter(self, task: Task, attempts: int, reason: str) -> None: ...


class HttpDelivery:
    """Delivers a task to a worker over HTTP, with the headers Cloud Tasks sends.

    aiohttp's client with kept-alive connections: the dispatcher's cost per task is mostly this
    request. With httpx the dispatcher's own CPU was the drain's limit; aiohttp doubled the drain
    rate (``perf/bench_drain.py``, see ``perf/README.md``)."""

    def __init__(self, worker_url: str, secret: str, *, timeout: float = 60.0) -> None:
        self._url = worker_url.rstrip("/")
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, task: Task, attempt: int) -> bool:
        if self._session is None:  # made on the loop that uses it
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        with span(f"deliver {task.name}", task.correlation_id, kind=SpanKind.CLIENT, task_id=str(task.id)):
            return await self._post(task, attempt, self._session)

    async def _post(self, task: Task, attempt: int, session: aiohttp.ClientSession) -> bool:
        async with session.post(
            f"{self._url}/tasks/{task.name}",
            data=json.dumps({"tenant_id": str(task.tenant_id), "payload": task.payload}),
            headers=inject_context(
                {  # the worker's run is a child of this delivery
                    "content-type": "application/json",
                    "x-cloudtasks-taskname": task.id.hex,
                    "x-cloudtasks-queuename": "local",
                    "x-cloudtasks-taskretrycount": str(attempt - 1),
                    "x-cloudtasks-taskexecutioncount": str(attempt - 1),
                    SECRET_HEADER: self._secret,
                    **({"x-request-id": task.correlation_id} if task.correlation_id else {}),
                }
            ),
        ) as response:
            await response.read()
            return 200 <= response.status < 300

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class InProcessDelivery:
    """Runs a task here, with the worker route's answers: done, a duplicate, or a permanent
    failure (dead-lettered with its reason) are delivered; anything else raises, and the
    dispatcher retries it."""

    def __init__(self, runner: TaskRunner, dead_letters: DeadLetters) -> None:
        self._runner = runner
        self._dead_letters = dead_letters

    async def __call__(self, task: Task, attempt: int) -> bool:
        started = time.perf_counter()
        with (
            correlated(task.correlation_id),
            span(f"task {task.name}", task.correlation_id, task_id=str(task.id), attempt=attempt),
        ):
            result = await self._runner.run(task)
            if result.outcome is TaskOutcome.REJECTED:
                await self._dead_letters.dead_letter(task, attempt, result.detail)
            fields = task_fields(task, attempt)
            fields.update(outcome=result.outcome.value, detail=result.detail,
                          duration_ms=round((time.perf_counter() - started) * 1000, 2))  # fmt: skip
            log.info("task", extra={"fields": fields})
        return True

    async def close(self) -> None:
        """Nothing to release (the same interface as :class:`HttpDelivery`)."""
