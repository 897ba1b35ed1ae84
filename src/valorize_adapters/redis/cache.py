"""The ``Cache`` port on Redis, with a global epoch that retires everything after an outage.

A write made while Redis was unreachable could not bump its tenant's version, so entries cached
before the outage would look current again once Redis is back. When this client succeeds after
failing, it bumps a global epoch that is part of every version: every entry cached before is
retired at once.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar
from uuid import UUID

import redis.asyncio as redis

__all__ = ["RedisCache"]

T = TypeVar("T")
_EPOCH_BITS = 40


class RedisCache:
    """Bytes with TTLs under ``{prefix}:`` and per-tenant version counters."""

    def __init__(self, client: redis.Redis, prefix: str = "vz") -> None:
        self._r = client
        self._p = prefix
        self._failed = False

    async def _call(self, op: Awaitable[T]) -> T:
        try:
            result = await op
        except Exception:
            self._failed = True
            raise
        if self._failed:
            self._failed = False
            await self._r.incr(f"{self._p}:epoch")
        return result

    async def get(self, key: str) -> bytes | None:
        return _bytes(await self._call(self._r.get(f"{self._p}:{key}")))

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if ttl_seconds > 0:
            await self._call(self._r.set(f"{self._p}:{key}", value, px=max(1, int(ttl_seconds * 1000))))

    async def delete(self, key: str) -> None:
        await self._call(self._r.delete(f"{self._p}:{key}"))

    async def tenant_version(self, tenant_id: UUID) -> int:
        epoch, version = await self._call(self._r.mget(f"{self._p}:epoch", f"{self._p}:ver:{tenant_id}"))
        return _version(epoch, version)

    async def lookup(self, tenant_id: UUID, key: str) -> tuple[int, bytes | None]:
        epoch, version, value = await self._call(
            self._r.mget(f"{self._p}:epoch", f"{self._p}:ver:{tenant_id}", f"{self._p}:{key}")
        )
        return _version(epoch, version), _bytes(value)

    async def bump_tenant_version(self, tenant_id: UUID) -> int:
        """One round trip (``MULTI``: read the epoch, increment the counter) on every write.

        When this call is the first success after a failure, ``_call`` moves the epoch after it,
        so the version is read again to include the new epoch.
        """
        recovering = self._failed
        bump = self._r.pipeline(transaction=True)
        bump.get(f"{self._p}:epoch")
        bump.incr(f"{self._p}:ver:{tenant_id}")
        epoch, version = await self._call(bump.execute())
        if recovering:
            return await self.tenant_version(tenant_id)
        return _version(epoch, version)


def _version(epoch: bytes | str | None, version: bytes | str | None) -> int:
    """A tenant's version: the global epoch in the high bits, the tenant's counter below."""
    return (int(epoch or 0) << _EPOCH_BITS) | int(version or 0)


def _bytes(value: bytes | str | None) -> bytes | None:
    return value if value is None or isinstance(value, bytes) else value.encode()
