"""Query: the tenant's notifications, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.notifications import Notification
from valorize_core.use_cases.context import Ports

__all__ = ["MAX_NOTIFICATIONS", "ListNotifications", "NotificationsQuery"]

#: The most notifications one read returns.
MAX_NOTIFICATIONS = 200


@dataclass(frozen=True, slots=True)
class NotificationsQuery:
    """Whose notifications, how many (1 to ``MAX_NOTIFICATIONS``), and whether only unread ones."""

    tenant_id: UUID
    limit: int = 50
    unread_only: bool = False


class ListNotifications:
    """The newest ``limit`` notifications."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: NotificationsQuery) -> list[Notification]:
        """Run the query."""
        limit = query.limit
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_NOTIFICATIONS:
            raise ValidationError.for_field("limit", f"must be between 1 and {MAX_NOTIFICATIONS}")
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.notifications.list(limit, unread_only=query.unread_only)
