"""Domain events: facts, with ids, that consumers handle idempotently by ``event_id``.

Events carry only JSON-safe primitives (ids as strings, money as minor units plus currency),
so an outbox row, a task body and a realtime message are the same record::

    {"id": "...", "name": "transaction.created", "tenant_id": "...",
     "occurred_at": "2026-11-22T10:00:00+00:00", "payload": {...},
     "correlation_id": "..."}

``correlation_id`` (present when known) is the request id of the HTTP call that caused the event.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from valorize_core.model.errors import ValidationError

__all__ = [
    "EVENT_TYPES",
    "AccountBalanceChanged",
    "BalanceProjectedLow",
    "BudgetSet",
    "BudgetThresholdCrossed",
    "DomainEvent",
    "ImportCompleted",
    "ImportProgressed",
    "ImportRequested",
    "JobCompleted",
    "JobRequested",
    "NotificationCreated",
    "ReportReady",
    "RuleSuggested",
    "SubscriptionPriceRose",
    "SubscriptionStopped",
    "TransactionCategorized",
    "TransactionCreated",
    "TransactionDeleted",
    "TransactionUpdated",
    "TransactionsImported",
    "WebhookDeliveryRequested",
    "WebhookEndpointDisabled",
    "event_from_record",
]


# What every record carries outside its payload, and each event type's payload fields.
_ENVELOPE = frozenset({"event_id", "tenant_id", "occurred_at", "correlation_id", "_record", "_json"})
_PAYLOAD_FIELDS: dict[type, tuple[str, ...]] = {}
# What ``json.dumps(record, separators=(",", ":"))`` builds anew at every call, built once.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Base of every event: who (tenant), when, and a unique id."""

    name: ClassVar[str] = "event"

    event_id: UUID
    tenant_id: UUID
    occurred_at: datetime
    correlation_id: str | None = None
    # The record, made once: a commit's events are written to the outbox, published and put in
    # task bodies, each asking for it (a write's events were turned into records ten times).
    _record: dict[str, Any] | None = dataclasses.field(default=None, init=False, repr=False, compare=False)
    # Its JSON text, made once too: the outbox row, the event bus and the realtime channel carry
    # the same text (each encoded it anew).
    _json: str | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def payload(self) -> dict[str, Any]:
        """The event's own fields (beyond id, tenant, time and correlation) as JSON-safe values."""
        names = _PAYLOAD_FIELDS.get(type(self))
        if names is None:
            names = tuple(f.name for f in dataclasses.fields(self) if f.name not in _ENVELOPE)
            _PAYLOAD_FIELDS[type(self)] = names
        return {name: getattr(self, name) for name in names}

    def to_record(self) -> dict[str, Any]:
        """The event as a JSON-safe dict: the outbox row, task body and realtime message (a
        copy of the one made at the first call: the caller may change it)."""
        record = self._made_record()
        return {**record, "payload": dict(record["payload"])}

    def to_json(self) -> str:
        """:meth:`to_record` as compact JSON text: what the outbox, the event bus and realtime
        channels carry (made at the first call; the event is immutable, and so is its text)."""
        text = self._json
        if text is None:
            text = _COMPACT.encode(self._made_record())
            object.__setattr__(self, "_json", text)  # frozen: a cache, not a field's value
        return text

    def _made_record(self) -> dict[str, Any]:
        """The record, made at the first call and kept (never handed out: callers get copies)."""
        record = self._record
        if record is None:
            record = {
                "id": str(self.event_id),
                "name": self.name,
                "tenant_id": str(self.tenant_id),
                "occurred_at": self.occurred_at.isoformat(),
                "payload": self.payload(),
            }
            if self.correlation_id is not None:
                record["correlation_id"] = self.correlation_id
            object.__setattr__(self, "_record", record)  # frozen: a cache, not a field's value
        return record


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionCreated(DomainEvent):
    """A transaction was recorded (manually, by import or as a transfer leg)."""

    name: ClassVar[str] = "transaction.created"
    transaction_id: str
    account_id: str
    amount_minor: int
    currency: str
    booked_on: str
    category_id: str | None
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionUpdated(DomainEvent):
    """A transaction was edited; ``changes`` names the fields that changed."""

    name: ClassVar[str] = "transaction.updated"
    transaction_id: str
    account_id: str
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionDeleted(DomainEvent):
    """A transaction was deleted."""

    name: ClassVar[str] = "transaction.deleted"
    transaction_id: str
    account_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionCategorized(DomainEvent):
    """A transaction's category was set by a rule, memory, neighbours or a person."""

    name: ClassVar[str] = "transaction.categorized"
    transaction_id: str
    category_id: str | None
    source: str
    confidence: str
    explanation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionsImported(DomainEvent):
    """A statement import committed its rows."""

    name: ClassVar[str] = "transactions.imported"
    import_id: str
    account_id: str
    imported: int
    duplicates: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountBalanceChanged(DomainEvent):
    """An account's balance changed to ``balance_minor``."""

    name: ClassVar[str] = "account.balance_changed"
    account_id: str
    balance_minor: int
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetSet(DomainEvent):
    """A budget was created or changed; its follow-up evaluates the tenant's budgets for ``day``
    (the day it was set), so a threshold already crossed is announced without waiting for a write."""

    name: ClassVar[str] = "budget.set"
    budget_id: str
    category_id: str
    day: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetThresholdCrossed(DomainEvent):
    """Spending reached ``threshold`` percent of a budget in a period (emitted once per period)."""

    name: ClassVar[str] = "budget.threshold_crossed"
    budget_id: str
    category_id: str
    period_start: str
    threshold: int
    spent_minor: int
    available_minor: int
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportRequested(DomainEvent):
    """A statement file was uploaded; the import task will run it."""

    name: ClassVar[str] = "import.requested"
    import_id: str
    account_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportProgressed(DomainEvent):
    """A running import processed ``processed`` of ``total`` rows."""

    name: ClassVar[str] = "import.progressed"
    import_id: str
    processed: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportCompleted(DomainEvent):
    """An import finished, successfully or not."""

    name: ClassVar[str] = "import.completed"
    import_id: str
    status: str
    imported: int
    duplicates: int
    errors: int
    updated: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReady(DomainEvent):
    """A report requested asynchronously is ready."""

    name: ClassVar[str] = "report.ready"
    report_id: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRequested(DomainEvent):
    """A client asked for background work (a job); its task will run it."""

    name: ClassVar[str] = "job.requested"
    job_id: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCompleted(DomainEvent):
    """A job finished (``status`` completed or failed); ``summary`` says what came of it."""

    name: ClassVar[str] = "job.completed"
    job_id: str
    kind: str
    status: str
    summary: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationCreated(DomainEvent):
    """A notification was stored for the tenant's people."""

    name: ClassVar[str] = "notification.created"
    notification_id: str
    kind: str
    title: str
    body: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSuggested(DomainEvent):
    """Valorize proposes a rule for a payee a person keeps putting in one category."""

    name: ClassVar[str] = "rule.suggested"
    suggestion_id: str
    payee: str
    category_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceProjectedLow(DomainEvent):
    """An account is projected below its alert threshold (zero unless set); announced once per
    first day below and threshold."""

    name: ClassVar[str] = "balance.projected_low"
    account_id: str
    threshold_minor: int
    lowest_minor: int
    lowest_on: str
    below_on: str
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionPriceRose(DomainEvent):
    """A confirmed subscription charged more than its price (announced once per new price)."""

    name: ClassVar[str] = "subscription.price_rose"
    subscription_id: str
    account_id: str
    payee: str
    old_minor: int
    new_minor: int
    currency: str
    charged_on: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionStopped(DomainEvent):
    """A confirmed subscription's next charge is overdue (announced once until it comes back)."""

    name: ClassVar[str] = "subscription.stopped"
    subscription_id: str
    account_id: str
    payee: str
    last_charged: str
    expected_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDeliveryRequested(DomainEvent):
    """Attempt ``attempt`` of round ``round`` of a webhook delivery is due at ``not_before``
    (ISO 8601; empty: now)."""

    name: ClassVar[str] = "webhook.delivery_requested"
    delivery_id: str
    attempt: int
    round: int = 0
    not_before: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEndpointDisabled(DomainEvent):
    """A webhook endpoint was turned off after failing every attempt of a delivery."""

    name: ClassVar[str] = "webhook.endpoint_disabled"
    endpoint_id: str
    url: str
    reason: str


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.name: cls
    for cls in (
        TransactionCreated,
        TransactionUpdated,
        TransactionDeleted,
        TransactionCategorized,
        TransactionsImported,
        AccountBalanceChanged,
        BudgetSet,
        BudgetThresholdCrossed,
        ImportRequested,
        ImportProgressed,
        ImportCompleted,
        ReportReady,
        JobRequested,
        JobCompleted,
        NotificationCreated,
        RuleSuggested,
        SubscriptionPriceRose,
        SubscriptionStopped,
        BalanceProjectedLow,
        WebhookDeliveryRequested,
        WebhookEndpointDisabled,
    )
}


def event_from_record(record: dict[str, Any]) -> DomainEvent:
    """Rebuild an event from :meth:`DomainEvent.to_record` output."""
    try:
        cls = EVENT_TYPES[record["name"]]
        payload = dict(record["payload"])
        for f in dataclasses.fields(cls):
            if f.name in payload and isinstance(payload[f.name], list):
                payload[f.name] = tuple(payload[f.name])
        return cls(
            event_id=UUID(record["id"]),
            tenant_id=UUID(record["tenant_id"]),
            occurred_at=datetime.fromisoformat(record["occurred_at"]),
            correlation_id=record.get("correlation_id"),
            **payload,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError.for_field("event", f"not an event record: {exc}") from None
