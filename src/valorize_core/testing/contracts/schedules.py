"""Contracts of the schedule, subscription and balance-alert repositories."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date

import pytest

from valorize_core.model.errors import Conflict, NotFound
from valorize_core.model.forecast import BalanceAlert
from valorize_core.model.money import Money
from valorize_core.model.schedules import OccurrenceHandling, Schedule, ScheduleOccurrence
from valorize_core.model.subscriptions import Cadence, SubscriptionStatus, TrackedSubscription
from valorize_core.model.transactions import Split
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import NOW, PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["BalanceAlertRepositoryContract", "ScheduleRepositoryContract", "SubscriptionRepositoryContract"]


class ScheduleRepositoryContract(PortsContract):
    def schedule(self, tenant: object, account: object, name: str, next_due: date | None) -> Schedule:
        amount = Money(-1000, "BRL")
        return Schedule(self.new_id(), tenant, account, name, name, amount, (Split(None, amount),),  # type: ignore[arg-type]
                        "FREQ=MONTHLY;BYMONTHDAY=5", date(2026, 1, 5), next_due, NOW, NOW)  # fmt: skip

    @staticmethod
    def _adding(schedule: Schedule) -> Callable[[UnitOfWork], Awaitable[None]]:
        return lambda uow: uow.schedules.add(schedule)

    def test_schedules_are_stored_listed_by_name_and_due_by_next_date(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acct = self.account(t)
        self.add_all(ports, t, acct)
        rent, gym = (
            self.schedule(t, acct.id, "rent", date(2026, 1, 5)),
            self.schedule(t, acct.id, "Gym", date(2026, 2, 5)),
        )
        ended = self.schedule(t, acct.id, "Old", None)
        for each in (rent, gym, ended):
            self.write(ports, t, self._adding(each))
        assert [s.name for s in self.read(ports, t, lambda uow: uow.schedules.list())] == ["Gym", "Old", "rent"]
        assert self.read(ports, t, lambda uow: uow.schedules.get(rent.id)) == rent
        due = self.read(ports, t, lambda uow: uow.schedules.due(date(2026, 1, 31)))
        assert [s.id for s in due] == [rent.id]
        paused = replace(gym, active=False)
        self.write(ports, t, lambda uow: uow.schedules.update(paused))
        assert self.read(ports, t, lambda uow: uow.schedules.due(date(2026, 12, 31))) == [rent]
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.schedules.update(replace(rent, id=self.new_id())))
        assert self.read(ports, self.new_tenant(ports), lambda uow: uow.schedules.list()) == []

    def test_an_occurrence_is_recorded_once_and_goes_with_its_schedule(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acct = self.account(t)
        self.add_all(ports, t, acct)
        rent = self.schedule(t, acct.id, "Rent", date(2026, 1, 5))
        self.write(ports, t, lambda uow: uow.schedules.add(rent))
        posted = ScheduleOccurrence(rent.id, date(2026, 1, 5), self.new_id(), OccurrenceHandling.POSTED)
        linked = ScheduleOccurrence(rent.id, date(2026, 2, 5), self.new_id(), OccurrenceHandling.LINKED)
        assert self.write(ports, t, lambda uow: uow.schedules.record(linked)) is True
        assert self.write(ports, t, lambda uow: uow.schedules.record(posted)) is True
        again = replace(posted, transaction_id=self.new_id(), handling=OccurrenceHandling.LINKED)
        assert self.write(ports, t, lambda uow: uow.schedules.record(again)) is False
        assert self.read(ports, t, lambda uow: uow.schedules.occurrences(rent.id)) == [posted, linked]
        self.write(ports, t, lambda uow: uow.schedules.remove(rent.id))
        assert self.read(ports, t, lambda uow: uow.schedules.occurrences(rent.id)) == []
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.schedules.remove(rent.id))


class SubscriptionRepositoryContract(PortsContract):
    def test_a_subscription_is_decided_once_and_updated(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acct = self.account(t)
        self.add_all(ports, t, acct)
        price = Money(-3990, "BRL")
        sub = TrackedSubscription(self.new_id(), t, acct.id, "netflix com", "Netflix", Cadence.MONTHLY, price,
                                  SubscriptionStatus.CONFIRMED, date(2026, 1, 15), NOW)  # fmt: skip
        self.write(ports, t, lambda uow: uow.subscriptions.add(sub))
        with pytest.raises(Conflict):
            self.write(ports, t, lambda uow: uow.subscriptions.add(replace(sub, id=self.new_id())))
        risen = replace(sub, amount=Money(-4490, "BRL"), last_charged=date(2026, 2, 15), stopped_on=date(2026, 4, 1))
        self.write(ports, t, lambda uow: uow.subscriptions.update(risen))
        assert self.read(ports, t, lambda uow: uow.subscriptions.get(sub.id)) == risen
        assert self.read(ports, t, lambda uow: uow.subscriptions.list()) == [risen]
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.subscriptions.update(replace(sub, id=self.new_id())))
        assert self.read(ports, self.new_tenant(ports), lambda uow: uow.subscriptions.list()) == []


class BalanceAlertRepositoryContract(PortsContract):
    def test_alerts_are_replaced_removed_and_dips_announced_once(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acct = self.account(t)
        self.add_all(ports, t, acct)
        self.write(ports, t, lambda uow: uow.balance_alerts.put(BalanceAlert(acct.id, 10_000, 60)))
        self.write(ports, t, lambda uow: uow.balance_alerts.put(BalanceAlert(acct.id, 20_000, 30)))
        assert self.read(ports, t, lambda uow: uow.balance_alerts.list()) == [BalanceAlert(acct.id, 20_000, 30)]
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.balance_alerts.put(BalanceAlert(self.new_id(), 0)))
        first = self.write(ports, t, lambda uow: uow.balance_alerts.announce(acct.id, date(2026, 1, 5), 0))
        again = self.write(ports, t, lambda uow: uow.balance_alerts.announce(acct.id, date(2026, 1, 5), 0))
        other = self.write(ports, t, lambda uow: uow.balance_alerts.announce(acct.id, date(2026, 1, 5), 100))
        assert (first, again, other) == (True, False, True)
        self.write(ports, t, lambda uow: uow.balance_alerts.remove(acct.id))
        with pytest.raises(NotFound):
            self.write(ports, t, lambda uow: uow.balance_alerts.remove(acct.id))
        assert self.read(ports, t, lambda uow: uow.balance_alerts.list()) == []
