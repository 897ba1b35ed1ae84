"""Action: mark a notification read."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.notifications import Notification
from valorize_core.use_cases.context import Ports

__all__ = ["MarkNotificationRead", "NotificationRead"]


@dataclass(frozen=True, slots=True)
class NotificationRead:
    """Which notification was read."""

    tenant_id: UUID
    notification_id: UUID


class MarkNotificationRead:
    """Marks a notification read, once: marking it again keeps the first time."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NotificationRead) -> Notification:
        """Mark it; :class:`NotFound` if the tenant has no such notification."""
        if not isinstance(command.notification_id, UUID):
            raise ValidationError.for_field("notification_id", "must be an id")
        async with self._ports.uow(command.tenant_id) as uow:
            note = await uow.notifications.mark_read(command.notification_id, self._ports.clock.now())
            await uow.commit()
        return note
