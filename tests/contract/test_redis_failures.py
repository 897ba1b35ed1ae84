"""What happens when Redis dies: reads fail open, the API keeps answering, subscribers come back."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
import redis
from litestar.testing import TestClient

from valorize_adapters.redis import RedisCache, RedisEventBus, redis_client
from valorize_adapters.redis.server import RedisServer
from valorize_core.model.events import AccountBalanceChanged
from valorize_core.ports.event_subscriber import Delivery
from valorize_core.runtime.caching import ReadCache
from valorize_core.testing.contracts.base import NOW
from valorize_core.testing.loop import run
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


def test_the_api_answers_while_redis_is_stopped_and_recovers(redis_server: RedisServer) -> None:
    container = Container()
    container.settings.override(Settings(backend="memory", redis_url=redis_server.url))
    with TestClient(create_app(container)) as client:
        token = client.post("/api/signup", json={"tenant_name": "T", "email": "r@example.com", "name": "R"})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        account = client.post(
            "/api/accounts", json={"name": "A", "kind": "cash", "currency": "BRL"}, headers=headers
        ).json()["id"]
        statuses: list[int] = []
        expected = 0

        def step(i: int) -> None:
            nonlocal expected
            if i % 3 == 0:
                body = {"account_id": account, "booked_on": "2026-11-01", "description": f"T{i}", "amount": "-1.00"}
                statuses.append(client.post("/api/transactions", json=body, headers=headers).status_code)
                expected += 1
            page = client.get("/api/transactions?limit=500", headers=headers)
            statuses.append(page.status_code)
            assert len(page.json()["items"]) == expected  # never stale, whatever Redis does
            statuses.append(client.get("/api/accounts", headers=headers).status_code)

        for i in range(15):
            step(i)
        reads = client.app.state.runtime.reads

        def hits() -> int:  # from Redis or from the process's near cache
            return int(reads.stats.hits + reads.stats.near_hits)

        assert hits() > 0
        redis_server.stop()
        for i in range(15, 40):
            step(i)
        assert reads.stats.bypasses > 0
        redis_server.start()
        time.sleep(1.2)  # the breaker skips the cache for a second after an error
        run_until = hits()
        for i in range(40, 60):
            step(i)
        assert hits() > run_until  # the client and the version feed reconnected by themselves
        assert set(statuses) <= {200, 201}, statuses


def test_entries_cached_before_an_outage_are_retired(redis_server: RedisServer) -> None:
    tenant = uuid.uuid4()

    async def go() -> tuple[int, int, bytes]:
        client = redis_client(redis_server.url)
        cache = RedisCache(client)
        reads = ReadCache(cache, breaker_seconds=0)
        await reads.get_or_compute(tenant, "r", "k", lambda: _value(b"before"))
        before = await cache.tenant_version(tenant)
        redis_server.stop()
        await reads.invalidate(tenant)  # a write during the outage: its bump is lost
        redis_server.start()
        await cache.set("probe", b"x", 10)  # first success after failing: the epoch moves
        after = await cache.tenant_version(tenant)
        value = await reads.get_or_compute(tenant, "r", "k", lambda: _value(b"after"))
        await client.aclose()
        return before, after, value

    before, after, value = run(go())
    assert after != before
    assert value == b"after"


def test_a_lost_bump_still_moves_the_epoch_when_the_first_move_fails(redis_url: str) -> None:
    """After a lost bump the next success moves the epoch. If that move fails too (Redis refuses
    it, or goes away between the two commands), the bump is still owed: the success after it
    moves the epoch, and what was cached before the write is never served again."""
    tenant, prefix = uuid.uuid4(), f"lost-{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[int, int, bytes, str]:
        client, admin = redis_client(redis_url), redis_client(redis_url)
        cache = RedisCache(client, prefix=prefix)
        reads = ReadCache(cache, breaker_seconds=0)
        await reads.get_or_compute(tenant, "r", "k", lambda: _value(b"before"))
        before = await cache.tenant_version(tenant)
        assert cache.scopes_bumped(redis.ConnectionError("no reply")) is None  # a write's bump, lost
        await admin.set(f"{prefix}:epoch", "not a number")  # the epoch's move fails for real (INCR)
        failed = ""
        try:
            await cache.set("probe", b"x", 10)  # a success: it moves the epoch, which fails
        except redis.ResponseError as exc:
            failed = type(exc).__name__
        await admin.delete(f"{prefix}:epoch")  # as it was before
        await cache.set("probe", b"x", 10)  # the next success
        after = await cache.tenant_version(tenant)
        value = await reads.get_or_compute(tenant, "r", "k", lambda: _value(b"after"))
        await admin.aclose()
        await client.aclose()
        return before, after, value, failed

    before, after, value, failed = run(go())
    assert failed == "ResponseError"
    assert after != before
    assert value == b"after"


def test_a_bump_that_ends_an_outage_returns_the_version_with_the_new_epoch(redis_server: RedisServer) -> None:
    tenant = uuid.uuid4()

    async def go() -> tuple[int, int, int]:
        client = redis_client(redis_server.url)
        cache = RedisCache(client)
        before = await cache.bump_tenant_version(tenant)
        redis_server.stop()
        with pytest.raises(redis.exceptions.ConnectionError):
            await cache.bump_tenant_version(tenant)
        redis_server.start()
        bumped = await cache.bump_tenant_version(tenant)  # first success after failing
        current = await cache.tenant_version(tenant)
        await client.aclose()
        return before, bumped, current

    before, bumped, current = run(go())
    assert bumped == current
    assert bumped >> 40 > before >> 40  # a newer epoch retires everything cached before


def test_a_reply_slower_than_the_timeout_retires_nothing(redis_server: RedisServer) -> None:
    """Under overload a reply can arrive after the client gave up. No bump was lost, so the
    epoch stays where it was: every tenant's cached reads are still served afterwards."""
    tenant = uuid.uuid4()

    async def go() -> tuple[int, int, bytes]:
        client, admin = redis_client(redis_server.url, timeout=0.1), redis_client(redis_server.url)
        cache = RedisCache(client)
        reads = ReadCache(cache, breaker_seconds=0)
        await reads.get_or_compute(tenant, "r", "k", lambda: _value(b"cached"))
        before = await cache.tenant_version(tenant)
        await admin.execute_command("CLIENT", "PAUSE", "400", "ALL")  # Redis answers late
        with pytest.raises(redis.exceptions.TimeoutError):
            await cache.lookup(tenant, ReadCache.key(tenant, "r", "k"))
        await asyncio.sleep(0.5)
        after = await cache.tenant_version(tenant)  # the first success after the failure
        value = await reads.get_or_compute(tenant, "r", "k", lambda: _value(b"computed again"))
        await client.aclose()
        await admin.aclose()
        return before, after, value

    before, after, value = run(go())
    assert after == before
    assert value == b"cached"


