"""HTTP tests through Litestar's test client, against the memory and the PostgreSQL containers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api
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
    container = Container()
    container.settings.override(settings)
    with TestClient(create_app(container), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient[Any]) -> Api:
    return Api(client)
