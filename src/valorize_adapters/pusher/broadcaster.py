"""Domain events to browsers: the ``EventPublisher`` that puts them on Pusher channels.

Every committed event of a tenant goes to ``private-tenant.{tenant_id}`` under its own name
(``transaction.created``, ``account.balance_changed``, ``budget.threshold_crossed``,
``import.progressed``, ``import.completed``, ``report.ready``, ``notification.created``, ...);
the data is the event record (id, name, tenant, time, payload, correlation id). Laravel Echo
listens with ``Echo.private(`tenant.${id}`).listen('.transaction.created', ...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from uuid import UUID

from valorize_adapters.pusher.backplane import Backplane
from valorize_core.model.events import DomainEvent

__all__ = ["RealtimeBroadcaster", "presence_channel", "tenant_channel", "user_channel"]


def tenant_channel(tenant_id: UUID | str) -> str:
    """The private channel of a tenant's events."""
    return f"private-tenant.{tenant_id}"


def user_channel(user_id: UUID | str) -> str:
    """The private channel of one user."""
    return f"private-user.{user_id}"


def presence_channel(tenant_id: UUID | str) -> str:
    """Who of a tenant is online."""
    return f"presence-tenant.{tenant_id}"


class RealtimeBroadcaster:
    """Publishes domain events to their tenant's channel on the backplane."""

    def __init__(self, backplane: Backplane) -> None:
        self._backplane = backplane

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """A run of one tenant's events (a commit's) goes to its channel at once."""
        for tenant, run in groupby(events, key=lambda e: e.tenant_id):
            messages = [(e.name, e.to_json()) for e in run]
            await self._backplane.publish_many(tenant_channel(tenant), messages)
