"""Port: the outbox, read by the relay that publishes committed events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from valorize_core.events import DomainEvent

__all__ = ["Outbox"]


class Outbox(Protocol):
    """Committed events of every tenant, and which of them are published."""

    async def unpublished(self, occurred_before: datetime, limit: int) -> list[DomainEvent]:
        """Unpublished events that occurred before a time, oldest first."""
        ...

    async def mark_published(self, event_ids: Sequence[UUID]) -> None:
        """Record events as published."""
        ...
