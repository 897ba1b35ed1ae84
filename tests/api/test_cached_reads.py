"""Cached reads answered before the route runs (api/fast_reads.py), from the in-process cache
and from a real Redis with the near cache: the same answers, the same authentication, and
nothing the route would refuse."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_entrypoints.api import caching, create_app
from valorize_entrypoints.api.controllers import budgets
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@pytest.fixture(params=["in-process", "redis"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient[Any]]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    container = Container()
    container.settings.override(Settings(backend="memory", redis_url=redis_url, log_json=True))
    with TestClient(create_app(container), raise_server_exceptions=False) as test_client:
        near = test_client.app.state.runtime.reads.near
        deadline = time.monotonic() + 5
        while near is not None and not near.live and time.monotonic() < deadline:
            time.sleep(0.01)
        assert near is None or near.live
        yield test_client


def hits(client: Any) -> int:
    stats = client.app.state.runtime.reads.stats
    return int(stats.hits + stats.near_hits)


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the reads that reached their route (the rest were answered before it)."""
    seen: list[str] = []
    original = caching.cached_json

    async def counting(runtime: Any, actor: Any, name: str, key: str, compute: Any, **kw: Any) -> Any:
        seen.append(f"{name} {key}")
        return await original(runtime, actor, name, key, compute, **kw)

    monkeypatch.setattr(caching, "cached_json", counting)
    monkeypatch.setattr(budgets, "cached_json", counting)
    return seen


def test_a_repeated_read_is_answered_before_the_route_with_the_same_response(client: Any, routed: list[str]) -> None:
    api = Api(client)
    account = api.account()
    api.tx(account, "2026-03-01", "Padaria", "-12.50")
    path = f"/api/transactions?account_id={account}&limit=10"
    first, second, third = (api.get(path) for _ in range(3))

    assert routed == [f"transactions /api/transactions?account_id={account}&limit=10"]
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.content == second.content == third.content
    assert [i["description"] for i in second.json()["items"]] == ["Padaria"]
    for name in ("content-type", "content-length"):
        assert first.headers[name] == second.headers[name]
    assert second.headers["x-request-id"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert hits(client) == 2


def test_a_write_retires_the_page_at_once(client: Any, routed: list[str]) -> None:
    api = Api(client)
    account = api.account()
    path = f"/api/transactions?account_id={account}"
    assert api.get(path).json()["items"] == []
    assert api.get(path).json()["items"] == []  # from memory
    api.tx(account, "2026-03-01", "Mercado", "-80.00")
    assert [i["description"] for i in api.get(path).json()["items"]] == ["Mercado"]
    balances = [api.get("/api/accounts").json()[0]["balance"]["amount"] for _ in range(2)]
    assert balances == ["920.00", "920.00"]
    assert len(routed) == 3  # the first list, the list after the write, the accounts


def test_a_revoked_token_is_refused_even_for_a_page_in_memory(client: Any) -> None:
    api = Api(client)
    second = api.post("/api/tokens", {"name": "phone", "role": "viewer"}).json()
    phone = {"Authorization": f"Bearer {second['token']}"}
    assert client.get("/api/accounts", headers=phone).status_code == 200
    assert client.get("/api/accounts", headers=phone).status_code == 200  # from memory
    assert api.post(f"/api/tokens/{second['details']['id']}/revoke").status_code == 200
    refused = client.get("/api/accounts", headers=phone)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="valorize"'
    assert client.get("/api/accounts").status_code == 401
    assert client.get("/api/accounts", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_same_request_from_another_tenant_gets_its_own_page(client: Any) -> None:
    ana, bia = Api(client), Api(client)
    ana.account("Ana's")
    assert [a["name"] for a in ana.get("/api/accounts").json()] == ["Ana's"]
    assert [a["name"] for a in ana.get("/api/accounts").json()] == ["Ana's"]
    assert bia.get("/api/accounts").json() == []
    assert bia.get("/api/accounts").json() == []


def test_a_request_the_route_refuses_is_refused_every_time(client: Any, routed: list[str]) -> None:
    api = Api(client)
    for query in ("limit=0", "limit=abc", "account_id=not-a-uuid", "limit=0"):
        response = api.get(f"/api/transactions?{query}")
        assert response.status_code == 422, response.text
    assert routed == []  # refused while parsing the parameters, never computed nor stored
    assert hits(client) == 0


def test_the_access_log_names_the_tenant_of_a_read_from_memory(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    api = Api(client)
    api.get("/api/accounts")
    with caplog.at_level(logging.INFO, logger="valorize.access"):
        response = api.get("/api/accounts?include_archived=true")
        response = api.get("/api/accounts?include_archived=true")
    fields = [r.__dict__["fields"] for r in caplog.records if r.name == "valorize.access"]
    assert fields[-1]["tenant_id"] == api.tenant_id
    assert fields[-1]["status"] == 200
    assert fields[-1]["request_id"] == response.headers["x-request-id"]
    assert json.loads(response.content) == []


def test_reports_are_read_from_memory_and_the_budget_status_by_its_day(client: Any, routed: list[str]) -> None:
    api = Api(client)
    for _ in range(2):
        assert api.get("/api/reports/cash_flow?start=2026-01-01&end=2026-03-31").status_code == 200
        assert api.get("/api/budgets/status?day=2026-03-01").status_code == 200
    assert routed == [
        "report /api/reports/cash_flow?start=2026-01-01&end=2026-03-31",
        "budget_status 2026-03-01",
        "budget_status 2026-03-01",  # through the route (keyed by its day, not by the request): a hit there
    ]
