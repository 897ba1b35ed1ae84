"""What Redis costs the API per write and per list miss: the API's CPU with ``VALORIZE_REDIS_URL``
set against the in-process cache, in alternating rounds in one run, and with Redis the
deterministic counts — round trips (each a ``send_packed_command`` of redis-py: one command, or
one pipeline), the commands Redis ran (``INFO commandstats``, those inside scripts included),
messages the process's version feed applied, and Python calls (cProfile).

    python perf/redis_costs.py write|miss [--requests 1000] [--rounds 3] [--profile]
    python perf/redis_costs.py write --ab [--requests 3000]

The container's wiring (``api`` role: the near cache and its version feed, the rate limits, the
event bus, the realtime backplane), embedded PostgreSQL (pool of 2), a real ``redis-server``, 10
tenants driven through the ASGI app (``profile_requests.py``). ``miss``: a tenant's account's list
with a ``limit`` no earlier request used (1 to 200), so every request is a miss of both caches.

``--ab``: three APIs in one process and event loop — the in-process cache, Redis wired as
before 2026-12-05's cuts (``FanOutPublisher``, the cache's bump after the commit on its own,
one feed message per scope) and Redis as now, each Redis API on its own ``redis-server`` —
driven in alternating blocks of 50 writes, so all three share whatever the machine does
meanwhile; prints each one's API CPU per write and the differences.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import logging
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
import redis.asyncio.connection as connection
import uvloop

sys.path.insert(0, str(Path(__file__).parent))
from profile_requests import TENANTS, _started, call, requested, signed_up

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.pusher.broadcaster import RealtimeBroadcaster
from valorize_adapters.redis import cache as redis_cache
from valorize_adapters.redis.server import RedisServer
from valorize_core.runtime.publishing import FanOutPublisher
from valorize_entrypoints import container as wiring
from valorize_entrypoints.api import create_app
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings
from valorize_entrypoints.tracing import TracedPublisher

# The scopes' bump as it was before (one feed message per scope), for --ab's "before".
PER_SCOPE_BUMP = """
local epoch = redis.call('GET', KEYS[1]) or '0'
local hold = tonumber(ARGV[3])
local out = {epoch}
for i = 1, (#KEYS - 1) / 2 do
  local counter = redis.call('INCR', KEYS[2 * i])
  if hold > 0 and redis.call('PTTL', KEYS[2 * i + 1]) < hold then
    redis.call('SET', KEYS[2 * i + 1], '1', 'PX', hold)
  end
  redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. epoch .. ' ' .. counter .. ' ' .. ARGV[3 + i])
  out[i + 1] = counter
end
return out
"""


@contextmanager
def counted_sends() -> Iterator[collections.Counter[str]]:
    """Counts redis-py's sends (one per command or pipeline: one round trip each), by the first
    command of each."""
    sends: collections.Counter[str] = collections.Counter()
    original = connection.AbstractConnection.send_packed_command

    async def send(self: Any, command: Any, check_health: bool = True) -> None:
        first = command if isinstance(command, bytes) else b"".join(command[:1])
        parts = first.split(b"\r\n")
        name = parts[2].decode().lower() if len(parts) > 2 else "?"
        if name == "evalsha" and len(parts) > 4:
            name = f"script {parts[4].decode()[:8]}"
        sends[name] += 1
        await original(self, command, check_health)

    connection.AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
    try:
        yield sends
    finally:
        connection.AbstractConnection.send_packed_command = original  # type: ignore[method-assign]


@contextmanager
def counted_feed() -> Iterator[list[int]]:
    """Counts the messages the version feed applies."""
    applied = [0]
    original = redis_cache.RedisVersionFeed._apply

    def apply(self: Any, data: bytes) -> None:
        applied[0] += 1
        original(self, data)

    redis_cache.RedisVersionFeed._apply = apply  # type: ignore[method-assign]
    try:
        yield applied
    finally:
        redis_cache.RedisVersionFeed._apply = original  # type: ignore[method-assign]


def commandstats(url: str) -> dict[str, int]:
    """Calls per command since Redis started (``INFO commandstats``)."""
    info = redis.Redis.from_url(url).info("commandstats")
    return {name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in info.items()}


async def misses(app: Any, tenants: list[tuple[Any, str]], first: int, count: int) -> None:
    """``count`` list misses: each request's ``limit`` (1 to 200, per tenant) is new to its tenant."""
    for n in range(first, first + count):
        headers, account = tenants[n % TENANTS]
        query = f"limit={n // TENANTS % 200 + 1}&account_id={account}".encode()
        status, answer = await call(app, "GET", "/api/transactions", headers=headers, query=query)
        assert status == 200, answer


