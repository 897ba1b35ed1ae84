"""Port: publishing committed domain events to subscribers (realtime, other services)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from valorize_core.model.events import DomainEvent

__all__ = ["EventPublisher"]


class EventPublisher(Protocol):
    """At-most-once delivery of committed events to the tenant's subscribers."""

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Publish events in order."""
        ...
