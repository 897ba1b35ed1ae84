"""The outbox on PostgreSQL, read across tenants in the relay's row-security scope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.session import Session
from valorize_core.events import DomainEvent, event_from_record

__all__ = ["PgOutbox", "event_of_row"]


def event_of_row(r: dict[str, Any]) -> DomainEvent:
    """The event an ``outbox`` row holds."""
    return event_from_record(
        {
            "id": str(r["id"]),
            "tenant_id": str(r["tenant_id"]),
            "name": r["name"],
            "occurred_at": r["occurred_at"].isoformat(),
            "payload": r["payload"],
            "correlation_id": r["correlation_id"],
        }
    )


class PgOutbox:
    """Unpublished rows by commit order (``seq``); marking sets ``published_at``."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]) -> None:
        self._pool = pool

    async def unpublished(self, occurred_before: datetime, limit: int) -> list[DomainEvent]:
        async with self._pool.connection() as conn:
            s = Session(conn, None, scope="relay")
            rows = await s.fetch(
                "SELECT id, tenant_id, name, occurred_at, payload, correlation_id FROM outbox"
                " WHERE published_at IS NULL AND occurred_at < %s ORDER BY seq LIMIT %s",
                (occurred_before, limit),
            )
            await s.rollback()
        return [event_of_row(r) for r in rows]

    async def mark_published(self, event_ids: Sequence[UUID]) -> None:
        if not event_ids:
            return
        async with self._pool.connection() as conn:
            s = Session(conn, None, scope="relay")
            await s.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY(%s) AND published_at IS NULL",
                (list(event_ids),),
            )
            await s.commit()
