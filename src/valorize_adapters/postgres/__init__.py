"""PostgreSQL + pgvector adapters: repositories, the unit of work with its outbox, migrations,
row-level security, the vector index, and an embedded server for zero-setup runs."""

from valorize_adapters.postgres.backend import PostgresBackend
from valorize_adapters.postgres.embedded import EmbeddedPostgres
from valorize_adapters.postgres.migrate import migrate
from valorize_adapters.postgres.unit_of_work import (
    PostgresDirectory,
    PostgresUnitOfWork,
    PostgresUnitOfWorkFactory,
)
from valorize_adapters.postgres.vector_index import PgExamples, VectorSettings

__all__ = [
    "EmbeddedPostgres",
    "PgExamples",
    "PostgresBackend",
    "PostgresDirectory",
    "PostgresUnitOfWork",
    "PostgresUnitOfWorkFactory",
    "VectorSettings",
    "migrate",
]
