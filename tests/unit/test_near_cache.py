"""The near cache: entries kept in the process, served only while the version feed is live."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import settings
from test_read_cache import ReadAfterWrite

from valorize_adapters.memory import InMemoryCache
from valorize_core.ports.cache import Lookup
from valorize_core.runtime.caching import ReadCache
from valorize_core.runtime.near_cache import NearCache

T = uuid.uuid4()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class SharedCache(InMemoryCache):
    """One shared cache (the Redis of several processes) that counts lookups and, like the
    Redis adapter's feed, tells every subscribed near cache of each bump — at once, or held
    back while ``paused`` (a feed message still on its way)."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0
        self.feeds: list[NearCache] = []
        self.paused = False
        self.held: list[tuple[uuid.UUID, int, str]] = []

    async def lookup(self, tenant_id: uuid.UUID, key: str, scopes: Sequence[str] = ()) -> Lookup:
        self.lookups += 1
        return await super().lookup(tenant_id, key, scopes)

    async def bump_tenant_version(self, tenant_id: uuid.UUID, hold: float = 0.0) -> int:
        version = await super().bump_tenant_version(tenant_id, hold)
        self._publish(tenant_id, version, "")
        return version

    async def bump_scopes(self, tenant_id: uuid.UUID, scopes: Sequence[str], hold: float = 0.0) -> tuple[int, ...]:
        versions = await super().bump_scopes(tenant_id, scopes, hold)
        for scope, version in zip(scopes, versions, strict=True):
            self._publish(tenant_id, version, scope)
        return versions

    def _publish(self, tenant_id: uuid.UUID, version: int, scope: str) -> None:
        if self.paused:
            self.held.append((tenant_id, version, scope))
        else:
            for near in self.feeds:
                near.fed(tenant_id, version, scope)

    def deliver(self) -> None:
        for tenant_id, version, scope in self.held:
            for near in self.feeds:
                near.fed(tenant_id, version, scope)
        self.held.clear()
        self.paused = False

    def process(self, *, subscribed: bool = True) -> ReadCache:
        """A process's read cache over this shared cache, with its own near cache."""
        near = NearCache()
        if subscribed:
            self.feeds.append(near)
            near.connected()
        return ReadCache(self, near=near, rng=lambda: 0.999)


def value(data: bytes) -> Any:
    async def compute() -> bytes:
        return data

    return compute


def test_a_second_read_is_served_from_the_process_without_a_lookup() -> None:
    shared = SharedCache()
    reads = shared.process()

    async def go() -> list[bytes]:
        first = await reads.get_or_compute(T, "list", "a", value(b"one"))
        again = await reads.get_or_compute(T, "list", "a", value(b"two"))
        return [first, again]

    assert run(go()) == [b"one", b"one"]
    assert shared.lookups == 1
    assert (reads.stats.misses, reads.stats.near_hits, reads.stats.hits) == (1, 1, 0)


def test_an_entry_another_process_cached_is_kept_after_its_shared_hit() -> None:
    shared = SharedCache()
    first, second = shared.process(), shared.process()

    async def go() -> list[bytes]:
        computed = await first.get_or_compute(T, "list", "a", value(b"one"))
        shared_hit = await second.get_or_compute(T, "list", "a", value(b"two"))
        near_hit = await second.get_or_compute(T, "list", "a", value(b"three"))
        return [computed, shared_hit, near_hit]

    assert run(go()) == [b"one", b"one", b"one"]
    assert (second.stats.hits, second.stats.near_hits) == (1, 1)
    assert shared.lookups == 2


def test_nothing_is_served_from_the_process_while_the_feed_is_down() -> None:
    shared = SharedCache()
    reads = shared.process(subscribed=False)  # never connected

    async def go() -> None:
        for _ in range(3):
            await reads.get_or_compute(T, "list", "a", value(b"one"))

    run(go())
    assert shared.lookups == 3
    assert reads.stats.near_hits == 0
    assert reads.near is not None
    assert len(reads.near) == 0


def test_a_feed_that_goes_down_drops_what_was_kept() -> None:
    shared = SharedCache()
    reads = shared.process()
    run(reads.get_or_compute(T, "list", "a", value(b"one")))
    assert reads.near is not None
    assert len(reads.near) == 1
    reads.near.disconnected()
    assert len(reads.near) == 0
    assert not reads.near.live
    run(reads.get_or_compute(T, "list", "a", value(b"two")))
    assert shared.lookups == 2  # asked the shared cache again
    assert reads.stats.near_hits == 0


