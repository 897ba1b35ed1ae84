"""Outbound webhooks: managing endpoints, fanning events out to them, delivering with retries.

The path of an event (docs/api.md, "Webhooks"):

1. The committed events a webhook may carry become a ``fan_out_webhooks`` task (the relay:
   one per commit, written only when the tenant has an endpoint that wants one of them, where
   the queue can check). :class:`FanOutWebhooks` stores one delivery of each event per enabled
   endpoint subscribed to it (the delivery id derives from endpoint and event: once each) and
   records ``webhook.delivery_requested`` for attempt 1.
2. That event becomes a ``deliver_webhook`` task (its id derives from delivery, round and
   attempt; ``not_before`` delays it). :class:`DeliverWebhook` sends outside any unit of work,
   then records the attempt in one: success ends the delivery; a failure with attempts left
   schedules the next (``WebhookPolicy.retry_delays``); the last failure fails the delivery and
   disables the endpoint (``webhook.endpoint_disabled``, which notifies the tenant).
3. :class:`Redeliver` starts a new round of a finished delivery by hand.

A retried task that finds its attempt already recorded sends nothing. The one case that sends
twice, a crash between the call and the record, sends the same event id, which receivers dedupe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from valorize_core.model.errors import Conflict, NotFound, ValidationError
from valorize_core.model.events import DomainEvent, WebhookDeliveryRequested, WebhookEndpointDisabled
from valorize_core.model.webhooks import (
    MAX_ENDPOINTS,
    MAX_RESPONSE_CHARS,
    SIGNATURE_HEADER,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    check_url,
    delivery_body,
    delivery_id,
    new_secret,
    signature_header,
    subscriptions,
)
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.ports.webhooks import SendResult, WebhookSender
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = [
    "CreateWebhook",
    "DeleteWebhook",
    "DeliverWebhook",
    "DeliveryAttempt",
    "FanOutWebhooks",
    "NewWebhook",
    "Redeliver",
    "RedeliveryRequest",
    "RotateWebhookSecret",
    "UpdateWebhook",
    "WebhookChange",
    "WebhookRef",
]


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """An endpoint: its URL and the event types it gets (``["*"]`` for all)."""

    tenant_id: UUID
    url: str
    event_types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """What changes (``None``: kept). Enabling a disabled endpoint clears why it was disabled."""

    tenant_id: UUID
    endpoint_id: UUID
    url: str | None = None
    event_types: tuple[str, ...] | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class WebhookRef:
    """One endpoint."""

    tenant_id: UUID
    endpoint_id: UUID


@dataclass(frozen=True, slots=True)
class RedeliveryRequest:
    """One delivery, to be sent again."""

    tenant_id: UUID
    delivery_id: UUID


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """Attempt ``attempt`` of round ``round`` of a delivery (what a ``deliver_webhook`` task says)."""

    tenant_id: UUID
    delivery_id: UUID
    attempt: int
    round: int = 0


def _sender(ports: Ports) -> WebhookSender:
    if ports.webhook_sender is None:
        raise ValidationError.for_field("url", "outbound webhooks are not configured on this installation")
    return ports.webhook_sender


def _requested(ports: Ports, tenant_id: UUID, delivery: WebhookDelivery, due: datetime | None) -> DomainEvent:
    return ports.event(
        WebhookDeliveryRequested, tenant_id, delivery_id=str(delivery.id), attempt=delivery.attempts + 1,
        round=delivery.redeliveries, not_before="" if due is None else due.isoformat(),
    )  # fmt: skip


class CreateWebhook:
    """Adds an endpoint (its destination checked now, and again at every call) with a new secret."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewWebhook) -> WebhookEndpoint:
        """Store it; the returned endpoint carries its secret (the list shows it too: the owner needs it)."""
        url = check_url(command.url)
        await _sender(self._ports).check_destination(url)
        endpoint = WebhookEndpoint(
            self._ports.ids.new_id(), command.tenant_id, url, subscriptions(command.event_types), new_secret(),
            self._ports.clock.now(),
        )  # fmt: skip
        async with self._ports.uow(command.tenant_id) as uow:
            if len(await uow.webhooks.list_endpoints()) >= MAX_ENDPOINTS:
                raise Conflict(f"a tenant has at most {MAX_ENDPOINTS} webhook endpoints")
            await uow.webhooks.add_endpoint(endpoint)
            await uow.commit()
        return endpoint


