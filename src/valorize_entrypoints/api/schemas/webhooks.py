"""Outbound webhooks (endpoints and their delivery log) and restore summaries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct

from valorize_core.model.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = ["DeliveryOut", "RestoreOut", "WebhookIn", "WebhookOut", "WebhookPatch", "delivery", "webhook"]

EventType = Literal[
    "*", "transaction.created", "transaction.updated", "transaction.deleted", "transaction.categorized",
    "transactions.imported", "account.balance_changed", "budget.threshold_crossed", "import.completed",
    "report.ready", "job.completed", "rule.suggested", "notification.created",
]  # fmt: skip  # WEBHOOK_EVENTS, as the schema says it (tests/unit/test_webhook_guard.py keeps them equal)
EventTypes = Annotated[list[EventType], Meta(min_length=1, max_length=32)]


class WebhookIn(Struct, forbid_unknown_fields=True):
    url: Annotated[str, Meta(max_length=2000)]
    event_types: EventTypes


class WebhookPatch(Struct, forbid_unknown_fields=True):
    url: Annotated[str, Meta(max_length=2000)] | None = None
    event_types: EventTypes | None = None
    enabled: bool | None = None


class WebhookOut(Struct):
    id: UUID
    url: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str
    secret: str  # signs deliveries (Valorize-Signature); the owner configures the receiver with it
    previous_secret_valid_until: datetime | None  # after a rotation, the old secret signs too until then
    created_at: datetime


class DeliveryOut(Struct):
    id: UUID
    event_id: UUID
    event_type: str
    status: str
    attempts: int
    redeliveries: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None
    response_body: str
    error: str
    created_at: datetime


class RestoreOut(Struct):
    version: int  # of the archive restored
    counts: dict[str, int]  # records restored, by type


def webhook(e: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(e.id, e.url, list(e.event_types), e.enabled, e.disabled_reason, e.secret,
                      e.previous_valid_until if e.previous_secret else None, e.created_at)  # fmt: skip


def delivery(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(d.id, d.event_id, d.event_type, d.status.value, d.attempts, d.redeliveries, d.next_attempt_at,
                       d.last_attempt_at, d.response_status, d.response_body, d.error, d.created_at)  # fmt: skip
