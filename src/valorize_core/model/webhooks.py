"""Outbound webhooks: a tenant's endpoints, their deliveries, and the signature receivers check.

An **endpoint** is a URL subscribed to event types (``*`` for all of :data:`WEBHOOK_EVENTS`),
with a signing secret. A **delivery** is one event for one endpoint (its id derives from both,
so an event is delivered to an endpoint once), tried until it succeeds or the retry schedule
(:class:`WebhookPolicy`) runs out; then it has failed, and the endpoint, having failed
throughout, is disabled.

**Signature** (as Stripe does it): the header ``Valorize-Signature: t=<unix time>,v1=<hex>``
carries HMAC-SHA256 with the endpoint's secret over ``"<t>.<body>"``. For a while after a
rotation (:attr:`WebhookPolicy.secret_overlap`) the header carries one ``v1`` per valid secret,
the new one first, so a receiver still configured with the old secret keeps verifying. A
receiver recomputes the HMAC with its secret, compares in constant time with any ``v1``, and
refuses a ``t`` too far from its clock (replays): :func:`verify_signature`. The body's ``id``
(also ``Valorize-Event-Id``) is the event's id: a receiver that dedupes on it sees each event
once, whatever the retries.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.events import DomainEvent
from valorize_core.model.text import check_text, parse_choice

__all__ = [
    "MAX_ENDPOINTS",
    "MAX_RESPONSE_CHARS",
    "SIGNATURE_HEADER",
    "WEBHOOK_EVENTS",
    "DeliveryStatus",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookPolicy",
    "check_url",
    "delivery_body",
    "delivery_id",
    "new_secret",
    "sign",
    "signature_header",
    "subscriptions",
    "verify_signature",
]

SIGNATURE_HEADER = "Valorize-Signature"
MAX_ENDPOINTS = 20
MAX_RESPONSE_CHARS = 1000

# What an endpoint may subscribe to: the events about the tenant's money and work, not the
# plumbing (import.requested, job.requested, import.progressed, the webhooks' own).
WEBHOOK_EVENTS = frozenset({
    "transaction.created", "transaction.updated", "transaction.deleted", "transaction.categorized",
    "transactions.imported", "account.balance_changed", "budget.threshold_crossed", "import.completed",
    "report.ready", "job.completed", "rule.suggested", "notification.created",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """How deliveries are retried and secrets rotated (the operator's settings).

    ``retry_delays``: the wait before each retry; a delivery is tried ``len + 1`` times.
    ``timeout``: seconds an attempt may take. ``secret_overlap``: how long a replaced secret
    still signs."""

    retry_delays: tuple[timedelta, ...] = tuple(
        timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 10800, 21600, 43200)
    )
    timeout: float = 10.0
    secret_overlap: timedelta = timedelta(hours=24)

    @property
    def attempts(self) -> int:
        """How many times a delivery is tried before it fails."""
        return len(self.retry_delays) + 1


class DeliveryStatus(enum.StrEnum):
    """Where a delivery is."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """A URL of the tenant's, the event types it gets, and the secrets that sign them."""

    id: UUID
    tenant_id: UUID
    url: str
    event_types: tuple[str, ...]
    secret: str
    created_at: datetime
    enabled: bool = True
    previous_secret: str | None = None
    previous_valid_until: datetime | None = None
    disabled_reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", check_url(self.url))
        object.__setattr__(self, "event_types", subscriptions(self.event_types))

    def wants(self, event_name: str) -> bool:
        """Whether an event of this name goes to this endpoint."""
        return (
            self.enabled
            and event_name in WEBHOOK_EVENTS
            and ("*" in self.event_types or event_name in self.event_types)
        )

    def secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign a delivery now: the current one, and the previous one while valid."""
        if self.previous_secret and self.previous_valid_until and now < self.previous_valid_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event for one endpoint: its body (sent as is on every attempt) and how it went.

    ``attempts`` counts the attempts of the current round; a manual redelivery starts a new
    round (``redeliveries`` + 1) with the retry schedule from its start."""

    id: UUID
    tenant_id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    body: str
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    response_status: int | None = None
    response_body: str = ""
    error: str = ""
    redeliveries: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_choice(DeliveryStatus, self.status, "status"))


def check_url(url: object) -> str:
    """``url`` if it is an absolute ``https``/``http`` URL with a host and no credentials.

    Only its form: where it points (loopback, private, metadata addresses) is the sender's
    check, which resolves the name.
    """
    text = check_text(url, "url").strip()
    if not text or len(text) > 2000:
        raise ValidationError.for_field("url", "must be a URL of at most 2000 characters")
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError.for_field("url", "must be an absolute https:// (or http://) URL")
    if parts.username is not None or parts.password is not None:
        raise ValidationError.for_field("url", "must not carry credentials")
    try:
        parts.port  # noqa: B018 — raises for a port out of range
    except ValueError:
        raise ValidationError.for_field("url", "has an invalid port") from None
    return text


def subscriptions(event_types: object) -> tuple[str, ...]:
    """Sorted, distinct event types, each in :data:`WEBHOOK_EVENTS` (or ``*``)."""
    if isinstance(event_types, str) or not isinstance(event_types, (list, tuple)) or not event_types:
        raise ValidationError.for_field("event_types", "must be a non-empty list of event types (or ['*'])")
    unknown = [t for t in event_types if t != "*" and t not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError.for_field(
            "event_types", f"unknown: {', '.join(map(str, unknown))[:200]}; known: {', '.join(sorted(WEBHOOK_EVENTS))}"
        )
    return tuple(sorted(set(event_types)))


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes, URL-safe."""
    return "whsec_" + secrets.token_urlsafe(32)


def delivery_id(endpoint_id: UUID, event_id: UUID) -> UUID:
    """The one delivery of an event to an endpoint."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"valorize:webhook:{endpoint_id}:{event_id}")


def delivery_body(event: DomainEvent) -> str:
    """What a receiver gets: the event's id (its dedup key), type, time and data, as JSON."""
    record: dict[str, Any] = {
        "id": str(event.event_id),
        "type": event.name,
        "created_at": event.occurred_at.isoformat(),
        "tenant_id": str(event.tenant_id),
        "data": event.payload(),
    }
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256, hex, with ``secret`` over ``"<timestamp>.<body>"``."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secrets_: tuple[str, ...], timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<sig>[,v1=<sig>]``: one signature per valid secret."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets_)])


def verify_signature(header: str, secret: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: some ``v1`` is the HMAC of ``secret`` and ``t`` is within
    ``tolerance`` seconds of ``now``."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)
