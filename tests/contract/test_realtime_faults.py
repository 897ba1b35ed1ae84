"""The realtime server over a faulty Redis: a supervised consumer, resync notices, an honest /health."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from litestar.testing import TestClient
from test_realtime import APP, Client, client, instance

from valorize_adapters.pusher import backplane as backplane_module
from valorize_adapters.pusher.backplane import ChannelMessage, InMemoryBackplane, RedisBackplane
from valorize_adapters.pusher.protocol import AppConfig
from valorize_adapters.pusher.signatures import channel_auth, sign_request
from valorize_adapters.redis import redis_client
from valorize_adapters.redis.server import RedisServer
from valorize_core.testing.loop import run
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

CHANNEL = "private-tenant.t1"


def _health(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url.replace("ws://", "http://") + "/health", timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


async def _backplane(url: str) -> RedisBackplane:
    backplane = RedisBackplane.from_url(url, prefix=f"f{uuid.uuid4().hex[:8]}", ttl=3)
    await backplane.start()
    return backplane


async def _connected(stack: AsyncExitStack, redis_url: str, app: AppConfig = APP) -> tuple[RedisBackplane, str, Client]:
    """A Redis backplane, an instance of the server over it and a client connected to that
    instance, each closed with ``stack``: ``(backplane, the instance's URL, client)``."""
    backplane = await _backplane(redis_url)
    stack.push_async_callback(backplane.close)
    url = await stack.enter_async_context(instance(backplane, app))
    return backplane, url, await stack.enter_async_context(client(url))


def test_an_undecodable_message_is_counted_and_delivery_goes_on(redis_url: str) -> None:
    async def go() -> tuple[dict[str, Any], int, dict[str, Any]]:
        async with AsyncExitStack() as stack:
            backplane, url, a = await _connected(stack, redis_url)
            await a.subscribe(CHANNEL)
            raw = redis_client(redis_url)
            stack.push_async_callback(raw.aclose)
            await raw.publish(backplane._ch(CHANNEL), b"\xff not json")
            await backplane.publish(CHANNEL, "transaction.created", '{"id":"tx1"}')
            received = await a.next("transaction.created")
            status, health = await asyncio.to_thread(_health, url)
            return received, status, health

    received, status, health = run(go(), timeout=30)
    assert received["data"] == '{"id":"tx1"}'
    assert status == 200
    assert health["status"] == "ok"
    assert health["backplane"]["failures"] == 1


def test_a_failing_consumer_rebuilds_its_subscription_and_announces_a_resync(redis_url: str) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any], int]:
        async with AsyncExitStack() as stack:
            backplane, _, a = await _connected(stack, redis_url)
            await a.subscribe(CHANNEL)
            pubsub = backplane._pubsub
            original = pubsub.get_message
            raised = False

            async def failing_once(**kw: Any) -> Any:
                nonlocal raised
                if not raised:
                    raised = True
                    raise RuntimeError("a bug in the consumer")
                return await original(**kw)

            pubsub.get_message = failing_once
            resync = await a.next("valorize:resync", wait=10)
            await backplane.publish(CHANNEL, "transaction.created", '{"id":"tx2"}')
            received = await a.next("transaction.created")
            return resync, received, backplane.failures

    resync, received, failures = run(go(), timeout=30)
    assert resync["channel"] == CHANNEL
    assert received["data"] == '{"id":"tx2"}'
    assert failures == 1


def test_every_subscribed_channel_gets_a_resync_right_after_redis_comes_back(redis_server: RedisServer) -> None:
    async def go() -> set[str]:
        async with AsyncExitStack() as stack:
            backplane, _, a = await _connected(stack, redis_server.url)
            await a.subscribe(CHANNEL)
            await a.subscribe("private-tenant.t2")
            redis_server.stop()
            await asyncio.sleep(1.5)
            redis_server.start()
            notices = {(await a.next("valorize:resync", wait=10))["channel"] for _ in range(2)}
            # and delivery resumed on the resubscribed connection
            await backplane.publish(CHANNEL, "transaction.created", '{"id":"tx3"}')
            assert (await a.next("transaction.created"))["data"] == '{"id":"tx3"}'
            return notices

    assert run(go(), timeout=60) == {CHANNEL, "private-tenant.t2"}


