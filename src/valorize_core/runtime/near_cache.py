"""The near cache: cached reads kept in this process, trusted only while a version feed is live.

A hit in the shared cache (Redis) costs a round trip: most of a cached read's CPU in the API.
The near cache keeps the entries this process has read or computed, each with the tenant
version it belongs to, and serves one only when it knows the tenant's current version. It
learns versions from three places:

* its own bumps (this process's writes): at once, so a process always reads its own writes;
* a feed of every bump made anywhere (the Redis adapter subscribes to one pub/sub channel);
* the shared cache's answers, but only for lookups that started while the feed was live and
  with no reset since (the ``generation`` check), so no bump can fall between the answer and
  the feed.

Versions are kept per tenant and per read scope of the tenant (``scope`` ``""``: the tenant's
own); an entry belongs to the versions of the tenant and of the scopes it depends on, and is
served only while every one of them is known and unchanged.

While the feed is down, or silent for longer than its heartbeat allows, nothing is served from
here; every (re)connection starts from nothing. A write in another process reaches this one
when its bump arrives over the feed, so across processes a read can trail a write by the
feed's delivery time (docs/caching.md has the measurement).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from uuid import UUID

__all__ = ["NearCache"]


class NearCache:
    """Entries by key, each with the versions it was computed at; LRU within ``max_bytes``.

    The feed adapter calls :meth:`connected`, :meth:`fed`, :meth:`forget` and
    :meth:`disconnected`; :class:`~valorize_core.runtime.caching.ReadCache` does the rest.
    """

    def __init__(self, max_bytes: int = 64 << 20, max_tenants: int = 100_000) -> None:
        # max_tenants bounds the versions known: one per tenant and one per scope of a tenant.
        if max_bytes <= 0 or max_tenants <= 0:
            raise ValueError("a near cache needs room")
        self._max_bytes = max_bytes
        self._max_tenants = max_tenants
        # key -> (the scopes it depends on, its versions (tenant's first), the bytes)
        self._entries: OrderedDict[str, tuple[tuple[str, ...], tuple[int, ...], bytes]] = OrderedDict()
        self._bytes = 0
        self._versions: dict[tuple[UUID, str], int] = {}
        self._fed: dict[tuple[UUID, str], int] = {}  # the last version the feed brought, per scope
        self._pending: dict[tuple[UUID, str], int] = {}  # scopes this process's bumps in flight move
        self._live = False
        self.generation = 0
        self.resets = 0

    @property
    def live(self) -> bool:
        """True while every bump reaches :meth:`observed`: only then is anything served."""
        return self._live

    @property
    def size_bytes(self) -> int:
        """Bytes of the values held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def connected(self) -> None:
        """The feed is subscribed: from now on every bump is observed. Starts from nothing."""
        self.forget()
        self._live = True

    def disconnected(self) -> None:
        """Bumps may be missed from now on: serve nothing until the feed is back."""
        self._live = False
        self.forget()

    def forget(self) -> None:
        """Drop every entry and known version (a reconnection, or the global epoch moved)."""
        self._entries.clear()
        self._bytes = 0
        self._versions.clear()
        self._fed.clear()
        self.generation += 1
        self.resets += 1

    def observed(self, tenant_id: UUID, version: int, scope: str = "") -> None:
        """A bump of the tenant's version, or of one of its scopes' (versions only grow between
        resets)."""
        name = (tenant_id, scope)
        known = self._versions.get(name)
        if known is None:
            if len(self._versions) >= self._max_tenants:
                self.forget()
            self._versions[name] = version
        elif version > known:
            self._versions[name] = version

    def fed(self, tenant_id: UUID, version: int, scope: str = "") -> None:
        """A bump brought by the feed, which delivers each tenant's bumps in order.

        A version lower than the feed's last one for the tenant means its counter started over
        (the key was lost: evicted, flushed): versions seen before could come back and name
        other data, so everything kept here is dropped.
        """
        name = (tenant_id, scope)
        last = self._fed.get(name)
        if last is not None and version < last:
            self.forget()
        # observed() first: it bounds the known versions, and every one here is one of them.
        self.observed(tenant_id, version, scope)
        self._fed[name] = version

    def learned(
        self, tenant_id: UUID, version: int, generation: int, scopes: Sequence[str] = (), versions: Sequence[int] = ()
    ) -> None:
        """The shared cache's answer to a lookup that started at ``generation``: the tenant's
        version and those of ``scopes``."""
        if self._live and generation == self.generation:
            self.observed(tenant_id, version)
            for scope, scope_version in zip(scopes, versions, strict=True):
                self.observed(tenant_id, scope_version, scope)

    def bumping(self, tenant_id: UUID, scopes: Sequence[str]) -> None:
        """This process is bumping ``scopes`` and will learn their versions only after the bump
        may have been seen elsewhere (it rides with the write's events): until :meth:`bumped`,
        their versions count as unknown here, so nothing depending on them is served or kept
        (it is asked of the shared cache, which has the bump by the time anyone saw an event)."""
        for scope in scopes:
            self._pending[(tenant_id, scope)] = self._pending.get((tenant_id, scope), 0) + 1

    def bumped(self, tenant_id: UUID, scopes: Sequence[str]) -> None:
        """The end of a :meth:`bumping` (its versions :meth:`observed`, or the bump failed)."""
        for scope in scopes:
            left = self._pending.pop((tenant_id, scope), 1) - 1
            if left > 0:
                self._pending[(tenant_id, scope)] = left

    def current(self, tenant_id: UUID, scopes: Sequence[str] = ()) -> tuple[int, ...] | None:
        """The known versions of the tenant and of ``scopes`` (``None``: one is not known, or
        being bumped here)."""
        if self._pending and any((tenant_id, scope) in self._pending for scope in scopes):
            return None
        out = [self._versions.get((tenant_id, ""))]
        out.extend(self._versions.get((tenant_id, scope)) for scope in scopes)
        if any(v is None for v in out):
            return None
        return tuple(v for v in out if v is not None)

    def get(self, tenant_id: UUID, key: str, scopes: Sequence[str] = ()) -> bytes | None:
        """The stored entry, if it belongs to the current versions of the tenant and of the
        ``scopes`` it depends on."""
        if not self._live:
            return None
        found = self._entries.get(key)
        if found is None or found[0] != tuple(scopes):
            return None
        if found[1] != self.current(tenant_id, scopes):
            return None
        self._entries.move_to_end(key)
        return found[2]

    def put(
        self, tenant_id: UUID, key: str, raw: bytes, version: int | tuple[int, ...], scopes: Sequence[str] = ()
    ) -> None:
        """Keep an entry computed at ``version`` (the tenant's, then each of ``scopes``') if
        those are the current versions."""
        versions = (version,) if isinstance(version, int) else version
        if not self._live or self.current(tenant_id, scopes) != versions or len(raw) > self._max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[2])
        self._entries[key] = (tuple(scopes), versions, raw)
        self._bytes += len(raw)
        while self._bytes > self._max_bytes:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self._bytes -= len(dropped)
