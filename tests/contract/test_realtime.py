"""The realtime server with real WebSocket clients: in-process and over Redis with two instances."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from valorize_adapters.pusher.backplane import Backplane, InMemoryBackplane, RedisBackplane
from valorize_adapters.pusher.protocol import AppConfig
from valorize_adapters.pusher.server import RealtimeServer
from valorize_adapters.pusher.signatures import channel_auth
from valorize_adapters.redis import redis_client
from valorize_core.testing.loop import run

APP = AppConfig("1", "key", "secret", client_events=True, max_message_bytes=2_000, rate_per_second=1_000,
                rate_burst=1_000)  # fmt: skip


@asynccontextmanager
async def instance(backplane: Backplane, app: AppConfig = APP, **kw: Any) -> AsyncIterator[str]:
    server = RealtimeServer(app, backplane, **kw)
    async with server.running("127.0.0.1", 0) as port:
        yield f"ws://127.0.0.1:{port}"


class Client:
    """A raw Pusher client over a real WebSocket."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.socket_id = ""

    async def next(self, event: str | None = None, wait: float = 5.0) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
            if event is None or message["event"] == event:
                return message

    async def send(self, event: str, data: Any, channel: str | None = None) -> None:
        body: dict[str, Any] = {"event": event, "data": data}
        if channel:
            body["channel"] = channel
        await self.ws.send(json.dumps(body))

    async def subscribe(self, channel: str, app: AppConfig = APP, member: dict[str, Any] | None = None) -> Any:
        data: dict[str, Any] = {"channel": channel}
        if channel.startswith("presence-"):
            data["channel_data"] = json.dumps(member)
            data["auth"] = channel_auth(app.key, app.secret, self.socket_id, channel, data["channel_data"])
        elif channel.startswith("private-"):
            data["auth"] = channel_auth(app.key, app.secret, self.socket_id, channel)
        await self.send("pusher:subscribe", data)
        answer = await self.next("pusher_internal:subscription_succeeded")
        return json.loads(answer["data"])


@asynccontextmanager
async def client(url: str, key: str = "key") -> AsyncIterator[Client]:
    async with connect(f"{url}/app/{key}?protocol=7&client=test") as ws:
        c = Client(ws)
        hello = await c.next()
        assert hello["event"] == "pusher:connection_established"
        c.socket_id = json.loads(hello["data"])["socket_id"]
        yield c


def test_protocol_over_a_real_socket() -> None:
    async def go() -> None:
        backplane = InMemoryBackplane()
        async with instance(backplane) as url, client(url) as a, client(url) as b:
            await a.send("pusher:ping", {})
            assert (await a.next())["event"] == "pusher:pong"
            await a.subscribe("private-room")
            await b.subscribe("private-room")
            await backplane.publish("private-room", "transaction.created", '{"id":1}')
            for c in (a, b):
                got = await c.next("transaction.created")
                assert (got["channel"], got["data"]) == ("private-room", '{"id":1}')
            await a.send("client-typing", {"on": True}, channel="private-room")
            assert json.loads((await b.next("client-typing"))["data"]) == {"on": True}
            # bad frames and oversized messages get the protocol's errors; the server lives on
            await a.ws.send("{not json")
            assert (await a.next("pusher:error"))["data"]["code"] == 4300
            await a.send("client-x", "y" * 3_000, channel="private-room")
            assert (await a.next("pusher:error"))["data"]["code"] == 4302
            await a.send("pusher:subscribe", {"channel": "private-other", "auth": "key:" + "0" * 64})
            refused = await a.next("pusher:subscription_error")
            assert json.loads(refused["data"])["status"] == 401
            await a.ws.send("z" * 20_000)  # beyond what the socket accepts: closed with 1009
            with pytest.raises(ConnectionClosed) as closed:
                await a.next()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1009
            await b.send("pusher:ping", {})
            assert (await b.next())["event"] == "pusher:pong"

    run(go(), timeout=30)