def test_a_process_reads_its_own_write_at_once_even_before_the_feed_brings_it() -> None:
    shared = SharedCache()
    reads = shared.process()

    async def go() -> list[bytes]:
        before = await reads.get_or_compute(T, "list", "a", value(b"before"))
        shared.paused = True  # the feed's message is still on its way
        await reads.invalidate(T)
        after = await reads.get_or_compute(T, "list", "a", value(b"after"))
        return [before, after]

    assert run(go()) == [b"before", b"after"]


def test_another_process_write_reaches_this_one_with_the_feed() -> None:
    shared = SharedCache()
    reader, writer = shared.process(), shared.process()

    async def go() -> list[bytes]:
        seen = [await reader.get_or_compute(T, "list", "a", value(b"v1"))]
        shared.paused = True
        await writer.invalidate(T)
        # Until the bump arrives, the reader still trusts what it kept: the window the feed's
        # delivery time opens between processes (docs/caching.md).
        seen.append(await reader.get_or_compute(T, "list", "a", value(b"v2")))
        shared.deliver()
        seen.append(await reader.get_or_compute(T, "list", "a", value(b"v3")))
        return seen

    assert run(go()) == [b"v1", b"v1", b"v3"]


def test_a_lost_bump_makes_the_process_trust_nothing_it_kept() -> None:
    shared = SharedCache()
    reads = shared.process()
    run(reads.get_or_compute(T, "list", "a", value(b"one")))

    async def failing_bump(tenant_id: uuid.UUID, hold: float = 0.0) -> int:
        raise ConnectionError("redis is down")

    shared.bump_tenant_version = failing_bump  # type: ignore[method-assign]
    run(reads.invalidate(T))
    assert reads.near is not None
    assert len(reads.near) == 0
    assert run(reads.get_or_compute(T, "list", "a", value(b"two"))) == b"two"  # breaker open: computed


def test_the_near_cache_serves_while_the_breaker_is_open() -> None:
    """A lookup that failed (a reply too slow, under overload) opens the breaker: the shared
    cache is skipped for a while, but what this process keeps at current versions is not."""
    shared = SharedCache()
    reads = shared.process()
    run(reads.get_or_compute(T, "list", "a", value(b"one")))

    async def failing_lookup(tenant_id: uuid.UUID, key: str) -> Lookup:
        raise TimeoutError("redis answered too late")

    shared.lookup = failing_lookup  # type: ignore[method-assign]
    assert run(reads.get_or_compute(T, "list", "b", value(b"other"))) == b"other"  # failed: breaker open
    assert run(reads.get_or_compute(T, "list", "a", value(b"computed"))) == b"one"
    assert reads.stats.near_hits == 1
    assert reads.stats.bypasses == 1


