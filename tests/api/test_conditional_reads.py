"""Cached reads carry an ETag; If-None-Match naming it gets 304 without the body, whether the
read is served before the route (a hit) or by it (a miss), and never once the page changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture(params=["in-process", "redis"])
def cached(request: pytest.FixtureRequest) -> Iterator[TestClient[Any]]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    container = Container()
    container.settings.override(Settings(backend="memory", redis_url=redis_url, log_json=True))
    with TestClient(create_app(container)) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/transactions?limit=5", "/api/accounts", "/api/budgets/status"])
def test_a_cached_read_is_revalidated_by_its_etag(cached: TestClient[Any], path: str) -> None:
    api = Api(cached)
    account = api.account()
    assert api.tx(account, "2026-03-01", "PADARIA", "-5.00").status_code == 201

    first = api.get(path)  # a miss: computed by the route
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert tag.startswith('"')
    assert tag.endswith('"')

    again = api.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert api.get(path, headers={"If-None-Match": f'"other", W/{tag}'}).status_code == 304
    hit = api.get(path, headers={"If-None-Match": '"other"'})  # a hit: before the route
    assert (hit.status_code, hit.content, hit.headers["etag"]) == (200, first.content, tag)

    assert api.tx(account, "2026-03-02", "MERCADO", "-7.00").status_code == 201
    changed = api.get(path, headers={"If-None-Match": tag})  # the write retired the page
    assert changed.status_code == 200  # the tag names the versions: a retired page has a new one
    assert changed.headers["etag"] != tag
    if "budgets" not in path:  # (no budget: the status is the same bytes again)
        assert changed.content != first.content


def test_another_tenant_never_gets_a_304_for_a_page_it_cannot_read(cached: TestClient[Any]) -> None:
    owner, stranger = Api(cached), Api(cached)
    owner.account()
    tag = owner.get("/api/accounts").headers["etag"]
    assert owner.get("/api/accounts", headers={"If-None-Match": tag}).status_code == 304
    assert cached.get("/api/accounts", headers={"If-None-Match": tag}).status_code == 401
    theirs = stranger.get("/api/accounts", headers={"If-None-Match": tag})
    assert theirs.status_code == 200
    assert theirs.json() == []
