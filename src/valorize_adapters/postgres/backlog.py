"""What is waiting, read from PostgreSQL: the local task queue (depth, the oldest task's age,
dead letters) and the outbox (events committed but not yet published, the oldest one's age:
the relay's lag)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.session import Session

__all__ = ["Backlog", "PgBacklog"]


@dataclass(frozen=True, slots=True)
class Backlog:
    """One reading; ages in seconds (0 when nothing waits)."""

    queued_tasks: int
    oldest_task_seconds: float
    dead_letters: int
    unpublished_events: int
    oldest_unpublished_seconds: float


class PgBacklog:
    """Reads the backlog across tenants, each table in the scope that may see it."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]], *, local_queue: bool = True) -> None:
        self._pool = pool
        self._local_queue = local_queue

    async def read(self) -> Backlog:
        async with self._pool.connection() as conn:
            tasks, dead = {"n": 0, "age": 0.0}, 0
            if self._local_queue:
                s = Session(conn, None, scope="dispatcher")
                tasks = (
                    await s.fetch_one(
                        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float AS age"
                        " FROM task_queue"
                    )
                    or tasks
                )
                dead = int((await s.fetch_one("SELECT count(*) AS n FROM dead_letters") or {"n": 0})["n"])
                await s.commit()
            s = Session(conn, None, scope="relay")
            events = await s.fetch_one(
                "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float AS age"
                " FROM outbox WHERE published_at IS NULL"
            ) or {"n": 0, "age": 0.0}
            await s.commit()
        return Backlog(int(tasks["n"]), max(0.0, float(tasks["age"])), dead, int(events["n"]),
                       max(0.0, float(events["age"])))  # fmt: skip
