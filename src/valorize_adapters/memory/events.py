"""In-process publish/subscribe of committed events, per tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID

from valorize_core.events import DomainEvent

__all__ = ["InMemoryEventPublisher"]


class InMemoryEventPublisher:
    """Delivers each published event to the queues subscribed to its tenant, in order.

    A subscriber's queue is bounded: a subscriber that does not keep up loses the oldest
    events rather than slowing the publisher (pub/sub is at-most-once by design).
    """

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: dict[UUID, set[asyncio.Queue[DomainEvent]]] = {}
        self._queue_size = queue_size
        self.published: list[DomainEvent] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            self.published.append(event)
            for queue in list(self._subscribers.get(event.tenant_id, ())):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(event)

    def subscribe(self, tenant_id: UUID) -> asyncio.Queue[DomainEvent]:
        """A queue receiving the tenant's events from now on."""
        queue: asyncio.Queue[DomainEvent] = asyncio.Queue(self._queue_size)
        self._subscribers.setdefault(tenant_id, set()).add(queue)
        return queue

    def unsubscribe(self, tenant_id: UUID, queue: asyncio.Queue[DomainEvent]) -> None:
        """Stop delivering to ``queue``."""
        self._subscribers.get(tenant_id, set()).discard(queue)
