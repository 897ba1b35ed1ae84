"""Queries: the tenant's webhook endpoints and an endpoint's delivery log."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.webhooks import WebhookDelivery, WebhookEndpoint
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["DeliveryLog", "ListDeliveries", "ListWebhooks", "WebhooksQuery"]


@dataclass(frozen=True, slots=True)
class WebhooksQuery:
    """The tenant's endpoints."""

    tenant_id: UUID


@dataclass(frozen=True, slots=True)
class DeliveryLog:
    """An endpoint's newest ``limit`` deliveries."""

    tenant_id: UUID
    endpoint_id: UUID
    limit: int = 50


class ListWebhooks:
    """Every endpoint, oldest first."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: WebhooksQuery) -> list[WebhookEndpoint]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.webhooks.list_endpoints()


class ListDeliveries:
    """An endpoint's deliveries, newest first: status, attempts, the last response or error."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: DeliveryLog) -> list[WebhookDelivery]:
        """Run the query (``NotFound`` for an unknown endpoint)."""
        if isinstance(query.limit, bool) or not isinstance(query.limit, int) or not 1 <= query.limit <= 200:
            raise ValidationError.for_field("limit", "must be between 1 and 200")
        async with self._ports.uow.reading(query.tenant_id) as uow:
            await require(uow.webhooks.get_endpoint, query.endpoint_id, "webhook")
            return await uow.webhooks.list_deliveries(query.endpoint_id, query.limit)
