"""The contract suites against PostgreSQL + pgvector."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from pg_support import pg_outbox

from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.idempotency import PgIdempotencyStore
from valorize_core.ports.idempotency import IdempotencyStore
from valorize_core.testing.contracts import AllRepositoryContracts, IdempotencyContract
from valorize_core.use_cases.context import Ports


class TestPostgresAdapters(AllRepositoryContracts):
    @pytest.fixture
    def ports(self, pg_backend: PostgresBackend) -> Ports:
        return pg_backend.ports

    @pytest.fixture
    def outbox(self, pg_backend: PostgresBackend) -> Callable[[uuid.UUID], set[uuid.UUID]]:
        return pg_outbox(pg_backend)


class TestPostgresIdempotency(IdempotencyContract):
    @pytest.fixture
    def ports(self, pg_backend: PostgresBackend) -> Ports:
        return pg_backend.ports

    @pytest.fixture
    def idempotency(self, pg_backend: PostgresBackend) -> IdempotencyStore:
        return PgIdempotencyStore(pg_backend.pool)
