"""Cache-aside for reads: per-tenant versioned values, single flight, XFetch, fail-open.

Every cached value carries the tenant's cache version it was computed at, so one bump after a
committed write retires every cached read of that tenant in O(1): a value whose version is not
the current one is a miss. The version and the value are read together (one round trip to
Redis per hit). Values are the encoded response bytes, returned on a hit without decoding.

A process may die between its commit and that bump. So a write also bumps just before it
commits, holding the tenant for a few seconds (longer than a commit takes): a value computed
while the tenant is held may predate the commit, and is kept for no longer than a hold; one
computed after the hold sees the commit. So, bump after the commit or not, nothing read before
a commit is served more than one hold after it, and the TTL is left to bound only what a write
that could not reach the cache at all leaves behind (``RedisCache``'s epoch retires that).

A burst of misses for one key computes once per process (single flight); entries are refreshed
a little before they expire with probability rising towards expiry (XFetch, Vattani et al.,
VLDB 2015), so a popular key never expires under load. The cache is never the source of truth:
any cache error means "miss" (counted as a bypass), and after an error the cache is skipped for
a short while so a dead or slow Redis does not cost a timeout per request.

With a :class:`~valorize_core.runtime.near_cache.NearCache`, entries are also kept in this process and
served from memory while the near cache knows the tenant's current version (a hit then costs
no round trip at all); see that module for when it may.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from valorize_core.ports.cache import Cache
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.runtime.near_cache import NearCache

__all__ = ["CacheStats", "CachedRead", "ReadCache"]

# absolute expiry (unix seconds), compute time (seconds), the tenant's version it was computed at
_HEADER = struct.Struct("!ddQ")


@dataclass(frozen=True, slots=True)
class CachedRead:
    """What :meth:`ReadCache.find` found: the bytes to serve, or (``value`` is ``None``) the
    tenant's version a computed value is stored at and for how long (``version`` is ``None``:
    the cache is unusable, compute without storing)."""

    tenant_id: UUID
    key: str
    value: bytes | None
    version: int | None = None
    ttl: float = 0.0


@dataclass
class CacheStats:
    """Counters since start: hits, misses, early refreshes, bypasses (cache unusable)."""

    hits: int = 0
    near_hits: int = 0
    misses: int = 0
    early_refreshes: int = 0
    bypasses: int = 0
    invalidation_failures: int = 0

    @property
    def hit_ratio(self) -> float:
        """Hits (shared or near) over lookups that reached a cache."""
        hits = self.hits + self.near_hits
        looked = hits + self.misses + self.early_refreshes
        return hits / looked if looked else 0.0


class ReadCache:
    """Cache-aside over a :class:`Cache` port.

    Args:
        cache: where values live (Redis, or in-process).
        ttl: seconds a value may be served. Writes retire values through the tenant's version,
            so this only bounds what a write that could not reach the cache leaves behind.
        hold: seconds a write holds its tenant before it commits (see :meth:`hold_for_write`):
            longer than any commit takes. Values computed while a write holds their tenant are
            kept no longer than this.
        max_bytes: larger values are served but not cached.
        beta: XFetch eagerness (1.0 is the paper's optimum; 0 disables early refresh).
        breaker_seconds: after a cache error, skip the cache this long.
        clock, rng: injectable for tests.
        on_event: called with "hit", "near_hit", "miss", "early_refresh", "bypass" (metrics).
        near: entries kept in this process as well (served without a round trip).
    """

    def __init__(
        self,
        cache: Cache,
        *,
        ttl: float = 60.0,
        hold: float = 10.0,
        max_bytes: int = 1_000_000,
        beta: float = 1.0,
        breaker_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        on_event: Callable[[str], None] | None = None,
        near: NearCache | None = None,
    ) -> None:
        self.cache = cache
        self.near = near
        self.stats = CacheStats()
        self._ttl = ttl
        self._hold = hold
        self._max = max_bytes
        self._beta = beta
        self._breaker = breaker_seconds
        self._clock = clock
        self._rng = rng
        self._on_event = on_event
        self._open_until = 0.0
        self._inflight: dict[str, asyncio.Future[bytes]] = {}

    def _note(self, kind: str) -> None:
        counter = {"hit": "hits", "near_hit": "near_hits", "miss": "misses", "early_refresh": "early_refreshes",
                   "bypass": "bypasses"}[kind]  # fmt: skip
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        if self._on_event is not None:
            self._on_event(kind)

    def _usable(self) -> bool:
        return self._clock() >= self._open_until

    def _trip(self) -> None:
        self._open_until = self._clock() + self._breaker

    @staticmethod
    def key(tenant_id: UUID, name: str, params: str) -> str:
        """The cache key of one read."""
        digest = hashlib.blake2b(params.encode("utf-8"), digest_size=12).hexdigest()
        return f"read:{tenant_id}:{name}:{digest}"

    async def find(self, tenant_id: UUID, name: str, params: str) -> CachedRead:
        """First half of a read: its cached bytes, or what :meth:`fill` needs to compute and
        store them (one round trip at most; none for a near-cache hit)."""
        key = self.key(tenant_id, name, params)
        near = self.near
        generation = 0
        if near is not None:
            # Only entries of the tenant's current version come back; XFetch decides as below.
            # The near cache needs no round trip, so it serves even while the breaker is open:
            # its feed, not this client, tells it when it may.
            generation = near.generation
            kept = near.get(tenant_id, key)
            if kept is not None and self._fresh(kept):
                self._note("near_hit")
                return CachedRead(tenant_id, key, kept[_HEADER.size :])
        if not self._usable():
            self._note("bypass")
            return CachedRead(tenant_id, key, None)
        try:
            version, raw, writing = await self.cache.lookup(tenant_id, key)
        except Exception:  # the cache is never the source of truth
            self._trip()
            self._note("bypass")
            return CachedRead(tenant_id, key, None)
        if near is not None:
            near.learned(tenant_id, version, generation)
        # A value computed at another version is from before the tenant's last write: a miss.
        if raw is not None and len(raw) >= _HEADER.size and _HEADER.unpack_from(raw)[2] == version:
            if self._fresh(raw):
                self._note("hit")
                if near is not None:
                    near.put(tenant_id, key, raw, version)
                return CachedRead(tenant_id, key, raw[_HEADER.size :])
            self._note("early_refresh")
        else:
            self._note("miss")
        # While a write holds the tenant, what is computed may predate a commit whose bump is
        # still to come (or never comes, if its process dies): kept no longer than a hold.
        ttl = min(self._ttl, self._hold) if writing else self._ttl
        return CachedRead(tenant_id, key, None, version, ttl)

    async def fill(self, read: CachedRead, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """Second half of a read :meth:`find` did not find: ``compute()``, stored for the next
        reader (unless the cache was unusable)."""
        if read.value is not None:
            return read.value
        if read.version is None:
            return await compute()
        return await self._single_flight(read.tenant_id, read.key, read.version, read.ttl, compute)

    async def get_or_compute(
        self, tenant_id: UUID, name: str, params: str, compute: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        """The cached bytes of a read, or ``compute()`` stored for the next reader."""
        return await self.fill(await self.find(tenant_id, name, params), compute)

    def _fresh(self, raw: bytes) -> bool:
        """XFetch: serve unless a draw says to refresh (ever likelier towards expiry)."""
        expiry, delta, _ = _HEADER.unpack_from(raw)
        draw = max(self._rng(), 1e-12)
        return bool(self._clock() - delta * self._beta * math.log(draw) < expiry)

    async def _single_flight(
        self, tenant_id: UUID, key: str, version: int, ttl: float, compute: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        # Readers join a computation started at the same version only: one started before a
        # write may have read the data as it was before it.
        flight = f"{key}@{version}"
        running = self._inflight.get(flight)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[flight] = future
        try:
            started = self._clock()
            value = await compute()
            delta = max(self._clock() - started, 0.0)
            future.set_result(value)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[flight]
        if len(value) <= self._max:
            raw = _HEADER.pack(self._clock() + ttl, delta, version) + value
            if self.near is not None:
                self.near.put(tenant_id, key, raw, version)
            try:
                await self.cache.set(key, raw, ttl)
            except Exception:
                self._trip()
        return value

    async def hold_for_write(self, tenant_id: UUID) -> None:
        """Before a write commits: retire the tenant's cached reads and hold the tenant, so
        what readers compute until the hold ends is kept no longer than a hold; never raises.

        With :meth:`invalidate` after the commit this makes invalidation safe against a
        process dying between its commit and that second bump: whatever was cached from the
        data as it was before the commit expires with the hold, without waiting for the TTL.
        """
        await self._bump(tenant_id, self._hold)

    async def invalidate(self, tenant_id: UUID) -> None:
        """Retire the tenant's cached reads (after a committed write); never raises."""
        await self._bump(tenant_id, 0.0)

    async def hold_before_commit(self, uow: UnitOfWork) -> None:
        """The commit pipeline's before-commit hook: :meth:`hold_for_write` the unit's tenant."""
        await self.hold_for_write(uow.tenant_id)

    async def retire_after_commit(self, uow: UnitOfWork) -> None:
        """The commit pipeline's after-commit hook: :meth:`invalidate` the unit's tenant. It
        runs before the relay's, so no event of the commit leaves before the reads it changes
        are retired: a subscriber that refetches on an event never gets the page from before."""
        await self.invalidate(uow.tenant_id)

    async def _bump(self, tenant_id: UUID, hold: float) -> None:
        try:
            version = await self.cache.bump_tenant_version(tenant_id, hold)
        except Exception:
            self._trip()
            self.stats.invalidation_failures += 1
            if self.near is not None:
                self.near.forget()  # this write's bump is lost: trust nothing kept here
            return
        if self.near is not None:
            self.near.observed(tenant_id, version)  # this process reads its own writes at once
