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
        # By tenant, then scope: a bump of a write's scopes finds its tenant's maps once (a
        # UUID's hash is computed in Python, and a ``(tenant, scope)`` key hashed it per scope).
        self._scopes: dict[UUID, dict[str, int]] = {}
        self._held_until: dict[UUID, dict[str, float]] = {}  # by tenant, then scope ("": the tenant)
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
        held = self._held_until.get(tenant_id)
        writing = held is not None and any(held.get(s, 0.0) > now for s in ("", *scopes))
        counters = self._scopes.get(tenant_id, {})
        versions = tuple(self._versioned(counters.get(s, 0)) for s in scopes)
        return Lookup(self._versioned(self._versions.get(tenant_id, 0)), await self.get(key), writing, versions)

    async def bump_tenant_version(self, tenant_id: UUID, hold: float = 0.0) -> int:
        version = self._versions.get(tenant_id, 0) + 1
        self._versions[tenant_id] = version
        self._hold(tenant_id, ("",), hold)
        return self._versioned(version)

    async def bump_epoch(self) -> None:
        self._epoch += 1

    async def bump_scopes(self, tenant_id: UUID, scopes: Sequence[str], hold: float = 0.0) -> tuple[int, ...]:
        counters = self._scopes.setdefault(tenant_id, {})
        out = []
        for scope in scopes:
            version = counters.get(scope, 0) + 1
            counters[scope] = version
            out.append(self._versioned(version))
        self._hold(tenant_id, scopes, hold)
        return tuple(out)

    def _hold(self, tenant_id: UUID, scopes: Sequence[str], hold: float) -> None:
        """Hold ``scopes`` of the tenant ("": the tenant itself) ``hold`` seconds from now (0:
        drop their holds that expired, keeping the map as small as the holds)."""
        now = self._clock()
        held = self._held_until.get(tenant_id)
        if hold > 0:
            if held is None:
                held = self._held_until[tenant_id] = {}
            until = now + hold
            for scope in scopes:
                held[scope] = max(held.get(scope, 0.0), until)
        elif held is not None:
            for scope in scopes:
                if held.get(scope, now) <= now:
                    held.pop(scope, None)
            if not held:
                del self._held_until[tenant_id]
