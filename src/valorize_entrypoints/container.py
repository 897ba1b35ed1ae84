"""The composition root: the only place that knows which adapter serves which port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from dependency_injector import containers, providers

from valorize_adapters.memory import InMemoryBackend
from valorize_adapters.memory.idempotency import InMemoryIdempotencyStore
from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend
from valorize_adapters.postgres.idempotency import PgIdempotencyStore
from valorize_core.app import Valorize
from valorize_core.ports.idempotency import IdempotencyStore
from valorize_entrypoints.settings import Settings

__all__ = ["Container", "Runtime", "shutdown"]


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
    ) -> None:
        self.app = app
        self.idempotency = idempotency
        self.database_url = database_url
        self.backend = backend

    async def ready(self) -> bool:
        """True when the source of truth answers."""
        if isinstance(self.backend, PostgresBackend):
            async with self.backend.pool.connection() as conn:
                await conn.execute("SELECT 1")
                await conn.rollback()
        return True


async def _memory(settings: Settings) -> AsyncIterator[Runtime]:
    backend = InMemoryBackend(dimensions=settings.embedding_dimensions)
    yield Runtime(backend.app, InMemoryIdempotencyStore(), None, backend)


async def _postgres(settings: Settings) -> AsyncIterator[Runtime]:
    embedded = None
    url = settings.database_url
    if not url:
        embedded = EmbeddedPostgres(Path(settings.data_dir) / "postgres")
        url = embedded.start()
    backend = await PostgresBackend.open(
        url,
        run_migrations=settings.run_migrations,
        dimensions=settings.embedding_dimensions,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        role=settings.db_role or None,
    )
    try:
        yield Runtime(backend.app, PgIdempotencyStore(backend.pool), url, backend)
    finally:
        await backend.close()
        if embedded is not None:
            embedded.stop()


class Container(containers.DeclarativeContainer):
    """Settings → backend resource → runtime. Override ``settings`` in tests."""

    settings = providers.Singleton(Settings.from_env)
    runtime = providers.Selector(
        providers.Callable(lambda s: s.backend, settings),
        memory=providers.Resource(_memory, settings),
        postgres=providers.Resource(_postgres, settings),
    )


async def shutdown(container: Container) -> None:
    """Release the container's resources (the pool, the embedded server)."""
    pending = container.shutdown_resources()
    if pending is not None:
        await pending
