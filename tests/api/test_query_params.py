"""Every route refuses query parameters it does not declare (422), instead of ignoring them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.api.policy import POLICY, Access
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture
def memory_api() -> Iterator[Api]:
    container = Container()
    container.settings.override(Settings(backend="memory", log_json=True))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield Api(client)


def _refused(response: Any, name: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_error"
    assert {"field": f"query.{name}", "message": "unknown query parameter"} in body["errors"]


def test_a_misspelt_filter_is_422_not_every_transaction(memory_api: Api) -> None:
    account = memory_api.account()
    assert memory_api.tx(account, "2026-01-02", "Padaria", "-10.00").status_code == 201
    _refused(memory_api.get("/api/transactions", params={"acount_id": account}), "acount_id")
    # the declared ones still work, and several values of one declared name too
    ok = memory_api.get("/api/transactions", params={"account_id": account, "limit": 10})
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["items"]) == 1


@pytest.mark.parametrize(
    "key",
    sorted(k for k, access in POLICY.items() if k.startswith("GET /api/") and access is not Access.PUSHER),
)
def test_every_read_route_refuses_an_unknown_parameter(memory_api: Api, key: str) -> None:
    path = re.sub(r"\{(\w+)\}", lambda m: "net_worth" if m.group(1) == "kind" else str(uuid.uuid4()), key[4:])
    _refused(memory_api.get(path, params={"zz_unknown": "1"}), "zz_unknown")


def test_writes_refuse_unknown_parameters_too(memory_api: Api) -> None:
    response = memory_api.post("/api/accounts?dry_run=true", {"name": "A", "kind": "cash", "currency": "BRL"})
    _refused(response, "dry_run")
    assert "A" not in memory_api.get("/api/accounts").text  # nothing was written


def test_authentication_comes_before_the_query(memory_api: Api) -> None:
    response = memory_api.client.get("/api/transactions?zz_unknown=1")
    assert response.status_code == 401


def test_public_routes_refuse_unknown_parameters(memory_api: Api) -> None:
    _refused(memory_api.client.get("/health?verbose=1"), "verbose")


def test_the_names_a_route_takes_are_worked_out_once_per_route(
    memory_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Litestar gives each guard a fresh copy of the handler: the names must be kept by the
    route's own handler, not worked out again from its signature on every request (a sixth of a
    cache miss's CPU, perf/README.md)."""
    account = memory_api.account()
    assert memory_api.get("/api/transactions", params={"account_id": account}).status_code == 200
    built = 0
    build = HTTPRouteHandler.create_kwargs_model

    def counted(self: HTTPRouteHandler, *args: Any, **kwargs: Any) -> Any:
        nonlocal built
        built += 1
        return build(self, *args, **kwargs)

    monkeypatch.setattr(HTTPRouteHandler, "create_kwargs_model", counted)
    for _ in range(3):
        assert memory_api.get("/api/transactions", params={"account_id": account}).status_code == 200
    _refused(memory_api.get("/api/transactions", params={"acount_id": account}), "acount_id")
    assert built == 0