def test_health_is_503_when_the_backplane_consumer_stalls(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backplane_module, "STALE_AFTER", 0.5, raising=False)

    async def go() -> tuple[int, dict[str, Any]]:
        async with AsyncExitStack() as stack:
            backplane, url, a = await _connected(stack, redis_url)
            await a.subscribe(CHANNEL)
            never = asyncio.Event()

            async def stuck(**kw: Any) -> Any:
                await never.wait()

            backplane._pubsub.get_message = stuck
            await asyncio.sleep(1.5)
            return await asyncio.to_thread(_health, url)

    status, health = run(go(), timeout=30)
    assert status == 503
    assert health["status"] == "unhealthy"
    assert health["backplane"]["healthy"] is False


def _signed(client: TestClient[Any], method: str, path: str, body: Any = None) -> Any:
    raw = json.dumps(body).encode() if body is not None else b""
    params = sign_request("valorize-key", "s3cret", method, path, {}, raw, int(time.time()))
    headers = {"Content-Type": "application/json"} if raw else {}
    return client.request(method, path, params=params, content=raw, headers=headers)


def test_the_pusher_http_api_answers_503_while_redis_is_down_and_recovers(redis_server: RedisServer) -> None:
    container = Container()
    container.settings.override(Settings(backend="memory", redis_url=redis_server.url, pusher_secret="s3cret"))
    event = {"name": "x", "data": "{}", "channels": [CHANNEL]}
    calls = [
        ("POST", "/apps/100001/events", event),
        ("POST", "/apps/100001/batch_events", {"batch": [event]}),
        ("GET", "/apps/100001/channels", None),
        ("GET", f"/apps/100001/channels/{CHANNEL}", None),
    ]
    with TestClient(create_app(container)) as client:
        assert [_signed(client, *call).status_code for call in calls] == [200, 200, 200, 200]
        redis_server.stop()
        down = [_signed(client, *call) for call in calls]
        redis_server.start()
        deadline = time.monotonic() + 10
        while _signed(client, *calls[0]).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        up = [_signed(client, *call).status_code for call in calls]
    assert [r.status_code for r in down] == [503, 503, 503, 503]
    for response in down:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["retry-after"] == "1"
        assert response.json()["status"] == 503
    assert up == [200, 200, 200, 200]


def test_a_burst_of_60_subscriptions_all_succeed_under_the_default_rate_limit() -> None:
    app = AppConfig("1", "key", "secret", client_events=True)  # 20 client events/s, 40 in a burst

    async def go() -> int:
        async with instance(InMemoryBackplane(), app) as url, client(url) as a:
            for n in range(60):  # at once, as pusher-js resubscribes after a reconnect
                await a.send("pusher:subscribe", {"channel": f"room-{n}"})
            succeeded = set()
            while len(succeeded) < 60:
                answer = await a.next()
                assert answer["event"] == "pusher_internal:subscription_succeeded", answer
                succeeded.add(answer["channel"])
            return len(succeeded)

    assert run(go(), timeout=30) == 60


def test_a_client_event_while_redis_is_down_is_refused_and_the_connection_stays(redis_server: RedisServer) -> None:
    app = AppConfig("1", "key", "secret", client_events=True)

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with AsyncExitStack() as stack:
            _, _, a = await _connected(stack, redis_server.url, app)
            await a.subscribe("private-room", app)
            redis_server.stop()
            await a.send("client-typing", {"on": True}, channel="private-room")
            refused = await a.next("pusher:error")
            await a.send("pusher:ping", {})
            return refused, await a.next("pusher:pong")  # still connected

    refused, pong = run(go(), timeout=30)
    assert refused["data"]["code"] == 4399
    assert pong["event"] == "pusher:pong"


