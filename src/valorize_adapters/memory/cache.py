"""An in-process cache with TTLs, a size cap, per-tenant and per-scope versions."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from uuid import UUID

from valorize_core.ports.cache import Lookup

__all__ = ["InMemoryCache"]

_EPOCH_BITS = 40


class InMemoryCache:
    """LRU bytes cache; entries expire after their TTL; at most ``max_entries`` are kept."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._versions: dict[UUID, int] = {}
        self._scopes: dict[tuple[UUID, str], int] = {}
        self._held_until: dict[tuple[UUID, str], float] = {}  # by tenant and scope ("": the tenant)
        self._epoch = 0  # part of every version, in the high bits: moving it retires everything
        self._max = max_entries
        self._clock = clock

    async def get(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires, value = found
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            return
        self._entries[key] = (self._clock() + ttl_seconds, bytes(value))
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def cache_size(self) -> tuple[int, int]:
        """Entries kept, and the bound."""
        return len(self._entries), self._max

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    def _versioned(self, counter: int) -> int:
        return (self._epoch << _EPOCH_BITS) | counter

    async def tenant_version(self, tenant_id: UUID) -> int:
        return self._versioned(self._versions.get(tenant_id, 0))

    async def lookup(self, tenant_id: UUID, key: str, scopes: Sequence[str] = ()) -> Lookup:
        now = self._clock()
        writing = any(self._held_until.get((tenant_id, s), 0.0) > now for s in ("", *scopes))
        versions = tuple(self._versioned(self._scopes.get((tenant_id, s), 0)) for s in scopes)
        return Lookup(self._versioned(self._versions.get(tenant_id, 0)), await self.get(key), writing, versions)

    async def bump_tenant_version(self, tenant_id: UUID, hold: float = 0.0) -> int:
        version = self._versions.get(tenant_id, 0) + 1
        self._versions[tenant_id] = version
        self._hold((tenant_id, ""), hold)
        return self._versioned(version)

    async def bump_epoch(self) -> None:
        self._epoch += 1

    async def bump_scopes(self, tenant_id: UUID, scopes: Sequence[str], hold: float = 0.0) -> tuple[int, ...]:
        out = []
        for scope in scopes:
            version = self._scopes.get((tenant_id, scope), 0) + 1
            self._scopes[(tenant_id, scope)] = version
            out.append(self._versioned(version))
            self._hold((tenant_id, scope), hold)
        return tuple(out)

    def _hold(self, name: tuple[UUID, str], hold: float) -> None:
        now = self._clock()
        if hold > 0:
            self._held_until[name] = max(self._held_until.get(name, 0.0), now + hold)
        elif self._held_until.get(name, now) <= now:
            self._held_until.pop(name, None)  # expired: keep the map as small as the holds