def test_unknown_app_keys_and_paths_are_refused() -> None:
    async def go() -> None:
        async with instance(InMemoryBackplane()) as url:
            async with connect(f"{url}/app/nope?protocol=7") as ws:
                error = json.loads(await ws.recv())
                assert error == {"event": "pusher:error", "data": {"code": 4001, "message": "App key not found"}}
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 4001
            async with connect(f"{url}/app/key") as ws:  # no protocol version
                assert json.loads(await ws.recv())["data"]["code"] == 4008
            async with connect(f"{url}/elsewhere?protocol=7") as ws:  # a WebSocket on another path
                assert json.loads(await ws.recv())["data"]["code"] == 4005

    run(go(), timeout=30)


def test_a_slow_client_is_dropped_and_never_delays_the_others() -> None:
    async def go() -> tuple[int, int]:
        backplane = InMemoryBackplane()
        async with instance(backplane, queue_size=100) as url, client(url) as fast, client(url) as slow:
            await fast.subscribe("ticker")
            await slow.subscribe("ticker")
            slow.ws.transport.pause_reading()  # stops reading: socket buffers, then its queue, fill up

            async def publish() -> None:  # 16 MB at a steady pace
                for n in range(4_000):
                    await backplane.publish("ticker", "tick", json.dumps({"n": n, "pad": "x" * 4_000}))
                    await asyncio.sleep(0.0005)

            publishing = asyncio.create_task(publish())
            received = 0
            while received < 4_000:
                assert json.loads((await fast.next("tick"))["data"])["n"] == received  # in order, none lost
                received += 1
            await publishing
            slow.ws.transport.resume_reading()
            code = 0
            try:
                while True:
                    await slow.next(wait=5)
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else 0
            return received, code

    received, code = run(go(), timeout=60)
    assert received == 4_000
    assert code == 4100


def test_two_instances_share_events_presence_and_occupancy_through_redis(
    redis_backplanes: Callable[[], Awaitable[RedisBackplane]],
) -> None:
    async def go() -> None:
        async with AsyncExitStack() as stack:
            one, two, api = await redis_backplanes(), await redis_backplanes(), await redis_backplanes()
            for b in (one, two, api):
                stack.push_async_callback(b.close)
            url1 = await stack.enter_async_context(instance(one))
            url2 = await stack.enter_async_context(instance(two))
            a = await stack.enter_async_context(client(url1))
            b = await stack.enter_async_context(client(url2))
            await a.subscribe("private-tenant.t1")
            await b.subscribe("private-tenant.t1")
            await api.publish("private-tenant.t1", "transaction.created", '{"id":"tx1"}')
            for c in (a, b):
                assert (await c.next("transaction.created"))["data"] == '{"id":"tx1"}'
            # presence across instances: b sees a join and leave
            first = await a.subscribe("presence-tenant.t1", member={"user_id": "ana", "user_info": {"name": "Ana"}})
            assert first["presence"]["ids"] == ["ana"]
            second = await b.subscribe("presence-tenant.t1", member={"user_id": "bia", "user_info": None})
            assert sorted(second["presence"]["ids"]) == ["ana", "bia"]
            added = await a.next("pusher_internal:member_added")
            assert json.loads(added["data"])["user_id"] == "bia"
            await a.send("pusher:unsubscribe", {"channel": "presence-tenant.t1"})
            removed = await b.next("pusher_internal:member_removed")
            assert json.loads(removed["data"]) == {"user_id": "ana"}
            # client events cross instances, never back to the sender
            await b.send("client-hi", {"x": 1}, channel="private-tenant.t1")
            assert json.loads((await a.next("client-hi"))["data"]) == {"x": 1}
            await asyncio.sleep(1.5)  # occupancy reports are batched each second
            occupied = await api.channels()
            assert occupied["private-tenant.t1"] == 2
            assert occupied["presence-tenant.t1"] == 1

    run(go(), timeout=60)


