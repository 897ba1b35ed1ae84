"""Fixtures for the contract suites: a pool on the session's PostgreSQL (see tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_core.testing.loop import run


@pytest.fixture(scope="session")
def pg_backend(database_url: str) -> Iterator[PostgresBackend]:
    backend = run(PostgresBackend.open(database_url, min_size=1, max_size=4))
    yield backend
    run(backend.close())


def pg_outbox(backend: PostgresBackend) -> Callable[[uuid.UUID], set[uuid.UUID]]:
    async def read(tenant: uuid.UUID) -> set[uuid.UUID]:
        async with backend.pool.connection() as conn:
            session = Session(conn, tenant)
            rows = await session.fetch("SELECT id FROM outbox WHERE tenant_id = %s", (tenant,))
            await session.rollback()
            return {r["id"] for r in rows}

    return lambda tenant: run(read(tenant))
