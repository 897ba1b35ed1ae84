"""Near caches kept current by the Redis version feed, with two "processes" on one real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar.testing import TestClient

from valorize_adapters.redis import RedisCache, redis_client
from valorize_adapters.redis.cache import RedisVersionFeed
from valorize_core.runtime.caching import ReadCache
from valorize_core.runtime.near_cache import NearCache
from valorize_core.testing.loop import run
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings


@dataclass
class Process:
    cache: RedisCache
    near: NearCache
    reads: ReadCache
    feed: RedisVersionFeed


@asynccontextmanager
async def process(url: str, prefix: str, heartbeat: float = 1.0) -> AsyncIterator[Process]:
    """What one API process has: its client, its near cache and the feed task keeping it."""
    client = redis_client(url)
    cache = RedisCache(client, prefix=prefix)
    near = NearCache()
    feed = RedisVersionFeed(url, near, prefix=prefix, heartbeat=heartbeat)
    task = asyncio.create_task(feed.run())
    try:
        await until(lambda: near.live)
        yield Process(cache, near, ReadCache(cache, near=near, rng=lambda: 0.999), feed)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> float:
    """Wait for ``condition``; returns how long it took."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > seconds:
            raise AssertionError("timed out")
        await asyncio.sleep(0.0005)
    return time.perf_counter() - started


def value(data: bytes) -> Callable[[], Awaitable[bytes]]:
    async def compute() -> bytes:
        return data

    return compute


def test_a_write_in_one_process_retires_what_the_other_kept(redis_url: str) -> None:
    tenant, prefix = uuid.uuid4(), f"near-{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[list[bytes], float, int]:
        async with process(redis_url, prefix) as reader, process(redis_url, prefix) as writer:
            seen = [await reader.reads.get_or_compute(tenant, "list", "a", value(b"v1"))]
            seen.append(await reader.reads.get_or_compute(tenant, "list", "a", value(b"unused")))
            near_hits = reader.reads.stats.near_hits
            before = reader.near._versions[(tenant, "")]
            await writer.reads.invalidate(tenant)
            delay = await until(lambda: reader.near._versions[(tenant, "")] > before)
            seen.append(await reader.reads.get_or_compute(tenant, "list", "a", value(b"v2")))
            return seen, delay, near_hits

    seen, delay, near_hits = run(go())
    assert seen == [b"v1", b"v1", b"v2"]
    assert near_hits == 1
    assert delay < 1.0


def test_a_scope_retired_in_one_process_retires_only_what_depends_on_it_in_the_other(redis_url: str) -> None:
    tenant, prefix = uuid.uuid4(), f"near-{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[list[bytes], int]:
        async with process(redis_url, prefix) as reader, process(redis_url, prefix) as writer:
            reads = reader.reads
            await reads.get_or_compute(tenant, "list", "a", value(b"a1"), ("account:a", "ledger"))
            await reads.get_or_compute(tenant, "list", "b", value(b"b1"), ("account:b",))
            before = reader.near._versions[(tenant, "account:a")]
            await writer.reads.retire(tenant, ["account:a"])
            await until(lambda: reader.near._versions[(tenant, "account:a")] > before)
            near_hits = reads.stats.near_hits
            seen = [
                await reads.get_or_compute(tenant, "list", "a", value(b"a2"), ("account:a", "ledger")),
                await reads.get_or_compute(tenant, "list", "b", value(b"b2"), ("account:b",)),
            ]
            return seen, reads.stats.near_hits - near_hits

    seen, near_hits = run(go())
    assert seen == [b"a2", b"b1"]  # the retired scope's page is computed again, the other served
    assert near_hits == 1


def test_a_killed_feed_turns_the_near_cache_off_until_it_is_subscribed_again(redis_url: str) -> None:
    tenant, prefix = uuid.uuid4(), f"near-{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[bool, int, int, int]:
        async with process(redis_url, prefix) as reader:
            await reader.reads.get_or_compute(tenant, "list", "a", value(b"v1"))
            admin = redis_client(redis_url)
            await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            await until(lambda: not reader.near.live)
            kept_while_down = len(reader.near)
            lookups = reader.reads.stats.hits
            await reader.reads.get_or_compute(tenant, "list", "a", value(b"unused"))
            asked_redis = reader.reads.stats.hits - lookups
            await until(lambda: reader.near.live)  # resubscribed by itself
            await admin.aclose()
            return reader.near.live, kept_while_down, asked_redis, reader.feed.connections

    live, kept_while_down, asked_redis, connections = run(go())
    assert live
    assert connections == 2
    assert kept_while_down == 0
    assert asked_redis == 1  # served, from Redis, while the near cache was off


def test_a_new_epoch_empties_every_near_cache(redis_url: str) -> None:
    tenant, prefix = uuid.uuid4(), f"near-{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[int, int, bool]:
        async with process(redis_url, prefix) as reader, process(redis_url, prefix) as other:
            await reader.reads.get_or_compute(tenant, "list", "a", value(b"v1"))
            kept = len(reader.near)
            resets = reader.near.resets
            other.cache._lost_bump = True  # as after a bump lost in an outage: the next success moves the epoch
            await other.cache.set("probe", b"x", 10)
            await until(lambda: reader.near.resets > resets)
            return kept, len(reader.near), reader.near.live

    kept, after, live = run(go())
    assert (kept, after, live) == (1, 0, True)