class UpdateWebhook:
    """Changes an endpoint's URL, subscriptions or whether it is enabled."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: WebhookChange) -> WebhookEndpoint:
        """Store the change; returns the endpoint."""
        if command.url is not None:
            await _sender(self._ports).check_destination(check_url(command.url))
        async with self._ports.uow(command.tenant_id) as uow:
            endpoint = await require(uow.webhooks.get_endpoint, command.endpoint_id, "webhook")
            changed = replace(
                endpoint,
                url=endpoint.url if command.url is None else command.url,
                event_types=endpoint.event_types if command.event_types is None else command.event_types,
            )
            if command.enabled is not None:
                changed = replace(changed, enabled=command.enabled, disabled_reason="")
            await uow.webhooks.update_endpoint(changed)
            await uow.commit()
        return changed


class RotateWebhookSecret:
    """A new secret; the old one keeps signing too for ``WebhookPolicy.secret_overlap``."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: WebhookRef) -> WebhookEndpoint:
        """Rotate; returns the endpoint with its new secret."""
        async with self._ports.uow(command.tenant_id) as uow:
            endpoint = await require(uow.webhooks.get_endpoint, command.endpoint_id, "webhook")
            until = self._ports.clock.now() + self._ports.webhook_policy.secret_overlap
            rotated = replace(
                endpoint, secret=new_secret(), previous_secret=endpoint.secret, previous_valid_until=until
            )
            await uow.webhooks.update_endpoint(rotated)
            await uow.commit()
        return rotated


class DeleteWebhook:
    """Removes an endpoint and its delivery log; pending attempts find it gone and stop."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: WebhookRef) -> None:
        """Delete it (``NotFound`` if absent)."""
        async with self._ports.uow(command.tenant_id) as uow:
            await uow.webhooks.delete_endpoint(command.endpoint_id)
            await uow.commit()


class Redeliver:
    """Sends a finished delivery again: a new round, its retry schedule from the start."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: RedeliveryRequest) -> WebhookDelivery:
        """Schedule it now; ``Conflict`` while it is still pending or its endpoint is disabled."""
        async with self._ports.uow(command.tenant_id) as uow:
            delivery = await require(uow.webhooks.get_delivery, command.delivery_id, "delivery")
            if delivery.status is DeliveryStatus.PENDING:
                raise Conflict("the delivery is still being tried")
            endpoint = await require(uow.webhooks.get_endpoint, delivery.endpoint_id, "webhook")
            if not endpoint.enabled:
                raise Conflict("the endpoint is disabled: enable it first")
            again = replace(delivery, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None,
                            redeliveries=delivery.redeliveries + 1)  # fmt: skip
            await uow.webhooks.update_delivery(again)
            uow.record(_requested(self._ports, command.tenant_id, again, None))
            await uow.commit()
        return again


