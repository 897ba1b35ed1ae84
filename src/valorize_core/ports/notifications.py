"""Port: the tenant's notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from valorize_core.model.notifications import Notification

__all__ = ["NotificationRepository"]


class NotificationRepository(Protocol):
    """Notifications of the unit of work's tenant, newest first."""

    async def add(self, notification: Notification) -> bool:
        """Store it; ``False`` (and nothing changes) if one with its id exists."""
        ...

    async def list(self, limit: int, *, unread_only: bool = False) -> list[Notification]:
        """The newest ``limit`` notifications (ties broken by id)."""
        ...

    async def mark_read(self, notification_id: UUID, at: datetime) -> Notification:
        """Mark one read (once: a second call keeps the first time); ``NotFound`` if absent."""
        ...
