"""The composition root: the only place that knows which adapter serves which port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers
from prometheus_client import Counter, Gauge

from valorize_adapters.cloudtasks import GoogleIdTokenVerifier
from valorize_adapters.embedders.hashing import HashingEmbedder
from valorize_adapters.memory import InMemoryBackend, InMemoryCache, InMemoryEventBus, InMemoryTaskQueue
from valorize_adapters.memory.idempotency import InMemoryIdempotencyStore
from valorize_adapters.memory.outbox import MemoryOutbox
from valorize_adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from valorize_adapters.patterns.re2 import Re2Engine
from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend, PostgresUnitOfWorkFactory
from valorize_adapters.postgres.idempotency import PgIdempotencyStore
from valorize_adapters.postgres.outbox import PgOutbox
from valorize_adapters.postgres.pool import open_pool
from valorize_adapters.postgres.task_queue import PgTaskQueue
from valorize_adapters.pusher.backplane import Backplane, InMemoryBackplane, RedisBackplane
from valorize_adapters.pusher.broadcaster import RealtimeBroadcaster
from valorize_adapters.pusher.protocol import AppConfig
from valorize_adapters.pusher.webhooks import PusherWebhooks
from valorize_adapters.redis import RedisCache, RedisEventBus, redis_client
from valorize_adapters.statements import (
    CamtStatementParser,
    Mt940StatementParser,
    OfxStatementParser,
    QifStatementParser,
)
from valorize_adapters.webhooks import DestinationGuard, HttpWebhookSender
from valorize_core.app import Valorize
from valorize_core.model.webhooks import WebhookPolicy
from valorize_core.ports.embedder import Embedder
from valorize_core.ports.event_publisher import EventPublisher
from valorize_core.ports.idempotency import IdempotencyStore
from valorize_core.ports.outbox import Outbox
from valorize_core.ports.task_queue import TaskQueue
from valorize_core.ports.unit_of_work import CommitHook, CommitHooks
from valorize_core.runtime.caching import ReadCache
from valorize_core.runtime.near_cache import NearCache
from valorize_core.runtime.publishing import FanOutPublisher
from valorize_core.runtime.relay import OutboxRelay, follow_ups
from valorize_core.runtime.tasks import TaskRunner
from valorize_core.runtime.token_cache import CachingDirectory
from valorize_core.use_cases.context import Ports
from valorize_entrypoints.collector import tune_collector
from valorize_entrypoints.delivery import SECRET_HEADER
from valorize_entrypoints.fanout import PipelinedFanOut, RetireThenRelay
from valorize_entrypoints.metrics import LOCAL
from valorize_entrypoints.process_caches import PROCESS_CACHES
from valorize_entrypoints.rate_limits import RateLimits, rate_limits
from valorize_entrypoints.roles import ROLE_JOBS, JobKind, Role, jobs_for, running
from valorize_entrypoints.settings import Settings, ipaddress_networks
from valorize_entrypoints.tracing import TracedPublisher, traced_use_cases

log = logging.getLogger("valorize.realtime")

__all__ = ["SECRET_HEADER", "Container", "Realtime", "Role", "Runtime", "realtime_resources", "serving", "shutdown"]


class Realtime:
    """The realtime app (Pusher credentials and limits), the backplane its instances share, and
    the Pusher webhooks the operator configured (``None``: none)."""

    def __init__(self, app: AppConfig, backplane: Backplane, webhooks: PusherWebhooks | None = None) -> None:
        self.app = app
        self.backplane = backplane
        self.webhooks = webhooks


def _realtime_app(settings: Settings) -> AppConfig:
    return AppConfig(
        app_id=settings.pusher_app_id,
        key=settings.pusher_key,
        secret=settings.pusher_secret or secrets.token_urlsafe(32),
        client_events=settings.realtime_client_events,
        activity_timeout=settings.realtime_activity_timeout,
        max_message_bytes=settings.realtime_max_message_bytes,
        encryption_master_key=settings.encryption_master_key,
    )


@asynccontextmanager
async def realtime_resources(settings: Settings, queue: TaskQueue | None = None) -> AsyncIterator[Realtime]:
    """Redis pub/sub between instances when configured, else in-process (one process).

    With ``VALORIZE_PUSHER_WEBHOOK_URLS``, the realtime server's webhooks go to ``queue`` (the
    process's task queue); a realtime process of its own (no ``queue``) enqueues to the
    installation's queue (:func:`_webhook_queue`)."""
    app = _realtime_app(settings)
    async with contextlib.AsyncExitStack() as stack:
        if not settings.redis_url:
            backplane: Backplane = InMemoryBackplane()
            stack.push_async_callback(backplane.close)
        else:
            backplane = RedisBackplane.from_url(settings.redis_url)
            stack.push_async_callback(backplane.close)
        webhooks = None
        urls, kinds = settings.pusher_webhooks()
        if urls:
            queue = queue or await stack.enter_async_context(_webhook_queue(settings))
        if urls and queue is not None:
            webhooks = PusherWebhooks(app.key, app.secret, urls, queue.enqueue, kinds=kinds,
                                      window=settings.pusher_webhook_window)  # fmt: skip
            stack.push_async_callback(webhooks.close)  # what is pending goes before the queue closes
        yield Realtime(app, backplane, webhooks)


