"""Contract of the unit of work: atomicity, rollback, outbox, tenant isolation."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from valorize_core.context import Ports
from valorize_core.errors import Conflict
from valorize_core.events import AccountBalanceChanged, DomainEvent
from valorize_core.listing import TransactionFilter
from valorize_core.testing.contracts.base import NOW, PortsContract

__all__ = ["UnitOfWorkContract"]

Outbox = Callable[[uuid.UUID], set[uuid.UUID]]


class UnitOfWorkContract(PortsContract):
    def _event(self, tenant: uuid.UUID) -> DomainEvent:
        return AccountBalanceChanged(
            event_id=self.new_id(), tenant_id=tenant, occurred_at=NOW, account_id="x", balance_minor=1, currency="BRL"
        )

    def test_commit_makes_rows_and_events_durable_together(self, ports: Ports, outbox: Outbox) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t)
        event = self._event(t)

        async def go() -> list[DomainEvent]:
            async with ports.uow(t) as uow:
                await uow.accounts.add(acc)
                uow.record(event)
                await uow.commit()
                return uow.committed_events

        assert self.run(go()) == [event]
        assert self.read(ports, t, lambda uow: uow.accounts.get(acc.id)) == acc
        assert event.event_id in outbox(t)

    def test_leaving_without_commit_rolls_back_rows_and_events(self, ports: Ports, outbox: Outbox) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t)
        event = self._event(t)

        async def go() -> None:
            async with ports.uow(t) as uow:
                await uow.accounts.add(acc)
                uow.record(event)

        self.run(go())
        assert self.read(ports, t, lambda uow: uow.accounts.get(acc.id)) is None
        assert event.event_id not in outbox(t)

    def test_a_failure_mid_write_leaves_nothing_behind(self, ports: Ports, outbox: Outbox) -> None:
        t = self.new_tenant(ports)
        first, clash = self.account(t, "Same"), self.account(t, "same")
        event = self._event(t)

        async def go() -> None:
            async with ports.uow(t) as uow:
                await uow.accounts.add(first)
                await uow.transactions.add(self.transaction(t, first))
                await uow.accounts.apply_balance_delta(first.id, -1000)
                uow.record(event)
                await uow.accounts.add(clash)  # fails: the whole unit must vanish
                await uow.commit()

        with pytest.raises(Conflict):
            self.run(go())
        assert self.read(ports, t, lambda uow: uow.accounts.list()) == []
        assert self.read(ports, t, lambda uow: uow.transactions.all(TransactionFilter())) == []
        assert event.event_id not in outbox(t)

    def test_explicit_rollback_then_more_work(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        dropped, kept = self.account(t, "Dropped"), self.account(t, "Kept")

        async def go() -> None:
            async with ports.uow(t) as uow:
                await uow.accounts.add(dropped)
                await uow.rollback()
                await uow.accounts.add(kept)
                await uow.commit()

        self.run(go())
        assert self.read(ports, t, lambda uow: uow.accounts.list()) == [kept]

    def test_tenants_never_see_each_other(self, ports: Ports) -> None:
        a, b = self.new_tenant(ports), self.new_tenant(ports)
        acc = self.account(a)
        food = self.category(a)
        self.write(ports, a, lambda uow: uow.accounts.add(acc))
        self.write(ports, a, lambda uow: uow.categories.add(food))
        tx = self.transaction(a, acc, categories=(food.id,))
        self.write(ports, a, lambda uow: uow.transactions.add(tx))
        assert self.read(ports, b, lambda uow: uow.accounts.get(acc.id)) is None
        assert self.read(ports, b, lambda uow: uow.accounts.list()) == []
        assert self.read(ports, b, lambda uow: uow.categories.get(food.id)) is None
        assert self.read(ports, b, lambda uow: uow.transactions.get(tx.id)) is None
        assert self.read(ports, b, lambda uow: uow.transactions.all(TransactionFilter())) == []
        with pytest.raises(Exception):  # noqa: B017,PT011 - NotFound or a refusal, never a cross-tenant write
            self.write(ports, b, lambda uow: uow.accounts.apply_balance_delta(acc.id, 5))
        assert self.read(ports, a, lambda uow: uow.accounts.get(acc.id)) == acc
