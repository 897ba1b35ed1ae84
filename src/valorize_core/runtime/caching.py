"""Cache-aside for reads: values versioned by tenant and read scope, single flight, XFetch,
fail-open.

Every cached value carries the versions it was computed at — the tenant's, and those of the
read scopes its answer depends on (:mod:`valorize_core.model.read_scopes`: an account's
transactions, a category's, a month's, the balances...) — so a bump after a committed write
retires in O(1) exactly the reads that depend on what it declares it changed (a write that
declares nothing bumps the tenant: every read of it): a value whose versions are not the
current ones is a miss. The versions and the value are read together (one round trip to Redis
per hit). Values are the encoded response bytes, returned on a hit without decoding; their
entity tag comes from their key and versions (:func:`entity_tag`).

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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.read_scopes import ANY, SHARED
from valorize_core.ports.cache import Cache
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.runtime.near_cache import NearCache

__all__ = ["CacheStats", "CachedRead", "ReadCache", "combined", "entity_tag"]

# absolute expiry (unix seconds), compute time (seconds), the versions it was computed at (combined)
_HEADER = struct.Struct("!ddQ")


@dataclass(frozen=True, slots=True)
class CachedRead:
    """What :meth:`ReadCache.find` found: the bytes to serve and their entity tag, or
    (``value`` is ``None``) the versions a computed value is stored at — the tenant's, then
    each of ``scopes``' — and for how long (``versions`` is ``None``: the cache is unusable,
    compute without storing)."""

    tenant_id: UUID
    key: str
    value: bytes | None
    versions: tuple[int, ...] | None = None
    ttl: float = 0.0
    scopes: tuple[str, ...] = ()
    tag: str | None = None

    @property
    def version(self) -> int | None:
        """The versions as the one number stored with the value."""
        return None if self.versions is None else combined(self.versions)


def combined(versions: Sequence[int]) -> int:
    """The versions a read depends on as one number stored with its value: their sum. Each
    only ever grows, so the sum grows whenever any of them does."""
    return sum(versions) & 0xFFFF_FFFF_FFFF_FFFF


def entity_tag(key: str, raw: bytes) -> str:
    """The strong entity tag of a stored value, from its key and header (the versions it was
    computed at, its expiry and compute time): two computations never share one, and every
    process serving the same stored value gives the same. No digest of the body is needed."""
    digest = hashlib.blake2b(key.encode("utf-8") + raw[: _HEADER.size], digest_size=16).hexdigest()
    return f'"{digest}"'


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
        ttl: seconds a value may be served. Writes retire values through the versions,
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
        self._inflight: dict[str, asyncio.Future[tuple[bytes, str | None]]] = {}

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

    async def find(self, tenant_id: UUID, name: str, params: str, scopes: Sequence[str] | None = None) -> CachedRead:
        """First half of a read: its cached bytes, or what :meth:`fill` needs to compute and
        store them (one round trip at most; none for a near-cache hit). ``scopes``: the read
        scopes (:mod:`valorize_core.model.read_scopes`) its answer depends on besides the
        tenant's version — always the same ones for the same ``name`` and ``params``; ``None``:
        every write of the tenant retires it."""
        key = self.key(tenant_id, name, params)
        scopes = (ANY,) if scopes is None else tuple(scopes)
        near = self.near
        generation = 0
        if near is not None:
            # Only entries of the current versions come back; XFetch decides as below.
            # The near cache needs no round trip, so it serves even while the breaker is open:
            # its feed, not this client, tells it when it may.
            generation = near.generation
            kept = near.get(tenant_id, key, scopes)
            if kept is not None and self._fresh(kept):
                self._note("near_hit")
                return CachedRead(tenant_id, key, kept[_HEADER.size :], scopes=scopes, tag=entity_tag(key, kept))
        if not self._usable():
            self._note("bypass")
            return CachedRead(tenant_id, key, None, scopes=scopes)
        try:
            tenant_version, raw, writing, scope_versions = await self.cache.lookup(tenant_id, key, scopes)
        except Exception:  # the cache is never the source of truth
            self._trip()
            self._note("bypass")
            return CachedRead(tenant_id, key, None, scopes=scopes)
        if near is not None:
            near.learned(tenant_id, tenant_version, generation, scopes, scope_versions)
        versions = (tenant_version, *scope_versions)
        # A value computed at other versions is from before a write it depends on: a miss.
        if raw is not None and len(raw) >= _HEADER.size and _HEADER.unpack_from(raw)[2] == combined(versions):
            if self._fresh(raw):
                self._note("hit")
                if near is not None:
                    near.put(tenant_id, key, raw, versions, scopes)
                return CachedRead(tenant_id, key, raw[_HEADER.size :], scopes=scopes, tag=entity_tag(key, raw))
            self._note("early_refresh")
        else:
            self._note("miss")
        # While a write holds the tenant, what is computed may predate a commit whose bump is
        # still to come (or never comes, if its process dies): kept no longer than a hold.
        ttl = min(self._ttl, self._hold) if writing else self._ttl
        return CachedRead(tenant_id, key, None, versions, ttl, scopes)

    async def fill(self, read: CachedRead, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """Second half of a read :meth:`find` did not find: ``compute()``, stored for the next
        reader (unless the cache was unusable)."""
        return (await self.fill_tagged(read, compute))[0]

    async def fill_tagged(self, read: CachedRead, compute: Callable[[], Awaitable[bytes]]) -> tuple[bytes, str | None]:
        """:meth:`fill`, with the value's entity tag (``None`` when the cache was unusable:
        nothing names the computation then)."""
        if read.value is not None:
            return read.value, read.tag
        if read.versions is None:
            return await compute(), None
        return await self._single_flight(read, read.versions, compute)

    async def get_or_compute(
        self,
        tenant_id: UUID,
        name: str,
        params: str,
        compute: Callable[[], Awaitable[bytes]],
        scopes: Sequence[str] | None = None,
    ) -> bytes:
        """The cached bytes of a read, or ``compute()`` stored for the next reader."""
        return await self.fill(await self.find(tenant_id, name, params, scopes), compute)

    def _fresh(self, raw: bytes) -> bool:
        """XFetch: serve unless a draw says to refresh (ever likelier towards expiry)."""
        expiry, delta, _ = _HEADER.unpack_from(raw)
        draw = max(self._rng(), 1e-12)
        return bool(self._clock() - delta * self._beta * math.log(draw) < expiry)

    async def _single_flight(
        self, read: CachedRead, versions: tuple[int, ...], compute: Callable[[], Awaitable[bytes]]
    ) -> tuple[bytes, str | None]:
        # Readers join a computation started at the same versions only: one started before a
        # write may have read the data as it was before it.
        version = combined(versions)
        flight = f"{read.key}@{version}"
        running = self._inflight.get(flight)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[tuple[bytes, str | None]] = asyncio.get_running_loop().create_future()
        self._inflight[flight] = future
        try:
            started = self._clock()
            value = await compute()
            delta = max(self._clock() - started, 0.0)
            raw = _HEADER.pack(self._clock() + read.ttl, delta, version) + value
            tagged = (value, entity_tag(read.key, raw))
            future.set_result(tagged)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[flight]
        if len(value) <= self._max:
            if self.near is not None:
                self.near.put(read.tenant_id, read.key, raw, versions, read.scopes)
            try:
                await self.cache.set(read.key, raw, read.ttl)
            except Exception:
                self._trip()
        return tagged

    async def hold_for_write(self, tenant_id: UUID, scopes: Sequence[str] | None = None) -> None:
        """Before a write commits: retire the tenant's cached reads (with ``scopes``, only
        those that depend on one of them) and hold the tenant, so what readers compute until
        the hold ends is kept no longer than a hold; never raises.

        With :meth:`invalidate` (or :meth:`retire`) after the commit this makes invalidation
        safe against a process dying between its commit and that second bump: whatever was
        cached from the data as it was before the commit expires with the hold, without
        waiting for the TTL.
        """
        await self._bump(tenant_id, scopes, self._hold)

    async def invalidate(self, tenant_id: UUID) -> None:
        """Retire the tenant's cached reads (after a committed write); never raises."""
        await self._bump(tenant_id, None, 0.0)

    async def retire(self, tenant_id: UUID, scopes: Sequence[str]) -> None:
        """Retire the tenant's cached reads that depend on one of ``scopes``; never raises."""
        await self._bump(tenant_id, scopes, 0.0)

    async def hold_before_commit(self, uow: UnitOfWork) -> None:
        """The commit pipeline's before-commit hook: :meth:`hold_for_write` what the unit
        declares it changes (:meth:`UnitOfWork.retires`; nothing declared: the tenant)."""
        scopes = uow.retired_scopes
        if scopes is None or scopes:
            await self.hold_for_write(uow.tenant_id, None if scopes is None else sorted(scopes))

    async def retire_after_commit(self, uow: UnitOfWork) -> None:
        """The commit pipeline's after-commit hook: retire what the unit declares it changed
        (nothing declared: the whole tenant). It runs before the relay's, so no event of the
        commit leaves before the reads it changes are retired: a subscriber that refetches on
        an event never gets the page from before."""
        scopes = uow.retired_scopes
        if scopes is None:
            await self.invalidate(uow.tenant_id)
        elif scopes:
            await self.retire(uow.tenant_id, sorted(scopes))

    def retirement(self, uow: UnitOfWork) -> list[str] | None:
        """The scopes :meth:`retire_after_commit` would bump for the unit (``ANY`` included),
        for a caller that sends that bump itself, in one round trip with the unit's events: it
        calls :meth:`retiring` before sending and hands the outcome to :meth:`retired`. ``None``
        when it must be left to :meth:`retire_after_commit` (nothing declared: the tenant's
        version; the epoch; nothing)."""
        scopes = uow.retired_scopes
        if not scopes or SHARED in scopes:
            return None
        return [*sorted(scopes), ANY]

    def retiring(self, tenant_id: UUID, names: Sequence[str]) -> None:
        """A bump of ``names`` is about to be sent with the events that announce it: until
        :meth:`retired`, the near cache serves nothing that depends on them (an event's
        subscriber may ask this process before the bump's reply is read here)."""
        if self.near is not None:
            self.near.bumping(tenant_id, names)

    def retired(
        self, tenant_id: UUID, names: Sequence[str], versions: Sequence[int] | None, *, riding: bool = True
    ) -> None:
        """The outcome of a bump of ``names`` (after :meth:`retiring`, unless not ``riding``): the
        new versions, or ``None`` when it failed (or may have)."""
        if versions is None:
            self._bump_failed()
        elif self.near is not None:
            for name, version in zip(names, versions, strict=True):
                self.near.observed(tenant_id, version, name)  # this process reads its own writes at once
        if riding and self.near is not None:
            self.near.bumped(tenant_id, names)

    async def _bump(self, tenant_id: UUID, scopes: Sequence[str] | None, hold: float) -> None:
        if scopes is not None and SHARED in scopes:
            await self._bump_everything()  # every tenant's reads: its own are among them
            return
        try:
            if scopes is None:
                versions: tuple[int, ...] = (await self.cache.bump_tenant_version(tenant_id, hold),)
                names: Sequence[str] = ("",)
            else:  # ANY too: what depends on any write at all
                names = [*scopes, ANY]
                versions = await self.cache.bump_scopes(tenant_id, names, hold)
        except Exception:
            self._bump_failed()
            return
        self.retired(tenant_id, names, versions, riding=False)

    def _bump_failed(self) -> None:
        self._trip()
        self.stats.invalidation_failures += 1
        if self.near is not None:
            self.near.forget()  # this write's bump is lost: trust nothing kept here

    async def _bump_everything(self) -> None:
        """Retire every tenant's cached reads (a write of data every tenant reads); never raises."""
        try:
            await self.cache.bump_epoch()
        except Exception:
            self._trip()
            self.stats.invalidation_failures += 1
        if self.near is not None:
            self.near.forget()  # the epoch moved (or the bump was lost): trust nothing kept here
