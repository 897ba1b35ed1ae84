"""Contract of the event bus: per-tenant channels, ordered sequence numbers, fan-out."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Protocol

import pytest

from valorize_core.model.events import AccountBalanceChanged, DomainEvent
from valorize_core.ports.event_subscriber import Delivery, EventSubscriber
from valorize_core.testing.contracts.base import NOW, PortsContract

__all__ = ["EventBus", "EventBusContract"]


class EventBus(Protocol):
    """A publisher that also hands out subscribers (both bus adapters are shaped so)."""

    async def publish(self, events: Any) -> None: ...

    def subscriber(self) -> EventSubscriber: ...


async def take(subscriber: EventSubscriber, count: int, wait: float = 5.0) -> list[Delivery]:
    """The next ``count`` deliveries, or a timeout error after ``wait`` seconds."""
    out: list[Delivery] = []

    async def collect() -> None:
        async for delivery in subscriber.deliveries():
            out.append(delivery)
            if len(out) == count:
                return

    await asyncio.wait_for(collect(), wait)
    return out


class EventBusContract(PortsContract):
    @pytest.fixture
    def bus(self) -> EventBus:
        """The bus under test."""
        raise NotImplementedError("override the bus fixture")

    @staticmethod
    def event(tenant: uuid.UUID, n: int) -> DomainEvent:
        return AccountBalanceChanged(
            event_id=uuid.uuid4(),
            tenant_id=tenant,
            occurred_at=NOW,
            account_id=f"a{n}",
            balance_minor=n,
            currency="BRL",
        )

    def test_subscribers_get_their_tenants_events_in_order(self, bus: EventBus) -> None:
        mine, other = uuid.uuid4(), uuid.uuid4()

        async def go() -> list[Delivery]:
            sub = bus.subscriber()
            await sub.subscribe(mine)
            await asyncio.sleep(0.05)  # let the subscription reach the server
            await bus.publish([self.event(other, 0), self.event(mine, 1), self.event(mine, 2)])
            await bus.publish([self.event(other, 3), self.event(mine, 3)])
            try:
                return await take(sub, 3)
            finally:
                await sub.close()

        got = self.run(go())
        assert [d.record["payload"]["balance_minor"] for d in got] == [1, 2, 3]
        assert {d.tenant_id for d in got} == {mine}
        assert [d.sequence for d in got] == [1, 2, 3]
        assert not any(d.gap for d in got)
        assert got[0].record["name"] == "account.balance_changed"

    def test_every_subscriber_gets_every_event(self, bus: EventBus) -> None:
        tenant = uuid.uuid4()

        async def go() -> tuple[list[Delivery], list[Delivery]]:
            a, b = bus.subscriber(), bus.subscriber()
            await a.subscribe(tenant)
            await b.subscribe(tenant)
            await asyncio.sleep(0.05)
            await bus.publish([self.event(tenant, n) for n in range(5)])
            try:
                return await take(a, 5), await take(b, 5)
            finally:
                await a.close()
                await b.close()

        first, second = self.run(go())
        assert [d.record["id"] for d in first] == [d.record["id"] for d in second]

    def test_unsubscribed_tenants_are_not_delivered(self, bus: EventBus) -> None:
        kept, dropped = uuid.uuid4(), uuid.uuid4()

        async def go() -> list[Delivery]:
            sub = bus.subscriber()
            await sub.subscribe(kept)
            await sub.subscribe(dropped)
            await sub.unsubscribe(dropped)
            await asyncio.sleep(0.05)
            await bus.publish([self.event(dropped, 1), self.event(kept, 2)])
            try:
                return await take(sub, 1)
            finally:
                await sub.close()

        assert [d.tenant_id for d in self.run(go())] == [kept]
