"""Port: a cache of already-encoded read results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol
from uuid import UUID

__all__ = ["Cache", "Lookup"]


class Lookup(NamedTuple):
    """What one lookup learns: the tenant's version, the value, and whether a write of the
    tenant is under way (a value computed now may be retired by its commit any moment)."""

    version: int
    value: bytes | None
    writing: bool = False
    scopes: tuple[int, ...] = ()  # the versions of the scopes asked for, in their order


class Cache(Protocol):
    """Bytes by key with a time to live, plus a per-tenant version for O(1) invalidation.

    A cache is never the source of truth: implementations may lose entries at any time, and
    callers must treat errors as misses.
    """

    async def get(self, key: str) -> bytes | None:
        """The value, or ``None`` on a miss."""
        ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store a value for at most ``ttl_seconds``."""
        ...

    async def delete(self, key: str) -> None:
        """Forget a key."""
        ...

    async def tenant_version(self, tenant_id: UUID) -> int:
        """The tenant's current cache version (stored with every cached read of the tenant)."""
        ...

    async def lookup(self, tenant_id: UUID, key: str, scopes: Sequence[str] = ()) -> Lookup:
        """The tenant's current version, the value under ``key``, whether a write of the
        tenant holds it (see :meth:`bump_tenant_version`) and the current versions of the
        tenant's ``scopes`` (see :meth:`bump_scopes`), read together.

        One round trip on a networked cache: a cache hit costs one request, not two.
        """
        ...

    async def bump_tenant_version(self, tenant_id: UUID, hold: float = 0.0) -> int:
        """Invalidate all of the tenant's cached reads at once; return the new version.

        With ``hold`` > 0 (a write about to commit), lookups of the tenant report a write under
        way for the next ``hold`` seconds; a later bump never shortens a hold.
        """
        ...

    async def bump_epoch(self) -> None:
        """Invalidate every tenant's cached reads at once (a write of data every tenant reads):
        every version of every tenant and scope moves."""
        ...

    async def bump_scopes(self, tenant_id: UUID, scopes: Sequence[str], hold: float = 0.0) -> tuple[int, ...]:
        """Invalidate the tenant's cached reads that depend on any of ``scopes`` (names of
        :mod:`valorize_core.model.read_scopes`); return their new versions, in order. The
        tenant's own version does not move. ``hold`` as for :meth:`bump_tenant_version`, but
        for these scopes only: a lookup reports a write under way when the tenant or one of
        the scopes it names is held.

        Versions of scopes and of the tenant only grow, and every one of them moves when the
        cache must retire everything it holds (after an outage), like the tenant's.
        """
        ...