class SlowCache(SharedCache):
    """Lookups wait for ``release``: something can happen while the answer is on its way."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def lookup(self, tenant_id: uuid.UUID, key: str, scopes: Sequence[str] = ()) -> Lookup:
        answer = await super().lookup(tenant_id, key, scopes)
        await self.release.wait()
        return answer


def test_an_answer_to_a_lookup_made_before_a_reconnection_is_not_trusted() -> None:
    shared = SlowCache()
    reads = shared.process()
    near = reads.near
    assert near is not None

    async def go() -> None:
        await shared.set("warm", b"", 1)
        lookup = asyncio.create_task(reads.get_or_compute(T, "list", "a", value(b"one")))
        await asyncio.sleep(0.01)
        near.disconnected()  # bumps could have been missed here...
        near.connected()  # ...and the feed is back, knowing nothing
        shared.release.set()
        await lookup

    run(go())
    assert T not in near._versions  # the version read before the reset was not recorded
    assert len(near) == 0


def test_a_value_computed_at_an_old_version_is_not_kept() -> None:
    near = NearCache()
    near.connected()
    near.observed(T, 3)
    near.put(T, "k", b"old", 2)
    assert near.get(T, "k") is None
    near.put(T, "k", b"current", 3)
    assert near.get(T, "k") == b"current"
    near.observed(T, 4)
    assert near.get(T, "k") is None
    near.observed(T, 2)  # a late, older message changes nothing
    assert near.get(T, "k") is None


def test_a_counter_that_started_over_drops_everything_kept() -> None:
    near = NearCache()
    near.connected()
    for version in (1, 2, 3):
        near.fed(T, version)
    near.put(T, "k", b"at three", 3)
    near.observed(T, 2)  # a late answer or an own bump racing the feed: not a reset
    assert near.get(T, "k") == b"at three"
    near.fed(T, 1)  # the feed went back: the counter was evicted and started again
    assert near.get(T, "k") is None
    assert len(near) == 0
    near.put(T, "k", b"at one, again", 1)
    assert near.get(T, "k") == b"at one, again"


def test_least_recently_used_entries_go_first_within_the_byte_budget() -> None:
    near = NearCache(max_bytes=10)
    near.connected()
    near.observed(T, 1)
    near.put(T, "a", b"aaaa", 1)
    near.put(T, "b", b"bbbb", 1)
    assert near.get(T, "a") == b"aaaa"  # now "b" is the least recently used
    near.put(T, "c", b"cccc", 1)
    assert near.get(T, "b") is None
    assert (near.get(T, "a"), near.get(T, "c")) == (b"aaaa", b"cccc")
    assert near.size_bytes == 8
    near.put(T, "huge", b"x" * 11, 1)  # over the whole budget: not kept
    assert near.get(T, "huge") is None
    assert near.size_bytes == 8


def test_too_many_tenants_start_the_cache_over() -> None:
    near = NearCache(max_tenants=2)
    near.connected()
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    near.observed(a, 1)
    near.put(a, "k", b"x", 1)
    near.observed(b, 1)
    near.observed(c, 1)
    assert near.get(a, "k") is None
    assert near.get(c, "missing") is None
    for tenant in (a, b, c, uuid.uuid4(), uuid.uuid4()):
        near.fed(tenant, 1)
        assert len(near._fed) <= 2  # what the feed brought stays within the same bound


def test_a_near_cache_needs_room() -> None:
    with pytest.raises(ValueError, match="room"):
        NearCache(max_bytes=0)


class TwoProcesses(ReadAfterWrite):
    """The read-after-write machine with two processes, each with its own near cache: writes
    go through one, reads through both; once the feed has delivered, no read is stale."""

    feed = True

    def processes(self) -> tuple[ReadCache, list[ReadCache]]:
        shared = SharedCache()
        if not self.feed:
            shared.feeds = _Deaf()
        writer, reader = shared.process(), shared.process()
        return writer, [writer, reader]


class _Deaf(list[NearCache]):
    """A feed that never delivers (near caches stay live but hear nothing)."""

    def __iter__(self) -> Any:
        return iter(())


TwoProcesses.TestCase.settings = settings(max_examples=100, stateful_step_count=20, deadline=None)
TestTwoProcesses = TwoProcesses.TestCase


def test_the_two_process_property_fails_without_the_feed() -> None:
    """The machine above must be able to fail: with a feed that delivers nothing, the reading
    process keeps serving what it kept before the other process wrote."""

    class Deaf(TwoProcesses):
        feed = False

    machine = Deaf()
    machine.setup()
    machine.read(2)
    machine.write(100, "A")
    with pytest.raises(AssertionError):
        machine.read(2)


def test_scopes_being_bumped_here_are_unknown_until_every_bump_of_them_ended() -> None:
    tenant = uuid.uuid4()
    near = NearCache()
    near.connected()
    near.observed(tenant, 1)
    near.observed(tenant, 5, "ledger")
    near.observed(tenant, 7, "budgets")
    near.put(tenant, "k", b"page", (1, 5), ("ledger",))
    near.bumping(tenant, ["ledger"])
    near.bumping(tenant, ["ledger"])  # two writes of this process at once
    during = [near.current(tenant, ("ledger",)), near.get(tenant, "k", ("ledger",)), near.current(tenant, ("budgets",))]
    near.bumped(tenant, ["ledger"])
    one_left = near.current(tenant, ("ledger",))
    near.bumped(tenant, ["ledger"])
    assert during == [None, None, (1, 7)]
    assert one_left is None
    assert near.current(tenant, ("ledger",)) == (1, 5)
    assert near.get(tenant, "k", ("ledger",)) == b"page"
