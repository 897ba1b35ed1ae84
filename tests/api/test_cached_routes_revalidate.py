"""Every cached GET answers ``If-None-Match`` with ``304``: the test walks every GET route of the
app (the authorization matrix's tenant and requests), finds those that consult the read cache —
marked with ``cached_read`` or calling ``cached_json`` themselves — and revalidates each by the
tag it sent. A route that reads through the cache without a tag, or ignores the tag, fails here
whichever way it was wired; a marked route that does not consult the cache fails too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from test_authorization import BODIES, _fill, build_world

from valorize_core.runtime.caching import CacheStats
from valorize_entrypoints.api import create_app
from valorize_entrypoints.api.caching import CACHED_READ
from valorize_entrypoints.api.policy import route_keys
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture(params=["in-process", "redis"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient[Any]]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    container = Container()
    container.settings.override(Settings(backend="memory", redis_url=redis_url, log_json=True))
    with TestClient(create_app(container, include_worker=True), raise_server_exceptions=False) as test_client:
        yield test_client


def lookups(stats: CacheStats) -> int:
    return stats.hits + stats.near_hits + stats.misses + stats.early_refreshes + stats.bypasses


def test_every_cached_read_is_revalidated_by_its_etag(client: TestClient[Any]) -> None:
    world = build_world(client)
    stats = client.app.state.runtime.reads.stats
    auth = {"Authorization": f"Bearer {world.tokens['owner']}"}
    cached: list[str] = []
    for key, handler in route_keys(client.app):
        method, template = key.split(" ", 1)
        if method != "GET":
            continue
        path = _fill(template, world.ids)
        kw = BODIES[key](world.ids) if key in BODIES else {}
        before = lookups(stats)
        first = client.get(path, headers=auth, **kw)
        if lookups(stats) == before:
            assert not handler.opt.get(CACHED_READ), f"{key} is marked cached but did not consult the cache"
            continue
        cached.append(key)
        assert first.status_code == 200, (key, first.text)
        tag = first.headers.get("etag")
        assert tag, f"{key}: a cached read without an ETag"
        again = client.get(path, headers={**auth, "If-None-Match": tag}, **kw)
        assert (again.status_code, again.content, again.headers.get("etag")) == (304, b"", tag), key
        other = client.get(path, headers={**auth, "If-None-Match": '"not-it"'}, **kw)
        assert (other.status_code, other.content) == (200, first.content), key
    marked = {key for key, handler in route_keys(client.app) if handler.opt.get(CACHED_READ)}
    assert marked <= set(cached)
    # what the walk found: the three marked reads and the budget status (keyed by its day)
    assert sorted(cached) == sorted(marked | {"GET /api/budgets/status"})
