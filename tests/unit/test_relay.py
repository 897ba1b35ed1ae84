from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from valorize_adapters.memory import InMemoryBackend, InMemoryEventBus, InMemoryTaskQueue, ManualClock
from valorize_adapters.memory.outbox import MemoryOutbox
from valorize_core import NewAccount, NewTransaction, SignupRequest, Valorize
from valorize_core.model.events import DomainEvent
from valorize_core.ports.unit_of_work import CommitHooks
from valorize_core.runtime.relay import OutboxRelay


class FlakyBus(InMemoryEventBus):
    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def publish(self, events: Any) -> None:
        if self.down:
            raise ConnectionError("redis is away")
        await super().publish(events)


def setup() -> tuple[InMemoryBackend, Valorize, OutboxRelay, FlakyBus, InMemoryTaskQueue, ManualClock]:
    clock = ManualClock()
    backend = InMemoryBackend(clock=clock)
    bus, queue = FlakyBus(), InMemoryTaskQueue()
    relay = OutboxRelay(MemoryOutbox(backend.store), bus, queue, clock)
    ports = replace(backend.ports, uow=backend.ports.uow.with_hooks(CommitHooks(after=(relay.after_commit,))))
    return backend, Valorize(ports), relay, bus, queue, clock


def test_committed_events_are_published_at_once_with_their_follow_up_tasks() -> None:
    backend, vz, _, bus, queue, _ = setup()

    async def go() -> list[Any]:
        t = (await vz.signup(SignupRequest("T", "t@example.com", "T"))).tenant.id
        sub = bus.subscriber()
        await sub.subscribe(t)
        account = await vz.create_account(NewAccount(t, "A", "cash", "BRL"))
        await vz.create_transaction(NewTransaction(t, account.id, date(2026, 3, 5), "PADARIA", "-4.00"))
        got = []
        async for delivery in sub.deliveries():
            got.append(delivery)
            if len(got) == 2:
                break
        return got

    got = asyncio.run(go())
    assert [d.record["name"] for d in got] == ["account.balance_changed", "transaction.created"]
    assert [d.sequence for d in got] == [1, 2]
    own = [(t.name, t.payload) for t in queue.pending() if t.name != "fan_out_webhooks"]
    assert own == [("evaluate_budgets", {"day": "2026-03-05"})]
    (fan_out,) = [t for t in queue.pending() if t.name == "fan_out_webhooks"]  # one for the commit's events
    assert [e["name"] for e in fan_out.payload["events"]] == ["account.balance_changed", "transaction.created"]
    # A queue that cannot check the tenant's data gets the tasks whatever their preconditions.
    assert all(t.precondition is not None for t in queue.pending())
    assert {e.event_id for e in backend.store.outbox} <= backend.store.published


def test_events_a_failed_publish_left_behind_are_swept_once_later() -> None:
    backend, vz, relay, bus, queue, clock = setup()

    async def go() -> list[DomainEvent]:
        t = (await vz.signup(SignupRequest("T", "u@example.com", "T"))).tenant.id
        account = await vz.create_account(NewAccount(t, "A", "cash", "BRL"))
        bus.down = True
        await vz.create_transaction(NewTransaction(t, account.id, date(2026, 3, 5), "PADARIA", "-4.00"))
        assert relay.failures == 1  # the write succeeded anyway
        left = await MemoryOutbox(backend.store).unpublished(clock.now() + timedelta(seconds=1), 100)
        assert len(left) == 2
        bus.down = False
        assert await relay.sweep(grace=timedelta(0)) == 0  # not yet older than the grace
        clock.advance(timedelta(seconds=10))
        assert await relay.sweep() == 2
        assert await relay.sweep() == 0
        return left

    left = asyncio.run(go())
    assert [e.name for e in bus.published] == [e.name for e in left]
    assert [t.name for t in queue.pending() if t.name != "fan_out_webhooks"] == ["evaluate_budgets"]


class CountingOutbox(MemoryOutbox):
    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.calls: list[int] = []

    async def mark_published(self, event_ids: Any) -> None:
        self.calls.append(len(event_ids))
        await super().mark_published(event_ids)


def test_with_a_mark_window_many_commits_are_marked_published_in_one_statement() -> None:
    clock = ManualClock()
    backend = InMemoryBackend(clock=clock)
    outbox = CountingOutbox(backend.store)
    bus = InMemoryEventBus()
    relay = OutboxRelay(outbox, bus, InMemoryTaskQueue(), clock, mark_window=0.05)
    vz = Valorize(replace(backend.ports, uow=backend.ports.uow.with_hooks(CommitHooks(after=(relay.after_commit,)))))

    async def go() -> tuple[int, list[int], int]:
        t = (await vz.signup(SignupRequest("T", "t@example.com", "T"))).tenant.id
        account = await vz.create_account(NewAccount(t, "A", "cash", "BRL"))
        for n in range(5):
            await vz.create_transaction(NewTransaction(t, account.id, date(2026, 3, n + 1), "X", "-1.00"))
        published_now = len(bus.published)  # published at once, marked later
        await asyncio.sleep(0.1)
        left = await outbox.unpublished(clock.now() + timedelta(days=1), 100)
        return published_now, list(outbox.calls), len(left)

    published, calls, left = asyncio.run(go())
    assert published == 10  # 5 x (transaction created + balance changed)
    assert calls == [published]  # one statement for all of them
    assert left == 0