def test_an_idle_feed_stays_up_on_its_heartbeat(redis_url: str) -> None:
    async def go() -> tuple[bool, int, int]:
        async with process(redis_url, f"near-{uuid.uuid4().hex[:8]}", heartbeat=0.05) as idle:
            resets = idle.near.resets
            await asyncio.sleep(0.5)  # ten heartbeats with nothing published
            return idle.near.live, idle.near.resets - resets, idle.feed.connections

    assert run(go()) == (True, 0, 1)


def test_the_api_serves_repeated_reads_from_its_near_cache_and_shows_it_on_metrics(redis_url: str) -> None:
    container = Container()
    container.settings.override(Settings(backend="memory", redis_url=redis_url))
    with TestClient(create_app(container)) as client:
        token = client.post("/api/signup", json={"tenant_name": "T", "email": "n@example.com", "name": "N"})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        reads = client.app.state.runtime.reads
        near = reads.near
        deadline = time.monotonic() + 5
        while not near.live and time.monotonic() < deadline:
            time.sleep(0.01)
        pages = [client.get("/api/transactions", headers=headers).json() for _ in range(3)]
        metrics = client.get("/metrics").text
    assert pages[0] == pages[1] == pages[2]
    assert reads.stats.near_hits == 2
    assert "valorize_near_cache_live 1.0" in metrics
    assert "valorize_near_cache_entries 1.0" in metrics
    assert 'valorize_cache_events_total{event="near_hit"}' in metrics


def test_a_version_counter_that_starts_over_empties_the_near_caches(redis_url: str) -> None:
    tenant, prefix = uuid.uuid4(), f"near-{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[int, bytes]:
        async with process(redis_url, prefix) as reader, process(redis_url, prefix) as writer:
            for _ in range(3):
                await writer.reads.invalidate(tenant)
            await until(lambda: reader.near._versions.get((tenant, ""), 0) >= 3)
            await reader.reads.get_or_compute(tenant, "list", "a", value(b"at three"))
            resets = reader.near.resets
            admin = redis_client(redis_url)
            await admin.delete(f"{prefix}:ver:{tenant}")  # lost (evicted, flushed): it restarts at 1
            await admin.aclose()
            await writer.reads.invalidate(tenant)
            await until(lambda: reader.near.resets > resets)
            return len(reader.near), await reader.reads.get_or_compute(tenant, "list", "a", value(b"fresh"))

    kept, read = run(go())
    assert kept == 0
    assert read == b"fresh"


def test_a_message_the_feed_cannot_read_makes_it_start_over_not_stop(redis_url: str) -> None:
    prefix = f"near-{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[bool, int]:
        async with process(redis_url, prefix) as reader:
            admin = redis_client(redis_url)
            await admin.publish(f"{prefix}:versions", b"not a version")
            await admin.aclose()
            await until(lambda: reader.feed.connections == 2 and reader.near.live)
            return reader.near.live, reader.feed.connections

    assert run(go()) == (True, 2)


def test_a_bump_of_many_scopes_is_one_message_that_the_other_process_applies_whole(redis_url: str) -> None:
    tenant, prefix = uuid.uuid4(), f"near-{uuid.uuid4().hex[:8]}"
    scopes = ["account:a", "ledger", "month:2026-03"]

    async def go() -> tuple[list[bytes], dict[str, int], tuple[int, ...]]:
        async with process(redis_url, prefix) as reader, process(redis_url, prefix) as writer:
            listener = redis_client(redis_url)
            pubsub = listener.pubsub()
            await pubsub.subscribe(f"{prefix}:versions")
            assert (await pubsub.get_message(timeout=1.0) or {}).get("type") in ("subscribe", b"subscribe")
            versions = await writer.cache.bump_scopes(tenant, [*scopes, "*"], hold=1.0)
            await until(lambda: all((tenant, s) in reader.near._versions for s in [*scopes, "*"]))
            messages = []
            while (message := await pubsub.get_message(timeout=0.2)) is not None:
                messages.append(message["data"])
            await pubsub.aclose()
            await listener.aclose()
            known = {s: reader.near._versions[(tenant, s)] for s in [*scopes, "*"]}
            return messages, known, versions

    messages, known, versions = run(go())
    assert len(messages) == 1  # one per bump, not one per scope
    assert messages[0] == f"{tenant} 0 1 account:a 1 ledger 1 month:2026-03 1 *".encode()
    assert list(known.values()) == list(versions) == [1, 1, 1, 1]


def test_the_feed_still_reads_the_messages_of_processes_that_publish_one_per_scope(redis_url: str) -> None:
    tenant, prefix = uuid.uuid4(), f"near-{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[int, int, int]:
        async with process(redis_url, prefix) as reader:
            admin = redis_client(redis_url)
            await admin.publish(f"{prefix}:versions", f"{tenant} 2 7 account:a".encode())  # an older process's
            await admin.publish(f"{prefix}:versions", f"{tenant} 2 5".encode())  # a tenant's version
            await admin.aclose()
            await until(lambda: (tenant, "") in reader.near._versions)
            return (
                reader.near._versions[(tenant, "account:a")],
                reader.near._versions[(tenant, "")],
                reader.feed.connections,
            )

    scope, version, connections = run(go())
    assert scope == (2 << 40) | 7
    assert version == (2 << 40) | 5
    assert connections == 1  # read, not a reason to start over
