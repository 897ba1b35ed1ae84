"""The contract suites against PostgreSQL + pgvector."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from conftest import pg_outbox
from valorize_adapters.postgres import PostgresBackend
from valorize_core.context import Ports
from valorize_core.testing.contracts import AllRepositoryContracts


class TestPostgresAdapters(AllRepositoryContracts):
    @pytest.fixture
    def ports(self, pg_backend: PostgresBackend) -> Ports:
        return pg_backend.ports

    @pytest.fixture
    def outbox(self, pg_backend: PostgresBackend) -> Callable[[uuid.UUID], set[uuid.UUID]]:
        return pg_outbox(pg_backend)
