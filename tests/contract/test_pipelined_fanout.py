"""A commit's events to the event bus and the realtime backplane in one Redis round trip
(``PipelinedFanOut``, wired by the container with Redis), against a real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio.connection as connection

from valorize_adapters.pusher.backplane import ChannelMessage, InMemoryBackplane, RedisBackplane
from valorize_adapters.pusher.broadcaster import RealtimeBroadcaster, tenant_channel
from valorize_adapters.redis import RedisCache, RedisEventBus, redis_client
from valorize_core.model.events import DomainEvent, TransactionCreated, TransactionDeleted
from valorize_core.ports.event_publisher import EventPublisher
from valorize_core.ports.event_subscriber import Delivery
from valorize_core.runtime.caching import ReadCache
from valorize_core.runtime.near_cache import NearCache
from valorize_core.runtime.publishing import FanOutPublisher
from valorize_core.testing.loop import run
from valorize_entrypoints.container import Realtime, _publisher
from valorize_entrypoints.fanout import PipelinedFanOut, RetireThenRelay


def events(tenant: uuid.UUID, n: int) -> list[DomainEvent]:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    out: list[DomainEvent] = []
    for i in range(n):
        out.append(TransactionCreated(event_id=uuid.uuid4(), tenant_id=tenant, occurred_at=now, transaction_id=f"t{i}",
                                      account_id="a", amount_minor=-125 * (i + 1), currency="BRL",
                                      booked_on="2026-03-01", category_id=None, description="Padaria"))  # fmt: skip
        out.append(TransactionDeleted(event_id=uuid.uuid4(), tenant_id=tenant, occurred_at=now, transaction_id=f"t{i}",
                                      account_id="a"))  # fmt: skip
    return out


@dataclass
class Wired:
    bus: RedisEventBus
    backplane: RedisBackplane
    publisher: EventPublisher


@asynccontextmanager
async def wired(url: str, prefix: str) -> AsyncIterator[Wired]:
    """The event bus and the backplane as the container builds them, and its publisher."""
    bus = RedisEventBus(redis_client(url), prefix=prefix)
    backplane = RedisBackplane(redis_client(url, timeout=5.0), prefix=prefix, owns_client=True)
    try:
        yield Wired(bus, backplane, _publisher(bus, Realtime(None, backplane)))  # type: ignore[arg-type]
    finally:
        await backplane.close()
        await bus.close()


async def received(
    bus: RedisEventBus, backplane: RedisBackplane, tenants: Sequence[uuid.UUID], publish: Any, count: int
) -> tuple[list[Delivery], list[ChannelMessage]]:
    """What a bus subscriber and a backplane listener of ``tenants`` receive of ``publish()``."""
    subscriber = bus.subscriber()
    for tenant in tenants:
        await subscriber.subscribe(tenant)
        await backplane.listen(tenant_channel(tenant))
    await asyncio.sleep(0.2)  # both subscriptions confirmed
    await publish()
    deliveries: list[Delivery] = []
    messages: list[ChannelMessage] = []

    async def from_bus() -> None:
        async for delivery in subscriber.deliveries():
            deliveries.append(delivery)
            if len(deliveries) == count:
                return

    async def from_backplane() -> None:
        async for message in backplane.messages():
            messages.append(message)
            if len(messages) == count:
                return

    await asyncio.wait_for(asyncio.gather(from_bus(), from_backplane()), 5.0)
    await subscriber.close()
    return deliveries, messages


def test_the_container_publishes_a_commits_events_to_the_bus_and_the_browsers_in_one_round_trip(
    redis_url: str,
) -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    warm, commit = events(one, 1), [*events(one, 2), *events(two, 1)]

    async def go() -> tuple[int, list[Delivery], list[ChannelMessage]]:
        async with wired(redis_url, f"fan-{uuid.uuid4().hex[:8]}") as w:
            sends = 0
            original = connection.AbstractConnection.send_packed_command

            async def counted(self: Any, command: Any, check_health: bool = True) -> None:
                nonlocal sends
                sends += 1
                await original(self, command, check_health)

            async def publish() -> None:
                nonlocal sends
                await w.publisher.publish(warm)  # a connection is open, the scripts loaded
                connection.AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
                try:
                    await w.publisher.publish(commit)
                finally:
                    connection.AbstractConnection.send_packed_command = original  # type: ignore[method-assign]

            deliveries, messages = await received(w.bus, w.backplane, [one, two], publish, len(warm + commit))
            return sends, deliveries, messages

    sends, deliveries, messages = run(go())
    assert sends == 1  # was 2: the bus's script, then the backplane's
    assert [(d.tenant_id, d.record) for d in deliveries] == [(e.tenant_id, e.to_record()) for e in warm + commit]
    assert [(d.sequence, d.gap) for d in deliveries] == [(n, False) for n in (1, 2, 3, 4, 5, 6, 1, 2)]
    assert [(m.channel, m.event, m.data) for m in messages] == [
        (tenant_channel(e.tenant_id), e.name, e.to_json()) for e in warm + commit
    ]
    assert [(m.sequence, m.gap) for m in messages] == [(n, False) for n in (1, 2, 3, 4, 5, 6, 1, 2)]


def test_the_browsers_get_the_same_messages_as_from_the_broadcaster(redis_url: str) -> None:
    tenant = uuid.uuid4()
    commit = events(tenant, 2)

    async def through(make: Any) -> list[tuple[str, str, str, str | None, str | None]]:
        async with wired(redis_url, f"fan-{uuid.uuid4().hex[:8]}") as w:
            publisher = make(w)
            _, messages = await received(w.bus, w.backplane, [tenant], lambda: publisher.publish(commit), len(commit))
            return [(m.channel, m.event, m.data, m.exclude, m.user_id) for m in messages]

    def separate(w: Wired) -> EventPublisher:
        return FanOutPublisher(w.bus, RealtimeBroadcaster(w.backplane))

    def pipelined(w: Wired) -> EventPublisher:
        return PipelinedFanOut(w.bus, w.backplane)

    assert run(through(pipelined)) == run(through(separate))


def test_scripts_redis_lost_are_loaded_again_and_nothing_is_lost_or_reordered(redis_url: str) -> None:
    tenant = uuid.uuid4()
    warm, commit = events(tenant, 1), events(tenant, 2)

    async def go() -> tuple[list[Delivery], list[ChannelMessage]]:
        async with wired(redis_url, f"fan-{uuid.uuid4().hex[:8]}") as w:

            async def publish() -> None:
                await w.publisher.publish(warm)
                admin = redis_client(redis_url)
                await admin.script_flush()  # as after a restart
                await admin.aclose()
                await w.publisher.publish(commit)

            return await received(w.bus, w.backplane, [tenant], publish, len(warm + commit))

    deliveries, messages = run(go())
    assert [d.record["id"] for d in deliveries] == [str(e.event_id) for e in warm + commit]
    assert [d.sequence for d in deliveries] == [1, 2, 3, 4, 5, 6]
    assert [m.sequence for m in messages] == [1, 2, 3, 4, 5, 6]
    assert [m.data for m in messages] == [e.to_json() for e in warm + commit]


def test_without_redis_the_container_keeps_the_fan_out() -> None:
    publisher = _publisher(object(), Realtime(None, InMemoryBackplane()))  # type: ignore[arg-type]
    assert isinstance(publisher, FanOutPublisher)


def test_a_failed_publish_raises_so_the_outbox_keeps_the_events(redis_url: str) -> None:
    async def go() -> str:
        bus = RedisEventBus(redis_client("redis://127.0.0.1:1"))
        backplane = RedisBackplane(redis_client("redis://127.0.0.1:1"), owns_client=True)
        try:
            await PipelinedFanOut(bus, backplane).publish(events(uuid.uuid4(), 1))
        except Exception as exc:
            return type(exc).__name__
        finally:
            await backplane.close()
            await bus.close()
        return "published"

    assert run(go()) == "ConnectionError"


@dataclass
class Committed:
    """What the after-commit hooks read of a committed unit."""

    tenant_id: uuid.UUID
    committed_events: list[DomainEvent]
    retired_scopes: frozenset[str] | None


def test_a_bump_lost_with_its_publish_is_handled_as_a_failed_bump(redis_url: str) -> None:
    prefix, tenant = f"fan-{uuid.uuid4().hex[:8]}", uuid.uuid4()

    async def go() -> tuple[int, int, int, int, int, int]:
        cache = RedisCache(redis_client(redis_url), prefix=prefix)
        near = NearCache()
        near.connected()
        reads = ReadCache(cache, near=near)
        dead = "redis://127.0.0.1:1"  # the publish's connection fails: no reply read
        bus = RedisEventBus(redis_client(dead))
        backplane = RedisBackplane(redis_client(dead), owns_client=True)
        fan, failures = PipelinedFanOut(bus, backplane), []

        async def relay(uow: Any) -> None:
            try:
                await fan.publish(uow.committed_events)
            except Exception as exc:
                failures.append(exc)

        hook = RetireThenRelay(reads, cache, relay)
        await hook(Committed(tenant, events(tenant, 1), frozenset({"ledger"})))  # type: ignore[arg-type]
        admin = redis_client(redis_url)
        epoch = int(await admin.get(f"{prefix}:epoch") or 0)
        await cache.bump_scopes(tenant, ["ledger"])  # the next bump moves the epoch too
        after = int(await admin.get(f"{prefix}:epoch") or 0)
        await hook(Committed(tenant, [], frozenset({"ledger"})))  # type: ignore[arg-type]  # no events: the bump goes alone
        ledger = int(await admin.get(f"{prefix}:ver:{tenant}:ledger") or 0)
        await admin.aclose()
        await backplane.close()
        await bus.close()
        await cache._r.aclose()
        return len(failures), reads.stats.invalidation_failures, near.resets, epoch, after, ledger

    failures, invalidation_failures, resets, epoch, after, ledger = run(go())
    assert (failures, invalidation_failures, resets) == (1, 1, 2)  # counted, and the near cache emptied
    assert after == epoch + 1
    assert ledger == 2  # the bump after the lost one, then the one of the unit without events


def test_while_its_bump_rides_with_the_events_the_near_cache_serves_nothing_that_depends_on_it(
    redis_url: str,
) -> None:
    prefix, tenant = f"fan-{uuid.uuid4().hex[:8]}", uuid.uuid4()

    async def go() -> tuple[list[bytes | None], list[bytes | None], list[bytes | None]]:
        client = redis_client(redis_url)
        cache = RedisCache(client, prefix=prefix)
        near = NearCache()
        near.connected()
        reads = ReadCache(cache, near=near, rng=lambda: 0.999)

        async def page(data: bytes) -> bytes:
            return data

        for key, scopes in (("ledger", ("ledger",)), ("budgets", ("budgets",))):
            await reads.get_or_compute(tenant, key, "", lambda k=key: page(k.encode()), scopes)  # type: ignore[misc]

        def kept() -> list[bytes | None]:
            return [near.get(tenant, reads.key(tenant, k, ""), (k,)) for k in ("ledger", "budgets")]

        before = kept()
        bus = RedisEventBus(redis_client(redis_url), prefix=prefix)
        backplane = RedisBackplane(redis_client(redis_url), prefix=prefix, owns_client=True)
        fan, during = PipelinedFanOut(bus, backplane), []

        async def relay(uow: Any) -> None:
            during.extend(kept())  # as a subscriber's refetch arriving before the reply is read
            await fan.publish(uow.committed_events)

        await RetireThenRelay(reads, cache, relay)(Committed(tenant, events(tenant, 1), frozenset({"ledger"})))  # type: ignore[arg-type]
        after = kept()
        await backplane.close()
        await bus.close()
        await client.aclose()
        return before, during, after

    before, during, after = run(go())
    header = 24
    assert [v and v[header:] for v in before] == [b"ledger", b"budgets"]
    assert [v and v[header:] for v in during] == [None, b"budgets"]  # the page the write retires is not served
    assert [v and v[header:] for v in after] == [None, b"budgets"]  # and is retired once the reply is read


def test_a_riding_bump_runs_before_the_events_even_when_only_its_script_was_lost(redis_url: str) -> None:
    """Redis lost its scripts (a restart, ``SCRIPT FLUSH``) and another process has published
    events since, loading the event scripts again but not the bump's: the pipeline's bump is
    refused as unknown while the events after it run. They must not reach a subscriber before
    the bump (it would refetch the page from before the write)."""
    prefix, tenant = f"fan-{uuid.uuid4().hex[:8]}", uuid.uuid4()

    async def go() -> list[str]:
        client = redis_client(redis_url)
        cache = RedisCache(client, prefix=prefix)
        reads = ReadCache(cache, near=NearCache())
        bus = RedisEventBus(redis_client(redis_url), prefix=prefix)
        backplane = RedisBackplane(redis_client(redis_url), prefix=prefix, owns_client=True)
        fan = PipelinedFanOut(bus, backplane)
        admin = redis_client(redis_url, timeout=5.0)
        await admin.script_flush()  # as after a restart
        for script in (bus._script, backplane._script):  # another process published since
            await admin.script_load(script.script)
        listener = admin.pubsub()
        await listener.subscribe(cache.channel, bus.channel(tenant))  # one connection: Redis's order
        await asyncio.sleep(0.1)

        async def relay(uow: Any) -> None:
            await fan.publish(uow.committed_events)

        await RetireThenRelay(reads, cache, relay)(Committed(tenant, events(tenant, 1), frozenset({"ledger"})))  # type: ignore[arg-type]
        seen: list[str] = []
        deadline = asyncio.get_running_loop().time() + 2
        while asyncio.get_running_loop().time() < deadline:
            message = await listener.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message is not None:
                seen.append("bump" if message["channel"] == cache.channel.encode() else "event")
        await listener.aclose()
        await admin.aclose()
        await backplane.close()
        await bus.close()
        await client.aclose()
        return seen

    seen = run(go())
    assert seen[0] == "bump", seen
    assert seen.count("bump") == 1


def test_a_ride_cancelled_while_redis_is_slow_leaves_the_near_cache_serving_again(redis_url: str) -> None:
    """The write's task is cancelled while the pipeline waits for Redis (a client gone, a
    shutdown): the bump may or may not have happened, so it counts as lost (the near cache
    empties, the epoch moves at the next success), and the scopes are no longer "being bumped":
    the near cache serves them again once it knows their versions."""
    prefix, tenant = f"fan-{uuid.uuid4().hex[:8]}", uuid.uuid4()

    async def go() -> tuple[bool, int, bytes | None, bytes | None]:
        client = redis_client(redis_url, timeout=5.0)
        cache = RedisCache(client, prefix=prefix)
        near = NearCache()
        near.connected()
        reads = ReadCache(cache, near=near, rng=lambda: 0.999, breaker_seconds=0)
        bus = RedisEventBus(client, prefix=prefix)
        backplane = RedisBackplane(redis_client(redis_url, timeout=5.0), prefix=prefix, owns_client=True)
        fan = PipelinedFanOut(bus, backplane)
        admin = redis_client(redis_url, timeout=5.0)

        async def page(data: bytes) -> bytes:
            return data

        async def relay(uow: Any) -> None:
            await fan.publish(uow.committed_events)

        hook = RetireThenRelay(reads, cache, relay)
        await hook(Committed(tenant, events(tenant, 1), frozenset({"ledger"})))  # warm: scripts loaded
        await admin.execute_command("CLIENT", "PAUSE", "300", "WRITE")  # the next write waits
        ride = asyncio.ensure_future(hook(Committed(tenant, events(tenant, 1), frozenset({"ledger"}))))
        await asyncio.sleep(0.1)
        ride.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ride
        lost = cache._lost_bump
        await asyncio.sleep(0.3)  # Redis answers again
        key = reads.key(tenant, "ledger", "")
        computed = await reads.get_or_compute(tenant, "ledger", "", lambda: page(b"after"), ("ledger",))
        served = near.get(tenant, key, ("ledger",))
        await admin.aclose()
        await backplane.close()
        await client.aclose()
        return lost, reads.stats.invalidation_failures, computed, served

    lost, failures, computed, served = run(go())
    assert (lost, failures) == (True, 1)
    assert computed == b"after"
    assert served is not None  # not stuck "being bumped"
    assert served[24:] == b"after"
