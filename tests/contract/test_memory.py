"""The contract suites against the in-memory adapters."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from valorize_adapters.memory import InMemoryBackend, InMemoryCache, InMemoryEventBus
from valorize_adapters.memory.idempotency import InMemoryIdempotencyStore
from valorize_core.ports.cache import Cache
from valorize_core.ports.idempotency import IdempotencyStore
from valorize_core.testing.contracts import AllRepositoryContracts, CacheContract, EventBusContract, IdempotencyContract
from valorize_core.use_cases.context import Ports


class TestMemoryAdapters(AllRepositoryContracts):
    @pytest.fixture
    def backend(self) -> InMemoryBackend:
        return InMemoryBackend()

    @pytest.fixture
    def ports(self, backend: InMemoryBackend) -> Ports:
        return backend.ports

    @pytest.fixture
    def outbox(self, backend: InMemoryBackend) -> Callable[[uuid.UUID], set[uuid.UUID]]:
        return lambda tenant: {e.event_id for e in backend.store.outbox if e.tenant_id == tenant}


class TestMemoryCache(CacheContract):
    @pytest.fixture
    def cache(self) -> Cache:
        return InMemoryCache()


class TestMemoryIdempotency(IdempotencyContract):
    @pytest.fixture
    def backend(self) -> InMemoryBackend:
        return InMemoryBackend()

    @pytest.fixture
    def ports(self, backend: InMemoryBackend) -> Ports:
        return backend.ports

    @pytest.fixture
    def idempotency(self, backend: InMemoryBackend) -> IdempotencyStore:
        return InMemoryIdempotencyStore(backend.store)  # the store its units mark keys in


class TestMemoryEventBus(EventBusContract):
    @pytest.fixture
    def bus(self) -> InMemoryEventBus:
        return InMemoryEventBus()
