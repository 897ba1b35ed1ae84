"""The outbox of the in-memory store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID

from valorize_adapters.memory.store import MemoryStore
from valorize_core.events import DomainEvent

__all__ = ["MemoryOutbox"]


class MemoryOutbox:
    """Unpublished events are the store's outbox minus those marked published; a claim holds
    its events (other claims skip them) until its block ends."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._held: set[UUID] = set()

    async def unpublished(self, occurred_before: datetime, limit: int) -> list[DomainEvent]:
        waiting = [
            e for e in self._store.outbox if e.event_id not in self._store.published and e.occurred_at < occurred_before
        ]
        return waiting[:limit]

    @asynccontextmanager
    async def claim(self, occurred_before: datetime, limit: int) -> AsyncIterator[Sequence[DomainEvent]]:
        waiting = await self.unpublished(occurred_before, len(self._store.outbox))
        events = [e for e in waiting if e.event_id not in self._held][:limit]
        ids = {e.event_id for e in events}
        self._held |= ids
        try:
            yield events
            self._store.published.update(ids)
        finally:
            self._held -= ids

    async def mark_published(self, event_ids: Sequence[UUID]) -> None:
        self._store.published.update(event_ids)
