"""Port: subscriptions the person confirmed or dismissed."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from valorize_core.model.subscriptions import TrackedSubscription

__all__ = ["SubscriptionRepository"]


class SubscriptionRepository(Protocol):
    """Decided subscriptions of the unit of work's tenant."""

    async def get(self, subscription_id: UUID, *, for_update: bool = False) -> TrackedSubscription | None:
        """The subscription, or ``None``; ``for_update`` holds it until the unit of work ends."""
        ...

    async def add(self, subscription: TrackedSubscription) -> None:
        """Store a decision (``Conflict`` if this subscription was decided before)."""
        ...

    async def update(self, subscription: TrackedSubscription) -> None:
        """Store its new price, last charge or stop (``NotFound`` if absent)."""
        ...

    async def list(self) -> list[TrackedSubscription]:
        """Every decided subscription, by payee (ties by id)."""
        ...