@asynccontextmanager
async def _webhook_queue(settings: Settings) -> AsyncIterator[TaskQueue | None]:
    """The task queue a realtime process of its own enqueues webhooks to: Cloud Tasks, or the
    local queue's table over a small pool of its own; ``None`` (logged) without a shared one."""
    if settings.task_queue == "cloudtasks":
        async with _task_queue(settings, _secret(settings), InMemoryTaskQueue()) as queue:
            yield queue
        return
    if settings.backend != "postgres" or not settings.database_url:
        log.warning("Pusher webhooks need a shared task queue (VALORIZE_DATABASE_URL or Cloud Tasks): none sent")
        yield None
        return
    pool = await open_pool(settings.database_url, min_size=1, max_size=2, role=settings.db_role or None,
                           wait=settings.db_pool_timeout)  # fmt: skip
    try:
        yield PgTaskQueue(pool)
    finally:
        await pool.close()


class Runtime:
    """What the entrypoints need at run time, built from the settings.

    A plain class, not a dataclass: Litestar validates dependency values with msgspec, which
    only checks ``isinstance`` for plain classes.
    """

    def __init__(
        self,
        app: Valorize,
        idempotency: IdempotencyStore,
        database_url: str | None,
        backend: PostgresBackend | InMemoryBackend,
        reads: ReadCache | None = None,
        task_queue: Any = None,
        worker_secret: str = "",
        relay: OutboxRelay | None = None,
        bus: Any = None,
        *,
        dead_letters: Any = None,
        verifier: GoogleIdTokenVerifier | None = None,
        realtime: Realtime | None = None,
        rate_limits: RateLimits | None = None,
        near: NearCache | None = None,
    ) -> None:
        self.app = app
        self.idempotency = idempotency
        self.database_url = database_url
        self.backend = backend
        self.reads = reads
        self.task_queue = task_queue if task_queue is not None else InMemoryTaskQueue()
        self.dead_letters = dead_letters if dead_letters is not None else self.task_queue
        self.worker_secret = worker_secret
        self.verifier = verifier
        self.realtime = realtime
        self.rate_limits = rate_limits
        self.near = near  # this process's near cache, which the role's version feed keeps current
        self.runner = TaskRunner(app)
        self.relay = relay
        self.bus = bus

    async def ready(self) -> bool:
        """True when the source of truth answers within :data:`READY_WITHIN` seconds; raises if not."""
        if isinstance(self.backend, PostgresBackend):
            async with asyncio.timeout(READY_WITHIN):
                async with self.backend.pool.connection(timeout=READY_WITHIN) as conn:
                    await conn.execute("SELECT 1")
                    await conn.rollback()
        return True


# A readiness probe answers within a second, whatever the database does.
READY_WITHIN = 0.8

# Events published by many commits are marked published together, every 50 ms.
MARK_WINDOW = 0.05

CACHE_EVENTS = Counter("valorize_cache_events", "Cache-aside lookups by outcome", ["event"])


