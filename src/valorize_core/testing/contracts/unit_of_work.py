"""Contract of the unit of work: atomicity, rollback, outbox, tenant isolation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from valorize_core.model.errors import Conflict
from valorize_core.model.events import AccountBalanceChanged, DomainEvent
from valorize_core.model.listing import TransactionFilter
from valorize_core.ports.unit_of_work import CommitHook, CommitHooks, UnitOfWork
from valorize_core.runtime.pipeline import before_every_commit
from valorize_core.testing.contracts.base import NOW, PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["CommitPipelineContract", "UnitOfWorkContract"]

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


class CommitPipelineContract(PortsContract):
    """Every adapter's units run the commit pipeline the same way (:mod:`valorize_core.runtime.pipeline`)."""

    @staticmethod
    def _noting(log: list[str], name: str) -> CommitHook:
        async def hook(uow: UnitOfWork) -> None:
            log.append(f"{name}:{len(uow.committed_events)}")

        return hook

    def test_hooks_run_in_their_order_around_the_commit(self, ports: Ports, outbox: Outbox) -> None:
        t = self.new_tenant(ports)
        log: list[str] = []
        hooks = CommitHooks(
            before=(self._noting(log, "hold"), self._noting(log, "mark")),
            after=(self._noting(log, "retire"), self._noting(log, "relay"), self._noting(log, "rest")),
        )
        events = [AccountBalanceChanged(event_id=self.new_id(), tenant_id=t, occurred_at=NOW, account_id="x",
                                        balance_minor=n, currency="BRL") for n in range(2)]  # fmt: skip

        async def go() -> None:
            with before_every_commit(self._noting(log, "task")):
                async with ports.uow.with_hooks(hooks)(t) as uow:
                    for event in events:
                        uow.record(event)
                    await uow.commit()
                    log.append("committed")
            log.append("left")

        self.run(go())
        # before the commit nothing is committed yet; after it every hook sees both events
        assert log == ["task:0", "hold:0", "mark:0", "committed", "retire:2", "relay:2", "rest:2", "left"]
        assert {e.event_id for e in events} <= outbox(t)

    def test_a_unit_left_without_commit_runs_no_after_hook(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        log: list[str] = []
        hooks = CommitHooks(before=(self._noting(log, "hold"),), after=(self._noting(log, "retire"),))

        async def go() -> None:
            async with ports.uow.with_hooks(hooks)(t) as uow:
                await uow.accounts.add(self.account(t))

        self.run(go())
        assert log == []

    def test_a_failing_before_hook_aborts_the_commit(self, ports: Ports, outbox: Outbox) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t)
        event = self._event(t)
        log: list[str] = []

        async def refuse(uow: UnitOfWork) -> None:
            raise Conflict("already processed")

        hooks = CommitHooks(before=(refuse,), after=(self._noting(log, "relay"),))

        async def go() -> None:
            async with ports.uow.with_hooks(hooks)(t) as uow:
                await uow.accounts.add(acc)
                uow.record(event)
                await uow.commit()

        with pytest.raises(Conflict):
            self.run(go())
        assert self.read(ports, t, lambda uow: uow.accounts.get(acc.id)) is None
        assert event.event_id not in outbox(t)
        assert log == []

    def test_after_commit_hooks_run_once_the_unit_is_released(self, ports: Ports) -> None:
        """An after-commit hook may open a unit of the same tenant (the memory adapter's lock,
        the pool's connection are given back first) and sees what was committed."""
        t = self.new_tenant(ports)
        acc = self.account(t)
        found: list[object] = []

        async def look(uow: UnitOfWork) -> None:
            async with ports.uow(uow.tenant_id) as again:
                found.append(await again.accounts.get(acc.id))

        async def go() -> None:
            async with ports.uow.with_hooks(CommitHooks(after=(look,)))(t) as uow:
                await uow.accounts.add(acc)
                await uow.commit()

        self.run(asyncio.wait_for(go(), 10))
        assert found == [acc]

    def test_a_failing_after_hook_leaves_the_commit_and_the_later_hooks_alone(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        acc = self.account(t)
        log: list[str] = []

        async def broken(uow: UnitOfWork) -> None:
            raise ConnectionError("cache away")

        hooks = CommitHooks(after=(broken, self._noting(log, "relay")))

        async def go() -> None:
            async with ports.uow.with_hooks(hooks)(t) as uow:
                await uow.accounts.add(acc)
                await uow.commit()

        with pytest.raises(ConnectionError):
            self.run(go())
        assert log == ["relay:0"]
        assert self.read(ports, t, lambda uow: uow.accounts.get(acc.id)) == acc

    def test_with_hooks_leaves_the_factory_it_came_from_alone(self, ports: Ports) -> None:
        t = self.new_tenant(ports)
        log: list[str] = []
        ports.uow.with_hooks(CommitHooks(after=(self._noting(log, "relay"),)))
        self.write(ports, t, lambda uow: uow.accounts.add(self.account(t)))
        assert log == []

    def _event(self, tenant: uuid.UUID) -> DomainEvent:
        return AccountBalanceChanged(
            event_id=self.new_id(), tenant_id=tenant, occurred_at=NOW, account_id="x", balance_minor=1, currency="BRL"
        )
