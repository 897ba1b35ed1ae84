"""Ports: the tenant's webhook endpoints and deliveries, and the sender that makes the calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from valorize_core.model.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = ["SendResult", "WebhookRepository", "WebhookSender"]


class WebhookRepository(Protocol):
    """Endpoints and deliveries of the unit of work's tenant."""

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Store a new endpoint."""
        ...

    async def get_endpoint(self, endpoint_id: UUID) -> WebhookEndpoint | None:
        """One endpoint, or ``None``."""
        ...

    async def list_endpoints(self) -> list[WebhookEndpoint]:
        """Every endpoint, oldest first."""
        ...

    async def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Replace a stored endpoint; ``NotFound`` if absent."""
        ...

    async def delete_endpoint(self, endpoint_id: UUID) -> None:
        """Remove an endpoint and its deliveries; ``NotFound`` if absent."""
        ...

    async def add_delivery(self, delivery: WebhookDelivery) -> bool:
        """Store a delivery; ``False`` (nothing changes) if one with its id exists."""
        ...

    async def get_delivery(self, delivery_id: UUID) -> WebhookDelivery | None:
        """One delivery, or ``None``."""
        ...

    async def update_delivery(self, delivery: WebhookDelivery) -> None:
        """Replace a stored delivery; ``NotFound`` if absent."""
        ...

    async def list_deliveries(self, endpoint_id: UUID, limit: int) -> list[WebhookDelivery]:
        """An endpoint's newest ``limit`` deliveries (ties broken by id)."""
        ...


@dataclass(frozen=True, slots=True)
class SendResult:
    """How one attempt went: the response's status and start of its body, or why there was none."""

    status: int | None
    body: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


class WebhookSender(Protocol):
    """Makes the HTTP calls, refusing destinations the operator has not allowed."""

    async def check_destination(self, url: str) -> None:
        """Raise a validation error for a URL whose host is, or resolves to, a refused address
        (loopback, private, link-local, metadata, ...)."""
        ...

    async def send(self, url: str, headers: Mapping[str, str], body: bytes, time_limit: float) -> SendResult:
        """POST ``body`` within ``time_limit`` seconds; never raises for the destination's
        failures (refused address, timeout, error status: they are the result)."""
        ...
