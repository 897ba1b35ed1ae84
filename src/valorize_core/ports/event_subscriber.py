"""Port: receiving published events, per tenant, with sequence numbers to detect gaps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

__all__ = ["Delivery", "EventSubscriber"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One published event: its tenant, its per-tenant sequence number, and its record.

    Pub/sub is at-most-once: ``gap`` is true when sequence numbers were skipped since the last
    delivery of this tenant (events were lost; the consumer should resynchronize).
    """

    tenant_id: UUID
    sequence: int
    record: dict[str, Any]
    gap: bool = False


class EventSubscriber(Protocol):
    """Receives events of the tenants it subscribed to, reconnecting on its own."""

    async def subscribe(self, tenant_id: UUID) -> None:
        """Start receiving the tenant's events."""
        ...

    async def unsubscribe(self, tenant_id: UUID) -> None:
        """Stop receiving the tenant's events."""
        ...

    def deliveries(self) -> AsyncIterator[Delivery]:
        """Events in the order published per tenant, until :meth:`close`."""
        ...

    async def close(self) -> None:
        """Stop receiving; ends :meth:`deliveries`."""
        ...
