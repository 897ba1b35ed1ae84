"""Sweepers in many processes at once: each claims events no other holds, so none is relayed
twice by two sweepers; a sweep that fails leaves its events for the next one."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from valorize_adapters.memory import InMemoryBackend, InMemoryEventBus, InMemoryTaskQueue
from valorize_adapters.memory.outbox import MemoryOutbox
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.outbox import PgOutbox
from valorize_core import NewAccount, NewTransaction
from valorize_core.model.events import DomainEvent
from valorize_core.ports.outbox import Outbox
from valorize_core.runtime.relay import OutboxRelay
from valorize_core.testing.contracts import PortsContract

WRITES = 12


class SlowBus(InMemoryEventBus):
    """Publishing takes a while (a round trip to Redis), so concurrent sweeps overlap."""

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        await asyncio.sleep(0.02)
        await super().publish(events)


class Broken(InMemoryEventBus):
    async def publish(self, events: Sequence[DomainEvent]) -> None:
        raise ConnectionError("Redis is away")


class TestOutboxClaims(PortsContract):
    @pytest.fixture(params=["memory", "postgres"])
    def backend_and_outbox(self, request: Any) -> tuple[Any, Outbox]:
        if request.param == "memory":
            memory = InMemoryBackend()
            return memory, MemoryOutbox(memory.store)
        pg: PostgresBackend = request.getfixturevalue("pg_backend")
        return pg, PgOutbox(pg.pool)

    def _unrelayed_writes(self, backend: Any) -> UUID:
        """A tenant with ``WRITES`` committed transactions whose events nobody relayed."""
        vz = backend.app  # the backend's own application: commits without publishing
        t = self.new_tenant(backend.ports)
        account = self.run(vz.create_account(NewAccount(t, "A", "cash", "BRL")))
        for i in range(WRITES):
            self.run(vz.create_transaction(NewTransaction(t, account.id, date(2026, 3, 5), f"CAFE {i}", "-4.00")))
        return t

    def test_concurrent_sweepers_never_relay_one_event_twice(self, backend_and_outbox: Any) -> None:
        backend, outbox = backend_and_outbox
        t = self._unrelayed_writes(backend)
        buses = [SlowBus() for _ in range(4)]
        relays = [OutboxRelay(outbox, bus, InMemoryTaskQueue(), backend.ports.clock) for bus in buses]

        async def sweep_all(relay: OutboxRelay) -> None:
            while await relay.sweep(grace=timedelta(seconds=-1), limit=3):
                pass

        async def sweeping() -> None:
            await asyncio.gather(*(sweep_all(r) for r in relays))

        self.run(sweeping())
        counts = Counter(e.event_id for bus in buses for e in bus.published if e.tenant_id == t)
        assert len(counts) >= 2 * WRITES  # every transaction's events (created, balance changed)
        assert set(counts.values()) == {1}  # each relayed once: no two sweepers shared an event
        assert sum(1 for bus in buses if any(e.tenant_id == t for e in bus.published)) > 1  # they did overlap
        assert not [e for e in self.run(outbox.unpublished(backend.ports.clock.now(), 10_000)) if e.tenant_id == t]

    def test_a_failed_sweep_leaves_its_events_to_the_next(self, backend_and_outbox: Any) -> None:
        backend, outbox = backend_and_outbox
        t = self._unrelayed_writes(backend)
        broken = OutboxRelay(outbox, Broken(), InMemoryTaskQueue(), backend.ports.clock)
        with pytest.raises(ConnectionError):
            self.run(broken.sweep(grace=timedelta(seconds=-1), limit=10_000))
        left = self.run(outbox.unpublished(backend.ports.clock.now(), 10_000))
        assert len([e for e in left if e.tenant_id == t]) >= 2 * WRITES
        bus = InMemoryEventBus()
        healthy = OutboxRelay(outbox, bus, InMemoryTaskQueue(), backend.ports.clock)
        while self.run(healthy.sweep(grace=timedelta(seconds=-1), limit=10_000)):
            pass
        assert len({e.event_id for e in bus.published if e.tenant_id == t}) >= 2 * WRITES

    def test_a_sweeper_leaves_alone_what_its_own_process_is_relaying(self, backend_and_outbox: Any) -> None:
        """A unit that ran longer than the grace is still published once (a retroactive apply)."""
        backend, outbox = backend_and_outbox
        t = self._unrelayed_writes(backend)
        mine = [e for e in self.run(outbox.unpublished(backend.ports.clock.now(), 10_000)) if e.tenant_id == t]
        release = asyncio.Event()

        class SlowFirst(InMemoryEventBus):
            """The commit's own relay (the first publish) is slow; the sweeps' are not."""

            first = True

            async def publish(self, events: Sequence[DomainEvent]) -> None:
                if self.first:
                    self.first = False
                    await release.wait()
                await super().publish(events)

        bus = SlowFirst()
        relay = OutboxRelay(outbox, bus, InMemoryTaskQueue(), backend.ports.clock, mark_window=0.05)

        async def both() -> None:
            relaying = asyncio.create_task(relay.relay(mine))
            await asyncio.sleep(0.05)  # the commit's relay is publishing
            while await relay.sweep(grace=timedelta(seconds=-1), limit=10_000):
                pass
            release.set()
            await relaying
            await relay.flush()

        self.run(both())
        assert Counter(e.event_id for e in bus.published if e.tenant_id == t) == Counter(e.event_id for e in mine)
        assert not [e for e in self.run(outbox.unpublished(backend.ports.clock.now(), 10_000)) if e.tenant_id == t]
