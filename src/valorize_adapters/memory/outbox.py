"""The outbox of the in-memory store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from valorize_adapters.memory.store import MemoryStore
from valorize_core.events import DomainEvent

__all__ = ["MemoryOutbox"]


class MemoryOutbox:
    """Unpublished events are the store's outbox minus those marked published."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def unpublished(self, occurred_before: datetime, limit: int) -> list[DomainEvent]:
        waiting = [
            e for e in self._store.outbox if e.event_id not in self._store.published and e.occurred_at < occurred_before
        ]
        return waiting[:limit]

    async def mark_published(self, event_ids: Sequence[UUID]) -> None:
        self._store.published.update(event_ids)
