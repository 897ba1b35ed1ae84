"""Action: watch confirmed subscriptions for price rises and stops."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID

from valorize_core.model.events import SubscriptionPriceRose, SubscriptionStopped
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.payees import payee_key
from valorize_core.model.subscriptions import SubscriptionStatus, TrackedSubscription, price_rose
from valorize_core.model.transactions import Split, TransactionSource
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.context import Ports

__all__ = ["SubscriptionWatch", "WatchSubscriptions"]


@dataclass(frozen=True, slots=True)
class SubscriptionWatch:
    """Look at the charges of the tenant's confirmed subscriptions up to ``day``."""

    tenant_id: UUID
    day: date


class WatchSubscriptions:
    """For each confirmed subscription, reads the charges (bank rows and manual entries, not
    the schedule's own postings) after the last one seen:

    - a charge above the price beyond the amount tolerance records
      :class:`~valorize_core.model.events.SubscriptionPriceRose` once, and the new price
      becomes the subscription's and its single-split schedule's (the forecast follows it);
    - no charge while the next one is overdue records
      :class:`~valorize_core.model.events.SubscriptionStopped` once; a later charge clears it.

    Both events are notified (and reach the realtime channel) like every event with a
    notification. Returns the events recorded.
    """

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: SubscriptionWatch) -> list[SubscriptionPriceRose | SubscriptionStopped]:
        """Watch and announce."""
        recorded: list[SubscriptionPriceRose | SubscriptionStopped] = []
        async with self._ports.uow(command.tenant_id) as uow:
            for listed in await uow.subscriptions.list():
                if listed.status is not SubscriptionStatus.CONFIRMED:
                    continue
                tracked = await uow.subscriptions.get(listed.id, for_update=True)
                if tracked is not None:
                    recorded.extend(await self._watch(uow, tracked, command.day))
            await uow.commit()
        return recorded

    async def _watch(
        self, uow: UnitOfWork, tracked: TrackedSubscription, day: date
    ) -> list[SubscriptionPriceRose | SubscriptionStopped]:
        ports = self._ports
        out: list[SubscriptionPriceRose | SubscriptionStopped] = []
        window = TransactionFilter(account_ids=(tracked.account_id,),
                                   date_from=tracked.last_charged + timedelta(days=1), date_to=day)  # fmt: skip
        charges = sorted(
            (t for t in await uow.transactions.all(window)
             if t.source is not TransactionSource.RECURRING and t.amount.minor < 0
             and t.amount.currency == tracked.amount.currency
             and payee_key(t.payee or t.description) == tracked.payee_key),
            key=lambda t: (t.booked_on, t.id),
        )  # fmt: skip
        changed = tracked
        for charge in charges:
            if price_rose(changed.amount, charge.amount):
                rose = ports.event(SubscriptionPriceRose, uow.tenant_id, subscription_id=str(tracked.id),
                                   account_id=str(tracked.account_id), payee=tracked.payee,
                                   old_minor=changed.amount.minor, new_minor=charge.amount.minor,
                                   currency=charge.amount.currency.code,
                                   charged_on=charge.booked_on.isoformat())  # fmt: skip
                uow.record(rose)
                out.append(rose)
                changed = replace(changed, amount=charge.amount)
            changed = replace(changed, last_charged=charge.booked_on, stopped_on=None)
        if not charges and changed.stopped_on is None and changed.overdue(day):
            expected = changed.last_charged + timedelta(days=changed.cadence.days)
            stopped = ports.event(SubscriptionStopped, uow.tenant_id, subscription_id=str(tracked.id),
                                  account_id=str(tracked.account_id), payee=tracked.payee,
                                  last_charged=changed.last_charged.isoformat(),
                                  expected_by=expected.isoformat())  # fmt: skip
            uow.record(stopped)
            out.append(stopped)
            changed = replace(changed, stopped_on=day)
        if changed != tracked:
            await uow.subscriptions.update(changed)
            if changed.amount != tracked.amount and changed.schedule_id is not None:
                await self._reprice(uow, changed)
        return out

    async def _reprice(self, uow: UnitOfWork, tracked: TrackedSubscription) -> None:
        schedule = await uow.schedules.get(tracked.schedule_id, for_update=True)  # type: ignore[arg-type]
        if schedule is None or len(schedule.splits) != 1:
            return
        split = schedule.splits[0]
        await uow.schedules.update(replace(schedule, amount=tracked.amount, updated_at=self._ports.clock.now(),
                                           splits=(Split(split.category_id, tracked.amount, split.memo),)))  # fmt: skip
