"""What ``valorize verify`` reads on PostgreSQL: each tenant's books in one snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

import psycopg
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres import rows as mapping
from valorize_adapters.postgres.outbox import event_of_row
from valorize_adapters.postgres.repositories import PgAccounts
from valorize_adapters.postgres.session import Session
from valorize_core.model.events import DomainEvent
from valorize_core.ports.audit import Books

__all__ = ["PgAuditSource"]

# A whole tenant's transactions with their splits grouped in one pass (a hash join), not a
# subquery per row: the audit's time grows with the rows, whatever the planner knows.
_BOOKS: LiteralString = (
    "SELECT " + mapping.TRANSACTION_FIELDS + ", g.splits FROM transactions t LEFT JOIN"
    " (SELECT s.transaction_id, " + mapping.SPLITS_JSON + " AS splits FROM splits s WHERE s.tenant_id = %s"
    "  GROUP BY s.transaction_id) g ON g.transaction_id = t.id"
    " WHERE t.tenant_id = %s ORDER BY t.booked_on, t.id"
)


class PgAuditSource:
    """Reads as the tenant (row-level security on) in read-only ``REPEATABLE READ``
    transactions: accounts and transactions come from the same snapshot, so writes committed
    in between can neither fake nor hide a break."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]) -> None:
        self._pool = pool

    async def tenant_ids(self) -> list[UUID]:
        async with self._pool.connection() as conn:
            s = Session(conn, None, scope="directory")
            try:
                rows = await s.fetch("SELECT id FROM tenants ORDER BY created_at, id")
            finally:
                await s.end()
        return [r["id"] for r in rows]

    async def books(self, tenant_id: UUID) -> Books:
        async with self._pool.connection() as conn:
            s = Session(conn, tenant_id, snapshot=True)
            try:
                accounts = await PgAccounts(s).list()
                transactions = [mapping.transaction(r) for r in await s.fetch(_BOOKS, (tenant_id, tenant_id))]
            finally:
                await s.end()
        return Books(tuple(accounts), tuple(transactions))

    async def unpublished(self, tenant_id: UUID, occurred_before: datetime) -> list[DomainEvent]:
        async with self._pool.connection() as conn:
            s = Session(conn, tenant_id)
            try:
                rows = await s.fetch(
                    "SELECT id, tenant_id, name, occurred_at, payload, correlation_id FROM outbox"
                    " WHERE tenant_id = %s AND published_at IS NULL AND occurred_at < %s ORDER BY seq",
                    (tenant_id, occurred_before),
                )
            finally:
                await s.end()
        return [event_of_row(r) for r in rows]
