"""Notifications: what a person should hear about, stored for the inbox and published live.

:func:`notification_for` decides which events deserve one and words it; the ``notify`` task
stores it (its id derives from the event's, so an event never notifies twice) and records a
``notification.created`` event that reaches the tenant's realtime channel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from valorize_core.model.events import (
    BalanceProjectedLow,
    BudgetThresholdCrossed,
    DomainEvent,
    ImportCompleted,
    JobCompleted,
    RuleSuggested,
    SubscriptionPriceRose,
    SubscriptionStopped,
    WebhookEndpointDisabled,
)
from valorize_core.model.money import Money, currency

__all__ = ["Notification", "notification_for", "notification_id"]


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for a tenant's people; ``data`` is JSON-safe context (ids to link to)."""

    id: UUID
    tenant_id: UUID
    kind: str
    title: str
    body: str
    created_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    read_at: datetime | None = None


def notification_id(event: DomainEvent) -> UUID:
    """The one notification an event may cause."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"valorize:notification:{event.event_id}")


def _money(minor: int, code: str) -> str:
    return str(abs(Money(minor, currency(code))))


def notification_for(event: DomainEvent) -> tuple[str, str, str, dict[str, Any]] | None:
    """``(kind, title, body, data)`` for events worth telling someone about, else ``None``."""
    if isinstance(event, BudgetThresholdCrossed):
        remaining = event.available_minor - event.spent_minor
        left = _money(remaining, event.currency)
        rest = f"{left} left" if remaining >= 0 else f"{left} over budget"
        spent, available = _money(event.spent_minor, event.currency), _money(event.available_minor, event.currency)
        body = f"{spent} of {available} spent; {rest} this period."
        data = {"budget_id": event.budget_id, "category_id": event.category_id, "threshold": event.threshold}
        return ("budget", f"Budget {event.threshold}% used", body, data)
    if isinstance(event, WebhookEndpointDisabled):
        body = f"{event.url} failed every attempt of a delivery ({event.reason}); no more events are sent to it."
        return ("webhook", "Webhook endpoint disabled", body[:2000], {"endpoint_id": event.endpoint_id})
    if isinstance(event, ImportCompleted):
        if event.status == "completed":
            title = "Statement imported"
            body = f"{event.imported} new, {event.duplicates} already known, {event.errors} rows with errors."
        else:
            title, body = "Statement import failed", f"{event.errors} rows with errors; nothing was imported."
        return ("import", title, body, {"import_id": event.import_id, "status": event.status})
    if isinstance(event, RuleSuggested):
        body = f"Always categorize {event.payee} this way? ({event.reason})"
        return ("rule_suggestion", "A rule is suggested", body,
                {"suggestion_id": event.suggestion_id, "category_id": event.category_id})  # fmt: skip
    if isinstance(event, JobCompleted):
        what = {"apply_rules": "Rules applied", "generate_report": "Report ready",
                "categorize": "Transactions categorized"}.get(event.kind, "Job finished")  # fmt: skip
        title = what if event.status == "completed" else f"{what}: failed"
        return ("job", title, event.summary, {"job_id": event.job_id, "kind": event.kind, "status": event.status})
    if isinstance(event, BalanceProjectedLow):
        lowest = Money(event.lowest_minor, currency(event.currency))
        threshold = Money(event.threshold_minor, currency(event.currency))
        title = "Balance projected below zero" if event.threshold_minor == 0 else f"Balance projected below {threshold}"
        body = (f"Scheduled transactions take the account below {threshold} on {event.below_on}; "
                f"lowest {lowest} on {event.lowest_on}.")  # fmt: skip
        return ("forecast", title, body, {"account_id": event.account_id, "below_on": event.below_on})
    if isinstance(event, SubscriptionPriceRose):
        old, new = _money(event.old_minor, event.currency), _money(event.new_minor, event.currency)
        body = f"{event.payee} charged {new} on {event.charged_on}, up from {old}."
        return ("subscription", f"{event.payee} costs more", body,
                {"subscription_id": event.subscription_id, "account_id": event.account_id})  # fmt: skip
    if isinstance(event, SubscriptionStopped):
        body = f"No charge from {event.payee} since {event.last_charged}; one was expected by {event.expected_by}."
        return ("subscription", f"{event.payee} seems to have stopped", body,
                {"subscription_id": event.subscription_id, "account_id": event.account_id})  # fmt: skip
    return None
