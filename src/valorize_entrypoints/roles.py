"""Which role runs which long-running job: the one table (:data:`ROLE_JOBS`), and the jobs.

A process is started as one role (``valorize api``, ``valorize worker``, ``valorize realtime``,
``valorize dev``, ``valorize tasks dispatch``). What ``valorize dev`` runs in one process, the
production roles run across processes, with the same guarantees:

- the **outbox sweeper** relays events their commit could not publish (Redis away, the process
  died): every role that commits (api, worker, dev). Sweepers claim their events
  (``FOR UPDATE SKIP LOCKED``), so any number of processes sweep at once;
- a **dispatcher** delivers queued tasks: the local queue's (PostgreSQL) over HTTP to the
  worker, the in-memory queue's in this process; none with Cloud Tasks, which delivers itself;
- the **version feed** keeps the near cache of a process that serves cached reads current
  (api, dev; with Redis);
- the **backplane heartbeat** keeps a realtime server's presence members alive for the other
  instances (realtime, dev; with Redis);
- the **scheduler** asks, every ``schedule_tick`` seconds, for the posting of due schedule
  occurrences (worker, dev; not with Cloud Tasks, where Cloud Scheduler calls the worker's
  ``POST /schedules/tick``). Ticks of one slot are one task, posting is once per date.
- **retention** prunes published outbox rows, old processed-task ids, expired idempotency keys,
  finished jobs and old dead letters (worker, dev; on PostgreSQL; one process at a time, see
  ``retention.py``);
- the **backlog sampler** sets the queue-depth, dead-letter and outbox-lag gauges of
  ``/metrics`` (worker, dev; on PostgreSQL; ``backlog.py``).

Every granian worker process of a role runs the role's jobs: each is safe run many times.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis.exceptions

from valorize_adapters.memory.dispatcher import InMemoryDispatcher
from valorize_adapters.memory.tasks import InMemoryTaskQueue
from valorize_adapters.postgres.backend import PostgresBackend
from valorize_adapters.postgres.backlog import PgBacklog
from valorize_adapters.postgres.retention import PgRetention
from valorize_adapters.postgres.task_queue import LocalDispatcher, PgTaskQueue
from valorize_adapters.pusher.backplane import RedisBackplane
from valorize_adapters.redis.cache import RedisVersionFeed
from valorize_core.runtime.scheduling import run_ticks
from valorize_entrypoints.backlog import sampling
from valorize_entrypoints.delivery import HttpDelivery, InProcessDelivery
from valorize_entrypoints.retention import pruning

if TYPE_CHECKING:
    from valorize_entrypoints.container import Realtime, Runtime
    from valorize_entrypoints.settings import Settings

__all__ = ["ROLE_JOBS", "Job", "JobKind", "Role", "jobs_for", "running"]

log = logging.getLogger("valorize.jobs")

STOP_TIMEOUT = 15.0  # seconds a job has to finish once asked to stop, before it is cancelled


class Role(enum.StrEnum):
    """What a process was started as."""

    API = "api"
    WORKER = "worker"
    REALTIME = "realtime"
    DEV = "dev"  # every role in one process (with or without Redis, or ``--memory``)
    DISPATCH = "dispatch"  # ``valorize tasks dispatch``
    COMMAND = "command"  # one-shot commands (``seed``, ``token create``, ...): no job


class JobKind(enum.StrEnum):
    """A long-running job a role may need."""

    SWEEPER = "outbox sweeper"
    DISPATCHER = "dispatcher"
    VERSION_FEED = "version feed"
    HEARTBEAT = "backplane heartbeat"
    SCHEDULER = "scheduler"
    RETENTION = "retention"
    BACKLOG = "backlog sampler"


_S, _D, _V, _H = JobKind.SWEEPER, JobKind.DISPATCHER, JobKind.VERSION_FEED, JobKind.HEARTBEAT
_T, _R, _B = JobKind.SCHEDULER, JobKind.RETENTION, JobKind.BACKLOG

ROLE_JOBS: Mapping[Role, frozenset[JobKind]] = {
    Role.API: frozenset({_S, _V}),
    Role.WORKER: frozenset({_S, _D, _T, _R, _B}),
    Role.REALTIME: frozenset({_H}),
    Role.DEV: frozenset({_S, _D, _V, _H, _T, _R, _B}),
    Role.DISPATCH: frozenset({_D}),
    Role.COMMAND: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Job:
    """A job of a role: ``run`` works until the event it is given is set."""

    kind: JobKind
    run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def jobs_for(
    role: Role, settings: Settings, *, runtime: Runtime | None = None, realtime: Realtime | None = None
) -> list[Job]:
    """The jobs ``role`` runs in this configuration (:data:`ROLE_JOBS`, less those it has no use
    for: the feed without a near cache, the heartbeat without Redis, a dispatcher with Cloud
    Tasks)."""
    wanted = ROLE_JOBS[role]
    realtime = realtime or (runtime.realtime if runtime is not None else None)
    jobs: list[Job] = []
    if runtime is not None and _S in wanted and runtime.relay is not None:
        jobs.append(Job(_S, runtime.relay.sweep_until))
    if runtime is not None and _D in wanted:
        jobs.extend(_dispatcher(role, settings, runtime))
    if runtime is not None and _V in wanted and runtime.near is not None and settings.redis_url:
        jobs.append(Job(_V, _until_stopped(RedisVersionFeed(settings.redis_url, runtime.near).run)))
    if realtime is not None and _H in wanted and isinstance(realtime.backplane, RedisBackplane):
        jobs.append(Job(_H, _heartbeat(realtime.backplane)))
    if runtime is not None and _T in wanted and settings.task_queue != "cloudtasks":
        directory, queue, clock = runtime.backend.schedules, runtime.task_queue, runtime.app.ports.clock
        jobs.append(Job(_T, lambda stop: run_ticks(directory, queue, clock, stop, settings.schedule_tick)))
    # Memory runs keep nothing past the process: no retention there.
    if (
        runtime is not None
        and _R in wanted
        and settings.retention_interval > 0
        and isinstance(runtime.backend, PostgresBackend)
    ):
        jobs.append(Job(_R, pruning(PgRetention(runtime.backend.pool), settings)))
    if runtime is not None and _B in wanted and isinstance(runtime.backend, PostgresBackend):
        local = isinstance(runtime.task_queue, PgTaskQueue)  # Cloud Tasks: Cloud Monitoring has its depth
        jobs.append(Job(_B, sampling(PgBacklog(runtime.backend.pool, local_queue=local))))
    return jobs


def _own_url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.port}"


def _dispatcher(role: Role, settings: Settings, runtime: Runtime) -> list[Job]:
    queue = runtime.task_queue
    if isinstance(queue, InMemoryTaskQueue):
        dispatcher = InMemoryDispatcher(queue, InProcessDelivery(runtime.runner, runtime.dead_letters))
        return [Job(_D, dispatcher.run)]
    if not isinstance(queue, PgTaskQueue):
        return []  # Cloud Tasks delivers its tasks itself
    # dev delivers to itself, with its own secret. Other roles deliver to the configured worker
    # with the configured secret: a process's own random one proves nothing to its granian
    # siblings, and a worker's own address is not known to it (granian binds 0.0.0.0, a
    # proxy may front it).
    if role is Role.DEV:
        secret, url = runtime.worker_secret, settings.worker_url or _own_url(settings)
    else:
        secret, url = settings.worker_secret, settings.worker_url
    if not (secret and url):
        log.warning("no local dispatcher: set VALORIZE_WORKER_URL and VALORIZE_WORKER_SECRET",
                    extra={"fields": {"role": role.value}})  # fmt: skip
        return []
    pool = runtime.backend.pool  # type: ignore[union-attr]  # a local queue lives in PostgreSQL

    async def run(stop: asyncio.Event) -> None:
        delivery = HttpDelivery(url, secret)
        try:
            await LocalDispatcher(pool, queue, delivery).run(stop)
        finally:
            await delivery.close()

    return [Job(_D, run)]


def _until_stopped(work: Callable[[], Awaitable[None]]) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """A job of something that runs until cancelled."""

    async def run(stop: asyncio.Event) -> None:
        task = asyncio.ensure_future(work())
        await stop.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run


def _heartbeat(backplane: RedisBackplane, retry: float = 1.0) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """Announce the instance as soon as Redis answers; the backplane beats until it closes."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await backplane.start()
                break
            except (redis.exceptions.RedisError, OSError):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), retry)
        await stop.wait()

    return run


@asynccontextmanager
async def running(jobs: Sequence[Job]) -> AsyncIterator[None]:
    """Run ``jobs`` while the block runs; then ask them to stop, and cancel the stragglers.

    A job that fails while the role runs is logged when it fails, not only at the stop: the
    process stays up and healthy without it (a dispatcher that ended so left every task queued
    with nothing said until the process stopped)."""
    stop = asyncio.Event()

    def failed(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("a job failed", exc_info=error, extra={"fields": {"job": task.get_name()}})

    tasks = [asyncio.create_task(job.run(stop), name=job.kind.value) for job in jobs]
    for task in tasks:
        task.add_done_callback(failed)
    log.debug("jobs started", extra={"fields": {"jobs": [job.kind.value for job in jobs]}})
    try:
        yield
    finally:
        stop.set()
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # each failure was logged as it ended