def test_a_dead_instance_leaves_presence_when_its_heartbeat_expires(
    redis_backplanes: Callable[[], Awaitable[RedisBackplane]],
) -> None:
    async def go() -> dict[str, Any]:
        from valorize_adapters.pusher.protocol import Member

        crashed, alive = await redis_backplanes(), await redis_backplanes()
        try:
            await crashed.join_presence("presence-x", "1.1", Member("ghost"))
            assert "ghost" in await alive.members("presence-x")
            assert crashed._heartbeat is not None
            crashed._heartbeat.cancel()  # the instance stops beating (as if killed)
            await asyncio.sleep(3.5)
            return await alive.members("presence-x")
        finally:
            await alive.close()
            await crashed._r.aclose()

    assert run(go(), timeout=30) == {}


def test_gaps_in_a_channel_sequence_are_detected(redis_url: str) -> None:
    async def go() -> list[tuple[int, bool]]:
        client_ = redis_client(redis_url, timeout=5.0)
        listener = RedisBackplane(client_, prefix=f"g{uuid.uuid4().hex[:6]}")
        try:
            await listener.listen("c")
            await asyncio.sleep(0.1)
            await listener.publish("c", "e", "1")
            await client_.incr(f"{listener._p}:seq:c")  # a message lost in between
            await listener.publish("c", "e", "3")
            out = []
            async for message in listener.messages():
                out.append((message.sequence, message.gap))
                if len(out) == 2:
                    break
            return out
        finally:
            await listener.close()
            await client_.aclose()

    assert run(go(), timeout=30) == [(1, False), (3, True)]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_batch_of_messages_arrives_in_order_with_consecutive_sequences(kind: str, redis_url: str) -> None:
    async def go() -> tuple[list[tuple[str, str, int, bool]], list[tuple[str, str, int, bool]]]:
        client_ = redis_client(redis_url, timeout=5.0)
        backplane: InMemoryBackplane | RedisBackplane = (
            InMemoryBackplane() if kind == "memory" else RedisBackplane(client_, prefix=f"b{uuid.uuid4().hex[:6]}")
        )
        try:
            await backplane.listen("c")
            await backplane.listen("d")
            await asyncio.sleep(0.1)
            await backplane.publish("c", "first", "0")
            await backplane.publish_many("c", [("transaction.created", "1"), ("account.balance_changed", "2")])
            await backplane.publish_many("d", [("x", "a")])
            await backplane.publish_many("c", [])
            await backplane.publish_many("c", [("notification.created", "3")])
            got: list[tuple[str, str, int, bool]] = []
            async for m in backplane.messages():
                got.append((m.event, m.data, m.sequence, m.gap))
                if len(got) == 5:
                    break
            return [g for g in got if g[0] != "x"], [g for g in got if g[0] == "x"]
        finally:
            await backplane.close()
            await client_.aclose()

    on_c, on_d = run(go(), timeout=30)
    assert on_c == [
        ("first", "0", 1, False),
        ("transaction.created", "1", 2, False),
        ("account.balance_changed", "2", 3, False),
        ("notification.created", "3", 4, False),
    ]
    assert on_d == [("x", "a", 1, False)]


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_cache_channels_keep_their_last_message_for_half_an_hour(kind: str, redis_url: str) -> None:
    async def go() -> tuple[Any, Any, Any, int | None]:
        client_ = redis_client(redis_url, timeout=5.0)
        prefix = f"k{uuid.uuid4().hex[:6]}"
        backplane: InMemoryBackplane | RedisBackplane = (
            InMemoryBackplane() if kind == "memory" else RedisBackplane(client_, prefix=prefix)
        )
        try:
            await backplane.publish("cache-rates", "rate", '{"usd":"5.00"}')
            await backplane.publish_many("cache-rates", [("rate", '{"usd":"5.10"}'), ("rate", '{"usd":"5.20"}')])
            await backplane.publish("private-room", "x", "1")  # not a cache channel: nothing kept
            ttl = await client_.ttl(f"{prefix}:rt:cache:cache-rates") if kind == "redis" else None
            return (await backplane.last_message("cache-rates"), await backplane.last_message("private-room"),
                    await backplane.last_message("cache-never"), ttl)  # fmt: skip
        finally:
            await backplane.close()
            await client_.aclose()

    last, private, never, ttl = run(go(), timeout=30)
    assert last == ("rate", '{"usd":"5.20"}')
    assert private is None
    assert never is None
    assert ttl is None or 1790 <= ttl <= 1800
