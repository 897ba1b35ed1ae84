"""The outbox of the in-memory store."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID

from valorize_adapters.memory.store import MemoryStore
from valorize_core.model.events import DomainEvent

__all__ = ["MemoryOutbox"]


class MemoryOutbox:
    """Unpublished events are the store's outbox minus those marked published; a claim holds
    its events (other claims skip them) until its block ends."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._held: set[UUID] = set()
        self._settled = 0  # the outbox's published prefix

    async def unpublished(self, occurred_before: datetime, limit: int) -> list[DomainEvent]:
        waiting = [
            e for e in self._store.outbox if e.event_id not in self._store.published and e.occurred_at < occurred_before
        ]
        return waiting[:limit]

    @asynccontextmanager
    async def claim(
        self, occurred_before: datetime, limit: int, keep: Callable[[DomainEvent], bool] | None = None
    ) -> AsyncIterator[Sequence[DomainEvent]]:
        outbox, published = self._store.outbox, self._store.published
        while self._settled < len(outbox) and outbox[self._settled].event_id in published:
            self._settled += 1  # everything before it is published: later claims start there
        events: list[DomainEvent] = []
        for e in itertools.islice(outbox, self._settled, None):
            if len(events) >= limit:
                break
            if e.event_id not in published and e.event_id not in self._held and e.occurred_at < occurred_before:
                events.append(e)
        if keep is not None:
            events = [e for e in events if keep(e)]
        ids = {e.event_id for e in events}
        self._held |= ids
        try:
            yield events
            published.update(ids)
        finally:
            self._held -= ids

    async def mark_published(self, event_ids: Sequence[UUID]) -> None:
        self._store.published.update(event_ids)
