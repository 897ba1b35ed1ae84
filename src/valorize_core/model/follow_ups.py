"""What a follow-up task needs to find to have anything to do.

A write's events ask for background work (``runtime.relay.follow_ups``): its budgets evaluated,
its events fanned out to webhook endpoints. For a tenant with no budget, or no endpoint that
wants the events, such a task would run, read, and do nothing. Each task therefore says what it
needs (:class:`Precondition`), and a queue that can look at the tenant's data when it enqueues
— the local queue, in the commit that stores the events — writes only the tasks whose
precondition holds. A queue that cannot look (Cloud Tasks, after the commit) enqueues every
task, and the handler finds nothing to do, as it always could.

The decision is made on what the commit sees: the tenant's committed rows and the unit's own
changes (docs/tasks.md, "Follow-ups only when they can do something", states the guarantee for
an endpoint or a budget created while writes commit).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from valorize_core.model.webhooks import WebhookEndpoint

__all__ = ["Need", "Precondition"]


class Need(enum.StrEnum):
    """What a follow-up needs."""

    BUDGET = "budget"  # the tenant has a budget
    WEBHOOK_ENDPOINT = "webhook_endpoint"  # an enabled endpoint subscribed to one of the events


@dataclass(frozen=True, slots=True)
class Precondition:
    """A task is worth writing only when this holds of the tenant's data at enqueue time."""

    need: Need
    event_names: tuple[str, ...] = ()  # for an endpoint: the events the task carries (distinct, in order)

    @classmethod
    def budget(cls) -> Precondition:
        """The tenant has at least one budget."""
        return cls(Need.BUDGET)

    @classmethod
    def endpoint_for(cls, event_names: Iterable[str]) -> Precondition:
        """The tenant has an enabled endpoint subscribed to one of ``event_names``."""
        return cls(Need.WEBHOOK_ENDPOINT, tuple(dict.fromkeys(event_names)))

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """The endpoint subscriptions that match: the event names, and ``*`` (all)."""
        return (*self.event_names, "*")

    def holds(self, has_budget: bool, endpoints: Iterable[WebhookEndpoint]) -> bool:
        """Whether the task can do something, given the tenant's data."""
        if self.need is Need.BUDGET:
            return has_budget
        return any(endpoint.wants(name) for endpoint in endpoints for name in self.event_names)
