"""Pusher webhooks from the realtime server: real WebSocket clients on real instances (one
in-process, or two over a real Redis), the batches enqueued on a real task queue, delivered by
its dispatcher through the worker's task runner and the webhook sender to a real HTTP receiver,
and verified there with the official ``pusher`` SDK's ``validate_webhook``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import pusher
import pytest
from test_realtime import APP, Client, client, instance

from http_receiver import PusherReceiver
from valorize_adapters.memory import InMemoryBackend, InMemoryTaskQueue
from valorize_adapters.memory.dispatcher import InMemoryDispatcher
from valorize_adapters.pusher.backplane import Backplane, InMemoryBackplane, RedisBackplane
from valorize_adapters.pusher.webhooks import WEBHOOK_KINDS, PusherWebhooks, parse_kinds
from valorize_adapters.webhooks import DestinationGuard, HttpWebhookSender
from valorize_core.app import Valorize
from valorize_core.model.webhooks import WebhookPolicy
from valorize_core.ports.task_queue import RetryPolicy
from valorize_core.runtime.tasks import TaskRunner
from valorize_core.testing.loop import run
from valorize_entrypoints.delivery import InProcessDelivery

SDK = pusher.Pusher(app_id=APP.app_id, key=APP.key, secret=APP.secret)


@pytest.fixture
def receiver() -> Iterator[PusherReceiver]:
    r = PusherReceiver(SDK)
    yield r
    r.close()


@dataclass
class Delivery:
    """The worker side: a task queue, its dispatcher and the task runner over the application."""

    queue: InMemoryTaskQueue
    dispatcher: InMemoryDispatcher

    def webhooks(self, url: str, **kw: Any) -> PusherWebhooks:
        return PusherWebhooks(APP.key, APP.secret, [url], self.queue.enqueue, **{"window": 0.2, **kw})


@asynccontextmanager
async def delivering() -> AsyncIterator[Delivery]:
    backend = InMemoryBackend()
    sender = HttpWebhookSender(DestinationGuard(["127.0.0.0/8"]))  # the operator allows the receiver
    app = Valorize(replace(backend.ports, webhook_sender=sender, webhook_policy=WebhookPolicy(timeout=5)))
    queue = InMemoryTaskQueue()
    dispatcher = InMemoryDispatcher(queue, InProcessDelivery(TaskRunner(app), queue), retry=RetryPolicy(backoff=0.05))
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop, idle=0.02))
    try:
        yield Delivery(queue, dispatcher)
    finally:
        stop.set()
        await running


async def until(check: Callable[[], bool], wait: float = 10.0) -> None:
    async with asyncio.timeout(wait):
        while not check():  # noqa: ASYNC110 - polling the receiver's thread
            await asyncio.sleep(0.02)


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events]


def test_every_event_kind_reaches_the_receiver_signed_as_pusher_signs() -> None:
    receiver = PusherReceiver(SDK)

    async def go() -> None:
        async with delivering() as d, AsyncExitStack() as stack:
            hooks = d.webhooks(receiver.url)
            url = await stack.enter_async_context(instance(InMemoryBackplane(), webhooks=hooks))
            a = await stack.enter_async_context(client(url))
            b = await stack.enter_async_context(client(url))
            await a.subscribe("private-orders")
            await b.subscribe("private-orders")  # already occupied: nothing
            await until(lambda: len(receiver.calls) == 1)
            assert receiver.events() == [{"name": "channel_occupied", "channel": "private-orders"}]

            await a.send("client-typing", {"who": "a"}, channel="private-orders")
            await a.subscribe("presence-room", member={"user_id": "ana", "user_info": {"name": "Ana"}})
            await b.subscribe("presence-room", member={"user_id": "bo", "user_info": None})
            await b.send("client-wave", {"to": "ana"}, channel="presence-room")
            await a.subscribe("cache-rates")
            await until(lambda: len(receiver.calls) == 2)
            assert receiver.events()[1:] == [
                {"name": "client_event", "channel": "private-orders", "event": "client-typing",
                 "data": '{"who": "a"}', "socket_id": a.socket_id},
                {"name": "channel_occupied", "channel": "presence-room"},
                {"name": "member_added", "channel": "presence-room", "user_id": "ana"},
                {"name": "member_added", "channel": "presence-room", "user_id": "bo"},
                {"name": "client_event", "channel": "presence-room", "event": "client-wave",
                 "data": '{"to": "ana"}', "socket_id": b.socket_id, "user_id": "bo"},
                {"name": "channel_occupied", "channel": "cache-rates"},
                {"name": "cache_miss", "channel": "cache-rates"},
            ]  # fmt: skip

            for channel in ("presence-room", "private-orders", "cache-rates"):
                await a.send("pusher:unsubscribe", {"channel": channel})
            await b.send("pusher:unsubscribe", {"channel": "presence-room"})
            await b.send("pusher:unsubscribe", {"channel": "private-orders"})
            await until(lambda: len(receiver.events()) == 13)
            assert receiver.events()[8:] == [
                {"name": "member_removed", "channel": "presence-room", "user_id": "ana"},
                {"name": "channel_vacated", "channel": "cache-rates"},
                {"name": "member_removed", "channel": "presence-room", "user_id": "bo"},
                {"name": "channel_vacated", "channel": "presence-room"},
                {"name": "channel_vacated", "channel": "private-orders"},
            ]
            await hooks.close()

    try:
        run(go(), timeout=60)
    finally:
        receiver.close()


def test_a_receiver_that_fails_gets_the_same_signed_batch_again_until_it_succeeds(receiver: PusherReceiver) -> None:
    async def go() -> None:
        async with delivering() as d, AsyncExitStack() as stack:
            hooks = d.webhooks(receiver.url)
            url = await stack.enter_async_context(instance(InMemoryBackplane(), webhooks=hooks))
            a = await stack.enter_async_context(client(url))
            receiver.failures = 2  # down for two calls: the task queue tries a third time
            await a.subscribe("orders")
            await until(lambda: len(receiver.calls) == 3)
            await asyncio.sleep(0.3)
            assert len(receiver.calls) == 3  # delivered: no more attempts
            assert len({call.body for call in receiver.calls}) == 1  # the same body each time
            occupied = [{"name": "channel_occupied", "channel": "orders"}]
            assert [b["events"] for b in receiver.webhooks()] == [occupied] * 3
            assert d.queue.dead == {}

    run(go(), timeout=60)


def test_events_of_a_window_go_in_one_call_and_only_the_chosen_kinds(receiver: PusherReceiver) -> None:
    async def go() -> None:
        async with delivering() as d, AsyncExitStack() as stack:
            hooks = d.webhooks(receiver.url, kinds=parse_kinds("channel_occupied,channel_vacated"), window=0.5)
            url = await stack.enter_async_context(instance(InMemoryBackplane(), webhooks=hooks))
            a = await stack.enter_async_context(client(url))
            for i in range(5):
                await a.subscribe(f"private-c{i}")
            await a.send("client-x", {}, channel="private-c0")  # not chosen: not sent
            for i in range(5):
                await a.send("pusher:unsubscribe", {"channel": f"private-c{i}"})
            await until(lambda: len(receiver.calls) >= 1)
            await asyncio.sleep(0.7)
            assert len(receiver.calls) == 1
            events = receiver.events()
            assert names(events) == ["channel_occupied"] * 5 + ["channel_vacated"] * 5

    run(go(), timeout=60)


def test_a_full_batch_goes_at_once_and_the_rest_after_the_window(receiver: PusherReceiver) -> None:
    async def go() -> None:
        async with delivering() as d, AsyncExitStack() as stack:
            hooks = d.webhooks(receiver.url, window=30.0, max_events=4)
            url = await stack.enter_async_context(instance(InMemoryBackplane(), webhooks=hooks))
            a = await stack.enter_async_context(client(url))
            for i in range(5):
                await a.subscribe(f"c{i}")
            await until(lambda: len(receiver.calls) == 1)  # four events: a full batch, not waiting 30 s
            assert len(receiver.events()) == 4
            await hooks.close()  # shutting down sends what is pending
            await until(lambda: len(receiver.calls) == 2)
            assert receiver.events()[4] == {"name": "channel_occupied", "channel": "c4"}

    run(go(), timeout=60)


class _SlowToVacate(InMemoryBackplane):
    """Recording a departure takes a while (a slow Redis): a subscriber arrives meanwhile."""

    async def vacate(self, channel: str) -> bool:
        await asyncio.sleep(0.3)
        return await super().vacate(channel)


def test_a_subscriber_arriving_while_the_last_departure_is_recorded_leaves_the_channel_occupied(
    receiver: PusherReceiver,
) -> None:
    async def go() -> None:
        async with delivering() as d, AsyncExitStack() as stack:
            hooks = d.webhooks(receiver.url, window=0.1)
            url = await stack.enter_async_context(instance(_SlowToVacate(), webhooks=hooks))
            x = await stack.enter_async_context(client(url))
            y = await stack.enter_async_context(client(url))
            await x.subscribe("orders")
            await x.send("pusher:unsubscribe", {"channel": "orders"})
            await asyncio.sleep(0.1)  # x's departure is being recorded
            await y.subscribe("orders")
            await until(lambda: len(receiver.events()) >= 3)
            await asyncio.sleep(0.5)
            # the last word is y's channel_occupied: the channel is occupied (y is there)
            assert names(receiver.events()) == ["channel_occupied", "channel_vacated", "channel_occupied"]
            await y.send("pusher:unsubscribe", {"channel": "orders"})
            await until(lambda: len(receiver.events()) == 4)
            assert names(receiver.events())[3] == "channel_vacated"

    run(go(), timeout=60)


def test_kinds_are_checked() -> None:
    assert parse_kinds("") == WEBHOOK_KINDS == parse_kinds("*")
    assert parse_kinds(" member_added , cache_miss") == {"member_added", "cache_miss"}
    with pytest.raises(ValueError, match="unknown Pusher webhook events: channel_created"):
        parse_kinds("channel_created")


def test_two_instances_report_a_channel_occupied_vacated_and_a_member_once(
    redis_backplanes: Callable[[], Awaitable[RedisBackplane]], receiver: PusherReceiver
) -> None:
    async def go() -> None:
        async with delivering() as d, AsyncExitStack() as stack:
            urls, hooks = [], []
            for _ in range(2):
                backplane: Backplane = await redis_backplanes()
                stack.push_async_callback(backplane.close)
                hooks.append(d.webhooks(receiver.url))
                urls.append(await stack.enter_async_context(instance(backplane, webhooks=hooks[-1])))
            clients: list[Client] = [await stack.enter_async_context(client(urls[i % 2])) for i in range(6)]
            ana = {"user_id": "ana", "user_info": None}
            # six clients on two instances join at once, all as one user
            await asyncio.gather(*(c.subscribe("presence-team", member=ana) for c in clients))
            await until(lambda: len(receiver.events()) >= 2)
            await asyncio.sleep(0.5)
            assert sorted(names(receiver.events())) == ["channel_occupied", "member_added"]
            # and leave at once
            await asyncio.gather(*(c.send("pusher:unsubscribe", {"channel": "presence-team"}) for c in clients))
            await until(lambda: len(receiver.events()) >= 4)
            await asyncio.sleep(0.5)
            assert sorted(names(receiver.events()[2:])) == ["channel_vacated", "member_removed"]
            # the channel can be occupied again
            await clients[3].subscribe("presence-team", member=ana)
            await until(lambda: len(receiver.events()) >= 6)
            assert sorted(names(receiver.events()[4:])) == ["channel_occupied", "member_added"]

    run(go(), timeout=60)


def test_occupancy_is_decided_once_among_many_instances_at_once(
    redis_backplanes: Callable[[], Awaitable[RedisBackplane]],
) -> None:
    async def go() -> tuple[list[bool], list[bool]]:
        instances = [await redis_backplanes() for _ in range(8)]
        try:
            occupied = await asyncio.gather(*(b.occupy("orders") for b in instances))
            vacated = await asyncio.gather(*(b.vacate("orders") for b in instances))
            return list(occupied), list(vacated)
        finally:
            for b in instances:
                await b.close()

    occupied, vacated = run(go(), timeout=30)
    assert occupied.count(True) == 1
    assert vacated.count(True) == 1


def test_a_dead_instance_does_not_keep_a_channel_occupied(
    redis_backplanes: Callable[[], Awaitable[RedisBackplane]],
) -> None:
    async def go() -> tuple[bool, bool]:
        crashed, alive = await redis_backplanes(), await redis_backplanes()
        try:
            assert await crashed.occupy("orders")
            assert crashed._heartbeat is not None
            crashed._heartbeat.cancel()  # the instance stops beating (as if killed)
            await crashed._r.delete(f"{crashed._p}:alive:{crashed.instance}")  # its liveness expired
            return await alive.occupy("orders"), await alive.vacate("orders")
        finally:
            await alive.close()
            await crashed._r.aclose()

    assert run(go(), timeout=30) == (True, True)


def test_a_users_first_and_last_socket_are_decided_once_among_many_instances_at_once(
    redis_backplanes: Callable[[], Awaitable[RedisBackplane]],
) -> None:
    async def go() -> tuple[list[bool], list[bool], dict[str, Any]]:
        from valorize_adapters.pusher.protocol import Member

        instances = [await redis_backplanes() for _ in range(8)]
        try:
            joined = await asyncio.gather(
                *(b.join_presence("presence-team", f"{i}.1", Member("ana", {"n": i})) for i, b in enumerate(instances))
            )
            members = await instances[0].members("presence-team")
            left = await asyncio.gather(*(b.leave_presence("presence-team", f"{i}.1") for i, b in enumerate(instances)))
            return [new for _, new in joined], [gone for _, gone in left], members
        finally:
            for b in instances:
                await b.close()

    joined, left, members = run(go(), timeout=30)
    assert joined.count(True) == 1  # member_added (and its webhook) once
    assert left.count(True) == 1  # member_removed once
    assert list(members) == ["ana"]


def test_a_realtime_process_of_its_own_enqueues_to_postgres_and_the_worker_sends_under_no_tenant(
    own_database_url: str, receiver: PusherReceiver
) -> None:
    """``valorize realtime`` has no runtime: it enqueues to the local queue's table over a pool of
    its own; a worker's dispatcher sends the batch (retrying a failure) and records the task once."""
    from valorize_adapters.postgres import PostgresBackend
    from valorize_adapters.postgres.session import Session
    from valorize_adapters.postgres.task_queue import LocalDispatcher, PgTaskQueue
    from valorize_core.use_cases.actions.operator_webhooks import OPERATOR_TENANT
    from valorize_entrypoints.container import realtime_resources
    from valorize_entrypoints.settings import Settings

    settings = Settings(backend="postgres", database_url=own_database_url, pusher_key=APP.key,
                        pusher_secret=APP.secret, pusher_webhook_urls=receiver.url)  # fmt: skip

    async def go() -> list[dict[str, Any]]:
        async with realtime_resources(settings) as realtime:
            assert realtime.webhooks is not None
            realtime.webhooks.channel_occupied("orders")
        # the worker
        backend = await PostgresBackend.open(own_database_url, run_migrations=False, min_size=1, max_size=4)
        try:
            sender = HttpWebhookSender(DestinationGuard(["127.0.0.0/8"]))
            app = Valorize(replace(backend.ports, webhook_sender=sender))
            queue = PgTaskQueue(backend.pool)
            delivery = InProcessDelivery(TaskRunner(app), queue)
            dispatcher = LocalDispatcher(backend.pool, queue, delivery, retry=RetryPolicy(backoff=0.05))
            receiver.failures = 1
            assert await dispatcher.run_once() == 1
            assert await queue.pending() == 1  # the receiver failed: retried later
            await asyncio.sleep(0.2)
            assert await dispatcher.run_once() == 1
            assert await queue.pending() == 0
            async with backend.pool.connection() as conn:
                s = Session(conn, OPERATOR_TENANT)
                rows = await s.fetch("SELECT name FROM processed_tasks")
                await s.commit()
            return rows
        finally:
            await backend.close()

    rows = run(go(), timeout=60)
    assert rows == [{"name": "deliver_operator_webhook"}]
    occupied = [{"name": "channel_occupied", "channel": "orders"}]
    assert [b["events"] for b in receiver.webhooks()] == [occupied] * 2


def test_after_redis_lost_the_occupancy_an_instance_records_it_again_and_still_reports_the_vacancy(
    redis_backplanes: Callable[[], Awaitable[RedisBackplane]],
) -> None:
    from valorize_adapters.pusher.webhooks import ChannelOccupancy

    async def go() -> list[str]:
        backplane = await redis_backplanes()
        queue = InMemoryTaskQueue()
        hooks = PusherWebhooks(APP.key, APP.secret, ["http://127.0.0.1:9/x"], queue.enqueue)
        here = {"orders"}
        occupancy = ChannelOccupancy(backplane, hooks, lambda c: c in here)
        try:
            await occupancy.sync("orders")
            await backplane._r.delete(f"{backplane._p}:occupants:orders")  # Redis lost its data
            await occupancy.sync("orders", again=True)  # the resync after the backplane resubscribed
            here.clear()
            await occupancy.sync("orders")
            await hooks.flush()
            return [e["name"] for task in queue.pending() for e in json.loads(task.payload["body"])["events"]]
        finally:
            await backplane.close()

    assert run(go(), timeout=30) == ["channel_occupied", "channel_vacated"]  # no second channel_occupied
