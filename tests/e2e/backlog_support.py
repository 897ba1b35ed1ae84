"""What the roles have left to do, read straight from PostgreSQL (across tenants, in the scopes the
relay and the dispatcher read under): for the e2e suites that wait for the backlog to drain."""

from __future__ import annotations

from typing import Any

import psycopg


def unpublished_events(database_url: str) -> int:
    """How many outbox events are not published yet."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT set_config('valorize.scope', 'relay', false)")
        row = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()
        assert row is not None
        return int(row[0])


def tasks_left(database_url: str) -> list[Any]:
    """The queued tasks ``(name, attempts, not_before, locked_until, last_error)``, then the dead
    ones ``(name, attempts, reason)``: what an assertion shows when the backlog did not drain."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT set_config('valorize.scope', 'dispatcher', false)")
        queued = conn.execute("SELECT name, attempts, not_before, locked_until, last_error FROM task_queue").fetchall()
        dead = conn.execute("SELECT name, attempts, reason FROM dead_letters").fetchall()
        return [*queued, *dead]
