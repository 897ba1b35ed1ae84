"""The cache and event-bus contracts against a real Redis server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from valorize_adapters.redis import RedisCache, RedisEventBus, redis_client
from valorize_core.ports.cache import Cache
from valorize_core.testing.contracts import CacheContract, EventBusContract
from valorize_core.testing.loop import run


@pytest.fixture
def client(redis_url: str) -> Iterator[object]:
    made = redis_client(redis_url)
    yield made
    run(made.aclose())


class TestRedisCache(CacheContract):
    @pytest.fixture
    def cache(self, client: object) -> Cache:
        return RedisCache(client, prefix="contract")  # type: ignore[arg-type]


class TestRedisEventBus(EventBusContract):
    @pytest.fixture
    def bus(self, client: object) -> RedisEventBus:
        return RedisEventBus(client, prefix="contract")  # type: ignore[arg-type]