async def _value(data: bytes) -> bytes:
    return data


def test_two_instances_share_events_and_survive_a_restart(redis_server: RedisServer) -> None:
    tenant = uuid.uuid4()

    def event(n: int) -> AccountBalanceChanged:
        return AccountBalanceChanged(
            event_id=uuid.uuid4(), tenant_id=tenant, occurred_at=NOW, account_id="a", balance_minor=n, currency="BRL"
        )

    async def go() -> tuple[list[Delivery], list[Delivery], list[Delivery]]:
        clients = [redis_client(redis_server.url, timeout=1.0) for _ in range(3)]
        publisher = RedisEventBus(clients[0])
        subs = [RedisEventBus(c).subscriber() for c in clients[1:]]
        for sub in subs:
            await sub.subscribe(tenant)
        iters = [sub.deliveries() for sub in subs]
        await asyncio.sleep(0.1)
        await publisher.publish([event(1), event(2)])
        first = [await asyncio.wait_for(anext(it), 5) for it in iters for _ in range(2)]
        redis_server.stop()
        await asyncio.sleep(0.3)
        redis_server.start()
        # Publish until the resubscribed instances hear again (the first tries may be lost).
        got: list[Delivery] = []

        async def listen(it: Any) -> Delivery:
            return await anext(it)

        pending = {asyncio.ensure_future(listen(it)): n for n, it in enumerate(iters)}
        heard: dict[int, Delivery] = {}
        for attempt in range(100):
            await publisher.publish([event(100 + attempt)])
            done, _ = await asyncio.wait(pending, timeout=0.1)
            for fut in done:
                heard[pending.pop(fut)] = fut.result()
            if len(heard) == 2:
                break
        got = [heard[0], heard[1]]
        for fut in pending:
            fut.cancel()
        for sub in subs:
            await sub.close()
        for c in clients:
            await c.aclose()
        return first[:2], first[2:], got

    a, b, after = run(go(), timeout=60)
    assert [d.sequence for d in a] == [1, 2]
    assert [d.record["id"] for d in a] == [d.record["id"] for d in b]
    assert len(after) == 2
    assert all(d.gap for d in after)  # the restart lost the sequence: consumers must resync
