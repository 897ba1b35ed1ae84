"""Rate limits per token and per address for failed authentication, in process and in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api
from litestar.testing import TestClient

from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

PER_TOKEN, FAILED_AUTH = 5, 3


def _client(settings: Settings) -> TestClient[Any]:
    container = Container()
    container.settings.override(settings)
    return TestClient(create_app(container), raise_server_exceptions=False)


@pytest.fixture(params=["in-process", "redis"])
def limited(request: pytest.FixtureRequest) -> Iterator[TestClient[Any]]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    settings = Settings(
        backend="memory", redis_url=redis_url,
        rate_limit_per_token=f"{PER_TOKEN}/minute", rate_limit_failed_auth=f"{FAILED_AUTH}/minute",
    )  # fmt: skip
    with _client(settings) as client:
        # The session's Redis is shared: start from no counts (the test client's address is fixed).
        client.blocking_portal.call(client.app.state.runtime.rate_limits.storage.reset)
        yield client


def _assert_limited(response: Any, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "rate_limited"
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(response.headers["ratelimit-reset"]) <= 60
    assert response.headers["retry-after"] == response.headers["ratelimit-reset"]


def test_a_token_over_its_limit_gets_429_and_another_token_does_not(limited: TestClient[Any]) -> None:
    first, second = Api(limited), Api(limited)
    for _ in range(PER_TOKEN):
        assert first.get("/api/accounts").status_code == 200  # a cached read after the first
    _assert_limited(first.get("/api/accounts"), PER_TOKEN)
    _assert_limited(first.post("/api/accounts", {"name": "A", "kind": "cash", "currency": "BRL"}), PER_TOKEN)
    assert second.get("/api/accounts").status_code == 200
    assert first.get("/api/accounts", headers={"Authorization": f"Bearer {second.token}"}).status_code == 200


def test_failed_authentication_from_an_address_gets_429_after_the_limit(limited: TestClient[Any]) -> None:
    api = Api(limited)
    wrong = {"Authorization": "Bearer vz_not-a-token"}
    for _ in range(FAILED_AUTH):
        assert limited.get("/api/accounts", headers=wrong).status_code == 401
    _assert_limited(limited.get("/api/accounts", headers=wrong), FAILED_AUTH)
    _assert_limited(limited.get("/api/transactions", headers={"Authorization": "Basic eDp5"}), FAILED_AUTH)
    # A valid token from the same address is not affected, nor are requests without credentials.
    assert api.get("/api/accounts").status_code == 200
    for _ in range(FAILED_AUTH + 1):
        assert limited.get("/api/accounts").status_code == 401
        assert limited.get("/health").status_code == 200


def test_limits_off_never_refuse() -> None:
    with _client(Settings(backend="memory", rate_limit_per_token="off", rate_limit_failed_auth="off")) as client:
        api = Api(client)
        for _ in range(50):
            assert api.get("/api/accounts").status_code == 200
            assert client.get("/api/accounts", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_with_redis_down_requests_are_served_not_refused(redis_server: Any) -> None:
    settings = Settings(backend="memory", redis_url=redis_server.url, cache=False, rate_limit_per_token="1/minute")
    with _client(settings) as client:
        api = Api(client)
        redis_server.stop()
        assert api.get("/api/accounts").status_code == 200
        assert api.get("/api/accounts").status_code == 200  # over the limit, but it cannot be counted


@pytest.mark.parametrize("value", ["lots", "5/fortnight", "-1/minute"])
def test_a_malformed_limit_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="VALORIZE_RATE_LIMIT_PER_TOKEN"):
        Settings.from_env({"VALORIZE_RATE_LIMIT_PER_TOKEN": value})