class _NearCacheGauges:
    """The process's near cache on ``/metrics``, read at scrape time (the latest one made)."""

    def __init__(self) -> None:
        self.near: NearCache | None = None
        for name, doc, read in (
            ("valorize_near_cache_bytes", "Bytes of cached reads kept in this process", lambda n: n.size_bytes),
            ("valorize_near_cache_entries", "Cached reads kept in this process", len),
            ("valorize_near_cache_live", "1 while the version feed is subscribed", lambda n: n.live),
            ("valorize_near_cache_resets", "Times the near cache started over (reconnections, new epochs)",
             lambda n: n.resets),
        ):  # fmt: skip
            gauge = Gauge(name, doc)
            gauge.set_function(self._reading(read))
            LOCAL.append(gauge)  # read in the answering process (see metrics.py)

    def _reading(self, read: Callable[[NearCache], float]) -> Callable[[], float]:
        return lambda: float(read(self.near)) if self.near is not None else 0.0


NEAR_CACHE = _NearCacheGauges()


@asynccontextmanager
async def _read_cache(settings: Settings, *, near_cache: bool) -> AsyncIterator[ReadCache | None]:
    """Redis (with a near cache in this process when ``near_cache``: the role serves cached
    reads and runs the version feed that keeps it current) when configured, else in-process;
    ``None`` when caching is off."""
    if not settings.cache:
        yield None
        return

    def count(kind: str) -> None:
        CACHE_EVENTS.labels(kind).inc()

    if not settings.redis_url:
        local = InMemoryCache()
        PROCESS_CACHES.track("read_cache", local.cache_size)
        yield ReadCache(local, ttl=settings.cache_ttl, hold=settings.cache_hold, on_event=count)
        return
    client = redis_client(settings.redis_url)
    cache = RedisCache(client)
    near = NearCache(max_bytes=settings.near_cache_mb << 20) if near_cache and settings.near_cache_mb > 0 else None
    NEAR_CACHE.near = near
    try:
        yield ReadCache(cache, ttl=settings.cache_ttl, hold=settings.cache_hold, on_event=count, near=near)
    finally:
        await client.aclose()


def _publisher(bus: Any, realtime: Realtime) -> EventPublisher:
    """Committed events go to the event bus (other services) and to the browsers: on Redis both
    in one round trip (:class:`PipelinedFanOut`)."""
    if isinstance(bus, RedisEventBus) and isinstance(realtime.backplane, RedisBackplane):
        return PipelinedFanOut(bus, realtime.backplane)
    return FanOutPublisher(bus, TracedPublisher(RealtimeBroadcaster(realtime.backplane), "realtime publish"))


def _webhooks(settings: Settings) -> tuple[HttpWebhookSender, WebhookPolicy]:
    """The webhook sender (its destination guard as the operator allows) and retry policy."""
    guard = DestinationGuard(ipaddress_networks(settings.webhook_allowed_networks))
    policy = WebhookPolicy(retry_delays=settings.webhook_delays(), timeout=settings.webhook_timeout)
    return HttpWebhookSender(guard), policy


def _wired(
    ports: Ports,
    reads: ReadCache | None,
    relay: OutboxRelay,
    bus: Any,
    token_ttl: int = 0,
    webhooks: tuple[HttpWebhookSender, WebhookPolicy] | None = None,
) -> Valorize:
    """The application — built here once, for every role — over the backend's ``ports``, whose
    commits run the pipeline below, which reads OFX statements
    too, and publishes import progress on the bus.

    The commit pipeline (:mod:`valorize_core.runtime.pipeline`), registered here and nowhere else:

    before commit, inside the transaction (after a running task's own mark, see ``TaskRunner``):
        1. the read cache's write hold on the tenant (:meth:`ReadCache.hold_before_commit`);
    after commit, once the unit is left:
        1. the read cache retires the tenant's reads (:meth:`ReadCache.retire_after_commit`),
           before any event leaves: a subscriber that refetches on an event gets the new page;
        2. the relay publishes the events and enqueues their follow-up tasks
           (:meth:`OutboxRelay.after_commit`).
    On Redis the two are one hook (:class:`RetireThenRelay`): the bump of 1 is sent first in the
    round trip of 2's publish, so Redis still runs it before any event is published.
    """
    before: list[CommitHook] = []
    after: list[CommitHook] = []
    if reads is not None:
        before.append(reads.hold_before_commit)
    if reads is not None and isinstance(reads.cache, RedisCache) and isinstance(bus, PipelinedFanOut):
        after.append(RetireThenRelay(reads, reads.cache, relay.after_commit))  # 1 and 2 in one round trip
    else:
        if reads is not None:
            after.append(reads.retire_after_commit)
        after.append(relay.after_commit)
    uow = ports.uow.with_hooks(CommitHooks(before=tuple(before), after=tuple(after)))
    parsers = {**ports.parsers, "ofx": OfxStatementParser(), "qif": QifStatementParser(),
               "camt053": CamtStatementParser(), "mt940": Mt940StatementParser()}  # fmt: skip
    directory = ports.directory
    if token_ttl > 0:
        directory = CachingDirectory(directory, ports.clock, ttl=token_ttl)
        PROCESS_CACHES.track("tokens", directory.cache_size)
    wired = replace(ports, uow=uow, parsers=parsers, publisher=bus, directory=directory)
    if webhooks is not None:
        wired = replace(wired, webhook_sender=webhooks[0], webhook_policy=webhooks[1])
    return traced_use_cases(Valorize(wired))  # spans per use case when tracing is on


