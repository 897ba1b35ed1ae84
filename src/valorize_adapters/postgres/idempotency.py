"""Idempotency-Key store on PostgreSQL: shared by every API instance."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, LiteralString
from uuid import UUID

import psycopg
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.postgres.session import Session
from valorize_core.ports.idempotency import Applied, Claimed, InProgress, Mismatch, Replay

__all__ = ["MARK_APPLIED", "PgIdempotencyStore"]

# What a writing unit of work adds to its commit while its request holds a key (no round trip
# of its own: it goes with COMMIT): (tenant, key, the claim's instant). Marks only that claim, if
# still in progress (a completed one keeps its answer); raises VZ002 (ClaimRetaken: the unit
# rolls back) when the claim is gone (migration 0033).
MARK_APPLIED: LiteralString = "SELECT idempotency_mark_applied(%s, %s, %s)"


class PgIdempotencyStore:
    """Each call is its own short transaction, so a claim is visible to other instances at once."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]) -> None:
        self._pool = pool

    async def claim(
        self, tenant_id: UUID, key: str, request_hash: str, now: datetime, ttl: timedelta, lock: timedelta
    ) -> Claimed | InProgress | Mismatch | Replay | Applied:
        async with self._pool.connection() as conn:
            s = Session(conn, tenant_id)
            # An expired key, or an abandoned claim, may be taken again — never an applied one
            # (its write committed). Queued: it goes with BEGIN and the insert, in one round trip.
            s.defer(
                "DELETE FROM idempotency_keys WHERE tenant_id = %s AND key = %s"
                " AND (expires_at <= %s OR (status = 'in_progress' AND created_at + %s <= %s))",
                [(tenant_id, key, now, lock, now)],
            )
            inserted = await s.execute(
                "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, created_at, expires_at)"
                " VALUES (%s, %s, %s, 'in_progress', %s, %s) ON CONFLICT DO NOTHING",
                (tenant_id, key, request_hash, now, now + ttl),
            )
            row = None
            if not inserted:
                row = await s.fetch_one(
                    "SELECT request_hash, status, response_status, response_body, created_at FROM idempotency_keys"
                    " WHERE tenant_id = %s AND key = %s",
                    (tenant_id, key),
                )
            await s.commit()
        if inserted or row is None:
            return Claimed(now)
        if row["request_hash"] != request_hash:
            return Mismatch()
        if row["status"] == "in_progress":
            return InProgress()
        if row["status"] == "applied":  # its answer is on its way, or was lost with its process
            return InProgress() if row["created_at"] + lock > now else Applied()
        return Replay(int(row["response_status"]), bytes(row["response_body"]))

    async def complete(self, tenant_id: UUID, key: str, claimed_at: datetime, status: int, body: bytes) -> None:
        async with self._pool.connection() as conn:
            s = Session(conn, tenant_id)
            s.defer(  # BEGIN, the update and COMMIT: one round trip. Only its own claim.
                "UPDATE idempotency_keys SET status = 'completed', response_status = %s, response_body = %s"
                " WHERE tenant_id = %s AND key = %s AND created_at = %s",
                [(status, body, tenant_id, key, claimed_at)],
            )
            await s.commit()

    async def release(self, tenant_id: UUID, key: str, claimed_at: datetime, applied: Replay | None = None) -> None:
        async with self._pool.connection() as conn:
            s = Session(conn, tenant_id)
            s.defer(  # only its own claim: a retry's that retook the key stays
                "DELETE FROM idempotency_keys WHERE tenant_id = %s AND key = %s AND created_at = %s"
                " AND status = 'in_progress'",
                [(tenant_id, key, claimed_at)],
            )
            if applied is not None:  # its write committed: the key keeps ``applied`` as its answer
                s.defer(
                    "UPDATE idempotency_keys SET status = 'completed', response_status = %s, response_body = %s"
                    " WHERE tenant_id = %s AND key = %s AND created_at = %s AND status = 'applied'",
                    [(applied.status, applied.body, tenant_id, key, claimed_at)],
                )
            await s.commit()  # with the statements: one round trip
