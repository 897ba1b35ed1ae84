"""Fixtures for the contract suites: the in-memory adapters and a real PostgreSQL + pgvector.

PostgreSQL comes from ``VALORIZE_TEST_DATABASE_URL`` when set, else from an embedded server
(the ``pgserver`` package) started for the session in a temporary directory.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_core.testing.loop import run


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("VALORIZE_TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")), delete_on_stop=True)
    yield server.start()
    server.stop()


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
