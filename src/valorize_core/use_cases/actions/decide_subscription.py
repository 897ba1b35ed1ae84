"""Actions: confirm a found subscription into a schedule, or dismiss it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from valorize_core.model.errors import Conflict, NotFound
from valorize_core.model.money import Money
from valorize_core.model.schedules import Schedule
from valorize_core.model.subscriptions import (
    AMOUNT_TOLERANCE,
    FoundSubscription,
    SubscriptionStatus,
    TrackedSubscription,
)
from valorize_core.model.transactions import Split
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.actions.create_schedule import next_due
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.queries.subscriptions import found_in

__all__ = ["ConfirmSubscription", "DismissSubscription", "SubscriptionDecision"]


@dataclass(frozen=True, slots=True)
class SubscriptionDecision:
    """Which found subscription (its id from the list of found ones)."""

    tenant_id: UUID
    subscription_id: UUID


async def _found(uow: UnitOfWork, ports: Ports, subscription_id: UUID) -> FoundSubscription:
    if await uow.subscriptions.get(subscription_id) is not None:
        raise Conflict("this subscription was confirmed or dismissed before")
    for found in await found_in(uow, ports):
        if found.id == subscription_id:
            return found
    raise NotFound("subscription", subscription_id)


def _tracked(found: FoundSubscription, tenant_id: UUID, status: SubscriptionStatus, ports: Ports,
             schedule_id: UUID | None) -> TrackedSubscription:  # fmt: skip
    return TrackedSubscription(found.id, tenant_id, found.account_id, found.payee_key, found.payee, found.cadence,
                               found.amount, status, found.last_charged, ports.clock.now(), schedule_id)  # fmt: skip


class ConfirmSubscription:
    """Turns a found subscription into a schedule at its latest price, continuing its cadence
    after the last charge (a bank row of it will match: the tolerance is the amount
    tolerance of detection), and tracks it for price rises and stops."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: SubscriptionDecision) -> tuple[TrackedSubscription, Schedule]:
        """Confirm; return the tracked subscription and its schedule."""
        ports = self._ports
        async with ports.uow(command.tenant_id) as uow:
            found = await _found(uow, ports, command.subscription_id)
            amount = found.amount
            starts_on = found.last_charged + timedelta(days=1)  # the rule's next date after the last charge
            rule = ports.recurrence.normalize(found.cadence.rule(found.last_charged), starts_on)
            tolerance = Money(int(abs(Decimal(amount.minor)) * AMOUNT_TOLERANCE), amount.currency)
            now = ports.clock.now()
            schedule = Schedule(
                id=ports.ids.new_id(), tenant_id=uow.tenant_id, account_id=found.account_id, name=found.payee,
                payee=found.payee, amount=amount, splits=(Split(None, amount),), rule=rule, starts_on=starts_on,
                next_due=None, created_at=now, updated_at=now, tolerance=tolerance, tags=("subscription",),
            )  # fmt: skip
            schedule = replace(schedule, next_due=next_due(ports.recurrence, schedule, None))
            await uow.schedules.add(schedule)
            tracked = _tracked(found, uow.tenant_id, SubscriptionStatus.CONFIRMED, ports, schedule.id)
            await uow.subscriptions.add(tracked)
            await uow.commit()
        return tracked, schedule


class DismissSubscription:
    """Records that a found subscription is not one: it is not proposed again."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: SubscriptionDecision) -> TrackedSubscription:
        """Dismiss; return the decision."""
        async with self._ports.uow(command.tenant_id) as uow:
            found = await _found(uow, self._ports, command.subscription_id)
            tracked = _tracked(found, uow.tenant_id, SubscriptionStatus.DISMISSED, self._ports, None)
            await uow.subscriptions.add(tracked)
            await uow.commit()
        return tracked
