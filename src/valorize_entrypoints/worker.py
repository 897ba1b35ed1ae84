"""The worker: ``POST /tasks/{name}``, exactly as Cloud Tasks (or the local dispatcher) calls it.

The body is ``{"tenant_id": "...", "payload": {...}}``; the task id is the ``X-CloudTasks-TaskName``
header (a UUID in hex). Answers: 200 when the task is done or was done before (a redelivery);
200 too for a permanent failure, after recording a dead letter with its reason; 503 to ask for
a retry; 401 when the caller does not present the worker secret.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from typing import Any

import httpx
from litestar import Controller, Litestar, Request, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from valorize_core.ports.task_queue import Task
from valorize_core.tasks import TaskOutcome
from valorize_entrypoints.container import Runtime

__all__ = ["HttpDelivery", "TaskController", "create_worker_app", "worker_app"]

log = logging.getLogger("valorize.worker")
SECRET_HEADER = "x-valorize-worker-secret"


def _answer(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(body, status_code=status, media_type="application/json")


class TaskController(Controller):
    path = "/tasks"
    include_in_schema = False

    @post("/{name:str}", status_code=200)
    async def run_task(
        self, name: FromPath[str], request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        secret = runtime.worker_secret
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return _answer(401, {"error": "not a trusted caller"})
        try:
            task_id = uuid.UUID(request.headers.get("x-cloudtasks-taskname", ""))
            body = json.loads(await request.body())
            task = Task(task_id, name, uuid.UUID(body["tenant_id"]), dict(body.get("payload") or {}))
        except (ValueError, KeyError, TypeError) as exc:
            # Malformed deliveries cannot get better by retrying: acknowledge and say why.
            return _answer(200, {"outcome": "rejected", "detail": f"malformed task: {exc}"})
        attempt = int(request.headers.get("x-cloudtasks-taskretrycount", "0") or 0) + 1
        try:
            result = await runtime.runner.run(task)
        except Exception:
            log.exception("task failed; asking for a retry", extra={"fields": {"task": str(task.id), "name": name}})
            return _answer(503, {"outcome": "retry"})
        if result.outcome is TaskOutcome.REJECTED:
            await runtime.task_queue.dead_letter(task, attempt, result.detail)
        return _answer(200, {"outcome": result.outcome.value, "detail": result.detail})


def _runtime(state: State) -> Runtime:
    return state.runtime  # type: ignore[no-any-return]


def worker_app() -> Litestar:
    """The worker app configured from ``VALORIZE_*`` (the ``valorize worker`` target)."""
    from valorize_entrypoints.container import Container

    return create_worker_app(Container())


def create_worker_app(container: Any) -> Litestar:
    """A Litestar app with only the worker route (``valorize worker``)."""
    from contextlib import asynccontextmanager

    from valorize_entrypoints.container import shutdown

    @asynccontextmanager
    async def lifespan(app: Litestar) -> Any:
        app.state.runtime = await container.runtime()
        try:
            yield
        finally:
            await shutdown(container)

    return Litestar(
        route_handlers=[TaskController],
        dependencies={"runtime": Provide(_runtime, sync_to_thread=False)},
        lifespan=[lifespan],
    )


class HttpDelivery:
    """Delivers a task to a worker over HTTP, with the headers Cloud Tasks sends."""

    def __init__(self, worker_url: str, secret: str, *, timeout: float = 60.0) -> None:
        self._url = worker_url.rstrip("/")
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=timeout)

    async def __call__(self, task: Task, attempt: int) -> bool:
        response = await self._client.post(
            f"{self._url}/tasks/{task.name}",
            content=json.dumps({"tenant_id": str(task.tenant_id), "payload": task.payload}),
            headers={
                "content-type": "application/json",
                "x-cloudtasks-taskname": task.id.hex,
                "x-cloudtasks-queuename": "local",
                "x-cloudtasks-taskretrycount": str(attempt - 1),
                "x-cloudtasks-taskexecutioncount": str(attempt - 1),
                SECRET_HEADER: self._secret,
            },
        )
        return 200 <= response.status_code < 300

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
