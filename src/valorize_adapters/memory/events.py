"""In-process publish/subscribe of committed events, per tenant, with sequence numbers."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from uuid import UUID

from valorize_core.model.events import DomainEvent
from valorize_core.ports.event_subscriber import Delivery

__all__ = ["InMemoryEventBus", "InMemorySubscriber"]


class InMemoryEventBus:
    """The ``EventPublisher`` port for one process; :meth:`subscriber` gives ``EventSubscriber`` s.

    Each tenant's events get increasing sequence numbers. A subscriber's queue is bounded: one
    that does not keep up loses the oldest events (and sees a gap) rather than slowing the
    publisher — pub/sub is at-most-once by design.

    ``published`` keeps the last ``kept`` events (``None``: all of them, for a test to read);
    a long-running process keeps none (``kept=0``): kept events outlived each import by the
    thousands, and their small objects pinned pymalloc's arenas (perf/README.md, soak).
    """

    def __init__(self, queue_size: int = 1000, kept: int | None = None) -> None:
        self._queue_size = queue_size
        self._sequences: dict[UUID, int] = defaultdict(int)
        self._subscribers: set[InMemorySubscriber] = set()
        self.published: deque[DomainEvent] = deque(maxlen=kept)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        subscribers = list(self._subscribers)
        for event in events:
            self.published.append(event)
            tenant = event.tenant_id
            sequence = self._sequences[tenant] + 1
            self._sequences[tenant] = sequence
            if subscribers:  # the record only for someone to read it (an API process has nobody)
                record = event.to_record()
                for subscriber in subscribers:
                    subscriber._offer(tenant, sequence, record)

    def subscriber(self) -> InMemorySubscriber:
        """A new subscriber on this bus."""
        sub = InMemorySubscriber(self, self._queue_size)
        self._subscribers.add(sub)
        return sub

    def _drop(self, sub: InMemorySubscriber) -> None:
        self._subscribers.discard(sub)


class InMemorySubscriber:
    """Receives the events of the tenants it subscribed to."""

    def __init__(self, bus: InMemoryEventBus, queue_size: int) -> None:
        self._bus = bus
        self._tenants: set[UUID] = set()
        self._queue: asyncio.Queue[tuple[UUID, int, dict[str, object]] | None] = asyncio.Queue(queue_size)
        self._last: dict[UUID, int] = {}

    def _offer(self, tenant_id: UUID, sequence: int, record: dict[str, object]) -> None:
        if tenant_id not in self._tenants:
            return
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait((tenant_id, sequence, record))

    async def subscribe(self, tenant_id: UUID) -> None:
        self._tenants.add(tenant_id)

    async def unsubscribe(self, tenant_id: UUID) -> None:
        self._tenants.discard(tenant_id)
        self._last.pop(tenant_id, None)

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while True:
            item = await self._queue.get()
            if item is None:  # closed
                return
            tenant_id, sequence, record = item
            last = self._last.get(tenant_id)
            self._last[tenant_id] = sequence
            yield Delivery(tenant_id, sequence, record, gap=last is not None and sequence != last + 1)

    async def close(self) -> None:
        self._bus._drop(self)
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
