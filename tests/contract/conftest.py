"""Fixtures for the contract suites: a pool on the session's PostgreSQL (see tests/conftest.py), and
realtime backplanes on the session's Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from valorize_adapters.memory import ManualClock
from valorize_adapters.memory.backend import InMemoryBackend
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.session import Session
from valorize_adapters.pusher.backplane import RedisBackplane
from valorize_core.app import Valorize
from valorize_core.testing.ids import SeededIds
from valorize_core.testing.loop import run


@pytest.fixture(scope="session")
def pg_backend(database_url: str) -> Iterator[PostgresBackend]:
    backend = run(PostgresBackend.open(database_url, min_size=1, max_size=4))
    yield backend
    run(backend.close())


@pytest.fixture(params=["memory", "postgres"])
def app(request: pytest.FixtureRequest) -> Valorize:
    """The application on each adapter in turn: a fresh memory store (a manual clock, seeded ids),
    then the session's PostgreSQL (tests make their own tenants)."""
    if request.param == "memory":
        return InMemoryBackend(ManualClock(), SeededIds(uuid.uuid4().int >> 64, int(time.time() * 1000))).app
    backend: PostgresBackend = request.getfixturevalue("pg_backend")
    return backend.app


@pytest.fixture
def redis_backplanes(redis_url: str) -> Callable[[], Awaitable[RedisBackplane]]:
    """Makes started Redis backplanes (a 3 s liveness) under a key prefix of the test's own: the
    instances of one test share their channels, presence and occupancy, no other test's."""
    prefix = f"t{uuid.uuid4().hex[:8]}"

    async def make() -> RedisBackplane:
        backplane = RedisBackplane.from_url(redis_url, prefix=prefix, ttl=3)
        await backplane.start()
        return backplane

    return make


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first 60 characters of every statement a PostgreSQL session fetches or executes, in order."""
    sent: list[str] = []
    for name in ("fetch", "execute", "execute_many"):
        method = getattr(Session, name)

        async def counted(self: Session, query: Any, *args: Any, _method: Any = method, **kw: Any) -> Any:
            sent.append(str(query)[:60])
            return await _method(self, query, *args, **kw)

        monkeypatch.setattr(Session, name, counted)
    return sent
