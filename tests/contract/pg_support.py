"""Helpers for the PostgreSQL contract tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, LiteralString

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_core.testing.loop import run


async def tenant_rows(
    backend: PostgresBackend, tenant: uuid.UUID, query: LiteralString, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """The rows of ``query`` read as ``tenant`` (row-level security on), in a transaction that
    is rolled back."""
    async with backend.pool.connection() as conn:
        session = Session(conn, tenant)
        try:
            return await session.fetch(query, params)
        finally:
            await session.rollback()


def pg_outbox(backend: PostgresBackend) -> Callable[[uuid.UUID], set[uuid.UUID]]:
    async def read(tenant: uuid.UUID) -> set[uuid.UUID]:
        rows = await tenant_rows(backend, tenant, "SELECT id FROM outbox WHERE tenant_id = %s", (tenant,))
        return {r["id"] for r in rows}

    return lambda tenant: run(read(tenant))
