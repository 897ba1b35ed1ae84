"""Retention on PostgreSQL: pruning the rows that only grow, in small batches.

What is pruned, and when (the horizons are the caller's, from ``VALORIZE_RETAIN_*``):

- ``outbox`` rows published longer ago than ``published_events`` (unpublished rows are never
  touched: the sweeper still owes them);
- ``processed_tasks`` ids older than ``processed_tasks`` — the horizon must outlive every
  redelivery of a task (Cloud Tasks' ``max_retry_duration``), or a late redelivery would run
  the task again;
- ``idempotency_keys`` past their expiry (a request with an expired key is new anyway);
- ``jobs`` finished (completed or failed) longer ago than ``finished_jobs``;
- ``dead_letters`` older than ``dead_letters``.

Each table is pruned ``batch`` rows per transaction, so no prune holds many row locks or a long
transaction. One process prunes at a time (an advisory lock); the others skip the round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, LiteralString

import psycopg
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.session import Session

__all__ = ["LOCK_KEY", "Horizons", "PgRetention"]

LOCK_KEY = 7_356_120_442  # the migration runner's key + 1


@dataclass(frozen=True, slots=True)
class Horizons:
    """How long each kind of row is kept."""

    published_events: timedelta = timedelta(hours=24)
    processed_tasks: timedelta = timedelta(days=7)
    finished_jobs: timedelta = timedelta(days=7)
    dead_letters: timedelta = timedelta(days=30)
    expired_idempotency_keys: timedelta = timedelta(0)


# table -> the DELETE of one batch (params: the horizon, the batch size).
_PRUNES: dict[str, LiteralString] = {
    "outbox": "DELETE FROM outbox WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM outbox"
    " WHERE published_at < now() - %s ORDER BY published_at LIMIT %s)",
    "processed_tasks": "DELETE FROM processed_tasks WHERE (tenant_id, task_id) IN (SELECT tenant_id, task_id"
    " FROM processed_tasks WHERE processed_at < now() - %s ORDER BY processed_at LIMIT %s)",
    "idempotency_keys": "DELETE FROM idempotency_keys WHERE (tenant_id, key) IN (SELECT tenant_id, key"
    " FROM idempotency_keys WHERE expires_at < now() - %s ORDER BY expires_at LIMIT %s)",
    "jobs": "DELETE FROM jobs WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM jobs"
    " WHERE completed_at < now() - %s ORDER BY completed_at LIMIT %s)",
    "dead_letters": "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters"
    " WHERE died_at < now() - %s ORDER BY died_at LIMIT %s)",
}


class PgRetention:
    """Prunes what :class:`Horizons` no longer keeps, across tenants (the ``retention`` scope)."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]], *, batch: int = 5000) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self._pool = pool
        self._batch = batch

    async def prune(self, horizons: Horizons) -> dict[str, int] | None:
        """Delete what is past its horizon; the rows deleted per table, or ``None`` when another
        process is pruning (this round is its)."""
        ages = {
            "outbox": horizons.published_events,
            "processed_tasks": horizons.processed_tasks,
            "idempotency_keys": horizons.expired_idempotency_keys,
            "jobs": horizons.finished_jobs,
            "dead_letters": horizons.dead_letters,
        }
        async with self._pool.connection() as conn:
            await conn.set_autocommit(True)
            held = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))).fetchone()
            if not held or not held[0]:
                return None
            try:
                deleted: dict[str, int] = {}
                for table, query in _PRUNES.items():
                    deleted[table] = 0
                    while True:
                        s = Session(conn, None, scope="retention")
                        count = await s.execute(query, (ages[table], self._batch))
                        await s.commit()
                        deleted[table] += count
                        if count < self._batch:
                            break
                return deleted
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