async def one(url: str, redis_url: str, mode: str, requests: int, counts: bool, profile: bool) -> float:
    """The API's CPU per request (ms); with ``counts`` also prints the counts per request."""
    container = Container()
    settings = Settings(backend="postgres", database_url=url, db_pool_min=2, db_pool_max=2, log_json=True,
                        cache=True, redis_url=redis_url)  # fmt: skip
    container.settings.override(settings)
    app = create_app(container)
    inbox, lifespan = await _started(app)
    tenants = await signed_up(app)
    await requested(app, "write", tenants, 0, 300)
    if mode == "miss":
        await misses(app, tenants, 0, 100)  # warm (limits 1-10): the measured ones start at 11
    first = 100 if mode == "miss" else 0

    async def run() -> None:
        if mode == "miss":
            await misses(app, tenants, first, requests)
        else:
            await requested(app, "write", tenants, 0, requests)

    await asyncio.sleep(0.2)  # the feed has applied the warm-up's bumps
    if counts and redis_url:
        before = commandstats(redis_url)
        with counted_sends() as sends, counted_feed() as applied:
            await run()
            await asyncio.sleep(0.2)  # the feed applies the last bumps
        after = commandstats(redis_url)
        ran = {k: (v - before.get(k, 0)) / requests for k, v in after.items() if v != before.get(k, 0)}
        print(f"  round trips per request: {sum(sends.values()) / requests:.2f}"
              f" ({', '.join(f'{k} {v / requests:.2f}' for k, v in sends.most_common())})")  # fmt: skip
        print(
            f"  commands Redis ran per request: {sum(ran.values()):.2f}"
            f" ({', '.join(f'{k} {v:.2f}' for k, v in sorted(ran.items(), key=lambda kv: -kv[1]))})"
        )
        print(f"  feed messages applied per request: {applied[0] / requests:.2f}")
        spent = 0.0
    elif profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await run()
        profiler.disable()
        stats = pstats.Stats(profiler)
        calls = sum(s[1] for s in stats.stats.values())  # type: ignore[attr-defined]
        by_module: collections.Counter[str] = collections.Counter()
        for (file, _, _), s in stats.stats.items():  # type: ignore[attr-defined]
            for part in ("redis", "asyncio", "limits", "valorize_adapters/redis", "pusher"):
                if f"/{part}/" in file:
                    by_module[part] += s[1]
        print(f"  python calls per request: {calls / requests:.0f}"
              f" ({', '.join(f'{k} {v / requests:.0f}' for k, v in by_module.most_common())})")  # fmt: skip
        spent = 0.0
    else:
        started = time.process_time()
        await run()
        spent = (time.process_time() - started) / requests * 1000
    await inbox.put({"type": "lifespan.shutdown"})
    await lifespan
    return spent


async def started(url: str, redis_url: str, before: bool = False) -> tuple[Any, Any, Any, list[tuple[Any, str]]]:
    """An API (its app, lifespan inbox and task) with its tenants signed up and 300 writes made;
    ``before``: wired as before the cuts."""
    container = Container()
    container.settings.override(Settings(backend="postgres", database_url=url, db_pool_min=2, db_pool_max=2,
                                         log_json=True, cache=True, redis_url=redis_url))  # fmt: skip
    app = create_app(container)
    publisher = wiring._publisher
    if before:
        wiring._publisher = lambda bus, realtime: FanOutPublisher(  # type: ignore[assignment]
            bus, TracedPublisher(RealtimeBroadcaster(realtime.backplane), "realtime publish")
        )
    try:
        inbox, lifespan = await _started(app)
    finally:
        wiring._publisher = publisher  # type: ignore[assignment]
    if before:
        cache = app.state.runtime.reads.cache
        cache._bump_scopes = cache._r.register_script(PER_SCOPE_BUMP)
    tenants = await signed_up(app)
    await requested(app, "write", tenants, 0, 300)
    return app, inbox, lifespan, tenants


async def ab(url: str, before_url: str, after_url: str, requests: int, block: int = 50) -> None:
    """The three APIs in alternating blocks of ``block`` writes."""
    apps = {"memory": await started(url, ""), "redis before": await started(url, before_url, before=True),
            "redis after": await started(url, after_url)}  # fmt: skip
    cpu = dict.fromkeys(apps, 0.0)
    for n in range(0, requests, block):
        for name, (app, _, _, tenants) in apps.items():
            started_at = time.process_time()
            await requested(app, "write", tenants, n, block)
            cpu[name] += time.process_time() - started_at
    for _, inbox, lifespan, _ in apps.values():
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan
    per = {name: spent / requests * 1000 for name, spent in cpu.items()}
    print("  ".join(f"{name} {value:.3f}" for name, value in per.items()), "ms API CPU per write;",
          f"redis before - memory {per['redis before'] - per['memory']:+.3f},",
          f"redis after - memory {per['redis after'] - per['memory']:+.3f},",
          f"after - before {per['redis after'] - per['redis before']:+.3f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("write", "miss"))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also count Python calls (cProfile)")
    parser.add_argument("--ab", action="store_true", help="memory, Redis before and Redis now in one process")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    if args.ab:
        with tempfile.TemporaryDirectory() as data, RedisServer() as before, RedisServer() as after:
            postgres = EmbeddedPostgres(Path(data), delete_on_stop=True)
            url = postgres.start()
            try:
                asyncio.run(migrate(url))
                uvloop.run(ab(url, before.url, after.url, args.requests))
            finally:
                postgres.stop()
        return
    with tempfile.TemporaryDirectory() as data, RedisServer() as server:
        postgres = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = postgres.start()
        try:
            asyncio.run(migrate(url))
            print(f"{args.mode}, with Redis:")
            uvloop.run(one(url, server.url, args.mode, min(args.requests, 500), True, False))
            if args.profile:
                for name, redis_url in (("memory", ""), ("redis", server.url)):
                    print(f"{name}:")
                    uvloop.run(one(url, redis_url, args.mode, min(args.requests, 500), False, True))
            cpu: dict[str, list[float]] = {"memory": [], "redis": []}
            for _ in range(args.rounds):
                for name, redis_url in (("memory", ""), ("redis", server.url)):
                    cpu[name].append(uvloop.run(one(url, redis_url, args.mode, args.requests, False, False)))
            for name, values in cpu.items():
                print(f"{name}: {' '.join(f'{v:.3f}' for v in values)} ms API CPU per request")
            gaps = [r - m for m, r in zip(cpu["memory"], cpu["redis"], strict=True)]
            print(f"redis - memory, per round: {' '.join(f'{g:+.3f}' for g in gaps)} ms")
        finally:
            postgres.stop()


if __name__ == "__main__":
    main()
