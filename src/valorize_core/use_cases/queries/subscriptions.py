"""Queries: subscriptions found in the history (not yet decided), and the decided ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from valorize_core.model.listing import TransactionFilter
from valorize_core.model.subscriptions import FoundSubscription, TrackedSubscription, find_subscriptions
from valorize_core.ports.unit_of_work import ReadOnlyUnit
from valorize_core.use_cases.context import Ports

__all__ = ["HISTORY_DAYS", "FindSubscriptions", "FoundSubscriptionsQuery", "ListTrackedSubscriptions", "found_in"]

HISTORY_DAYS = 400  # a year of history and a margin: a yearly charge is seen twice


@dataclass(frozen=True, slots=True)
class FoundSubscriptionsQuery:
    """Whose history to search."""

    tenant_id: UUID


async def found_in(uow: ReadOnlyUnit, ports: Ports) -> list[FoundSubscription]:
    """Every subscription the tenant's recent history shows, decided or not."""
    today = ports.clock.now().date()
    history = await uow.transactions.all(TransactionFilter(date_from=today - timedelta(days=HISTORY_DAYS),
                                                           date_to=today))  # fmt: skip
    return find_subscriptions(uow.tenant_id, history, today)


class FindSubscriptions:
    """Subscriptions found in the last :data:`HISTORY_DAYS` days that the person has not
    confirmed or dismissed, most confident first, each with its evidence."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: FoundSubscriptionsQuery) -> list[FoundSubscription]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            found = await found_in(uow, self._ports)
            decided = {x.id for x in await uow.subscriptions.list()}
        return [f for f in found if f.id not in decided]


class ListTrackedSubscriptions:
    """The confirmed and dismissed subscriptions."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: FoundSubscriptionsQuery) -> list[TrackedSubscription]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.subscriptions.list()
