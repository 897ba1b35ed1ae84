"""Port: the outbox, read by the relay that publishes committed events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from valorize_core.model.events import DomainEvent

__all__ = ["Outbox"]


class Outbox(Protocol):
    """Committed events of every tenant, and which of them are published."""

    async def unpublished(self, occurred_before: datetime, limit: int) -> list[DomainEvent]:
        """Unpublished events that occurred before a time, oldest first."""
        ...

    def claim(
        self, occurred_before: datetime, limit: int, keep: Callable[[DomainEvent], bool] | None = None
    ) -> AbstractAsyncContextManager[Sequence[DomainEvent]]:
        """Unpublished events that occurred before a time, oldest first, held by this caller alone
        while the block runs: marked published when it ends cleanly, left unpublished when it
        raises. Other claimers skip held events (two sweepers never relay the same event at once).
        Events ``keep`` refuses are left alone: not in the claim, not marked."""
        ...

    async def mark_published(self, event_ids: Sequence[UUID]) -> None:
        """Record events as published."""
        ...
