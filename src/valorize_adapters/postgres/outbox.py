"""The outbox on PostgreSQL, read across tenants in the relay's row-security scope."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.session import Session
from valorize_core.model.events import DomainEvent, event_from_record

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


_UNPUBLISHED = (
    "SELECT id, tenant_id, name, occurred_at, payload, correlation_id FROM outbox"
    " WHERE published_at IS NULL AND occurred_at < %s ORDER BY seq LIMIT %s"
)


class PgOutbox:
    """Unpublished rows by commit order (``seq``); marking sets ``published_at``.

    A claim locks its rows ``FOR UPDATE SKIP LOCKED`` in a transaction that lasts as long as the
    claimer's block: every API and worker process may sweep at once, each takes rows no other
    holds, and the rows are marked published in the same transaction that held them.
    """

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]) -> None:
        self._pool = pool

    async def unpublished(self, occurred_before: datetime, limit: int) -> list[DomainEvent]:
        async with self._pool.connection() as conn:
            s = Session(conn, None, scope="relay")
            try:
                rows = await s.fetch(_UNPUBLISHED, (occurred_before, limit))
            finally:
                await s.end()
        return [event_of_row(r) for r in rows]

    @asynccontextmanager
    async def claim(
        self, occurred_before: datetime, limit: int, keep: Callable[[DomainEvent], bool] | None = None
    ) -> AsyncIterator[Sequence[DomainEvent]]:
        async with self._pool.connection() as conn:
            s = Session(conn, None, scope="relay")
            rows = await s.fetch(_UNPUBLISHED + " FOR UPDATE SKIP LOCKED", (occurred_before, limit))
            events = [event_of_row(r) for r in rows]
            if keep is not None:  # the others' locks go with the commit; they stay unpublished
                events = [e for e in events if keep(e)]
            try:
                yield events
            except BaseException:
                with contextlib.suppress(psycopg.Error):  # a broken connection rolled back already
                    await s.rollback()  # the locks go; the rows stay unpublished for the next sweep
                raise
            if events:
                ids = [e.event_id for e in events]
                s.defer("UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", [(ids,)])
            await s.commit()

    async def mark_published(self, event_ids: Sequence[UUID]) -> None:
        if not event_ids:
            return
        async with self._pool.connection() as conn:
            s = Session(conn, None, scope="relay")
            s.defer(  # BEGIN, the update and COMMIT in one round trip
                "UPDATE outbox SET published_at = now() WHERE id = ANY(%s) AND published_at IS NULL",
                [(list(event_ids),)],
            )
            await s.commit()
