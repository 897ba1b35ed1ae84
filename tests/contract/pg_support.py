"""Helpers for the PostgreSQL contract tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_core.testing.loop import run


def pg_outbox(backend: PostgresBackend) -> Callable[[uuid.UUID], set[uuid.UUID]]:
    async def read(tenant: uuid.UUID) -> set[uuid.UUID]:
        async with backend.pool.connection() as conn:
            session = Session(conn, tenant)
            rows = await session.fetch("SELECT id FROM outbox WHERE tenant_id = %s", (tenant,))
            await session.rollback()
            return {r["id"] for r in rows}

    return lambda tenant: run(read(tenant))
