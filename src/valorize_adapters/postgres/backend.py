"""Everything on PostgreSQL, wired: pool, migrations, ports and the ready :class:`Valorize`."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.embedders.hashing import HashingEmbedder
from valorize_adapters.patterns import default_pattern_engine
from valorize_adapters.postgres.audit import PgAuditSource
from valorize_adapters.postgres.migrate import migrate
from valorize_adapters.postgres.pool import APP_ROLE, open_pool
from valorize_adapters.postgres.unit_of_work import PgScheduleDirectory, PostgresDirectory, PostgresUnitOfWorkFactory
from valorize_adapters.postgres.vector_index import VectorSettings, ensure_vector_index
from valorize_adapters.recurrence import default_recurrence_engine
from valorize_adapters.system import SystemClock, TimeOrderedIds
from valorize_core.app import Valorize
from valorize_core.ports.clock import Clock
from valorize_core.ports.embedder import Embedder
from valorize_core.ports.ids import IdGenerator
from valorize_core.ports.patterns import PatternEngine
from valorize_core.use_cases.context import Ports

__all__ = ["PostgresBackend"]


class PostgresBackend:
    """Opened with :meth:`open`, closed with :meth:`close` (or ``async with``)."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]], ports: Ports) -> None:
        self.pool = pool
        self.ports = ports
        self.app = Valorize(ports)
        self.audit = PgAuditSource(pool)
        self.schedules = PgScheduleDirectory(pool)  # which tenants have occurrences due

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        run_migrations: bool = True,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        dimensions: int = 256,
        min_size: int = 1,
        max_size: int = 10,
        role: str | None = APP_ROLE,
        pool_timeout: float = 2.0,
        embedder: Embedder | None = None,
        patterns: PatternEngine | None = None,
    ) -> PostgresBackend:
        """Migrate (unless told not to), open the pool and wire every port. The embedder
        (default: hashing into ``dimensions``) sets the vector size; ``patterns`` (default: RE2
        when installed) compiles the regular expressions of rules, stored ones included.
        ``pool_timeout``: the longest wait for a connection before ``Unavailable``."""
        if run_migrations:
            await migrate(url)
        embedder = embedder or HashingEmbedder(dimensions)
        dimensions = embedder.dimensions
        if dimensions != 256:
            await ensure_vector_index(url, dimensions)
        pool = await open_pool(url, min_size=min_size, max_size=max_size, role=role, wait=pool_timeout)
        patterns = patterns or default_pattern_engine()
        ports = Ports(
            uow=PostgresUnitOfWorkFactory(pool, VectorSettings(dimensions), patterns),
            clock=clock or SystemClock(),
            ids=ids or TimeOrderedIds(),
            directory=PostgresDirectory(pool),
            embedder=embedder,
            patterns=patterns,
            recurrence=default_recurrence_engine(),
        )
        return cls(pool, ports)

    async def close(self) -> None:
        """Close the pool."""
        await self.pool.close()

    async def __aenter__(self) -> PostgresBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
