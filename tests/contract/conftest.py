"""Fixtures for the contract suites: a pool on the session's PostgreSQL (see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from valorize_adapters.postgres import PostgresBackend
from valorize_core.testing.loop import run


@pytest.fixture(scope="session")
def pg_backend(database_url: str) -> Iterator[PostgresBackend]:
    backend = run(PostgresBackend.open(database_url, min_size=1, max_size=4))
    yield backend
    run(backend.close())