class _FailingOnce(InMemoryBackplane):
    """An in-process backplane whose message stream breaks once (a bug below the server)."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False

    async def messages(self) -> AsyncIterator[ChannelMessage]:
        async for message in super().messages():
            if not self.broken:
                self.broken = True
                raise RuntimeError("the stream broke")
            yield message


def test_the_server_pump_is_supervised_and_counts_its_failures() -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        backplane = _FailingOnce()
        async with instance(backplane) as url, client(url) as a:
            await a.subscribe(CHANNEL)
            await backplane.publish(CHANNEL, "transaction.created", '{"id":"lost"}')  # breaks the stream
            await asyncio.sleep(0.3)
            await backplane.publish(CHANNEL, "transaction.created", '{"id":"tx4"}')
            received = await a.next("transaction.created")
            _, health = await asyncio.to_thread(_health, url)
            return received, health

    received, health = run(go(), timeout=30)
    assert received["data"] == '{"id":"tx4"}'
    assert health["status"] == "ok"
    assert health["pump_failures"] == 1


def test_a_subscription_while_redis_is_down_succeeds_and_is_resynced_when_it_is_back(
    redis_server: RedisServer,
) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with AsyncExitStack() as stack:
            backplane, _, a = await _connected(stack, redis_server.url)
            await a.subscribe("private-tenant.t2")  # the instance has a pub/sub connection
            redis_server.stop()
            await asyncio.sleep(0.5)
            await a.subscribe(CHANNEL)  # answered, though Redis cannot take the subscription now
            redis_server.start()
            resync = await a.next("valorize:resync", wait=10)
            while resync["channel"] != CHANNEL:
                resync = await a.next("valorize:resync", wait=10)
            await backplane.publish(CHANNEL, "transaction.created", '{"id":"tx5"}')
            return resync, await a.next("transaction.created")

    resync, received = run(go(), timeout=60)
    assert resync["channel"] == CHANNEL
    assert received["data"] == '{"id":"tx5"}'


def test_a_presence_subscription_while_redis_is_down_is_refused_by_name_and_the_connection_stays(
    redis_server: RedisServer,
) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with AsyncExitStack() as stack:
            _, _, a = await _connected(stack, redis_server.url)
            redis_server.stop()
            channel = "presence-tenant.t1"
            channel_data = json.dumps({"user_id": "ana", "user_info": None})
            auth = channel_auth(APP.key, APP.secret, a.socket_id, channel, channel_data)
            await a.send("pusher:subscribe", {"channel": channel, "channel_data": channel_data, "auth": auth})
            refused = await a.next("pusher:subscription_error")
            await a.send("pusher:ping", {})
            pong = await a.next("pusher:pong")
            redis_server.start()
            return refused, pong

    refused, pong = run(go(), timeout=60)
    assert refused["channel"] == "presence-tenant.t1"
    assert json.loads(refused["data"])["status"] == 503
    assert pong["event"] == "pusher:pong"


def test_presence_and_occupancy_are_whole_again_after_redis_loses_its_data(redis_server: RedisServer) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, int]]:
        async with AsyncExitStack() as stack:
            backplane, _, a = await _connected(stack, redis_server.url)
            await a.subscribe("presence-tenant.t1", member={"user_id": "ana", "user_info": {"name": "Ana"}})
            await a.subscribe(CHANNEL)
            redis_server.stop()  # a restarted Redis starts empty
            await asyncio.sleep(0.5)
            redis_server.start()
            await a.next("valorize:resync", wait=10)
            api = RedisBackplane.from_url(redis_server.url, prefix=backplane._p.removesuffix(":rt"), ttl=3)
            stack.push_async_callback(api.close)
            members: dict[str, Any] = {}
            occupied: dict[str, int] = {}
            for _ in range(50):  # the heartbeat and the occupancy report come within a second or two
                members, occupied = await api.members("presence-tenant.t1"), await api.channels()
                if members and len(occupied) == 2:
                    break
                await asyncio.sleep(0.1)
            return members, occupied

    members, occupied = run(go(), timeout=60)
    assert members == {"ana": {"name": "Ana"}}
    assert occupied == {"presence-tenant.t1": 1, CHANNEL: 1}
