"""The worker: ``POST /tasks/{name}``, exactly as Cloud Tasks (or the local dispatcher) calls it.

The body is ``{"tenant_id": "...", "payload": {...}}``; the task id is the ``X-CloudTasks-TaskName``
header (a UUID in hex); ``X-Request-ID``, when present, is the id of the request that caused the
task, and is set as the correlation id while it runs (its log line and its events carry it).

Callers prove who they are with Cloud Tasks' OIDC token (``Authorization: Bearer``, verified with
google-auth against the configured service account and audience) or with the shared secret
header the local dispatcher sends. Answers: 200 when the task is done or was done before (a
redelivery); 200 too for a permanent failure, after recording a dead letter with its reason; 503
to ask for a retry; 401 for an unproven caller.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from typing import Any

from litestar import Controller, Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from valorize_adapters.cloudtasks import InvalidCaller
from valorize_core.model.errors import Transient
from valorize_core.ports.task_queue import Task
from valorize_core.runtime.scheduling import tick
from valorize_core.runtime.tasks import TaskOutcome
from valorize_core.use_cases.correlation import correlated
from valorize_entrypoints.container import Runtime
from valorize_entrypoints.delivery import SECRET_HEADER, HttpDelivery, task_fields
from valorize_entrypoints.logs import SAFE_REQUEST_ID
from valorize_entrypoints.tracing import SpanKind, span

__all__ = [
    "SECRET_HEADER",
    "HttpDelivery",
    "ScheduleTickController",
    "TaskController",
    "create_worker_app",
    "worker_app",
]

log = logging.getLogger("valorize.worker")


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def _trusted(request: Request[Any, Any, Any], runtime: Runtime) -> bool:
    """The caller holds the shared secret, or a valid OIDC token of the allowed service account."""
    secret = runtime.worker_secret
    given = request.headers.get(SECRET_HEADER)
    if secret and given is not None and hmac.compare_digest(given.encode(), secret.encode()):
        return True
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if runtime.verifier is None or scheme.lower() != "bearer" or not token:
        return False
    try:
        await runtime.verifier.verify(token.strip())
    except InvalidCaller as exc:
        log.warning("refused a task caller", extra={"fields": {"reason": str(exc)}})
        return False
    return True


class TaskController(Controller):
    path = "/tasks"
    include_in_schema = False

    @post("/{name:str}", status_code=200)
    async def run_task(
        self, name: FromPath[str], request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]
    ) -> Response[Any]:
        if not await _trusted(request, runtime):
            return _answer(401, {"error": "not a trusted caller"})
        given_id = request.headers.get("x-request-id", "")
        correlation_id = given_id if SAFE_REQUEST_ID.match(given_id) else None
        try:
            task_id = uuid.UUID(request.headers.get("x-cloudtasks-taskname", ""))
            body = json.loads(await request.body())
            tenant_id = uuid.UUID(body["tenant_id"])
            task = Task(task_id, name, tenant_id, dict(body.get("payload") or {}), correlation_id=correlation_id)
            attempt = int(request.headers.get("x-cloudtasks-taskretrycount", "0") or 0) + 1
        except (ValueError, KeyError, TypeError) as exc:
            # Malformed deliveries cannot get better by retrying: acknowledge and say why.
            return _answer(200, {"outcome": "rejected", "detail": f"malformed task: {exc}"})
        fields = task_fields(task, attempt)
        fields.update(method="POST", route="/tasks/{name}")
        started = time.perf_counter()

        def took() -> float:
            return round((time.perf_counter() - started) * 1000, 2)

        with (
            correlated(correlation_id),
            span(
                f"task {name}",
                correlation_id,
                kind=SpanKind.SERVER,
                carrier=request.headers,
                task_id=str(task.id),
                attempt=attempt,
            ),
        ):
            try:
                result = await runtime.runner.run(task)
            except Transient as exc:  # expected now and then (a store restarting, a receiver down)
                fields.update(outcome="retry", status=503, duration_ms=took(), error=f"{type(exc).__name__}: {exc}")
                log.warning("task failed; asking for a retry", extra={"fields": fields})
                return _answer(503, {"outcome": "retry"}, {"Retry-After": "1"})
            except Exception:
                fields.update(outcome="retry", status=503, duration_ms=took())
                log.exception("task failed; asking for a retry", extra={"fields": fields})
                # Cloud Tasks and the local dispatcher retry a 503 (a database outage included).
                return _answer(503, {"outcome": "retry"}, {"Retry-After": "1"})
            if result.outcome is TaskOutcome.REJECTED:
                try:
                    await runtime.dead_letters.dead_letter(task, attempt, result.detail)
                except Exception:  # not recorded (the database is down): the rejection must come again
                    fields.update(outcome="retry", status=503, duration_ms=took())
                    log.exception("dead letter not recorded; asking for a retry", extra={"fields": fields})
                    return _answer(503, {"outcome": "retry"}, {"Retry-After": "1"})
        fields.update(outcome=result.outcome.value, detail=result.detail, status=200, duration_ms=took())
        log.info("task", extra={"fields": fields})
        return _answer(200, {"outcome": result.outcome.value, "detail": result.detail})


class ScheduleTickController(Controller):
    """``POST /schedules/tick``: Cloud Scheduler's call, as trusted as a task delivery. It
    enqueues one ``post_schedules`` task per tenant with an occurrence due
    (:mod:`valorize_core.runtime.scheduling`); 503 asks Cloud Scheduler to retry."""

    path = "/schedules"
    include_in_schema = False

    @post("/tick", status_code=200)
    async def run_tick(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
        if not await _trusted(request, runtime):
            return _answer(401, {"error": "not a trusted caller"})
        try:
            tenants = await tick(runtime.backend.schedules, runtime.task_queue, runtime.app.ports.clock)
        except Exception:
            log.exception("schedule tick failed; asking for a retry")
            return _answer(503, {"outcome": "retry"}, {"Retry-After": "5"})
        log.info("schedule tick", extra={"fields": {"tenants": tenants}})
        return _answer(200, {"tenants": tenants})


def _runtime(state: State) -> Runtime:
    return state.runtime  # type: ignore[no-any-return]


def worker_app() -> Litestar:
    """The worker app configured from ``VALORIZE_*`` (the ``valorize worker`` target)."""
    from valorize_entrypoints.container import Container

    return create_worker_app(Container())


@get("/health")
async def health() -> dict[str, str]:
    """The worker process is up (container health checks)."""
    return {"status": "ok"}


@get("/metrics")
async def metrics() -> Response[bytes]:
    """Prometheus' text format, as the API's: the worker's caches, tasks and backlog gauges."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from valorize_entrypoints.metrics import registry

    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)


def create_worker_app(container: Any) -> Litestar:
    """A Litestar app with only the worker route (``valorize worker``)."""
    from valorize_entrypoints.container import Role, serving
    from valorize_entrypoints.logs import configure_logging_from
    from valorize_entrypoints.tracing import configure_tracing

    container.role.override(Role.WORKER)  # its jobs: the sweeper, and the local queue's dispatcher
    configure_logging_from(container.settings())
    configure_tracing(container.settings().tracing, service="valorize-worker")
    return Litestar(
        logging_config=None,  # every record goes through logs.py's handler (configure_logging_from)
        route_handlers=[TaskController, ScheduleTickController, health, metrics],
        dependencies={"runtime": Provide(_runtime, sync_to_thread=False)},
        lifespan=[serving(container)],
    )
