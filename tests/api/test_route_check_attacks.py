"""Adversarial tests of the route checks run as the app's ``before_request`` hook
(api/route_checks.py) instead of Litestar guards: the hook must refuse whatever the guards
refused, on every way into a route, with RFC 9457 problem details."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.api.route_checks import check_route, require_http_routes
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture
def client() -> Iterator[TestClient[Any]]:
    container = Container()
    container.settings.override(Settings(backend="memory", log_json=True))
    with TestClient(create_app(container, include_worker=True), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/accounts", 401),
        ("GET", "/api/accounts?zz_unknown=1", 401),  # access before the query check
        ("HEAD", "/api/accounts", 405),
        ("TRACE", "/api/accounts", 405),
        ("DELETE", "/api/accounts", 405),
        ("GET", "/api/nowhere", 404),
        ("GET", "/health?zz_unknown=1", 422),
        ("POST", "/tasks/run?zz_unknown=1", 422),  # the worker's routes, mounted in one process
        ("GET", "/schema/openapi.json?zz_unknown=1", 422),
    ],
)
def test_refusals_on_every_way_in_are_problem_details(
    client: TestClient[Any], method: str, path: str, status: int
) -> None:
    response = client.request(method, path, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_options_answers_the_allowed_methods_without_a_token(client: TestClient[Any]) -> None:
    response = client.options("/api/accounts")
    assert response.status_code == 204
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["allow"].split(",")}


_KEY = "x-let-me-in"


async def _needs_key(request: Request[Any, Any, Any]) -> None:
    if request.headers.get(_KEY) != "yes":
        raise NotAuthorizedException("no key")


async def _needs_key_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.headers.get(_KEY) != "yes":
        raise NotAuthorizedException("no key")


@get("/cached", cache=60, sync_to_thread=False)
def _cached() -> str:
    return "a tenant's data"


def test_a_guard_refuses_what_litestars_response_cache_holds() -> None:
    """With a guard (the old way), a caller without the key is refused even when the answer is
    in Litestar's response cache: guards run before the cache lookup."""
    with TestClient(Litestar([_cached], guards=[_needs_key_guard])) as c:
        assert c.get("/cached", headers={_KEY: "yes"}).status_code == 200
        assert c.get("/cached").status_code == 401


def test_routes_with_litestars_response_cache_are_refused() -> None:
    """No route uses Litestar's ``cache=`` today; one that did would skip the hook on a cache
    hit (an anonymous caller gets what the owner was answered), so the app must refuse it as it
    refuses a websocket or a handler with its own hook."""
    app = Litestar([_cached], before_request=check_route)
    with TestClient(Litestar([_cached], before_request=_needs_key)) as c:
        assert c.get("/cached", headers={_KEY: "yes"}).status_code == 200
        leaked = c.get("/cached").status_code
    # Why the refusal: served from the cache, the hook skipped (were Litestar to run the hook
    # before its cache lookup, this would be 401 and the refusal could go).
    assert leaked == 200
    with pytest.raises(ValueError, match="/cached"):
        require_http_routes(app)
