"""In-memory Idempotency-Key store."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from valorize_adapters.memory.store import IdempotencyEntry, MemoryStore
from valorize_core.ports.idempotency import Applied, Claimed, InProgress, Mismatch, Replay

__all__ = ["InMemoryIdempotencyStore"]


class InMemoryIdempotencyStore:
    """Keys per tenant in a dict (single process): the :class:`MemoryStore`'s, whose units of
    work mark a key applied when they commit (a store of its own when none is given)."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self._entries = (store or MemoryStore()).idempotency_keys

    async def claim(
        self, tenant_id: UUID, key: str, request_hash: str, now: datetime, ttl: timedelta, lock: timedelta
    ) -> Claimed | InProgress | Mismatch | Replay | Applied:
        entry = self._entries.get((tenant_id, key))
        in_progress = entry is not None and entry.status is None and not entry.applied
        stale = entry is not None and (entry.expires_at <= now or (in_progress and entry.locked_until <= now))
        if entry is None or stale:
            self._entries[(tenant_id, key)] = IdempotencyEntry(request_hash, now, now + ttl, now + lock)
            return Claimed(now)
        if entry.request_hash != request_hash:
            return Mismatch()
        if entry.status is not None:
            return Replay(entry.status, entry.body)
        if entry.applied and entry.locked_until <= now:
            return Applied()
        return InProgress()

    async def complete(self, tenant_id: UUID, key: str, claimed_at: datetime, status: int, body: bytes) -> None:
        entry = self._entries.get((tenant_id, key))
        if entry is not None and entry.claimed_at == claimed_at:
            entry.status, entry.body = status, bytes(body)

    async def release(self, tenant_id: UUID, key: str, claimed_at: datetime, applied: Replay | None = None) -> None:
        entry = self._entries.get((tenant_id, key))
        if entry is None or entry.claimed_at != claimed_at or entry.status is not None:
            return
        if not entry.applied:
            del self._entries[(tenant_id, key)]
        elif applied is not None:
            entry.status, entry.body = applied.status, bytes(applied.body)
