"""HTTP tests through Litestar's test client, against the memory and the PostgreSQL containers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api, app_client
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture(params=["memory", "postgres"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient[Any]]:
    if request.param == "memory":
        settings = Settings(backend="memory", log_json=True)
    else:
        url = request.getfixturevalue("database_url")
        settings = Settings(backend="postgres", database_url=url, db_pool_max=4)
    with app_client(settings) as test_client:
        yield test_client


@pytest.fixture
def cached(database_url: str, redis_url: str) -> Iterator[TestClient[Any]]:
    """The API on the session's PostgreSQL with a real Redis: reads cached near (in the process)
    and in Redis, retired by the writes and imports that change them."""
    settings = Settings(backend="postgres", database_url=database_url, db_pool_max=4, redis_url=redis_url)
    with app_client(settings) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient[Any]) -> Api:
    return Api(client)


@pytest.fixture
def worker_client() -> Iterator[TestClient[Any]]:
    """The API with the worker's routes (``/tasks``, ``/schedules/tick``) on the memory backend,
    trusting the worker secret ``s3cret``; a server error raises in the test."""
    container = Container()
    container.settings.override(Settings(backend="memory", worker_secret="s3cret"))
    with TestClient(create_app(container, include_worker=True)) as client:
        yield client
