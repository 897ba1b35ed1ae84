"""In-memory Idempotency-Key store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from valorize_core.ports.idempotency import Claimed, InProgress, Mismatch, Replay

__all__ = ["InMemoryIdempotencyStore"]


@dataclass
class _Entry:
    request_hash: str
    expires_at: datetime
    locked_until: datetime
    status: int | None = None
    body: bytes = b""


class InMemoryIdempotencyStore:
    """Keys per tenant in a dict (single process)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[UUID, str], _Entry] = {}

    async def claim(
        self, tenant_id: UUID, key: str, request_hash: str, now: datetime, ttl: timedelta, lock: timedelta
    ) -> Claimed | InProgress | Mismatch | Replay:
        entry = self._entries.get((tenant_id, key))
        stale = entry is not None and (entry.expires_at <= now or (entry.status is None and entry.locked_until <= now))
        if entry is None or stale:
            self._entries[(tenant_id, key)] = _Entry(request_hash, now + ttl, now + lock)
            return Claimed()
        if entry.request_hash != request_hash:
            return Mismatch()
        if entry.status is None:
            return InProgress()
        return Replay(entry.status, entry.body)

    async def complete(self, tenant_id: UUID, key: str, status: int, body: bytes) -> None:
        entry = self._entries.get((tenant_id, key))
        if entry is not None:
            entry.status, entry.body = status, bytes(body)

    async def release(self, tenant_id: UUID, key: str) -> None:
        self._entries.pop((tenant_id, key), None)
