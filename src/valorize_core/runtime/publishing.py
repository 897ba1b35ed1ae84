"""Publishing one stream of events to several publishers (the event bus and the browsers)."""

from __future__ import annotations

from collections.abc import Sequence

from valorize_core.model.events import DomainEvent
from valorize_core.ports.event_publisher import EventPublisher

__all__ = ["FanOutPublisher"]


class FanOutPublisher:
    """Publishes to every publisher, even when one fails; then raises the first failure, so
    the outbox keeps the events for the sweeper (consumers tolerate the repeats)."""

    def __init__(self, *publishers: EventPublisher) -> None:
        self._publishers = publishers

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        failure: Exception | None = None
        for publisher in self._publishers:
            try:
                await publisher.publish(events)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