def _bus(settings: Settings) -> Any:
    """Redis pub/sub when configured, else the in-process bus (keeping no published event)."""
    return RedisEventBus(redis_client(settings.redis_url)) if settings.redis_url else InMemoryEventBus(kept=0)


def _secret(settings: Settings) -> str:
    """The worker secret: configured, or random for a self-contained process (dev)."""
    return settings.worker_secret or secrets.token_urlsafe(32)


@asynccontextmanager
async def _task_queue(settings: Settings, secret: str, local: TaskQueue) -> AsyncIterator[TaskQueue]:
    """The local queue, or Cloud Tasks pushing to ``worker_url``.

    With a service account Cloud Tasks authenticates with its OIDC token; without one (the
    emulator) each task carries the shared worker secret instead.
    """
    if settings.task_queue != "cloudtasks":
        yield local
        return
    from valorize_adapters.cloudtasks.queue import CloudTasksQueue, cloud_tasks_client  # only when used

    client = cloud_tasks_client(settings.cloud_tasks_emulator or None)
    account = settings.cloud_tasks_service_account or None
    try:
        yield CloudTasksQueue(
            client,
            settings.cloud_tasks_queue,
            settings.worker_url,
            service_account=account,
            audience=settings.worker_oidc_audience or None,
            headers=None if account else {SECRET_HEADER: secret},
        )
    finally:
        await client.transport.close()  # type: ignore[no-untyped-call]


def _verifier(settings: Settings) -> GoogleIdTokenVerifier | None:
    """The worker's check of Cloud Tasks' OIDC tokens, when a service account is configured."""
    if not settings.cloud_tasks_service_account:
        return None
    audience = settings.worker_oidc_audience or settings.worker_url
    if not audience:
        raise ValueError("OIDC needs VALORIZE_WORKER_OIDC_AUDIENCE or VALORIZE_WORKER_URL")
    return GoogleIdTokenVerifier(
        audience.rstrip("/"), settings.cloud_tasks_service_account, certs_url=settings.worker_oidc_certs_url
    )


def _embedder(settings: Settings) -> Embedder:
    """The hashing embedder, or a sentence-transformers model (the ``embeddings`` extra)."""
    if settings.embedder.startswith("sentence-transformers:"):
        from valorize_adapters.embedders.sentence import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(settings.embedder.removeprefix("sentence-transformers:"))
    return HashingEmbedder(settings.embedding_dimensions)