class FanOutWebhooks:
    """One delivery of each event per enabled endpoint subscribed to it, and its first attempt."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, events: Sequence[DomainEvent]) -> int:
        """Store the deliveries of one tenant's ``events`` (once per endpoint and event), in one
        unit; returns how many are new."""
        if not events:
            return 0
        tenant_id = events[0].tenant_id
        if any(event.tenant_id != tenant_id for event in events):
            raise ValidationError.for_field("events", "must belong to one tenant")
        async with self._ports.uow(tenant_id) as uow:
            endpoints = [e for e in await uow.webhooks.list_endpoints() if e.enabled]
            now, added = self._ports.clock.now(), 0
            for event in events:
                wanting = [e for e in endpoints if e.wants(event.name)]
                body = delivery_body(event) if wanting else ""
                for endpoint in wanting:
                    delivery = WebhookDelivery(delivery_id(endpoint.id, event.event_id), tenant_id, endpoint.id,
                                               event.event_id, event.name, body, now)  # fmt: skip
                    if await uow.webhooks.add_delivery(delivery):
                        uow.record(_requested(self._ports, tenant_id, delivery, None))
                        added += 1
            if not added:
                return 0
            uow.retires()  # deliveries only: no cached read shows them
            await uow.commit()
        return added


class DeliverWebhook:
    """One attempt of a delivery: send, then record how it went (and what comes next)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: DeliveryAttempt) -> WebhookDelivery | None:
        """Make the attempt unless it was made (or the delivery or endpoint went); returns the
        delivery as recorded, or ``None`` when there was nothing to do."""
        async with self._ports.uow(command.tenant_id) as uow:
            found = await self._due(uow, command)
        if found is None:
            return None
        delivery, endpoint = found
        sender = self._ports.webhook_sender
        if sender is None:
            raise NotFound("webhook sender", command.delivery_id)  # not configured: the task is rejected
        now = self._ports.clock.now()
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Valorize-Webhooks/1",
            "Valorize-Event-Id": str(delivery.event_id),
            "Valorize-Event-Type": delivery.event_type,
            "Valorize-Delivery-Id": str(delivery.id),
            SIGNATURE_HEADER: signature_header(endpoint.secrets(now), int(now.timestamp()), body),
        }
        try:
            await sender.check_destination(endpoint.url)
        except ValidationError as exc:
            result = SendResult(None, error=exc.message)
        else:
            result = await sender.send(endpoint.url, headers, body, self._ports.webhook_policy.timeout)
        return await self._record(command, result)

    @staticmethod
    async def _due(uow: UnitOfWork, command: DeliveryAttempt) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
        delivery = await uow.webhooks.get_delivery(command.delivery_id)
        if (
            delivery is None
            or delivery.status is not DeliveryStatus.PENDING
            or delivery.redeliveries != command.round
            or delivery.attempts != command.attempt - 1
        ):
            return None
        endpoint = await uow.webhooks.get_endpoint(delivery.endpoint_id)
        return None if endpoint is None else (delivery, endpoint)

    async def _record(self, command: DeliveryAttempt, result: SendResult) -> WebhookDelivery | None:
        policy, now = self._ports.webhook_policy, self._ports.clock.now()
        async with self._ports.uow(command.tenant_id) as uow:
            found = await self._due(uow, command)
            if found is None:  # recorded meanwhile by a concurrent run of the same attempt
                return None
            delivery, endpoint = found
            attempted = replace(
                delivery, attempts=command.attempt, last_attempt_at=now, response_status=result.status,
                response_body=result.body[:MAX_RESPONSE_CHARS], error=result.error[:MAX_RESPONSE_CHARS],
                next_attempt_at=None,
            )  # fmt: skip
            if result.ok:
                attempted = replace(attempted, status=DeliveryStatus.SUCCEEDED, error="")
            elif command.attempt < policy.attempts:
                due = now + policy.retry_delays[command.attempt - 1]
                attempted = replace(attempted, next_attempt_at=due)
                uow.record(_requested(self._ports, command.tenant_id, attempted, due))
            else:
                attempted = replace(attempted, status=DeliveryStatus.FAILED)
                if endpoint.enabled:
                    reason = f"{policy.attempts} attempts failed, the last: {_why(result)}"[:500]
                    await uow.webhooks.update_endpoint(replace(endpoint, enabled=False, disabled_reason=reason))
                    disabled = self._ports.event(
                        WebhookEndpointDisabled, command.tenant_id, endpoint_id=str(endpoint.id), url=endpoint.url,
                        reason=reason,
                    )  # fmt: skip
                    uow.record(disabled)
            await uow.webhooks.update_delivery(attempted)
            await uow.commit()
        return attempted


def _why(result: SendResult) -> str:
    return result.error or f"HTTP {result.status}"
