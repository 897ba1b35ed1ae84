"""HTTP tests through Litestar's test client, against the memory and the PostgreSQL containers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api, app_client
from litestar.testing import TestClient

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