@asynccontextmanager
async def _runtime(
    settings: Settings,
    role: Role,
    backend: PostgresBackend | InMemoryBackend,
    *,
    url: str | None,
    local: PgTaskQueue | InMemoryTaskQueue,
    outbox: Outbox,
    idempotency: IdempotencyStore,
) -> AsyncIterator[Runtime]:
    """What every backend shares: cache, queue, realtime, relay and worker auth around it."""
    secret = _secret(settings)
    async with (
        _read_cache(settings, near_cache=JobKind.VERSION_FEED in ROLE_JOBS[role]) as reads,
        _task_queue(settings, secret, local) as queue,
        realtime_resources(settings, queue) as realtime,
        rate_limits(settings.rate_limit_per_token, settings.rate_limit_failed_auth, settings.redis_url) as limits,
    ):
        bus = _bus(settings)
        publisher = _publisher(bus, realtime)
        ports = backend.ports
        if queue is local and isinstance(ports.uow, PostgresUnitOfWorkFactory):
            # The local queue is a table of the same database: tasks commit with their events.
            ports = replace(ports, uow=ports.uow.writing_tasks(follow_ups))
        elif queue is local and isinstance(local, InMemoryTaskQueue) and isinstance(ports.uow, MemoryUnitOfWorkFactory):
            ports = replace(ports, uow=ports.uow.writing_tasks(follow_ups, local))  # the same, in memory
        relay = OutboxRelay(
            outbox,
            TracedPublisher(publisher, "outbox relay"),
            queue,
            ports.clock,
            mark_window=MARK_WINDOW,
            tasks_committed=ports is not backend.ports,
        )
        app = _wired(ports, reads, relay, publisher, settings.token_cache_ttl, _webhooks(settings))
        verifier = _verifier(settings)
        try:
            yield Runtime(
                app, idempotency, url, backend, reads, queue, secret, relay, bus,
                dead_letters=local, verifier=verifier, realtime=realtime, rate_limits=limits,
                near=reads.near if reads else None,
            )  # fmt: skip
        finally:
            await relay.flush()
            if isinstance(bus, RedisEventBus):
                await bus.close()
            if verifier is not None:
                await verifier.close()


async def _memory(settings: Settings, role: Role) -> AsyncIterator[Runtime]:
    backend = InMemoryBackend(embedder=_embedder(settings), patterns=Re2Engine())
    async with _runtime(
        settings, role, backend, url=None, local=InMemoryTaskQueue(), outbox=MemoryOutbox(backend.store),
        idempotency=InMemoryIdempotencyStore(backend.store),
    ) as runtime:  # fmt: skip
        yield runtime


async def _postgres(settings: Settings, role: Role) -> AsyncIterator[Runtime]:
    embedded = None
    url = settings.database_url
    if not url:
        embedded = EmbeddedPostgres(Path(settings.data_dir) / "postgres")
        url = embedded.start()
    backend = await PostgresBackend.open(
        url,
        run_migrations=settings.run_migrations,
        embedder=_embedder(settings),
        patterns=Re2Engine(),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        pool_timeout=settings.db_pool_timeout,
        role=settings.db_role or None,
    )
    try:
        async with _runtime(
            settings, role, backend, url=url, local=PgTaskQueue(backend.pool), outbox=PgOutbox(backend.pool),
            idempotency=PgIdempotencyStore(backend.pool),
        ) as runtime:  # fmt: skip
            yield runtime
    finally:
        await backend.close()
        if embedded is not None:
            embedded.stop()


class Container(containers.DeclarativeContainer):
    """Settings and role → backend resource → runtime, and the role's jobs (:func:`serving`).

    Override ``settings`` in tests; ``role`` is the API's unless overridden (``valorize worker``,
    ``valorize dev``, the one-shot commands override it)."""

    settings = providers.Singleton(Settings.from_env)
    role = providers.Object(Role.API)
    runtime = providers.Selector(
        providers.Callable(lambda s: s.backend, settings),
        memory=providers.Resource(_memory, settings, role),
        postgres=providers.Resource(_postgres, settings, role),
    )


async def shutdown(container: Container) -> None:
    """Release the container's resources (the pool, the embedded server)."""
    pending = container.shutdown_resources()
    if pending is not None:
        await pending


def serving(container: Container) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The lifespan of an app serving ``container`` (the API, the worker, dev): the runtime on
    ``app.state.runtime``, the collector tuned once startup is built (:mod:`.collector`), the role's jobs running
    (:func:`~valorize_entrypoints.roles.jobs_for`), resources released at the end."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        runtime = app.state.runtime = await container.runtime()
        tune_collector(container.settings().gc_threshold)
        try:
            async with running(jobs_for(container.role(), container.settings(), runtime=runtime)):
                yield
        finally:
            await shutdown(container)

    return lifespan
